# SPDX-License-Identifier: Apache-2.0
# endpoint-notify on a private session bus with python3-dbusmock's
# notification daemon (tests/system/notify.py).
. tests/system/lib.sh

$PY tests/system/notify.py "$B/endpoint-notify" "$B/endpointd" "$T" ||
	die "endpoint-notify showed the wrong thing (log: $(cat "$T/notify.log"))"
