#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# make run: this machine's endpointd, enrolled with a collectord started
# here (SQLite, loopback), its report delivered by the uploader; prints
# what the laptop and the collector each show, and the dashboard's address
# with a generated admin password. On a terminal it keeps everything
# running until Ctrl-C; otherwise (CI, a pipe) it stops at once.
# Usage: tools/run-local.sh BUILD
set -eu
B=$1
D=$B/run
# The enrolment secret, the admin's database, the token and the laptop's
# key are made here: readable by the one who ran make run alone.
umask 077
rm -rf "$D"
mkdir -p "$D"
chmod 700 "$D"
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
DB=sqlite:$D/collector.db
PASSWORD=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')

"$B/collectord" --db "$DB" --new-enrol-secret --group "This school" \
	> "$D/enrol-secret"
echo "$PASSWORD" | "$B/collectord" --db "$DB" --add-admin admin >/dev/null
"$B/collectord" --db "$DB" --listen "127.0.0.1:$PORT" 2>"$D/collectord.log" &
PIDS="$PIDS $!"
"$B/endpointd" --policy policy.ini --state-dir "$D/state" \
	--socket "$D/status.sock" --udev-rule "" 2>"$D/endpointd.log" &
PIDS="$PIDS $!"
i=0
until [ -S "$D/status.sock" ] && curl -sf "$URL/healthz" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 200 ] || { echo "collectord or endpointd did not start; see $D" >&2; exit 2; }
	sleep 0.05
done

echo "== endpointctl enroll --collector $URL"
"$B/endpointctl" enroll --collector "$URL" --secret-file "$D/enrol-secret" \
	--policy policy.ini --state-dir "$D/state" --upload-dir "$D/upload" \
	2>/dev/null
"$B/endpointd-upload" --state-dir "$D/state" --upload-dir "$D/upload" \
	2>"$D/upload.log" &
PIDS="$PIDS $!"
i=0
until [ -z "$(ls "$D/state/spool" | grep -E '^[0-9]{20}\.json$' || true)" ] &&
      grep -q '"last_delivery":"' "$D/state/spool/uploader.status" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 200 ] || { echo "the report did not reach the collector; see $D" >&2; exit 2; }
	sleep 0.05
done

echo
echo "== endpointctl status (what the member of staff sees)"
"$B/endpointctl" --socket "$D/status.sock" status || true
echo
echo "== endpointctl privacy (what is recorded, where it goes, for how long, who sees it; the fields follow)"
"$B/endpointctl" --socket "$D/status.sock" privacy | sed '/^Never sent:/,$d'
echo
echo "== GET $URL/api/v1/devices (what the ICT manager sees)"
curl -sf -u "admin:$PASSWORD" "$URL/api/v1/devices" |
	/usr/bin/python3 -m json.tool
echo
echo "== GET $URL/api/v1/summary"
curl -sf -u "admin:$PASSWORD" "$URL/api/v1/summary" |
	/usr/bin/python3 -m json.tool

echo
echo "== The dashboard (what the ICT manager opens every morning)"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
	-d "{\"name\":\"admin\",\"password\":\"$PASSWORD\"}" "$URL/api/v1/session")
[ "$code" = 200 ] || { echo "signing in to the dashboard failed ($code); see $D" >&2; exit 2; }
echo "   address:  $URL/"
echo "   name:     admin"
echo "   password: $PASSWORD"
if [ -t 0 ] && [ -t 1 ] && [ -z "${CI:-}" ]; then
	echo
	echo "collectord, endpointd and the uploader keep running; press Ctrl-C to stop."
	wait
fi
