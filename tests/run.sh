#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Run every unit test binary in BUILD/tests, then every system test script
# in tests/system, and close with "N passed, N failed".
# Usage: tests/run.sh [BUILD]   (default build)
B=${1:-build}
export B
pass=0
fail=0
failed=

run() {
	echo "=== $*"
	if "$@"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		failed="$failed $*"
	fi
}

for t in "$B"/tests/test_*; do
	[ -x "$t" ] && run "$t"
done
for t in tests/system/test_*.sh; do
	run bash "$t"
done

[ -z "$failed" ] || echo "failed:$failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
