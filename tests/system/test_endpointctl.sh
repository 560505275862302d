# SPDX-License-Identifier: Apache-2.0
# endpointctl's commands for a member of staff, against a real endpointd
# (the fixture laptop): status piped and on a terminal (script(1)), as
# JSON; explain for every check, and a misspelt one; privacy, against the
# report schema; run, and its limit
# for a user who is not root; the daemon not running; a socket the user
# may not reach.
. tests/system/lib.sh

S=$T/run/status.sock
cp policy.ini "$T/policy.ini"
"$B/endpointd" --root tests/fixtures/laptop --policy "$T/policy.ini" \
	--state-dir "$T/state" --socket "$S" --udev-rule "" 2>"$T/log" &
DAEMON_PID=$!
wait_for "the status socket" test -S "$S"
chmod 755 "$T/run"

"$B/endpointctl" -S "$S" status > "$T/piped" || [ $? -eq 1 ] || die "status failed"
grep -q '^STATUS   CHECK' "$T/piped" && ! grep -q "$(printf '\033')" "$T/piped" ||
	die "status piped: a plain table expected: $(cat "$T/piped")"
ok "status, piped: a plain table, no colour codes"
script -qec "$B/endpointctl -S $S status" /dev/null > "$T/tty" || true
grep -q "$(printf '\033')\[" "$T/tty" || die "status on a terminal: no colour"
ok "status on a terminal: in colour"
"$B/endpointctl" -S "$S" status --json > "$T/json" || [ $? -eq 1 ]
json_get "$T/json" 'len(d["checks"]) == 4 and d["schema"] == "endpointd.status/1"' |
	grep -q True || die "status --json: not the status"
"$B/endpointctl" -S "$S" status --json > "$T/status.json" || [ $? -eq 1 ] ||
	die "status --json failed"
[ "$(json_get "$T/status.json" 'd["policy"]["renotify_hours"]')" = 4 ] ||
	die "the status does not carry the policy's renotify_hours"
ok "status --json: the status object"

for c in encryption screen_lock usb_storage camera; do
	"$B/endpointctl" -S "$S" explain "$c" > "$T/explain" ||
		die "explain $c failed"
	grep -q '^What it looks at:' "$T/explain" &&
	grep -q '^The code of conduct says:' "$T/explain" &&
	grep -q '^How to put it right' "$T/explain" &&
	grep -q '^What endpointd saw (for IT support):' "$T/explain" ||
		die "explain $c: $(cat "$T/explain")"
done
ok "explain: every check, with what it looks at, the clause, the evidence (root) and the steps"
XDG_CURRENT_DESKTOP=XFCE "$B/endpointctl" -S "$S" explain screen_lock |
	grep -q 'How to put it right on Xfce:' || die "explain: not the desktop's steps"
"$B/endpointctl" -S "$S" explain screen_lock | grep -c '^How to put it right on' |
	grep -qx 3 || die "explain on an unknown desktop: all three desktops expected"
ok "explain: the steps for this desktop, or for GNOME, KDE and Xfce"
su nobody -s /bin/sh -c "$B/endpointctl -S $S explain camera" > "$T/explain" ||
	die "explain as a user failed"
grep -q 'shown to root only' "$T/explain" || die "explain as a user shows evidence"
ok "explain as a member of staff: no evidence, and says where it is"
if "$B/endpointctl" -S "$S" explain screen_lok 2>"$T/err"; then
	die "explain of an unknown check succeeded"
fi
grep -q 'Did you mean "screen_lock"?' "$T/err" || die "no suggestion: $(cat "$T/err")"
ok "explain screen_lok: suggests screen_lock"

su nobody -s /bin/sh -c "$B/endpointctl -S $S run" > "$T/run1" 2>&1 ||
	die "run as a user: $(cat "$T/run1")"
grep -q '^Checked again just now.' "$T/run1" && grep -q '^STATUS' "$T/run1" ||
	die "run: $(cat "$T/run1")"
ok "run as a member of staff: evaluated, the new status shown"
if su nobody -s /bin/sh -c "$B/endpointctl -S $S run" > "$T/run2" 2>&1; then
	die "a second run within a minute was not limited"
fi
grep -q 'You can ask again in' "$T/run2" || die "run limited: $(cat "$T/run2")"
ok "run again at once: refused, saying when to ask again"
grep -q 'evaluation asked for by uid' "$T/log" || die "the daemon did not log the request"

# Two commands in one write: each answered, in order; a line over 64
# bytes ends the connection.
$PY - "$S" <<'PY' || die "commands in one write were not each answered"
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile()
f.readline()                       # the status
s.sendall(b"hello\nrun\n")
types = []
while len(types) < 2:
    line = json.loads(f.readline())
    if line["type"] in ("error", "run"):
        types.append((line["type"], line.get("accepted")))
