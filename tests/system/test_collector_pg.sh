# System test of collectord on a real PostgreSQL server that this script
# starts itself (tests/system/pg.sh): loopback only, as the postgres user.
. tests/system/lib.sh
. tests/system/pg.sh

trap 'pg_stop; cleanup' EXIT
pg_start "$T/pg" || die "PostgreSQL did not start: $(cat "$T/pg/log" 2>/dev/null)"
$PY tests/system/collector.py "$B/collectord" "$B/endpointd" "$T" "$PG_URL" ||
	die "collectord on PostgreSQL answered wrong"
