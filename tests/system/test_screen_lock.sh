# SPDX-License-Identifier: Apache-2.0
# System test of the screen_lock check: fixture cases and the daemon
# watching a dbusmock logind on a private system bus.
. tests/system/lib.sh

$PY tests/system/screen_lock.py "$B/endpointd" "$B/endpointctl" "$T" \
	tests/fixtures/screen_lock/*.case || die "screen_lock judged wrong"
