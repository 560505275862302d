#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# make deb: the Debian packages endpointd and endpointd-collector, built
# with debhelper from a clean copy of the tree (git's files, or the working
# tree's when it is not a git checkout) with installer/debian as debian/.
# Usage: sh installer/deb.sh OUTDIR
set -eu
out=${1:?usage: deb.sh OUTDIR}
top=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^VERSION := //p' "$top/Makefile")
changelog=$(sed -n '1s/^endpointd (\([^)]*\)).*/\1/p' "$top/installer/debian/changelog")
if [ "$version" != "$changelog" ]; then
	echo "deb.sh: the Makefile says $version, installer/debian/changelog" \
	     "says $changelog" >&2
	exit 1
fi

rm -rf "$out"
src="$out/endpointd-$version"
mkdir -p "$src"
out=$(cd "$out" && pwd)
src="$out/endpointd-$version"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	# The files git knows, as they are in the working tree.
	git -C "$top" ls-files -z --cached --others --exclude-standard |
		(cd "$top" && xargs -0 cp --parents -t "$src")
else
	(cd "$top" && tar --exclude=./build -cf - .) | tar -C "$src" -xf -
fi
rm -rf "$src/build" "$src/tests/browser/node_modules"
cp -r "$src/installer/debian" "$src/debian"

cd "$src"
# -b: binary packages only; -us -uc: unsigned (sign them in the apt
# repository); -d: the Build-Depends are checked by installer/deps.sh.
# Nothing of a calling make (make check-sanitize's SANITIZE=1, B=, CFLAGS=)
# reaches the package build: its flags are dpkg-buildflags' alone.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SANITIZE -u B -u CFLAGS \
	-u LDFLAGS -u CPPFLAGS \
	dpkg-buildpackage -b -us -uc -d >"$out/build.log" 2>&1 || {
	tail -40 "$out/build.log" >&2
	echo "deb.sh: dpkg-buildpackage failed; the whole log is" \
	     "$out/build.log" >&2
	exit 1
}
ls "$out"/*.deb
