#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# make fuzz: run each libFuzzer target for SECONDS from its corpus, and
# print one line a target: executions, speed, coverage and what it found.
# Inputs that crash a target are kept in BUILD/findings/; new interesting
# inputs go to BUILD/corpus/TARGET (merge the good ones into
# tests/fuzz/corpus/TARGET by hand: tests/fuzz/README.md).
# Usage: tests/fuzz/run.sh BUILD SECONDS TARGET...
set -eu
B=$1
SECONDS_EACH=$2
shift 2
mkdir -p "$B/findings" "$B/logs"
status=0
summary=

for t in "$@"; do
	mkdir -p "$B/corpus/$t"
	wrap=
	# The udev target needs umockdev's preload, as endpointd's USB tests do.
	[ "$t" = udev ] && wrap=umockdev-wrapper
	# collectord's own log (libmicrohttpd's error log included) would
	# drown libFuzzer's: it goes, sanitizer reports still come through.
	mask=0
	[ "$t" = ingest ] && mask=2
	# umockdev keeps two descriptors of every testbed (one per input) after
	# it is gone: the udev target runs in libFuzzer's fork mode, in
	# children that each end before the descriptors run out.
	fork=
	[ "$t" = udev ] && fork=-fork=1
	dict=
	[ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
	echo "=== fuzz $t: $SECONDS_EACH s (log: $B/logs/$t.log)"
	rc=0
	# shellcheck disable=SC2086
	$wrap "$B/fuzz/$t" -max_total_time="$SECONDS_EACH" -timeout=30 \
		-rss_limit_mb=4096 -max_len=65536 -close_fd_mask=$mask \
		-print_final_stats=1 $dict $fork \
		-artifact_prefix="$B/findings/$t-" \
		"$B/corpus/$t" "tests/fuzz/corpus/$t" > "$B/logs/$t.log" 2>&1 ||
		rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$B/logs/$t.log")
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$B/logs/$t.log")
	cov=$(grep -o 'cov: [0-9]*' "$B/logs/$t.log" | tail -1)
	# Fork mode prints no final stats: its last progress line instead.
	last=$(grep '^#[0-9]*: cov:' "$B/logs/$t.log" | tail -1)
	if [ -z "$execs" ] && [ -n "$last" ]; then
		execs=$(echo "$last" | sed 's/^#\([0-9]*\):.*/\1/')
		speed=$(echo "$last" | sed -n 's/.*exec\/s \([0-9]*\).*/\1/p')
	fi
	found=$(ls "$B/findings" | grep -c "^$t-" || true)
	line="$t: ${execs:-?} executions (${speed:-?}/s), ${cov:-cov: ?}, $found finding(s)"
	if [ "$rc" -ne 0 ]; then
		status=1
		line="$line: FAILED (exit $rc), see $B/logs/$t.log"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|tests/fuzz/)' "$B/logs/$t.log" |
			head -5
	fi
	echo "$line"
	summary="$summary
$line"
done
echo "=== fuzz summary ($SECONDS_EACH s each):$summary"
exit $status
