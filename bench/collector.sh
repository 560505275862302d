#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# collectord under load: reports/s and p99 on SQLite and PostgreSQL, and
# nginx answering the same request stream with 201 from a static config
# (the HTTP ceiling on this machine), and the ratio of each to nginx.
# wrk: 2 threads, 32 connections, keep-alive, DURATION seconds each
# (default 10); ~2 KB reports from 1,000 enrolled devices.
# Usage: bench/collector.sh BUILD TMP
# Prints result lines for bench/run.sh (ROW, what, figure, goal, met).
set -eu
B=$1
T=$2
DURATION=${DURATION:-10}
GOAL_SQLITE=20000
. tests/system/pg.sh
. bench/lib.sh

"$B/endpointd" --once --json --root tests/fixtures/laptop --policy policy.ini \
	--state-dir "$T/st" > "$T/report.json" || true

# run_wrk NAME URL LUA: sets RPS_NAME, P99_NAME and NON2XX_NAME.
run_wrk() {
	wrk -t2 -c32 -d"${DURATION}s" --latency -s "$3" "$2" > "$T/wrk.$1" 2>&1
	# A script wrk could not load sends its default request instead.
	if grep -q '\.lua:' "$T/wrk.$1"; then
		echo "$1: wrk refused the script: $(grep -m1 '\.lua:' \
			"$T/wrk.$1")" >&2
		eval "RPS_$1=0 P99_$1=? NON2XX_$1=script"
		return
	fi
	rps=$(awk '/^Requests\/sec/ {print $2}' "$T/wrk.$1")
	p99=$(awk '$1 == "99%" {print $2}' "$T/wrk.$1")
	non2xx=$(awk '/Non-2xx/ {print $5}' "$T/wrk.$1")
	echo "$1: $rps reports/s, p99 $p99, non-2xx ${non2xx:-0}" >&2
	eval "RPS_$1=\${rps:-0} P99_$1=\${p99:-?} NON2XX_$1=\${non2xx:-0}"
}

# figure NAME: the row's figure for one wrk run.
figure() {
	eval "rps=\$RPS_$1 p99=\$P99_$1 non2xx=\$NON2XX_$1"
	printf '%s reports/s, p99 %s' "$(printf '%.0f' "$rps" |
		sed ':a; s/\B[0-9]\{3\}\>/,&/; ta')" "$p99"
	[ "$non2xx" = 0 ] || printf ' (%s answers not 2xx)' "$non2xx"
}

collector_run() {	# collector_run NAME DB
	start_collectord "$2" "$T/collectord.$1.log" --threads 2
	/usr/bin/python3 bench/collector_load.py "$B" "http://127.0.0.1:$PORT" \
		"$2" 1000 "$T/load.$1.lua" "$T/report.json" >/dev/null
	run_wrk "$1" "http://127.0.0.1:$PORT" "$T/load.$1.lua"
	kill "$COLLECTORD_PID"
	wait "$COLLECTORD_PID" || true
}

# nginx: the same requests, answered 201 without a database.
p=$(free_port)
mkdir -p "$T/nginx"
cat > "$T/nginx/nginx.conf" <<CONF
worker_processes 2;
pid $T/nginx/pid;
error_log $T/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $T/nginx;
    client_max_body_size 256k;
    server {
        listen 127.0.0.1:$p;
        location / { return 201 '{"stored":true}'; }
    }
}
CONF
nginx -c "$T/nginx/nginx.conf" -p "$T/nginx"
# The collector's Lua file works for nginx too; enrol against a throwaway
# collectord to get tokens in the same shape.
start_collectord "sqlite:$T/nginx.db" "$T/collectord.nginx.log"
/usr/bin/python3 bench/collector_load.py "$B" "http://127.0.0.1:$PORT" \
	"sqlite:$T/nginx.db" 1000 "$T/load.nginx.lua" "$T/report.json" \
	>/dev/null
