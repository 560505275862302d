# SPDX-License-Identifier: Apache-2.0
# The whole delivery chain with the real programs: endpointd, the
# uploader and collectord on loopback (see upload.py).
. tests/system/lib.sh

$PY tests/system/upload.py "$B" "$T" || {
	for f in "$T"/endpointd.log "$T"/upload.log "$T"/col/collectord.log; do
		[ ! -f "$f" ] || { echo "--- $f:"; tail -n 40 "$f"; } >&2
	done
	die "reports did not reach the collector as they must"
}
$PY tests/system/upload_controls.py "$B" "$T/controls" ||
	die "the collector's control characters reached the uploader's log"
