# SPDX-License-Identifier: Apache-2.0
# The status socket names no one to a reader who is not root but that
# reader: a laptop whose display manager signs alice in automatically
# fails the screen-lock check, and the summary names her. Root reads her
# name; uid 65534 (nobody on Debian; no account is made) reads "another
# user" instead, and nothing of hers. When the account named is the
# reader's own, the reader sees it.
. tests/system/lib.sh

# make_root DIR USER UID: a laptop with Xfce and LightDM signing USER in.
make_root() {
	mkdir -p "$1/etc/lightdm" "$1/usr/bin" "$1/usr/sbin" "$1/home/$2"
	cat > "$1/etc/passwd" <<P
root:x:0:0:root:/root:/bin/bash
$2:x:$3:$3:Staff Member:/home/$2:/bin/bash
P
	cat > "$1/etc/shadow" <<S
root:!:19000:0:99999:7:::
$2:\$y\$j9T\$notarealhash\$notarealhashnotarealhash:19000:0:99999:7:::
S
	: > "$1/home/$2/.profile"
	: > "$1/usr/bin/xfce4-session"
	: > "$1/usr/bin/xfce4-screensaver"
	: > "$1/usr/sbin/lightdm"
	printf '[Seat:*]\nautologin-user=%s\nautologin-user-timeout=0\n' "$2" \
		> "$1/etc/lightdm/lightdm.conf"
}

cat > "$T/policy.ini" <<POLICY
[policy]
name = Status privacy test
version = 1

[screen_lock]
clause = Devices must not be left unattended.
POLICY

# status_as UID OUT: the status as uid UID reads it (endpointctl's exit
# status says a check fails: the JSON is what is judged).
status_as() {
	if [ "$1" = 0 ]; then
		"$B/endpointctl" --socket "$T/run/status.sock" status --json \
			> "$2" || true
	else
		setpriv --reuid="$1" --regid="$1" --clear-groups \
			"$B/endpointctl" --socket "$T/run/status.sock" \
			status --json > "$2" || true
	fi
	json_get "$2" 'd["type"]' >/dev/null ||
		die "no status for uid $1: $(cat "$2")"
}
summary() {
	json_get "$1" '[c["summary"] for c in d["checks"] if c["id"] == "screen_lock"][0]'
}

run_on() {	# run_on ROOT
	"$B/endpointd" --policy "$T/policy.ini" --root "$1" \
		--state-dir "$T/state" --socket "$T/run/status.sock" \
		--udev-rule "" 2>>"$T/log" &
	DAEMON_PID=$!
	wait_for "the status socket" test -S "$T/run/status.sock"
}

make_root "$T/alice" alice 1000
run_on "$T/alice"
status_as 0 "$T/root.json"
summary "$T/root.json" | grep -q "logs alice in" ||
	die "root does not read alice's name: $(summary "$T/root.json")"
ok "root reads whom the summary concerns: $(summary "$T/root.json")"
status_as 65534 "$T/nobody.json"
! grep -q alice "$T/nobody.json" ||
	die "uid 65534 reads alice's name: $(summary "$T/nobody.json")"
summary "$T/nobody.json" | grep -q "logs another user in" ||
	die "uid 65534 is not told of another user: $(summary "$T/nobody.json")"
ok "uid 65534 reads: $(summary "$T/nobody.json")"
stop_daemon

name=$(getent passwd 65534 | cut -d: -f1)
[ -n "$name" ] || die "uid 65534 has no name here"
rm -rf "$T/state"
make_root "$T/own" "$name" 65534
run_on "$T/own"
status_as 65534 "$T/own.json"
summary "$T/own.json" | grep -q "logs $name in" ||
	die "uid 65534 does not read its own name: $(summary "$T/own.json")"
ok "uid 65534 reads its own name: $(summary "$T/own.json")"
stop_daemon
