# SPDX-License-Identifier: Apache-2.0
# System test: the real endpointd with a generated policy on a fixture
# root. The status socket, SIGHUP with a broken then a good policy, the
# spool, SIGTERM, and the sequence number across a restart.
. tests/system/lib.sh

write_policy "$T/policy.ini" 1
start_daemon
$PY tests/system/watch_socket.py "$T/run/status.sock" > "$T/lines" &
WATCH_PID=$!
wait_for "the watcher's first line" grep -q '"type": *"status"' "$T/lines"

"$B/endpointctl" --socket "$T/run/status.sock" status --json > "$T/status.json" ||
	die "endpointctl status failed"
[ "$(json_get "$T/status.json" 'd["policy"]["name"]')" = "System test" ] ||
	die "status does not name the policy"
[ "$(json_get "$T/status.json" 'd["policy_error"]')" = "None" ] ||
	die "policy_error set on a good policy"
[ "$(stat -c %a "$T/run/status.sock")" = 666 ] ||
	die "status socket is not readable by every local user"
ok "status socket serves the status"

# Evidence can name people and devices: root reads it, others do not.
json_get "$T/status.json" '[c for c in d["checks"] if "evidence" in c][0]["id"]' \
	> /dev/null || die "root's status lacks the evidence"
setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$B/endpointctl" --socket "$T/run/status.sock" status --json \
	> "$T/nobody.json" || die "endpointctl status as nobody failed"
[ "$(json_get "$T/nobody.json" 'sum("evidence" in c for c in d["checks"])')" = 0 ] ||
	die "a user who is not root reads evidence"
[ "$(json_get "$T/nobody.json" 'len(d["checks"])')" -gt 0 ] ||
	die "a user who is not root reads no checks"
ok "evidence for root only; every user reads the statuses"

# A broken policy is refused; the old one stays and the error is visible.
echo "this line is not INI" >> "$T/policy.ini"
kill -HUP "$DAEMON_PID"
wait_for "the refusal in the log" grep -q "stays in force" "$T/log"
grep -q "$T/policy.ini:12: expected 'key = value'" "$T/log" ||
	die "the log lacks FILE:LINE of the error"
"$B/endpointctl" --socket "$T/run/status.sock" status > "$T/status.txt" ||
	die "endpointctl status failed after a bad reload"
grep -q "newest policy was refused" "$T/status.txt" ||
	die "endpointctl does not show the refusal"
grep -q "policy.ini:12:" "$T/status.txt" || die "endpointctl lacks the line"
"$B/endpointctl" --socket "$T/run/status.sock" status --json > "$T/status.json"
[ "$(json_get "$T/status.json" 'd["policy"]["version"]')" = 1 ] ||
	die "the old policy is not in force"
wait_for "the policy_error event on the socket" \
	grep -q '"type": *"policy_error"' "$T/lines"
ok "a broken policy is refused, the old one stays, the error is visible"

# A good policy replaces it.
write_policy "$T/policy.ini" 2
kill -HUP "$DAEMON_PID"
wait_for "the reload" grep -q "policy System test 2 loaded" "$T/log"
"$B/endpointctl" --socket "$T/run/status.sock" status --json > "$T/status.json"
[ "$(json_get "$T/status.json" 'd["policy"]["version"]')" = 2 ] ||
	die "the new policy is not in force"
[ "$(json_get "$T/status.json" 'd["policy_error"]')" = "None" ] ||
	die "the old error is still shown"
ok "a good policy is loaded on SIGHUP"

# Reports: one at start, one after the good reload, schema-valid, seq
# growing, the policy events carried.
# Reports are the files named by 20 digits; the uploader's settings
# (uploader.json) sit beside them.
reports() { ls "$T/state/spool" | grep -E '^[0-9]{20}\.json$' | sort; }
wait_for "two spooled reports" test "$(reports | wc -l)" -ge 2
$PY tests/validate_report.py docs/report.schema.json "$T"/state/spool/[0-9]*.json ||
	die "a spooled report does not match the schema"
cat "$T"/state/spool/[0-9]*.json | grep -q '"type":"policy_error"' ||
	die "no report carries the policy_error event"
cat "$T"/state/spool/[0-9]*.json | grep -q '"type":"policy_loaded"' ||
	die "no report carries the policy_loaded event"
ok "reports are spooled, valid, and carry the events"

stop_daemon
kill "$WATCH_PID" 2>/dev/null || true
[ ! -e "$T/run/status.sock" ] || die "the socket was left behind"
grep -q "signal 15: stopping" "$T/log" || die "no clean stop logged"
ok "SIGTERM stops it cleanly"

# The sequence number grows across a restart.
last=$(reports | tail -1)
start_daemon
wait_for "a report after the restart" \
	test "$(reports | tail -1)" != "$last"
new=$(reports | tail -1)
[ "${new%.json}" -gt "${last%.json}" ] || die "seq went from $last to $new"
stop_daemon
ok "the sequence number grows across restarts ($last -> $new)"

# A policy without [usb_storage] still replaces a rule that hides sticks
# (the packaged one, or one left by a policy that blocked).
mkdir -p "$T/rules.d"
RULE="$T/rules.d/90-endpointd-usb-storage.rules"
cp installer/udev/90-endpointd-usb-storage.rules "$RULE"
start_daemon --udev-rule "$RULE"
wait_for "the rule replaced" grep -q 'nothing is hidden' "$RULE"
! grep -q UDISKS_IGNORE "$RULE" || die "the rule still hides sticks"
stop_daemon
ok "a policy without usb_storage replaces a rule that hid sticks"
