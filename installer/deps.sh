#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Install the Debian packages that endpointd's build and tests need
# (and, with the argument "bench" or "fuzz", what make bench or make fuzz
# needs too).
# Idempotent: packages already installed are left alone, and apt is not
# touched at all when nothing is missing. Uses sudo when not run as root.
set -eu

# Build: compiler, pkg-config and the libraries every program links.
BUILD="build-essential pkg-config
libinih-dev libjansson-dev libsystemd-dev libudev-dev
libblkid-dev libcryptsetup-dev libmount-dev libssl-dev libexpat1-dev
libmicrohttpd-dev libsqlite3-dev libpq-dev libcrypt-dev libcurl4-openssl-dev
libyajl-dev libmimalloc-dev libpipewire-0.3-dev libsodium-dev"

# Tests and benchmarks: cmocka, the schema validator, and the real things
# the system tests and make bench drive (Chromium for the dashboard; the
# Debian tooling that builds, checks and installs the packages;
# gsettings, dconf and its GSettings back-end, which the screen-lock check
# runs; kwriteconfig5, from libkf5config-bin, which writes the KDE
# fixtures' kscreenlockerrc; fdisk's sfdisk, which lays out the USB
# test's GPT disks as Windows does; a real PipeWire daemon with pw-link,
# and GStreamer's pipewiresrc with gst-launch-1.0 as the application
# that consumes the camera through it; nginx-light, which serves the
# nginx example in front of collectord in the TLS test).
TEST="libcmocka-dev python3 python3-jsonschema python3-cryptography
cryptsetup-bin e2fsprogs dosfstools fdisk
umockdev libumockdev-dev gir1.2-umockdev-1.0 python3-gi python3-dbusmock dbus
dconf-cli libglib2.0-bin dconf-gsettings-backend libkf5config-bin
postgresql openssl curl sqlite3 faketime util-linux nginx-light
chromium
debhelper lintian adduser desktop-file-utils man-db
pipewire pipewire-bin gstreamer1.0-pipewire gstreamer1.0-tools"

# make bench only ("deps.sh bench"): a load generator, an HTTP ceiling and
# a peer to compare endpointd with (usbguard-daemon).
BENCH="wrk usbguard"
[ "${1:-}" = bench ] || BENCH=""
# make fuzz only ("deps.sh fuzz"): clang and its libFuzzer runtime.
FUZZ="clang libclang-rt-dev"
[ "${1:-}" = fuzz ] || FUZZ=""

# The desktops' own files that the screen-lock tests build their fixture
# roots from (GSettings schemas, with their vendors' overrides): downloaded
# into a folder and unpacked there ("deps.sh debs DIR"), never installed.
DESKTOP_DEBS="gsettings-desktop-schemas cinnamon-desktop-data
cinnamon-settings-daemon mate-session-manager mate-screensaver-common
mate-desktop-common mate-power-manager-common light-locker"

# deps.sh debs DIR: each of DESKTOP_DEBS as DIR/PKG_*.deb, unpacked in
# DIR/x/PKG.
debs() {
	mkdir -p "$1/x"
	cd "$1"
	need=
	for p in $DESKTOP_DEBS; do
		ls "${p}"_*.deb >/dev/null 2>&1 || need="$need $p"
	done
	if [ -n "$need" ]; then
		echo "installer/deps.sh: downloading:$need" >&2
		# shellcheck disable=SC2086
		apt-get download -q $need 2>/dev/null || {
			$SUDO apt-get update -q
			apt-get download -q $need
		}
	fi
	for p in $DESKTOP_DEBS; do
		[ -d "x/$p" ] || dpkg-deb -x "${p}"_*.deb "x/$p"
	done
}

want() {
	for p in $BUILD $TEST $BENCH $FUZZ; do
		# dpkg-query prints "install ok installed" only for a package
		# that is fully installed.
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[ "$status" = "install ok installed" ] || echo "$p"
	done
}

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "installer/deps.sh: not a Debian system; install the packages" \
	     "listed in this script by hand" >&2
	exit 0
fi

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
if [ "${1:-}" = debs ]; then
	debs "$2"
	exit 0
fi

missing=$(want)
# The dashboard's browser test runs Playwright (tests/browser, from npm)
# on Node.js: Debian's, unless the machine has its own.
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
missing=$(echo $missing)
[ -z "$missing" ] && exit 0

echo "installer/deps.sh: installing:" $missing >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing

# usbguard is there for make bench, which runs its daemon on a umockdev
# testbed only. Debian's package also enables and starts usbguard.service,
# which would block every USB device plugged in afterwards that the
# policy it generated does not list: when installed here, it is stopped
# and disabled again.
case " $missing " in
*" usbguard "*)
	if [ -d /run/systemd/system ]; then
		$SUDO systemctl disable --now usbguard.service \
			usbguard-dbus.service || true
	fi ;;
esac
