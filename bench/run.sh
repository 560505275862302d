#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# make bench: every figure measured in one run and printed as one table
# (what | figure | goal | met) under a line naming the machine and the
# date. Measurements, never pass/fail: a missed goal says **no** in the
# table and the exit status is still 0; a step that fails says so in a row.
#
# Each step (below) prints result lines, "ROW<tab>what<tab>figure<tab>goal
# <tab>met", which this script collects; everything else a step prints is
# progress, shown indented on stderr. The table goes to stdout.
#
# When run by hand (CI unset or false), the table, the machine and the
# date are also written into docs/performance.md, between its
# "bench:begin" and "bench:end" lines, unless one of the variables below
# shrinks or narrows the run.
#
# Usage: bench/run.sh BUILD          (make bench, or make B=DIR bench)
# Environment:
#   BENCH_QUICK=1  a short run for trying the benchmarks while developing:
#                  small counts and short durations (under 2 minutes
#                  instead of about 8); docs/performance.md is left alone
#   BENCH_ONLY="agent collector"  only these steps: agent, pipewire,
#                  encryption, holders, privacy, collector, summary,
#                  upload, dashboard;
#                  docs/performance.md is left alone
#   BENCH_DOC=0    never write docs/performance.md
#   and, each overriding one count: HOTPLUGS (10000), CAMERA_SESSIONS
#   (1000), IDLE_SECONDS (60), EVAL_RUNS (200) for bench/agent.py;
#   PW_SESSIONS (200) and IDLE_SECONDS for bench/pipewire.py;
#   DURATION (10 s, each wrk run) and SIGNED_POOL (100000 reports: the
#   list the signed-ingest runs post, at most once each) for
#   bench/collector.sh; DEVICES (100000)
#   for bench/summary.sh; REPLAY (10000 reports) for bench/upload.py;
#   LOADS (10 per page) for bench/dashboard.mjs.
set -eu
B=${1:-build}
T=$(mktemp -d "${TMPDIR:-/tmp}/endpointd-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
chmod 755 "$T"		# PostgreSQL and nginx run as other users below

if [ -n "${BENCH_QUICK:-}" ]; then
	: "${HOTPLUGS:=300}" "${CAMERA_SESSIONS:=30}" "${IDLE_SECONDS:=10}"
	: "${EVAL_RUNS:=20}" "${DURATION:=3}" "${REPLAY:=1000}" "${LOADS:=3}"
	: "${PW_SESSIONS:=30}" "${SIGNED_POOL:=20000}"
	RUNS=20
fi
export HOTPLUGS CAMERA_SESSIONS IDLE_SECONDS EVAL_RUNS DURATION DEVICES \
	LOADS PW_SESSIONS SIGNED_POOL
RUNS=${RUNS:-200}
: > "$T/rows"

# step NAME COMMAND...: runs one step unless BENCH_ONLY leaves it out.
step() {
	name=$1
	shift
	case " ${BENCH_ONLY:-$name} " in
	*" $name "*) ;;
	*) return 0 ;;
	esac
	echo "== $name" >&2
	started=$(date +%s)
	mkdir -p "$T/$name"
	{ if "$@" 2>&1; then rc=0; else rc=$?; fi; echo $rc > "$T/$name.rc"; } |
		awk -v rows="$T/rows" '/^ROW\t/ { print >> rows; fflush(rows); next }
			{ print "   " $0; fflush() }' >&2
	rc=$(cat "$T/$name.rc")
	[ "$rc" = 0 ] || printf 'ROW\t%s\t%s\t\tnot measured\n' "$name" \
		"did not complete (exit $rc; see its output above)" >> "$T/rows"
	echo "   ($name: $(( $(date +%s) - started )) s)" >&2
}

