#!/usr/bin/python3
"""System test of the usb_storage check: the real endpointd under
umockdev's preload, fed udev events from a testbed.

Run under umockdev-wrapper (this process's libudev must see the testbed
too, to send uevents). Each tests/fixtures/usb/*.umockdev describes one
device; "@NAME@" in an N: line is replaced by the first 64 KiB of an image
made here (vfat, luks, bitlocker, blank, dos), and "# expect BUS_PATH
verdict=V warn=TAKEN block=TAKEN" lines say what endpointd must decide
under the warn and the block policy.
Usage: usb.py ENDPOINTD ENDPOINTCTL TMP FIXTURE...
"""
import json
import os
import re
import struct
import subprocess
import sys

import gi
gi.require_version("UMockdev", "1.0")
from gi.repository import UMockdev  # noqa: E402

from endpointd_test import Daemon, event_of, finding_of, write  # noqa: E402

POLICY = """[policy]
name = USB test
version = {version}

[usb_storage]
clause = USB flash drives only if encrypted.
action = {mode}
unrecognised = {mode}
phones = {mode}
allow_models = 0951:1666
"""


def make_images(d):
    """Real images, made now; returns name -> first 64 KiB as hex."""
    def path(n):
        return os.path.join(d, n + ".img")
    for n in ("vfat", "luks", "dos"):
        subprocess.run(["truncate", "-s", "4M", path(n)], check=True)
    subprocess.run(["mkfs.vfat", "-n", "STICK", path("vfat")], check=True,
                   capture_output=True)
    subprocess.run(["cryptsetup", "luksFormat", "--batch-mode", "--type",
                    "luks2", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations",
                    "1000", "--luks2-metadata-size", "16k",
                    "--luks2-keyslots-size", "1m", path("luks"), "-"],
                   input=b"not-a-secret", check=True, capture_output=True)
    # An MBR with one Linux partition from sector 2048 to the end.
    mbr = bytearray(512)
    mbr[446:462] = struct.pack("<B3sB3sII", 0, b"\0\0\0", 0x83, b"\0\0\0",
                               2048, 8192 - 2048)
    mbr[510:512] = b"\x55\xaa"
    with open(path("dos"), "r+b") as f:
        f.write(mbr)
    # BitLocker (Windows 7 and later): boot-sector signature, and the FVE
    # metadata block it points to, as libblkid looks for them.
    bl = bytearray(65536)
    bl[0:11] = b"\xeb\x58\x90-FVE-FS-"
    bl[176:184] = struct.pack("<Q", 8192)
    bl[8192:8204] = b"-FVE-FS-" + struct.pack("<HH", 64, 2)
    open(path("bitlocker"), "wb").write(bl)
    open(path("blank"), "wb").write(bytes(65536))
    hexes = {}
    for n in ("vfat", "luks", "dos", "bitlocker", "blank"):
        hexes[n] = open(path(n), "rb").read(65536).hex().upper()
        # What libblkid must make of them, before anything else relies on it.
        got = subprocess.run(["blkid", "-p", "-o", "value", "-s", "TYPE",
                              path(n)], capture_output=True, text=True).stdout
        want = {"vfat": "vfat", "luks": "crypto_LUKS",
                "bitlocker": "BitLocker"}.get(n)
        if n == "dos":
            got = subprocess.run(["blkid", "-p", "-o", "value", "-s",
                                  "PTTYPE", path(n)], capture_output=True,
                                 text=True).stdout
            want = "dos"
        assert want is None or got.strip() == want, f"{n} image: {got!r}"
    return hexes


class Fixture:
    def __init__(self, path, hexes):
        text = open(path).read()
        self.name = os.path.basename(path)[:-len(".umockdev")]
        self.expects = {}
        for m in re.finditer(r"^# expect (\S+) verdict=(.+?) warn=(\S+) "
                             r"block=(\S+)$", text, re.M):
            self.expects[m.group(1)] = (m.group(2), m.group(3), m.group(4))
        body = "\n".join(line for line in text.split("\n")
                         if not line.startswith("#")).strip() + "\n"
        self.desc = re.sub(r"@(\w+)@", lambda m: hexes[m.group(1)], body)
        self.paths = re.findall(r"^P: (\S+)$", self.desc, re.M)

    def plug(self, tb):
        tb.add_from_string(self.desc)
        # Parents first, as the kernel announces them.
        for p in sorted(self.paths, key=len):
            tb.uevent("/sys" + p, "add")

    def unplug(self, tb):
        for p in sorted(self.paths, key=len, reverse=True):
            tb.uevent("/sys" + p, "remove")
            tb.remove_device("/sys" + p)

    def authorized(self, tb, bus_path):
        for p in self.paths:
            if p.endswith("/" + bus_path):
                return open(tb.get_sys_dir() + p[len("/sys"):] if
                            p.startswith("/sys") else
                            tb.get_root_dir() + "/sys" + p + "/authorized"
                            ).read().strip()
        raise AssertionError(f"no device {bus_path}")


def usb_event(line, action, bus_path):
    return (event_of(line, "usb_device") and
            line["event"]["action"] == action and
            line["event"]["device"]["bus_path"] == bus_path)


