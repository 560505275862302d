# SPDX-License-Identifier: Apache-2.0
# Helpers for the benchmark scripts: sourced, never run. $B is the build
# directory.

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_collectord DB LOG [ARGS...]: collectord on a free loopback port,
# answering; sets PORT and COLLECTORD_PID.
start_collectord() {
	sc_db=$1
	sc_log=$2
	shift 2
	PORT=$(free_port)
	"$B/collectord" --db "$sc_db" --listen "127.0.0.1:$PORT" "$@" \
		2>"$sc_log" &
	COLLECTORD_PID=$!
	sc_i=0
	until curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do
		sc_i=$((sc_i + 1))
		if [ $sc_i -ge 200 ]; then
			echo "collectord did not start; see $sc_log" >&2
			return 1
		fi
		sleep 0.05
	done
}
