# SPDX-License-Identifier: Apache-2.0
# Browser test of the dashboard: collectord on SQLite on loopback, seeded
# through its API (tests/system/dashboard_seed.py), driven by Playwright
# in Debian's headless Chromium (tests/browser/dashboard.mjs).
# Screenshots and the exports go to $B/test-artifacts/dashboard.
. tests/system/lib.sh

command -v node >/dev/null || die "node is missing (installer/deps.sh installs it)"
[ -x /usr/bin/chromium ] || die "/usr/bin/chromium is missing (installer/deps.sh installs it)"
# playwright-core, at the version package-lock.json pins.
if [ ! -f tests/browser/node_modules/playwright-core/package.json ]; then
	(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error) ||
		die "npm ci in tests/browser failed"
fi

ART=$B/test-artifacts/dashboard
rm -rf "$ART"
mkdir -p "$ART"
PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
DB=sqlite:$T/estate.db
PASSWORD="correct horse battery staple"

echo "$PASSWORD" | "$B/collectord" --db "$DB" --add-admin ict >/dev/null
OAK=$("$B/collectord" --db "$DB" --new-enrol-secret --group "Oak Primary")
ELM=$("$B/collectord" --db "$DB" --new-enrol-secret --group "Elm High")
"$B/collectord" --db "$DB" --listen "127.0.0.1:$PORT" 2>"$T/log" &
DAEMON_PID=$!
wait_for "collectord" curl -sf "$URL/healthz"

$PY tests/system/dashboard_seed.py "$URL" "$DB" "$OAK" "$ELM" "$T/seed.json" ||
	die "seeding the collector failed"
ok "seeded: 65 laptops in two schools, one of them hostile"
node tests/browser/dashboard.mjs "$URL" ict "$PASSWORD" "$T/seed.json" "$ART" ||
	die "the dashboard test failed (screenshots in $ART)"
ok "screenshots in $ART"
stop_daemon
ok "collectord stops cleanly"
