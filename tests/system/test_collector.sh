# SPDX-License-Identifier: Apache-2.0
# System test of collectord on SQLite over real HTTP on loopback.
. tests/system/lib.sh

$PY tests/system/collector.py "$B/collectord" "$B/endpointd" "$T" ||
	die "collectord answered wrong"
# The front door (docs/security.md): refusals and limits.
$PY tests/system/frontdoor.py "$B/collectord" "$B/endpointd" "$T/front" ||
	die "collectord's front door let something through"

# --access is words for staff: one line, or collectord does not start.
if "$B/collectord" --db "sqlite:$T/a.db" --access "$(printf 'ICT staff\nand all')" \
	2>"$T/err"; then
	die "collectord took an --access of two lines"
fi
grep -q 'access: one line of text' "$T/err" || die "--access: $(cat "$T/err")"
ok "collectord --access: two lines refused, with the reason"
