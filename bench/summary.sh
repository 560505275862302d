#!/bin/sh
# GET /api/v1/summary with 100,000 devices (four checks each) on SQLite:
# the median of 20 requests, as an admin (the first pays yescrypt; the
# verification is then cached for a minute). The estate is made with SQL,
# and its counts with the same statements the schema 4 migration runs
# (bench/counts.sql).
# Usage: bench/summary.sh BUILD TMP
set -eu
B=$1
T=$2
. bench/lib.sh
DB="sqlite:$T/summary.db"
"$B/collectord" --db "$DB" --new-enrol-secret >/dev/null
echo "correct horse battery" | "$B/collectord" --db "$DB" --add-admin bench >/dev/null
sqlite3 "$T/summary.db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1
  FROM n WHERE i < 100000) INSERT INTO devices (machine_id, grp, token_hash,
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
for i in $(seq 1 20); do
	curl -s -o /dev/null -u 'bench:correct horse battery' \
		-w '%{time_total}\n' "http://127.0.0.1:$PORT/api/v1/summary"
done | sort -n | awk '{ t[NR] = $1 } END {
	printf "GET /summary, 100,000 devices (SQLite): median %.1f ms, max %.1f ms\n",
	t[int((NR + 1) / 2)] * 1000, t[NR] * 1000 }'
kill "$COLLECTORD_PID"
wait "$COLLECTORD_PID" || true
