# System test of collectord on SQLite over real HTTP on loopback.
. tests/system/lib.sh

$PY tests/system/collector.py "$B/collectord" "$B/endpointd" "$T" ||
	die "collectord answered wrong"
