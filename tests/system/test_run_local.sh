# SPDX-License-Identifier: Apache-2.0
# make run (tools/run-local.sh, in CI mode: it stops at once) leaves the
# enrolment secret, the token, the admin's database, the laptop's key and
# the logs readable by the one who ran it alone: build/run is 0700 and no
# file in it is readable or writable by group or others.
. tests/system/lib.sh

D=$B/run
CI=true sh tools/run-local.sh "$B" </dev/null >"$T/out" 2>&1 ||
	{ cat "$T/out" >&2; die "tools/run-local.sh failed"; }
grep -q '^   password: ' "$T/out" || die "make run printed no password"
ok "make run ran (CI mode)"
mode=$(stat -c %a "$D")
[ "$mode" = 700 ] || die "$D is mode $mode, not 700"
ok "$D is 0700"
# Files: none open to group or others. Directories inside keep the modes
# the programs give them (the spool is the uploader group's, 0750): $D,
# 0700, is what keeps others out, the status socket included.
open=$(find "$D" -type f -perm /077 -printf '%m %p\n')
[ -z "$open" ] || die "readable or writable by others: $open"
for f in enrol-secret collector.db upload/enrolment.json; do
	[ "$(stat -c %a "$D/$f")" = 600 ] || die "$D/$f is not 0600"
done
ok "the enrolment secret, the database, the token and the logs are 0600, in a 0700 directory"
