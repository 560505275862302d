# SPDX-License-Identifier: Apache-2.0
# The fault suite (tests/system/faults.py): the real programs killed -9,
# on a full disk, under clock jumps, with the policy replaced while read,
# against a collector that misbehaves, under 10,000 uevents and a status
# client that never reads. PostgreSQL from tests/system/pg.sh; a mount
# namespace of its own for the tmpfs it fills. FAULTS_SEED=N replays the
# random delays of a run (each run prints its seed).
. tests/system/lib.sh
. tests/system/pg.sh

# libfaketime and umockdev are preloaded before ASan's runtime.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
trap 'pg_stop; cleanup' EXIT
pg_start "$T/pg" || die "PostgreSQL did not start: $(cat "$T/pg/log" 2>/dev/null)"
export PG_URL
NS=
if unshare --mount --propagation private true 2>/dev/null; then
	NS="unshare --mount --propagation private"
fi
$NS $PY tests/system/faults.py "$B" "$T" || {
	for f in "$T"/endpointd.log "$T"/upload.log; do
		[ ! -f "$f" ] || { echo "--- $f:"; tail -n 30 "$f"; } >&2
	done
	die "the programs did not stand up to every fault"
}
