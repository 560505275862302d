# SPDX-License-Identifier: Apache-2.0
# System test of the camera check: umockdev's UVC camera, inotify, and
# this test's own process as the camera's user.
. tests/system/lib.sh

export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
umockdev-wrapper $PY tests/system/camera.py "$B/endpointd" "$B/endpointctl" "$T" \
	tests/fixtures/camera/uvc.umockdev || die "camera judged wrong"