# Encryption: 50 mounts (all named in the policy) over a stack of 10
# layers: 8 LVM/device-mapper layers over LUKS2 over an NVMe partition.
encryption() {
	mkdir -p "$1/images" "$1/roots"
	truncate -s 4M "$1/images/luks2.img"
	printf 'bench' | cryptsetup luksFormat --batch-mode --type luks2 \
		--pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
		--luks2-metadata-size 16k --luks2-keyslots-size 1m \
		"$1/images/luks2.img" - >/dev/null 2>&1 || return
	{
		echo "block nvme0n1p3 259:3 image=luks2"
		echo "block dm-0 253:0 dm=CRYPT-LUKS2-00000000000000000000000000000001-root dmname=root slaves=nvme0n1p3"
		for i in 1 2 3 4 5 6 7 8; do
			echo "block dm-$i 253:$i dmname=layer$i slaves=dm-$((i - 1))"
		done
		echo "mount 253:8 / ext4 /dev/dm-8"
		echo "policy mounts = /,"
		i=1
		while [ $i -lt 50 ]; do
			echo "mount 253:$((i % 9)) /srv/m$i ext4 /dev/dm-$((i % 9))"
			echo "policy   /srv/m$i,"
			i=$((i + 1))
		done
	} > "$1/bench.stack"
	/usr/bin/python3 tests/system/stacks.py "$B/endpointd" "$1/images" \
		"$1/roots" "$1/bench.stack" > /dev/null || true
	"$B/bench/bench_encryption" "$1/roots/bench" "$1/roots/bench.ini" \
		"$RUNS" "50 mounts over a 10-layer stack (8 device-mapper layers \
over LUKS2 over an NVMe partition)"
}

machine() {
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
	mem=$(awk '/^MemTotal:/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo)
	debian=$(cat /etc/debian_version 2>/dev/null || echo "not Debian")
	echo "${cpu:-unknown CPU}, $(nproc) cores, $mem, Debian $debian, Linux $(uname -r)"
}

table() {
	echo "## $DATE — $MACHINE"
	echo
	echo "$RUN_NOTE"
	echo
	echo "| what | figure | goal | met |"
	echo "| --- | --- | --- | --- |"
	awk -F '\t' '{ for (i = 2; i <= 5; i++) gsub(/\|/, "\\|", $i)
		printf "| %s | %s | %s | %s |\n", $2, $3, $4, $5 }' "$T/rows"
}

# The table into docs/performance.md, between its markers.
write_doc() {
	doc=docs/performance.md
	if ! grep -q '^<!-- bench:begin' "$doc" || ! grep -q '^<!-- bench:end' "$doc"; then
		echo "$doc: no bench:begin and bench:end lines; not written" >&2
		return 0
	fi
	table > "$T/table.md"
	awk -v table="$T/table.md" '
		/^<!-- bench:begin/ { print; while ((getline l < table) > 0) print l
			print ""; skip = 1; next }
		/^<!-- bench:end/ { skip = 0 }
		!skip' "$doc" > "$T/doc.md"
	cat "$T/doc.md" > "$doc"
	echo "$doc: the table written" >&2
}

DATE=$(date -u '+%Y-%m-%d')
MACHINE=$(machine)
LOAD0=$(cut -d ' ' -f 1 /proc/loadavg)
STARTED=$(date +%s)

step agent umockdev-wrapper /usr/bin/python3 bench/agent.py "$B" "$T/agent"
# The camera through a real PipeWire, beside agent's direct holder.
step pipewire umockdev-wrapper /usr/bin/python3 bench/pipewire.py "$B" \
	"$T/pipewire"
step encryption encryption "$T/encryption"
# Camera attribution alone: a /proc scan with 1,000 more processes.
step holders "$B/bench/bench_holders" 1000 "$RUNS"
# The privacy account: filtering a report of 1,000 events, and of none;
# writing it is timed on the build directory's file system.
step privacy sh -c "'$B/bench/bench_privacy' 1000 '$RUNS' '$B' &&
	'$B/bench/bench_privacy' 0 $((RUNS * 10)) '$B'"
step collector sh bench/collector.sh "$B" "$T/collector"
step summary sh bench/summary.sh "$B" "$T/summary"
step upload /usr/bin/python3 bench/upload.py "$B" "$T/upload" \
	"${REPLAY:-10000}"
step dashboard sh bench/dashboard.sh "$B" "$T/dashboard"

MINUTES=$(( ($(date +%s) - STARTED + 59) / 60 ))
RUN_NOTE="Measured by \`make bench\` in one run of $MINUTES min; load average $LOAD0 at the start, $(cut -d ' ' -f 1 /proc/loadavg) at the end.${BENCH_QUICK:+ A quick run (BENCH_QUICK=1): small counts, not the figures to publish.}"
echo >&2
table

case ${CI:-} in
"" | false | 0)
	if [ -z "${BENCH_QUICK:-}${BENCH_ONLY:-}" ] && [ "${BENCH_DOC:-1}" != 0 ]; then
		write_doc
	fi ;;
esac
