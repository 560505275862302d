#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# collectord's API at the size of a large trust, on SQLite: GET
# /api/v1/summary, and a page of laptops (GET /api/v1/devices?page=...),
# with DEVICES devices (default 100,000; four checks each). Each the median
# and max of 20 requests, as an admin (the first pays yescrypt; the
# verification is then cached for a minute). The estate is made with SQL,
# and its counts with the same statements the schema 4 migration runs
# (bench/counts.sql).
# Usage: bench/summary.sh BUILD TMP
# Prints result lines for bench/run.sh (ROW, what, figure, goal, met).
set -eu
B=$1
T=$2
DEVICES=${DEVICES:-100000}
. bench/lib.sh
DB="sqlite:$T/summary.db"
"$B/collectord" --db "$DB" --new-enrol-secret >/dev/null
echo "correct horse battery" | "$B/collectord" --db "$DB" --add-admin bench >/dev/null
sqlite3 "$T/summary.db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1
  FROM n WHERE i < $DEVICES) INSERT INTO devices (machine_id, grp, token_hash,
  hostname, enrolled_at, last_seen, last_seq, status) SELECT printf('%032x', i),
  'School ' || (i % 40), 'x', 'laptop-' || i, 0,
  strftime('%s', 'now') - (i % 100) * 3600, 1,
  CASE i % 10 WHEN 0 THEN 'fail' WHEN 1 THEN 'unknown' ELSE 'pass' END FROM n;
  INSERT INTO checks_latest (device_id, check_id, status) SELECT id, c.name,
  CASE (id + length(c.name)) % 7 WHEN 0 THEN 'fail' ELSE 'pass' END
  FROM devices, (SELECT 'encryption' AS name UNION SELECT 'screen_lock'
  UNION SELECT 'usb_storage' UNION SELECT 'camera') c;"
sqlite3 "$T/summary.db" < bench/counts.sql
start_collectord "$DB" "$T/collectord.log"

# timed PATH: "median X ms, max Y ms" of 20 requests, in ms.
timed() {
	for i in $(seq 1 20); do
		curl -sf -o /dev/null -u 'bench:correct horse battery' \
			-w '%{time_total}\n' "http://127.0.0.1:$PORT$1" ||
			echo "GET $1 failed" >&2
	done | sort -n > "$T/times"
	awk '{ t[NR] = $1 } END { printf "median %.1f ms, max %.1f ms", t[int((NR + 1) / 2)] * 1000, t[NR] * 1000 }' "$T/times"
}

N=$(printf '%s' "$DEVICES" | sed ':a; s/\B[0-9]\{3\}\>/,&/; ta')
summary=$(timed /api/v1/summary)
printf 'ROW\t%s\t%s\t%s\t%s\n' \
	"GET /api/v1/summary, $N devices and $(printf '%s' $((DEVICES * 4)) | sed ':a; s/\B[0-9]\{3\}\>/,&/; ta') check rows, SQLite, as an admin, 20 requests (bench/summary.sh)" \
	"$summary (the first pays yescrypt)" "under 10 ms" \
	"$(echo "$summary" | awk '{ print $2 < 10 ? "yes" : "**no**" }')"
mid=$((DEVICES / 100))
first=$(timed "/api/v1/devices?page=1&per_page=50")
middle=$(timed "/api/v1/devices?page=$mid&per_page=50")
failing=$(timed "/api/v1/devices?check=encryption&check_status=fail&page=100&per_page=50")
printf 'ROW\t%s\t%s\t%s\t%s\n' \
	"a page of laptops from the API, $N devices, SQLite: GET /api/v1/devices, 50 a page, 20 requests each" \
	"first page: $first; page $mid: $middle; failing encryption, page 100: $failing" \
	"(none set)" "reported"
kill "$COLLECTORD_PID"
wait "$COLLECTORD_PID" || true
