#!/usr/bin/python3
"""USB hotplug latency: from the uevent that brings a FAT stick's disk to
the usb_device event on endpointd's status socket, which the daemon sends
after probing the disk with libblkid, judging it and (block mode) writing
0 to its authorized attribute. Measured by this process, so the figure
includes the umockdev event socket, the status socket and Python: an upper
bound on endpointd's own time. Also endpointd's RSS before and after.

Run under umockdev-wrapper. Usage: usb_latency.py ENDPOINTD TMP [N]
"""
import os
import subprocess
import sys
import time

import gi
gi.require_version("UMockdev", "1.0")
from gi.repository import UMockdev  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests",
                                "system"))
from endpointd_test import Daemon, event_of, write  # noqa: E402


def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def stick(i, node_hex):
    usb = f"/devices/pci0000:00/0000:00:14.0/usb1/1-{i}"
    name = "sd" + "".join(chr(97 + (i // 26 ** k) % 26) for k in (2, 1, 0))
    disk = f"{usb}/1-{i}:1.0/host6/target6:0:0/6:0:0:0/block/{name}"
    desc = f"""P: {disk}
N: {name}={node_hex}
E: DEVNAME=/dev/{name}
E: DEVTYPE=disk
E: SUBSYSTEM=block
E: ID_BUS=usb
E: MAJOR=65
E: MINOR={i % 256}
A: size=8192

P: {usb}/1-{i}:1.0
E: DEVTYPE=usb_interface
E: SUBSYSTEM=usb
A: bInterfaceClass=08

P: {usb}
E: DEVTYPE=usb_device
E: SUBSYSTEM=usb
A: idVendor=0781
A: idProduct=5567
A: serial=BENCH{i}
A: product=Bench Stick
A: authorized=1
"""
    return desc, [usb, f"{usb}/1-{i}:1.0", disk], f"1-{i}"


def main():
    endpointd, tmp = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    img = os.path.join(tmp, "vfat.img")
    subprocess.run(["truncate", "-s", "2M", img], check=True)
    subprocess.run(["mkfs.vfat", img], check=True, capture_output=True)
    node_hex = open(img, "rb").read(65536).hex().upper()
    tb = UMockdev.Testbed.new()
    policy = os.path.join(tmp, "bench.ini")
    write(policy, "[policy]\nname = Bench\nversion = 1\n\n[usb_storage]\n"
                  "clause = Encrypted sticks only.\naction = block\n")
    d = Daemon(endpointd, ["--policy", policy, "--udev-rule", ""], tmp)
    rss0 = rss_kb(d.proc.pid)
    lat = []
    for i in range(1, n + 1):
        desc, paths, bus = stick(i, node_hex)
        tb.add_from_string(desc)
        tb.uevent("/sys" + paths[0], "add")
        tb.uevent("/sys" + paths[1], "add")
        t0 = time.perf_counter()
        tb.uevent("/sys" + paths[2], "add")
        d.wait_for(lambda l: event_of(l, "usb_device") and
                   l["event"]["action"] == "add" and
                   l["event"]["device"]["bus_path"] == bus, "verdict")
        lat.append(time.perf_counter() - t0)
        for p in reversed(paths):
            tb.uevent("/sys" + p, "remove")
            tb.remove_device("/sys" + p)
        d.wait_for(lambda l: event_of(l, "usb_device") and
                   l["event"]["action"] == "remove" and
                   l["event"]["device"]["bus_path"] == bus, "removal")
        d.pending.clear()
    rss1 = rss_kb(d.proc.pid)
    rc, log = d.stop()
    lat.sort()
    print(f"usb hotplug to verdict (block mode, {n} hotplugs): "
          f"p50 {lat[len(lat) // 2] * 1e3:.2f} ms, "
          f"p99 {lat[len(lat) * 99 // 100] * 1e3:.2f} ms, "
          f"max {lat[-1] * 1e3:.2f} ms")
    print(f"endpointd RSS: {rss0} kB at start, {rss1} kB after {n} hotplugs")
    return rc


if __name__ == "__main__":
    sys.exit(main())
