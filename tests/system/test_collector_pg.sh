# SPDX-License-Identifier: Apache-2.0
# System test of collectord on a real PostgreSQL server that this script
# starts itself (tests/system/pg.sh): loopback only, as the postgres user.
. tests/system/lib.sh
. tests/system/pg.sh

trap 'pg_stop; cleanup' EXIT
pg_start "$T/pg" || die "PostgreSQL did not start: $(cat "$T/pg/log" 2>/dev/null)"
# How collector.py stops the server and starts it again (storage
# unavailable: 503, then the retry stored).
PG_CTL="runuser -u postgres -- $PGBIN/pg_ctl -D $PGDIR/data -w"
export PG_DOWN="$PG_CTL -m fast stop >/dev/null"
export PG_UP="$PG_CTL -l $PGDIR/log -o '-c listen_addresses=127.0.0.1 \
-p $PGPORT -k $PGDIR' start >/dev/null"
$PY tests/system/collector.py "$B/collectord" "$B/endpointd" "$T" "$PG_URL" ||
	die "collectord on PostgreSQL answered wrong"
$PY tests/system/frontdoor.py "$B/collectord" "$B/endpointd" "$T/front" \
	"$PG_URL" || die "collectord's front door on PostgreSQL let something through"
