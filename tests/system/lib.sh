# SPDX-License-Identifier: Apache-2.0
# Helpers for the system tests: sourced, never run. They drive the real
# programs in $B (the build directory) and fail loudly.
set -eu
B=${B:-build}
PY=/usr/bin/python3	# Debian's, which has python3-jsonschema
# cryptsetup, mkfs.* and blkid live in /usr/sbin, which a non-login PATH
# may lack.
export PATH="$PATH:/usr/sbin:/sbin"
T=$(mktemp -d "${TMPDIR:-/tmp}/endpointd-sys.XXXXXX")
# Fixture roots are read by processes that drop to a test user (dconf
# runs as the account it reads): they must be able to walk in.
chmod 755 "$T"
DAEMON_PID=

cleanup() {
	[ -z "${KEEP_T:-}" ] || { echo "kept $T" >&2; return; }
	[ -z "$DAEMON_PID" ] || kill -9 "$DAEMON_PID" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

die() {
	echo "FAIL: $*" >&2
	[ ! -f "$T/log" ] || { echo "--- daemon log:" >&2; cat "$T/log" >&2; }
	exit 1
}

ok() {
	echo "ok: $*"
}

# wait_for DESCRIPTION COMMAND...: retry COMMAND for up to 30 s. The wait is
# for a process's reaction, never a measured time.
wait_for() {
	what=$1
	shift
	i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		# 30 s: a sanitizer build on a busy 2-core machine takes
		# seconds to start and evaluate; a wait is not a timing test.
		[ $i -lt 600 ] || die "timed out waiting for $what"
		sleep 0.05
	done
}

# json_get FILE EXPR: print a Python expression over the JSON document d.
json_get() {
	$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

write_policy() {	# write_policy FILE VERSION
	cat > "$1" <<POLICY
[policy]
name = System test
version = $2
interval_minutes = 1440

[encryption]
clause = All laptops, memory sticks and devices used must be encrypted.

[camera]
enabled = false
clause = Images of pupils only on school equipment.
POLICY
}

start_daemon() {	# start_daemon [ARGS...]
	"$B/endpointd" --policy "$T/policy.ini" --root tests/fixtures/laptop \
		--state-dir "$T/state" --socket "$T/run/status.sock" "$@" \
		2>>"$T/log" &
	DAEMON_PID=$!
	wait_for "the status socket" test -S "$T/run/status.sock"
}

# stop_daemon: SIGTERM, and the daemon must exit 0 (under the sanitizer
# build a leak or error makes the status non-zero).
stop_daemon() {
	kill -TERM "$DAEMON_PID"
	st=0
	wait "$DAEMON_PID" || st=$?
	DAEMON_PID=
	[ "$st" -eq 0 ] || die "endpointd exited with status $st"
	! grep -q Sanitizer "$T/log" || die "sanitizer report in the log"
	! grep "not in the privacy account" "$T/log" ||
		die "a report carried a field endpointctl privacy does not declare"
}
