# SPDX-License-Identifier: Apache-2.0
# System test: endpointd --once and --check, endpointctl policy check, and
# the errors a user meets.
. tests/system/lib.sh

write_policy "$T/policy.ini" 1
"$B/endpointd" --once --json --root tests/fixtures/laptop \
	--policy "$T/policy.ini" --state-dir "$T/state" > "$T/r1.json" ||
	die "--once --json failed"
"$B/endpointd" --once --json --root tests/fixtures/laptop \
	--policy "$T/policy.ini" --state-dir "$T/state" > "$T/r2.json" \
	2>"$T/once.log"
! grep "not in the privacy account" "$T/once.log" ||
	die "the report carried a field endpointctl privacy does not declare"
$PY tests/validate_report.py docs/report.schema.json "$T/r1.json" "$T/r2.json" ||
	die "the report does not match the schema"
[ "$(json_get "$T/r1.json" 'd["device"]["hostname"]')" = staff-laptop-017 ] ||
	die "the report does not read the fixture root"
[ "$(json_get "$T/r1.json" 'd["device"]["serial"]')" = PF3ABCDE ] ||
	die "no DMI serial"
# --once keeps no number: the service beside it owns them.
[ "$(json_get "$T/r1.json" 'd["seq"]')" = 1 ] &&
[ "$(json_get "$T/r2.json" 'd["seq"]')" = 1 ] && [ ! -e "$T/state/seq" ] ||
	die "--once kept a sequence number"
ok "--once --json gives a schema-valid report of the fixture, and keeps no sequence number"

"$B/endpointd" --once --root tests/fixtures/laptop --policy "$T/policy.ini" \
	--state-dir "$T/state" > "$T/table.txt" || die "--once failed"
ok "--once prints a table"

# The shipped policy is valid; a broken one is not.
"$B/endpointd" --check --policy policy.ini > /dev/null || die "policy.ini invalid"
"$B/endpointctl" policy check policy.ini > /dev/null ||
	die "endpointctl rejects policy.ini"
printf '[policy]\nname = x\nversion = 1\ninterval_minutes = 0\n' > "$T/bad.ini"
st=0
"$B/endpointctl" policy check "$T/bad.ini" 2> "$T/err" || st=$?
[ "$st" -eq 1 ] || die "endpointctl policy check exit $st on a bad policy"
grep -q "$T/bad.ini:4: \[policy\] interval_minutes = 0 is out of range" \
	"$T/err" || die "no FILE:LINE error"
st=0
"$B/endpointd" --check --policy "$T/bad.ini" 2>/dev/null || st=$?
[ "$st" -eq 1 ] || die "endpointd --check exit $st on a bad policy"
ok "policy check: valid and invalid files"

# Errors: a bad policy or state directory is status 2 with a message.
st=0
"$B/endpointd" --once --policy "$T/bad.ini" --state-dir "$T/state" \
	2>/dev/null || st=$?
[ "$st" -eq 2 ] || die "--once with a bad policy: exit $st"
touch "$T/file"
st=0
"$B/endpointd" --once --policy "$T/policy.ini" --state-dir "$T/file/state" \
	2> "$T/err" || st=$?
[ "$st" -eq 2 ] || die "--once with an unusable state dir: exit $st"
grep -q "state directory" "$T/err" || die "no message for the state dir"
st=0
"$B/endpointctl" --socket "$T/none.sock" status 2> "$T/err" || st=$?
[ "$st" -eq 2 ] || die "endpointctl status without a daemon: exit $st"
grep -q "Is the endpointd service running" "$T/err" || die "unclear message"
ok "errors exit 2 with a message"
