#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The dashboard at the size of a large trust: 100,000 laptops in 40
# schools, four checks each, 30 days of history (a report a day per laptop:
# 3,000,000 report rows, and 300,000 events) and 30 days of snapshots, on
# SQLite. The estate is made with SQL; then headless Chromium
# (bench/dashboard.mjs) times each page from navigation to drawn.
# Usage: bench/dashboard.sh BUILD TMP
# Prints result lines for bench/run.sh (ROW, what, figure, goal, met).
set -eu
B=$1
T=$2
. bench/lib.sh
DB="sqlite:$T/estate.db"
PASSWORD="correct horse battery"
"$B/collectord" --db "$DB" --new-enrol-secret >/dev/null
echo "$PASSWORD" | "$B/collectord" --db "$DB" --add-admin bench >/dev/null
start=$(date +%s)
sqlite3 "$T/estate.db" "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
  WHERE i < 100000) INSERT INTO devices (machine_id, grp, token_hash,
  hostname, serial, model, os, enrolled_at, last_seen, last_seq, status,
  users, status_since) SELECT printf('%032x', i),
  'School ' || (i % 40), 'x', 'laptop-' || i, printf('PF%06d', i),
  'ThinkPad T14', 'Debian GNU/Linux 12', 0,
  strftime('%s', 'now') - (i % 100) * 3600, 30,
  CASE WHEN i % 7 = 0 OR (i + 10) % 7 = 0 THEN 'fail' ELSE 'pass' END,
  'staff' || i, strftime('%s', 'now') - (i % 30) * 86400
  FROM n;
  INSERT INTO checks_latest SELECT id, c.name, CASE (id + length(c.name)) % 7
  WHEN 0 THEN 'fail' ELSE 'pass' END, CASE (id + length(c.name)) % 7
  WHEN 0 THEN c.name || ' fails on this laptop.' ELSE c.name || ' passes.' END
  FROM devices, (SELECT 'encryption' AS name UNION SELECT 'screen_lock'
  UNION SELECT 'usb_storage' UNION SELECT 'camera') c;
  $(cat bench/counts.sql)
  WITH RECURSIVE day(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM day
  WHERE k < 29) INSERT INTO daily SELECT date('now', '-' || k || ' days'),
  grp, check_id, status, n FROM counts, day;
  WITH RECURSIVE day(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM day
  WHERE k < 30) INSERT INTO reports SELECT id, k, strftime('%s', 'now') -
  (30 - k) * 86400, strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || (30 - k) ||
  ' days'), CASE WHEN k > 20 THEN status ELSE 'pass' END,
  CASE WHEN k = 30 THEN '{\"checks\":[{\"id\":\"encryption\",\"status\":\"fail\",\"severity\":\"high\",\"clause\":\"All laptops must be encrypted.\",\"summary\":\"The disk is not encrypted.\",\"remedy\":null,\"evidence\":{}}]}'
  ELSE '{}' END
  FROM devices, day;
  INSERT INTO events (device_id, at, type, check_id, received_at, body)
  SELECT id % 100000 + 1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now',
  '-' || (id % 30) || ' days'), 'usb_device', 'usb_storage',
  strftime('%s', 'now'), '{\"at\":\"2026-11-01T10:00:00Z\",\"type\":\"usb_device\",\"check\":\"usb_storage\",\"action\":\"add\",\"device\":{\"vendor_id\":\"0781\",\"product_id\":\"5583\",\"manufacturer\":\"SanDisk\",\"product\":\"Ultra Fit\"},\"taken\":\"warn\"}'
  FROM (SELECT rowid AS id FROM reports LIMIT 300000);
  ANALYZE;" >/dev/null
echo "dashboard estate made in $(( $(date +%s) - start )) s: $(du -m "$T/estate.db" | cut -f1) MB" >&2
start_collectord "$DB" "$T/collectord.log"
if [ ! -f tests/browser/node_modules/playwright-core/package.json ]; then
	(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi
rc=0
node bench/dashboard.mjs "http://127.0.0.1:$PORT" bench "$PASSWORD" || rc=$?
kill "$COLLECTORD_PID"
wait "$COLLECTORD_PID" || true
exit $rc