assert types == [("error", None), ("run", True)], types
s2 = socket.socket(socket.AF_UNIX)
s2.settimeout(5)                   # not disconnected: a timeout, a failure
s2.connect(sys.argv[1])
s2.makefile().readline()
s2.sendall(b"y" * 100 + b"\n")
rest = s2.recv(65536)
while rest:
    assert b'"type":"error"' not in rest, rest
    rest = s2.recv(65536)
PY
ok "two commands in one write: each answered; a line over 64 bytes: disconnected"

# A new policy: connected clients get a fresh status with its settings.
$PY - "$S" "$T/policy.ini" "$DAEMON_PID" <<'PY' || die "no fresh status after a reload"
import json, os, signal, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(10)
f = s.makefile("r")
assert json.loads(f.readline())["policy"]["renotify_hours"] == 4
text = open(sys.argv[2]).read().replace("renotify_hours = 4",
                                        "renotify_hours = 8")
open(sys.argv[2], "w").write(text)
os.kill(int(sys.argv[3]), signal.SIGHUP)
while True:
    line = json.loads(f.readline())
    if line.get("type") == "status":
        assert line["policy"]["renotify_hours"] == 8, line["policy"]
        break
PY
ok "a reloaded policy: each client gets a fresh status (renotify_hours 8)"

# privacy: as a member of staff, piped and on a terminal, and as JSON.
su nobody -s /bin/sh -c "$B/endpointctl -S $S privacy" > "$T/privacy" ||
	die "privacy as a user failed"
for h in '^Where they go:' '^When:' '^How long they are kept:' \
	'^Who can see them:' '^Never sent:' '^What a report holds' \
	'^Camera use: the details:' 'cameras\[\]\.sessions\[\]\.user' \
	'the uploader, which sends' 'every 60 minutes'; do
	grep -q "$h" "$T/privacy" || die "privacy lacks $h: $(cat "$T/privacy")"
done
! grep -q "$(printf '\033')" "$T/privacy" || die "privacy piped: control codes"
script -qec "$B/endpointctl -S $S privacy" /dev/null > "$T/privacy.tty" ||
	die "privacy on a terminal failed"
grep -q 'What a report holds' "$T/privacy.tty" || die "privacy on a terminal"
ok "privacy, piped and on a terminal: where, when, how long, who, never, every field"
"$B/endpointctl" -S "$S" privacy --json > "$T/privacy.json" || die "privacy --json"
$PY tests/system/privacy_schema.py docs/report.schema.json "$T/privacy.json" ||
	die "a field of the report schema is not in endpointctl privacy"
# The comparison can fail: without one field the account is incomplete.
$PY - "$T/privacy.json" "$T/short.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for part in d["parts"]:
    part["fields"] = [f for f in part["fields"]
                      if f["path"] != "cameras[].sessions[].user"]
json.dump(d, open(sys.argv[2], "w"))
PY
if $PY tests/system/privacy_schema.py docs/report.schema.json "$T/short.json" \
	> "$T/short.out"; then
	die "the schema comparison missed a field left out"
fi
grep -q 'checks\[camera\].evidence.cameras\[\].sessions\[\].user' "$T/short.out" ||
	die "the schema comparison named the wrong field: $(cat "$T/short.out")"
ok "privacy --json: every field of docs/report.schema.json is in the account"

chmod 700 "$T/run"
if su nobody -s /bin/sh -c "$B/endpointctl -S $S status" 2>"$T/err"; then
	die "status through an unreachable socket succeeded"
fi
grep -q 'not readable by you' "$T/err" || die "unreadable socket: $(cat "$T/err")"
ok "a socket the user may not reach: says so"
chmod 755 "$T/run"
stop_daemon
if "$B/endpointctl" -S "$S" status 2>"$T/err"; then
	die "status without endpointd succeeded"
fi
grep -q 'Is the endpointd service running?' "$T/err" || die "not running: $(cat "$T/err")"
ok "endpointd not running: says so, and what to check"
"$B/endpointctl" -S "$S" privacy > "$T/privacy" 2>"$T/err" ||
	die "privacy without endpointd failed"
grep -q 'What a report holds' "$T/privacy" && grep -q 'not running' "$T/err" ||
	die "privacy without endpointd: the account, and a word that it is down"
ok "privacy without endpointd: the account still, and says it is not running"
# Every title in the catalogue's code is in docs/messages.md for review.
grep -oE '_title = "[^"]+"' lib/messages.c | sed 's/^[a-z_]* = "//; s/"$//' |
while read -r title; do
	grep -qF "$title" docs/messages.md || die "docs/messages.md lacks \"$title\""
done
ok "every title of lib/messages.c is in docs/messages.md"
$PY tests/system/messages_doc.py lib/messages.h docs/messages.md ||
	die "docs/messages.md lacks words the checks say"
sed 's/weaker settings than the school/weaker settings than your school/' \
	docs/messages.md > "$T/messages.md"
if $PY tests/system/messages_doc.py lib/messages.h "$T/messages.md" \
	> /dev/null; then
	die "the comparison of docs/messages.md missed a changed text"
fi
ok "every summary and remedy of lib/messages.h is in docs/messages.md"
