# SPDX-License-Identifier: Apache-2.0
# endpointctl enroll against an uploader account racing it with symlinks
# (see enrol_race.py): root chowns nothing of the account's choosing.
. tests/system/lib.sh

$PY tests/system/enrol_race.py "$B" "$T" ${ENROL_RACE_RUNS:-} || {
	[ ! -f "$T/col/collectord.log" ] ||
		{ echo "--- collectord.log:"; tail -n 40 "$T/col/collectord.log"; } >&2
	die "root followed the uploader's symlink or enrolment failed"
}
ok "enrolment is safe from the uploader's symlinks"
