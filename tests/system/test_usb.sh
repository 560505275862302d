# SPDX-License-Identifier: Apache-2.0
# System test of the usb_storage check: umockdev devices, real images,
# the real endpointd under umockdev's preload, in warn and block mode.
. tests/system/lib.sh

# ASan must come first among preloaded libraries; umockdev's preload
# comes first here, which is harmless for this test.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
umockdev-wrapper $PY tests/system/usb.py "$B/endpointd" "$B/endpointctl" \
	"$T" tests/fixtures/usb/*.umockdev || die "usb_storage judged wrong"