kill "$COLLECTORD_PID"
wait "$COLLECTORD_PID" || true
run_wrk nginx "http://127.0.0.1:$p" "$T/load.nginx.lua"
kill "$(cat "$T/nginx/pid")"

collector_run sqlite "sqlite:$T/estate.db"

# Signed reports (issue 27): one list of POOL reports posted unsigned, then
# signed (each verified against its laptop's Ed25519 key), each run on a
# fresh database, so that the difference is the verification.
POOL=${SIGNED_POOL:-100000}
pool_run() {	# pool_run NAME DB [signed]
	start_collectord "$2" "$T/collectord.$1.log" --threads 2
	/usr/bin/python3 bench/collector_load.py "$B" "http://127.0.0.1:$PORT" \
		"$2" 1000 "$T/load.$1.lua" "$T/report.json" "$POOL" ${3:-} \
		>/dev/null
	run_wrk "$1" "http://127.0.0.1:$PORT" "$T/load.$1.lua"
	kill "$COLLECTORD_PID"
	wait "$COLLECTORD_PID" || true
}
pool_run unsigned "sqlite:$T/unsigned.db"
pool_run signed "sqlite:$T/signed.db" signed
PG_WHY=
if pg_start "$T/pg" 2>"$T/pg.err"; then
	PG_VERSION=$(runuser -u postgres -- "$PGBIN/postgres" --version |
		awk '{print $3}')
	collector_run postgres "$PG_URL"
	pg_stop
else
	PG_WHY="not measured: the PostgreSQL server did not start ($(tail -1 "$T/pg.err"))"
fi

LOAD="wrk 2 threads x 32 connections, ~2 KB reports from 1,000 devices, ${DURATION} s"
printf 'ROW\t%s\t%s\t%s\t%s\n' \
	"collectord ingest, SQLite (WAL, synchronous=FULL, group commit), $LOAD" \
	"$(figure sqlite)" "20,000/s" \
	"$(awk -v r="$RPS_sqlite" -v g=$GOAL_SQLITE -v n="$NON2XX_sqlite" \
		'BEGIN { print (r >= g && n == 0) ? "yes" : "**no**" }')"
if [ -z "$PG_WHY" ]; then
	printf 'ROW\t%s\t%s\t%s\t%s\n' \
		"collectord ingest, PostgreSQL $PG_VERSION on the same machine, same load" \
		"$(figure postgres)" "(none set; half of nginx below)" "reported"
else
	printf 'ROW\t%s\t%s\t%s\t%s\n' "collectord ingest, PostgreSQL, same load" \
		"$PG_WHY" "(none set)" "not measured"
fi
printf 'ROW\t%s\t%s\t%s\t%s\n' \
	"collectord ingest of signed reports (each verified against its laptop's Ed25519 key before it is read), SQLite, $POOL reports from 1,000 devices; beside it the same reports unsigned" \
	"signed $(figure signed); unsigned $(figure unsigned)" \
	"signed at least 2/3 of unsigned" \
	"$(awk -v s="$RPS_signed" -v u="$RPS_unsigned" \
		'BEGIN { print (s >= u * 2 / 3) ? "yes" : "**no**" }')"
printf 'ROW\t%s\t%s\t%s\t%s\n' \
	"nginx answering the same requests 201 from a static config (the HTTP ceiling), same load; collectord/nginx" \
	"$(figure nginx); collectord/nginx: $(awk -v n="$RPS_nginx" \
		-v s="$RPS_sqlite" -v p="${RPS_postgres:-}" 'BEGIN {
		printf "SQLite %.2f", s / n
		if (p != "") printf ", PostgreSQL %.2f", p / n }')" \
	"collectord at least half of nginx" \
	"$(awk -v n="$RPS_nginx" -v s="$RPS_sqlite" \
		-v p="${RPS_postgres:-$RPS_sqlite}" \
		'BEGIN { print (s >= n / 2 && p >= n / 2) ? "yes" : "**no**" }')"