def run_mode(mode, endpointd, tmp, fixtures, tb, hexes):
    """Plug and unplug every fixture under one policy; returns failures."""
    failed = 0
    mtmp = os.path.join(tmp, mode)
    policy = os.path.join(mtmp, "policy.ini")
    rule = os.path.join(mtmp, "rules.d", "90-endpointd-usb-storage.rules")
    write(policy, POLICY.format(mode=mode, version=1))
    os.makedirs(os.path.dirname(rule))
    d = Daemon(endpointd, ["--policy", policy, "--udev-rule", rule], mtmp)
    idx = 0 if mode == "warn" else 1
    try:
        text = open(rule).read()
        hidden = 'ENV{UDISKS_IGNORE}="1"' in text
        assert hidden == (mode == "block"), f"udev rule:\n{text}"
        if mode == "block":
            assert ('ENV{ID_VENDOR_ID}=="0951", ENV{ID_MODEL_ID}=="1666", '
                    'GOTO="endpointd_end"') in text, text
        print(f"ok: {mode}: udev rule written")
        for f in fixtures:
            try:
                check_fixture(f, mode, idx, d, tb)
                print(f"ok: {mode}: {f.name}")
            except AssertionError as e:
                print(f"FAIL: {mode}: {f.name}: {e}")
                failed += 1
        if mode == "warn":
            # The policy changes to block: the rule follows on SIGHUP.
            write(policy, POLICY.format(mode="block", version=2))
            d.hup()
            d.wait_for(lambda l: event_of(l, "policy_loaded"), "reload")
            assert 'UDISKS_IGNORE' in open(rule).read(), "rule not rewritten"
            print("ok: warn: the udev rule follows a policy reload")
    except AssertionError as e:
        print(f"FAIL: {mode}: {e}")
        failed += 1
    finally:
        rc, log = d.stop()
    if rc != 0 or "Sanitizer" in log:
        print(f"FAIL: {mode}: endpointd exit {rc}:\n{log}")
        failed += 1
    elif failed:
        print(f"--- endpointd's log ({mode}):\n{log[-3000:]}")
    return failed


def check_fixture(f, mode, idx, d, tb):
    f.plug(tb)
    fails = False
    for bus_path, exp in f.expects.items():
        verdict, taken = exp[0], exp[1 + idx]
        ev = d.wait_for(lambda l: usb_event(l, "add", bus_path),
                        f"add event for {bus_path}")["event"]
        dev = ev["device"]
        assert dev["verdict"] == verdict, f"verdict {dev['verdict']!r}: {ev}"
        assert ev["taken"] == taken, f"taken {ev['taken']!r}, wanted {taken}"
        auth = f.authorized(tb, bus_path)
        assert auth == ("0" if taken == "blocked" else "1"), \
            f"authorized is {auth} after {taken}"
        assert all(len(dev[k].encode()) <= 3 * 128 for k in
                   ("serial", "manufacturer", "product") if dev[k]), dev
        fails |= taken in ("warned", "blocked")
    mine = set(f.expects)
    if fails:
        line = d.wait_for(lambda l: finding_of(l, "usb_storage", "fail") and
                          mine <= on_finding(l), "fail finding")
        summary = line["finding"]["summary"]
        assert "\n" not in summary and "\x1b" not in summary, summary
    f.unplug(tb)
    for bus_path in f.expects:
        d.wait_for(lambda l: usb_event(l, "remove", bus_path),
                   f"remove event for {bus_path}")
    if fails:
        d.wait_for(lambda l: finding_of(l, "usb_storage", "pass") and
                   not mine & on_finding(l), "pass once unplugged")


def on_finding(line):
    """The bus paths a finding line lists."""
    return {dev["bus_path"] for dev in
            line["finding"]["evidence"].get("devices", [])}


def once_mounted(endpointd, tmp, tb, fixtures):
    """A stick already mounted when endpointd looks is reported with its
    mount point (mountinfo from a fixture root)."""
    f = [x for x in fixtures if x.name == "vfat_stick"][0]
    root = os.path.join(tmp, "once-root")
    write(os.path.join(root, "proc/1/mountinfo"),
          "25 1 8:16 / /media/alice/STICK rw,nosuid - vfat /dev/sdb rw\n")
    policy = os.path.join(tmp, "once.ini")
    write(policy, POLICY.format(mode="warn", version=1))
    tb.add_from_string(f.desc)
    run = subprocess.run([endpointd, "--once", "--json", "--root", root,
                          "--policy", policy, "--state-dir",
                          os.path.join(tmp, "once-state")],
                         capture_output=True, text=True)
    for p in sorted(f.paths, key=len, reverse=True):
        tb.remove_device("/sys" + p)
    check = [c for c in json.loads(run.stdout)["checks"]
             if c["id"] == "usb_storage"][0]
    assert run.returncode == 1 and check["status"] == "fail", check
    parts = check["evidence"]["devices"][0]["parts"]
    assert parts[0]["mounted_at"] == ["/media/alice/STICK"], parts
    assert "Sanitizer" not in run.stderr, run.stderr
    print("ok: once: a mounted stick is reported with its mount point")


def main():
    endpointd, tmp = sys.argv[1], sys.argv[3]
    hexes = make_images(os.path.join(tmp))
    fixtures = [Fixture(p, hexes) for p in sys.argv[4:]]
    failed = 0
    for mode in ("warn", "block"):
        # A fresh testbed each time (umockdev keeps /sys/block links of
        # removed devices); endpointd inherits UMOCKDEV_DIR and runs under
        # the same preload.
        tb = UMockdev.Testbed.new()
        failed += run_mode(mode, endpointd, tmp, fixtures, tb, hexes)
        del tb
    try:
        once_mounted(endpointd, tmp, UMockdev.Testbed.new(), fixtures)
    except AssertionError as e:
        print(f"FAIL: once: {e}")
        failed += 1
    total = 2 * len(fixtures) + 4
    print(f"{total - failed} usb tests right, {failed} wrong")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
