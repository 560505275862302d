# SPDX-License-Identifier: Apache-2.0
# Start a PostgreSQL server for a test or a benchmark: initdb in DIR, on a
# free loopback port, as the postgres user (PostgreSQL refuses root).
# Sourced; defines pg_start DIR (sets PG_URL) and pg_stop.
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)

pg_start() {
	PGDIR=$1
	[ -x "$PGBIN/initdb" ] || { echo "no PostgreSQL server" >&2; return 1; }
	mkdir -p "$PGDIR" && chown postgres: "$PGDIR" || return 1
	PGPORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	runuser -u postgres -- "$PGBIN/initdb" -D "$PGDIR/data" -A trust \
		-U postgres >/dev/null || return 1
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR/data" \
		-l "$PGDIR/log" -w -o "-c listen_addresses=127.0.0.1 \
		-p $PGPORT -k $PGDIR" start >/dev/null || return 1
	runuser -u postgres -- "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" \
		estate || return 1
	PG_URL="postgresql://postgres@127.0.0.1:$PGPORT/estate"
}

pg_stop() {
	[ -n "${PGDIR:-}" ] && runuser -u postgres -- "$PGBIN/pg_ctl" \
		-D "$PGDIR/data" -m fast stop >/dev/null 2>&1 || true
}
