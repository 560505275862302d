#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""System test of the usb_storage check: the real endpointd under
umockdev's preload, fed udev events from a testbed.

Run under umockdev-wrapper (this process's libudev must see the testbed
too, to send uevents). Each tests/fixtures/usb/*.umockdev describes one
device; "@NAME@" in an N: line is replaced by the first 64 KiB of an image
made here (vfat, luks, bitlocker, blank, random, dos, gpt_bitlocker,
gpt_luks), "@NAME.pN@" by the first 64 KiB of its partition N, and
"# expect BUS_PATH verdict=V warn=TAKEN block=TAKEN" lines say what
endpointd must decide under the warn and the block policy. "# part NAME
KEY=VALUE..." lines say what the add event must show of that part, and
"# whole NODE=NAME" puts all of image NAME in the device node (libblkid
checks a GPT against the disk's size). tests/fixtures/usb/changes/ holds
the sticks changed while plugged in.
Usage: usb.py ENDPOINTD ENDPOINTCTL TMP FIXTURE...
"""
import json
import os
import re
import shutil
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


# How Windows 10 and 11 initialise a disk as GPT: the 16 MiB Microsoft
# Reserved partition, then the data partition.
GPT_WINDOWS = """label: gpt
size=16MiB, type=E3C9E316-0B5C-4DB8-817D-F92DF00215AE, name="Microsoft reserved partition"
type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="Basic data partition"
"""
IMAGES = {}


def image_path(d, n):
    return os.path.join(d, n + ".img")


def make_gpt(d, n, inner):
    """A 64 MiB sparse GPT disk laid out by sfdisk as Windows does, image
    inner written at its data partition; returns the partitions'
    (start, size) in bytes."""
    path = image_path(d, n)
    subprocess.run(["truncate", "-s", "64M", path], check=True)
    subprocess.run(["sfdisk", "-q", path], input=GPT_WINDOWS, text=True,
                   check=True, capture_output=True)
    table = json.loads(subprocess.run(["sfdisk", "-J", path], check=True,
                                      capture_output=True,
                                      text=True).stdout)["partitiontable"]
    parts = [(p["start"] * 512, p["size"] * 512) for p in table["partitions"]]
    with open(path, "r+b") as f:
        f.seek(parts[1][0])
        f.write(open(image_path(d, inner), "rb").read())
    # libblkid must see the reserved partition by its type, and the
    # data partition's signature where the table puts it.
    got = subprocess.run(["partx", "-g", "-o", "TYPE", path], check=True,
                         capture_output=True, text=True).stdout.split()
    assert got[0].upper() == "E3C9E316-0B5C-4DB8-817D-F92DF00215AE", got
    got = subprocess.run(["blkid", "-p", "-O", str(parts[1][0]), "-o",
                          "value", "-s", "TYPE", path], capture_output=True,
                         text=True).stdout.strip()
    assert got == {"bitlocker": "BitLocker", "luks": "crypto_LUKS"}[inner], got
    return parts


def make_images(d):
    """Real images, made now; returns name -> first 64 KiB as hex."""
    def path(n):
        return image_path(d, n)
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
    # VeraCrypt: no header in the clear, indistinguishable from random.
    open(path("random"), "wb").write(os.urandom(65536))
    hexes = {}
    for n, inner in (("gpt_bitlocker", "bitlocker"), ("gpt_luks", "luks")):
        for i, (start, _) in enumerate(make_gpt(d, n, inner), 1):
            with open(path(n), "rb") as f:
                f.seek(start)
                hexes[f"{n}.p{i}"] = f.read(65536).hex().upper()
    for n in ("vfat", "luks", "dos", "bitlocker", "blank", "random",
              "gpt_bitlocker", "gpt_luks"):
        IMAGES[n] = path(n)
        hexes[n] = open(path(n), "rb").read(65536).hex().upper()
        # What libblkid must make of them, before anything else relies on it.
        got = subprocess.run(["blkid", "-p", "-o", "value", "-s", "TYPE",
                              path(n)], capture_output=True, text=True).stdout
        want = {"vfat": "vfat", "luks": "crypto_LUKS",
                "bitlocker": "BitLocker"}.get(n)
        if n in ("dos", "gpt_bitlocker", "gpt_luks"):
            got = subprocess.run(["blkid", "-p", "-o", "value", "-s",
                                  "PTTYPE", path(n)], capture_output=True,
                                 text=True).stdout
            want = n.split("_")[0]
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
        self.parts = {m.group(1): dict(kv.split("=", 1) for kv in
                                       m.group(2).split())
                      for m in re.finditer(r"^# part (\S+) (.+)$", text,
                                           re.M)}
        self.whole = dict(m.groups() for m in
                          re.finditer(r"^# whole (\S+)=(\S+)$", text, re.M))
        body = "\n".join(line for line in text.split("\n")
                         if not line.startswith("#")).strip() + "\n"
        self.desc = re.sub(r"@([\w.]+)@", lambda m: hexes[m.group(1)], body)
        self.paths = re.findall(r"^P: (\S+)$", self.desc, re.M)

    def plug(self, tb):
        tb.add_from_string(self.desc)
        for node, image in self.whole.items():
            # Renamed into place: endpointd may be reading the node.
            node = os.path.join(tb.get_root_dir(), "dev", node)
            subprocess.run(["cp", "--sparse=always", IMAGES[image],
                            node + ".new"], check=True)
            os.replace(node + ".new", node)
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
    if f.parts:
        check_parts(f, d)
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


def check_parts(f, d):
    """What the fixture's "# part" lines say of its parts, in the first
    finding that lists them all (udev may announce them in any order)."""
    def listed(line):
        return {p["name"]: p for dev in
                line["finding"]["evidence"].get("devices", [])
                for p in dev["parts"]}

    line = d.wait_for(lambda l: l.get("type") == "finding" and
                      l["finding"]["id"] == "usb_storage" and
                      set(f.parts) <= set(listed(l)), "its parts listed")
    d.pending.insert(0, line)   # looked at, left for the waits after
    parts = listed(line)
    for name, want in f.parts.items():
        for k, v in want.items():
            got = parts[name].get(k)
            got = json.dumps(got) if not isinstance(got, str) else got
            assert got == v, f"{name}: {k} is {got}, wanted {v}: {parts}"


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


def once_blank(endpointd, tmp, tb, fixtures):
    """The policy's blank key: a blank stick fails under blank = warn,
    with words that say it is blank, not that it cannot be read."""
    f = [x for x in fixtures if x.name == "blank_stick"][0]
    policy = os.path.join(tmp, "blank.ini")
    write(policy, POLICY.format(mode="warn", version=1) + "blank = warn\n")
    tb.add_from_string(f.desc)
    run = subprocess.run([endpointd, "--once", "--json", "--root",
                          os.path.join(tmp, "once-root"), "--policy", policy,
                          "--state-dir", os.path.join(tmp, "blank-state")],
                         capture_output=True, text=True)
    for p in sorted(f.paths, key=len, reverse=True):
        tb.remove_device("/sys" + p)
    assert run.returncode == 1, (run.returncode, run.stderr)
    check = [c for c in json.loads(run.stdout)["checks"]
             if c["id"] == "usb_storage"][0]
    assert check["status"] == "fail" and "is blank" in check["summary"], \
        check
    dev = check["evidence"]["devices"][0]
    assert dev["verdict"] == "blank", dev
    assert dev["parts"][0]["content"] == "blank" and \
        dev["parts"][0]["entropy"] == 0, dev
    print("ok: once: blank = warn fails a blank stick, in its own words")


def stick_event(bus_path, verdict):
    """An add or change event judging bus_path as verdict."""
    return lambda l: (event_of(l, "usb_device") and
                      l["event"]["action"] in ("add", "change") and
                      l["event"]["device"]["bus_path"] == bus_path and
                      l["event"]["device"]["verdict"] == verdict)


def finding_with(status, bus_path, verdict):
    """A usb_storage finding of status listing bus_path as verdict."""
    return lambda l: (finding_of(l, "usb_storage", status) and
                      any(dev["bus_path"] == bus_path and
                          dev["verdict"] == verdict for dev in
                          l["finding"]["evidence"].get("devices", [])))


def rewrite(tb, node, image):
    """The stick's bytes replaced, as mkfs or cryptsetup would."""
    node = os.path.join(tb.get_root_dir(), "dev", node)
    shutil.copyfile(IMAGES[image], node + ".new")
    os.replace(node + ".new", node)


def changes(endpointd, tmp, fixdir, hexes):
    """Sticks formatted or unlocked while plugged in are judged again at
    once, on the change (or dm-crypt add) event. Returns failures."""
    def fix(name):
        return Fixture(os.path.join(fixdir, name + ".umockdev"), hexes)
    tb = UMockdev.Testbed.new()
    mtmp = os.path.join(tmp, "changes")
    policy = os.path.join(mtmp, "policy.ini")
    write(policy, POLICY.format(mode="warn", version=1))
    d = Daemon(endpointd, ["--policy", policy], mtmp)
    failed = 0
    stick, vc = fix("stick"), fix("veracrypt")
    disk = "/sys" + [p for p in stick.paths if p.endswith("/sdp")][0]

    def step(what, fn):
        nonlocal failed
        try:
            fn()
            print(f"ok: changes: {what}")
        except AssertionError as e:
            print(f"FAIL: changes: {what}: {e}")
            failed += 1

    def formatted_luks():
        stick.plug(tb)
        d.wait_for(stick_event("1-16", "not encrypted"), "FAT stick judged")
        rewrite(tb, "sdp", "luks")
        tb.uevent(disk, "change")
        ev = d.wait_for(stick_event("1-16", "encrypted"),
                        "re-judged once LUKS-formatted")["event"]
        assert ev["action"] == "change" and ev["taken"] == "none", ev
        d.wait_for(finding_with("pass", "1-16", "encrypted"), "pass")

    def repartitioned():
        # A new MBR table: the disk is a container; then its FAT partition.
        rewrite(tb, "sdp", "dos")
        tb.uevent(disk, "change")
        part = fix("partition")
        part.plug(tb)
        ev = d.wait_for(stick_event("1-16", "not encrypted"),
                        "re-judged with its new FAT partition")["event"]
        assert ev["action"] == "change" and ev["taken"] == "warned", ev
        d.wait_for(finding_with("fail", "1-16", "not encrypted"), "fail")
        part.unplug(tb)
        stick.unplug(tb)
        d.wait_for(lambda l: usb_event(l, "remove", "1-16"), "removed")

    def unlocked():
        vc.plug(tb)
        ev = d.wait_for(stick_event("1-17", "unrecognised"),
                        "VeraCrypt-like stick judged")["event"]
        assert ev["taken"] == "warned", ev
        fix("dm_crypt").plug(tb)
        ev = d.wait_for(stick_event("1-17", "encrypted"),
                        "re-judged once unlocked")["event"]
        part = ev["device"]["parts"][0]
        assert ev["action"] == "change" and part["unlocked_as"] == "TCRYPT" \
            and part["content"] == "random", ev
        d.wait_for(finding_with("pass", "1-17", "encrypted"),
                   "pass once unlocked")

    try:
        step("a stick formatted with LUKS while plugged in", formatted_luks)
        step("a stick given a new partition table", repartitioned)
        step("a VeraCrypt-like stick unlocked with dm-crypt", unlocked)
    finally:
        rc, log = d.stop()
    if rc != 0 or "Sanitizer" in log:
        print(f"FAIL: changes: endpointd exit {rc}:\n{log}")
        failed += 1
    elif failed:
        print(f"--- endpointd's log (changes):\n{log[-3000:]}")
    return failed


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
    try:
        once_blank(endpointd, tmp, UMockdev.Testbed.new(), fixtures)
    except AssertionError as e:
        print(f"FAIL: once: {e}")
        failed += 1
    failed += changes(endpointd, tmp, os.path.join(
        os.path.dirname(sys.argv[4]), "changes"), hexes)
    total = 2 * len(fixtures) + 8
    print(f"{total - failed} usb tests right, {failed} wrong")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
