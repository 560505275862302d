# System test of collectord on a real PostgreSQL server that this script
# starts itself: initdb in a temporary directory, loopback only, as the
# postgres user (PostgreSQL refuses to run as root).
. tests/system/lib.sh

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$PGBIN/initdb" ] || die "no PostgreSQL server (installer/deps.sh installs it)"
PGDIR="$T/pg"
mkdir -p "$PGDIR"
chown postgres: "$PGDIR"
PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg() { runuser -u postgres -- "$@"; }
as_pg "$PGBIN/initdb" -D "$PGDIR/data" -A trust -U postgres >/dev/null ||
	die "initdb"
as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w -o \
	"-c listen_addresses=127.0.0.1 -p $PORT -k $PGDIR -c fsync=on" \
	start >/dev/null || die "PostgreSQL did not start: $(cat "$PGDIR/log")"
stop_pg() { as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast stop >/dev/null 2>&1 || true; }
trap 'stop_pg; cleanup' EXIT
as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" estate || die "createdb"

$PY tests/system/collector.py "$B/collectord" "$B/endpointd" "$T" \
	"postgresql://postgres@127.0.0.1:$PORT/estate" ||
	die "collectord on PostgreSQL answered wrong"
