# SPDX-License-Identifier: Apache-2.0
# Every fuzz target's code (tests/fuzz/), without libFuzzer, over its
# corpus and over every input that once crashed it (tests/fuzz/regress/):
# what make fuzz found stays fixed, in the plain and the sanitizer builds.
. tests/system/lib.sh

# umockdev's preload comes before ASan's runtime in the sanitizer build.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

for t in policy report ingest status udev userconf; do
	[ -x "$B/fuzz-replay/$t" ] || die "$B/fuzz-replay/$t is not built"
	wrap=
	[ "$t" = udev ] && wrap=umockdev-wrapper
	dirs="tests/fuzz/corpus/$t"
	[ -d "tests/fuzz/regress/$t" ] && dirs="$dirs tests/fuzz/regress/$t"
	# shellcheck disable=SC2086
	$wrap "$B/fuzz-replay/$t" $dirs > "$T/$t.out" 2> "$T/$t.err" ||
		die "fuzz target $t failed on its corpus: $(tail -5 "$T/$t.err")"
	! grep -q Sanitizer "$T/$t.err" ||
		die "fuzz target $t: sanitizer report: $(grep -A5 Sanitizer "$T/$t.err")"
	ok "fuzz target $t: $(cat "$T/$t.out")"
done
