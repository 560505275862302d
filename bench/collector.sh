#!/bin/sh
# collectord under load: reports/s and p99 on SQLite and PostgreSQL, and
# nginx answering the same request stream with 201 from a static config
# (the HTTP ceiling on this machine). wrk: 2 threads, 32 connections,
# keep-alive. Usage: bench/collector.sh BUILD TMP
set -eu
B=$1
T=$2
DURATION=${DURATION:-10}
. tests/system/pg.sh
. bench/lib.sh

"$B/endpointd" --once --json --root tests/fixtures/laptop --policy policy.ini \
	--state-dir "$T/st" > "$T/report.json" || true

# run_wrk NAME URL LUA: one line of figures.
run_wrk() {
	wrk -t2 -c32 -d"${DURATION}s" --latency -s "$3" "$2" > "$T/wrk.$1" 2>&1
	rps=$(awk '/^Requests\/sec/ {print $2}' "$T/wrk.$1")
	p99=$(awk '$1 == "99%" {print $2}' "$T/wrk.$1")
	non2xx=$(awk '/Non-2xx/ {print $5}' "$T/wrk.$1")
	printf '%-12s %10s reports/s   p99 %-8s non-2xx %s\n' "$1" "$rps" "$p99" \
		"${non2xx:-0}"
	eval "RPS_$1=$rps"
}

collector_run() {	# collector_run NAME DB
	start_collectord "$2" "$T/collectord.$1.log" --threads 2
	/usr/bin/python3 bench/collector_load.py "http://127.0.0.1:$PORT" "$2" \
		1000 "$T/load.$1.lua" "$T/report.json" >/dev/null
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
cp "$T/report.json" "$T/report.nginx.json"
collector_ceiling_lua() {
	# The collector's Lua file works for nginx too; enrol against a
	# throwaway collectord to get tokens in the same shape.
	start_collectord "sqlite:$T/nginx.db" "$T/collectord.nginx.log"
	/usr/bin/python3 bench/collector_load.py "http://127.0.0.1:$PORT" \
		"sqlite:$T/nginx.db" 1000 "$T/load.nginx.lua" "$T/report.json" \
		>/dev/null
	kill "$COLLECTORD_PID"
	wait "$COLLECTORD_PID" || true
}
collector_ceiling_lua
run_wrk nginx "http://127.0.0.1:$p" "$T/load.nginx.lua"
kill "$(cat "$T/nginx/pid")"

collector_run sqlite "sqlite:$T/estate.db"
if pg_start "$T/pg"; then
	collector_run postgres "$PG_URL"
	pg_stop
fi
/usr/bin/python3 -c "
import sys
n, s, p = float('$RPS_nginx'), float('$RPS_sqlite'), float('${RPS_postgres:-0}')
print(f'collectord/nginx: SQLite {s / n:.2f}, PostgreSQL {p / n:.2f}')"
