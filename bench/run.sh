#!/bin/sh
# make bench: measurements, never pass/fail. Builds the fixtures it needs
# in a temporary directory and prints one line per figure.
# Usage: bench/run.sh BUILD
set -eu
B=${1:-build}
T=$(mktemp -d "${TMPDIR:-/tmp}/endpointd-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT

# Encryption: 50 mounts (all named in the policy) over a stack of 10
# layers: 8 LVM/device-mapper layers over LUKS2 over an NVMe partition.
mkdir -p "$T/images" "$T/roots"
truncate -s 4M "$T/images/luks2.img"
printf 'bench' | cryptsetup luksFormat --batch-mode --type luks2 \
	--pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
	--luks2-metadata-size 16k --luks2-keyslots-size 1m \
	"$T/images/luks2.img" - >/dev/null 2>&1
{
	echo "block nvme0n1p3 259:3 image=luks2"
	echo "block dm-0 253:0 dm=CRYPT-LUKS2-00000000000000000000000000000001-root dmname=root slaves=nvme0n1p3"
	for i in 1 2 3 4 5 6 7 8; do
		echo "block dm-$i 253:$i dmname=layer$i slaves=dm-$((i - 1))"
	done
	echo "mount 253:8 / ext4 /dev/dm-8"
	echo "policy mounts = /,"
	i=1
	while [ $i -lt 50 ]; do
		echo "mount 253:$((i % 9)) /srv/m$i ext4 /dev/dm-$((i % 9))"
		echo "policy   /srv/m$i,"
		i=$((i + 1))
	done
} > "$T/bench.stack"
/usr/bin/python3 tests/system/stacks.py "$B/endpointd" "$T/images" \
	"$T/roots" "$T/bench.stack" > /dev/null || true
"$B/bench/bench_encryption" "$T/roots/bench" "$T/roots/bench.ini" 200

# Camera: open-to-attribution, a /proc scan with 1,000 more processes.
"$B/bench/bench_holders" 1000 200

# The privacy account: filtering a report of 1,000 events (once per report).
"$B/bench/bench_account" 1000 200
"$B/bench/bench_account" 0 2000

# USB: hotplug to verdict under umockdev, block mode.
mkdir -p "$T/usb"
umockdev-wrapper /usr/bin/python3 bench/usb_latency.py "$B/endpointd" \
	"$T/usb" 1000

# collectord: reports/s and p99 on SQLite and PostgreSQL beside nginx.
mkdir -p "$T/collector"
chmod 755 "$T"
sh bench/collector.sh "$B" "$T/collector"

# collectord: GET /summary with 100,000 devices.
mkdir -p "$T/summary"
sh bench/summary.sh "$B" "$T/summary"

# Delivery: 10,000 spooled reports replayed, and change-to-stored latency.
mkdir -p "$T/upload"
/usr/bin/python3 bench/upload.py "$B" "$T/upload" 10000

# The dashboard at 100,000 laptops with 30 days of history: each page
# timed in headless Chromium.
mkdir -p "$T/dashboard"
sh bench/dashboard.sh "$B" "$T/dashboard"
