#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""endpointd's own figures for make bench, measured in one run, and
usbguard-daemon's beside them on the same umockdev testbed.

1. endpointd on the machine itself, shipped policy.ini, no preload, alone:
   memory 3 s after start (VmRSS, RssAnon; private = Private_Clean +
   Private_Dirty of smaps_rollup).
2. endpointd (A) under umockdev's preload on a testbed with a USB root
   hub, a FAT stick and a UVC camera; policy: the four checks, USB storage
   in block mode, camera sessions from 0 s. In that same daemon: memory at
   start; HOTPLUGS hotplugs of a FAT stick, each from the disk's uevent to
   the usb_device event on the status socket (libblkid probe, verdict and
   authorized write included; timed by this process, so an upper bound);
   memory after a tenth of them and after all; CAMERA_SESSIONS sessions,
   this process opening the camera node, from open() to the
   camera_session start event and from close() to the end event; memory.
3. The CPU of one full evaluation (bench_evaluate), on the machine and on
   the testbed.
4. endpointd again on the machine (B), and usbguard-daemon under the
   preload on the same testbed with a configuration of its own in TMP;
   then IDLE_SECONDS in which nothing touches A, B or usbguard-daemon:
   context switches of every thread (/proc/PID/task/*/status) and CPU
   (utime + stime, /proc/PID/stat) over the same seconds. Both endpointd
   policies evaluate every 60 minutes, longer than the window.

Run under umockdev-wrapper. Usage: agent.py BUILD TMP
Environment: HOTPLUGS (10000), CAMERA_SESSIONS (1000), IDLE_SECONDS (60),
EVAL_RUNS (200). Prints ROW lines (what, figure, goal, met: tab-separated)
for bench/run.sh; progress on stderr.
"""
import os
import shutil
import subprocess
import sys
import time

import gi
gi.require_version("UMockdev", "1.0")
from gi.repository import GLib, UMockdev  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "system"))
from endpointd_test import Daemon, event_of, write  # noqa: E402

HOTPLUGS = int(os.environ.get("HOTPLUGS", "10000"))
CAMERA_SESSIONS = int(os.environ.get("CAMERA_SESSIONS", "1000"))
IDLE_SECONDS = int(os.environ.get("IDLE_SECONDS", "60"))
EVAL_RUNS = int(os.environ.get("EVAL_RUNS", "200"))
GOAL_RSS_KB = 4096
SETTLE = 3     # seconds for timers due after a burst (the report's is 1 s)

# The bench's devices use pid.codes' test vendor id, so a usbguard rule
# for them can match nothing real even if the preload were missing.
HUB = "/devices/pci0000:00/0000:00:14.0/usb1"
STICK_ID, HID_ID = ("1209", "0001"), ("1209", "0002")
# USB descriptors as sysfs "descriptors" holds them (usbguard reads them):
# device, then configuration, interface(s), endpoints.
HUB_DESC = ("12010002090001406b1d0200150603020101" "09021900010100e000"
            "090400000109000000" "0705810304000c")
STICK_DESC = ("120100020000004009120100000101020301" "090220000101008032"
              "090400000208065000" "07058102000200" "07050202000200")
HID_DESC = ("120100020000000809120200000101020001" "09022200010100a032"
            "090400000103010100" "092111010001223f00" "0705810308000a")
CAM_DESC = ("12010002ef020140f204cbb6000101020001" "0902190001010080fa"
            "09040000010e010000" "07058303100006")


POLICY_A = """[policy]
name = Bench
version = 1
interval_minutes = 60

[report]
heartbeat_minutes = 60

[encryption]
clause = All laptops must be encrypted.

[screen_lock]
clause = Not left unattended.

[usb_storage]
clause = Encrypted sticks only.
action = block

[camera]
clause = Images of pupils only on school equipment.
min_session_seconds = 0
"""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def row(what, figure, goal, met):
    print("\t".join(["ROW", what, figure, goal, met]), flush=True)


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, len(v) * p // 100)]


def ms(v, p):
    return f"{pct(v, p) * 1e3:.2f} ms"


# --- what /proc says of a process ---

def memory(pid):
    """(VmRSS, Private_Clean + Private_Dirty, RssAnon, Pss) in kB. Pss
    shares each library page among the processes that map it."""
    rss = priv = anon = pss = 0
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
        elif line.startswith("RssAnon:"):
            anon = int(line.split()[1])
    for line in open(f"/proc/{pid}/smaps_rollup"):
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            priv += int(line.split()[1])
        elif line.startswith("Pss:"):
            pss = int(line.split()[1])
    return rss, priv, anon, pss


def counters(pid):
    """(context switches of every thread, CPU seconds, threads)."""
    switches = threads = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            for line in open(f"/proc/{pid}/task/{tid}/status"):
                if line.startswith(("voluntary_ctxt_switches:",
                                    "nonvoluntary_ctxt_switches:")):
                    switches += int(line.split()[1])
            threads += 1
        except OSError:
            pass        # a thread that ended meanwhile
    stat = open(f"/proc/{pid}/stat").read()
    fields = stat[stat.rindex(")") + 2:].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return switches, cpu, threads


def mem_text(m):
    return (f"RSS {m[0]:,} kB (anonymous {m[2]:,}), private {m[1]:,} kB, "
            f"PSS {m[3]:,} kB")


# --- the testbed ---

def hub_desc():
    return f"""P: /devices/pci0000:00/0000:00:14.0
E: SUBSYSTEM=pci
E: DRIVER=xhci_hcd
E: PCI_CLASS=C0330
A: class=0x0c0330

P: {HUB}
E: DEVTYPE=usb_device
E: SUBSYSTEM=usb
E: DRIVER=usb
E: BUSNUM=001
E: DEVNUM=001
A: idVendor=1d6b
A: idProduct=0002
A: bDeviceClass=09
A: busnum=1
A: devnum=1
A: authorized=1
A: authorized_default=1
A: product=xHCI Host Controller
H: descriptors={HUB_DESC}
"""


def usb_device(port, ids, desc, extra=""):
    return f"""P: {HUB}/{port}
E: DEVTYPE=usb_device
E: SUBSYSTEM=usb
E: DRIVER=usb
E: BUSNUM=001
A: idVendor={ids[0]}
A: idProduct={ids[1]}
A: busnum=1
A: authorized=1
A: port/connect_type=hotplug
H: descriptors={desc}
{extra}"""


def stick(i, node_hex):
    """A FAT stick on port 1-i: the USB device, its interface, its disk,
    parents first (umockdev makes a missing parent a plain directory, with
    no subsystem, and libudev would look past it for a USB parent)."""
    usb = f"{HUB}/1-{i}"
    name = "sd" + "".join(chr(97 + (i // 26 ** k) % 26) for k in (2, 1, 0))
    disk = f"{usb}/1-{i}:1.0/host6/target6:0:0/6:0:0:0/block/{name}"
    desc = usb_device(f"1-{i}", STICK_ID, STICK_DESC,
                      f"A: serial=BENCH{i}\nA: product=Bench Stick\n") + f"""
P: {usb}/1-{i}:1.0
E: DEVTYPE=usb_interface
E: SUBSYSTEM=usb
A: bInterfaceClass=08

P: {disk}
N: {name}={node_hex}
E: DEVNAME=/dev/{name}
E: DEVTYPE=disk
E: SUBSYSTEM=block
E: ID_BUS=usb
E: MAJOR=65
E: MINOR={i % 256}
A: size=8192
"""
    return desc, [usb, f"{usb}/1-{i}:1.0", disk], f"1-{i}"


CAMERA = usb_device("1-5", ("04f2", "b6cb"), CAM_DESC,
                    "A: product=Integrated Camera\nA: bDeviceClass=ef\n") + f"""
P: {HUB}/1-5/1-5:1.0
E: DEVTYPE=usb_interface
E: SUBSYSTEM=usb
A: bInterfaceClass=0e

P: {HUB}/1-5/1-5:1.0/video4linux/video0
N: video0
E: DEVNAME=/dev/video0
E: SUBSYSTEM=video4linux
E: MAJOR=81
E: MINOR=0
E: ID_V4L_VERSION=2
E: ID_V4L_PRODUCT=Integrated Camera
E: ID_V4L_CAPABILITIES=:capture:
A: name=Integrated Camera
A: index=0
A: dev=81:0
"""


# --- endpointd A under load ---

def hotplugs(tb, d, node_hex, n, at, then):
    """n hotplugs; then() after the first at of them."""
    lat = []
    for i in range(10, 10 + n):
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
        if i - 9 == at:
            then()
        if (i - 9) % 1000 == 0:
            log(f"  {i - 9} hotplugs")
    return lat


def camera_sessions(d, n):
    me = os.getpid()

    def session(line, action):
        return (event_of(line, "camera_session") and
                line["event"]["action"] == action and
                line["event"]["pid"] == me)
    opened, closed = [], []
    for i in range(n):
        t0 = time.perf_counter()
        f = open("/dev/video0", "rb")
        d.wait_for(lambda l: session(l, "start"), "a camera session")
        opened.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        f.close()
        d.wait_for(lambda l: session(l, "end"), "its end")
        closed.append(time.perf_counter() - t0)
        d.pending.clear()
    return opened, closed


# --- usbguard-daemon ---

def usbguard_start(tb, tmp):
    """usbguard-daemon on this process's testbed, or (None, why)."""
    exe = shutil.which("usbguard-daemon") or "/usr/sbin/usbguard-daemon"
    if not os.path.exists(exe):
        return None, "usbguard-daemon is not installed (Debian: usbguard)"
    # Only ever on the testbed: without the preload it would see, and
    # could change, the machine's real USB devices.
    # (The testbed sets UMOCKDEV_DIR in the C environment, which
    # children inherit and os.environ does not show.)
    if "umockdev" not in os.environ.get("LD_PRELOAD", "") or \
            GLib.getenv("UMOCKDEV_DIR") != tb.get_root_dir():
        return None, "not run: umockdev's preload is not active"
    d = os.path.join(tmp, "usbguard")
    os.makedirs(d, exist_ok=True)
    # Allow everything but the bench's test-vendor devices, which it
    # blocks: a rule to apply, and nothing real to touch.
    write(os.path.join(d, "rules.conf"),
          f"block id {STICK_ID[0]}:{STICK_ID[1]}\n"
          f"block id {HID_ID[0]}:{HID_ID[1]}\n")
    write(os.path.join(d, "usbguard-daemon.conf"), f"""RuleFile={d}/rules.conf
ImplicitPolicyTarget=allow
PresentDevicePolicy=apply-policy
PresentControllerPolicy=keep
InsertedDevicePolicy=apply-policy
AuthorizedDefault=none
RestoreControllerDeviceState=false
DeviceManagerBackend=uevent
IPCAllowedUsers=root
DeviceRulesWithPort=false
AuditBackend=FileAudit
AuditFilePath={d}/audit.log
HidePII=false
""")
    for f in ("rules.conf", "usbguard-daemon.conf"):
        os.chmod(os.path.join(d, f), 0o600)
    logf = open(os.path.join(d, "daemon.log"), "w")
    p = subprocess.Popen([exe, "-k", "-c", f"{d}/usbguard-daemon.conf"],
                         stdout=logf, stderr=subprocess.STDOUT)
    time.sleep(SETTLE)
    if p.poll() is not None:
        tail = open(os.path.join(d, "daemon.log")).read().strip()
        tail = tail.splitlines()[-1] if tail else "no output"
        return None, f"exited {p.returncode} at start: {tail}"
    return p, None


def usbguard_sees_hotplug(tb):
    """Plug a device usbguard's rules block: is it blocked?"""
    port = "1-7"
    tb.add_from_string(usb_device(port, HID_ID, HID_DESC,
                                  "A: product=Bench Keyboard\n"))
    tb.uevent(f"/sys{HUB}/{port}", "add")
    time.sleep(1)
    with open(f"/sys{HUB}/{port}/authorized") as f:
        return f.read().strip() == "0"


def version(package):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package],
                       capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else "?"


# --- the run ---

def idle_rows(procs, seconds):
    before = {name: counters(p) for name, p in procs.items()}
    time.sleep(seconds)
    after = {name: counters(p) for name, p in procs.items()}
    out = {}
    for name in procs:
        (s0, c0, _), (s1, c1, t1) = before[name], after[name]
        out[name] = (s1 - s0, (c1 - c0) * 1e3, t1)
    return out


def idle_text(r):
    w, cpu, threads = r
    return (f"{w} wake-ups (context switches, {threads} thread"
            f"{'s' if threads > 1 else ''}), CPU {cpu:.0f} ms")


def settled_memory(pid):
    time.sleep(SETTLE)
    return memory(pid)


def start_b(endpointd, tmp, clean):
    """endpointd on the machine itself: shipped policy, no preload."""
    return Daemon(endpointd, ["--policy", "policy.ini", "--udev-rule", ""],
                  tmp, env=clean)


def testbed(node_hex):
    tb = UMockdev.Testbed.new()
    tb.add_from_string(hub_desc())
    tb.add_from_string(CAMERA)
    tb.add_from_string(stick(1, node_hex)[0])     # present at start
    return tb


def load(r, tb, a, node_hex):
    """Hotplugs, then camera sessions, in daemon a; memory on the way."""
    mem = r["mem_a"] = {"start": settled_memory(a.proc.pid)}
    r["warm"] = max(1, HOTPLUGS // 10)

    def at_warm():
        mem["warm"] = memory(a.proc.pid)
    r["usb"] = hotplugs(tb, a, node_hex, HOTPLUGS, r["warm"], at_warm)
    mem["hotplugs"] = settled_memory(a.proc.pid)
    r["cam_open"], r["cam_close"] = camera_sessions(a, CAMERA_SESSIONS)
    mem["camera"] = settled_memory(a.proc.pid)


def evaluations(build, policy, clean):
    """bench_evaluate's rows: this machine without the preload, and the
    testbed (a blocked stick and a camera to look at) under it."""
    bench = os.path.join(build, "bench", "bench_evaluate")
    out = ""
    for where, pol, env in (
            ("this machine, shipped policy.ini", "policy.ini", clean),
            ("umockdev testbed with a FAT stick and a camera, preload "
             "included", policy, None)):
        out += subprocess.run([bench, pol, str(EVAL_RUNS), where], env=env,
                              stdout=subprocess.PIPE, text=True).stdout
    return out


def idle(r, tb, a, b, tmp):
    """IDLE_SECONDS of a, b and usbguard-daemon side by side."""
    ug, r["ug_why"] = usbguard_start(tb, tmp)
    time.sleep(SETTLE)
    procs = {"a": a.proc.pid, "b": b.proc.pid}
    if ug:
        procs["ug"] = ug.pid
        r["mem_ug0"] = memory(ug.pid)
    r["idle"] = idle_rows(procs, IDLE_SECONDS)
    if ug:
        r["mem_ug1"] = memory(ug.pid)
        r["ug_hotplug"] = usbguard_sees_hotplug(tb)
        ug.terminate()
        ug.wait()


def main():
    build, tmp = sys.argv[1], sys.argv[2]
    endpointd = os.path.join(build, "endpointd")
    img = os.path.join(tmp, "vfat.img")
    subprocess.run(["truncate", "-s", "2M", img], check=True)
    subprocess.run(["mkfs.vfat", img], check=True, capture_output=True)
    node_hex = open(img, "rb").read(65536).hex().upper()
    clean = {k: v for k, v in os.environ.items()
             if k not in ("LD_PRELOAD", "UMOCKDEV_DIR")}
    for sub in ("a", "b", "b2"):
        os.makedirs(os.path.join(tmp, sub))
    policy = os.path.join(tmp, "bench.ini")
    write(policy, POLICY_A)
    r = {}

    # B alone first: pages shared with another process mapping the same
    # libraries are not private.
    b = start_b(endpointd, os.path.join(tmp, "b"), clean)
    r["mem_b"] = settled_memory(b.proc.pid)
    b.stop()

    log(f"endpointd under umockdev: {HOTPLUGS:,} hotplugs, "
        f"{CAMERA_SESSIONS:,} camera sessions")
    tb = testbed(node_hex)
    a = Daemon(endpointd, ["--policy", policy, "--udev-rule", ""],
               os.path.join(tmp, "a"))
    load(r, tb, a, node_hex)
    r["evaluation"] = evaluations(build, policy, clean)

    log(f"idle: {IDLE_SECONDS} s of endpointd (with and without the "
        "preload) and usbguard-daemon")
    b = start_b(endpointd, os.path.join(tmp, "b2"), clean)
    idle(r, tb, a, b, tmp)
    b.stop()
    rc, _ = a.stop()
    rows(r)
    return rc


def rows(r):
    """The result lines, endpointd's first, then the peer's."""
    mem = r["mem_a"]
    row("endpointd memory, no preload: this machine, shipped policy.ini, "
        f"{SETTLE} s after start, alone (VmRSS, its anonymous part RssAnon; "
        "private = Private_Clean + Private_Dirty of smaps_rollup; PSS, "
        "library pages shared out among the processes mapping them)",
        mem_text(r["mem_b"]), "under 4 MB RSS",
        "yes" if r["mem_b"][0] < GOAL_RSS_KB else "**no**")
    grow = (mem["camera"][0] - mem["warm"][0],
            mem["camera"][1] - mem["warm"][1])
    events = HOTPLUGS - r["warm"] + CAMERA_SESSIONS
    per = max(grow) * 1024 / max(1, events)
    row("endpointd memory under umockdev's LD_PRELOAD (its library and "
        f"heap count in this RSS): at start; after {r['warm']:,} hotplugs; "
        f"after {HOTPLUGS:,} hotplugs; then after {CAMERA_SESSIONS:,} camera "
        "sessions, all in the same daemon",
        "; ".join(f"{k}: {mem_text(v)}" for k, v in mem.items()) +
        f". From {r['warm']:,} hotplugs to the end: RSS {grow[0]:+,} kB, "
        f"private {grow[1]:+,} kB, {per:.1f} bytes per hotplug or session",
        "no growth once warm: under 16 bytes per hotplug or session from "
        "the first tenth on (one leaked allocation a time is 32 or more)",
        "yes" if per < 16 else "**no**")
    for name, what in (("b", "no preload, shipped policy.ini"),
                       ("a", "under umockdev, after the load above")):
        w = r["idle"][name][0]
        row(f"endpointd idle for {IDLE_SECONDS} s, {what}; an evaluation "
            "every 60 min, so none is due in the window (context switches "
            "of every thread from /proc/PID/task/*/status, utime+stime from "
            "/proc/PID/stat)", idle_text(r["idle"][name]),
            "no wake-up between evaluations",
            "yes" if w == 0 else f"**no**: {w}")
    name = f"usbguard-daemon {version('usbguard')} (Debian), the peer"
    if "ug" in r["idle"]:
        usbguard_rows(name, r)
    else:
        row(f"{name}, on the same testbed", f"not measured: {r['ug_why']}",
            "(peer)", "not measured")
    sys.stdout.write(r["evaluation"])
    usb, cam_open, cam_close = r["usb"], r["cam_open"], r["cam_close"]
    row(f"USB hotplug to verdict, block mode, {HOTPLUGS:,} hotplugs of a FAT "
        "stick under umockdev: from the disk's uevent to the usb_device event "
        "on the status socket (probe and authorized write included; measured "
        "from the test process, so an upper bound)",
        f"p50 {ms(usb, 50)}, p99 {ms(usb, 99)}, max {ms(usb, 100)}",
        "p99 under 5 ms", "yes" if pct(usb, 99) < 0.005 else "**no**")
    row(f"camera open to attribution, end to end, {CAMERA_SESSIONS:,} "
        "sessions in the same daemon: open() of the testbed's /dev/video0 to "
        "the camera_session start event (application, user) on the status "
        "socket. It includes, by design, a 20 ms wait that folds a burst of "
        "opens into one /proc scan and a 1 ms session timer; close() to the "
        "end event alike",
        f"open: p50 {ms(cam_open, 50)}, p99 {ms(cam_open, 99)}; close: p50 "
        f"{ms(cam_close, 50)}, p99 {ms(cam_close, 99)}",
        "(none set)", "reported")


def usbguard_rows(name, r):
    row(f"{name}: on the same umockdev testbed (root hub, stick, camera), "
        "uevent backend, a configuration of its own in a temp dir; memory "
        f"at start, then over the same {IDLE_SECONDS} idle seconds as "
        "endpointd above (its RSS under the preload too)",
        f"start {mem_text(r['mem_ug0'])}; end {mem_text(r['mem_ug1'])}; "
        f"{idle_text(r['idle']['ug'])}", "(peer)", "reported")
    row(f"{name}: USB hotplug on the testbed",
        "seen and blocked" if r["ug_hotplug"] else
        "not measurable: a device plugged into the testbed stays "
        "authorized although a rule blocks it. usbguard-daemon drops "
        "every uevent whose sender is neither the kernel (pid 0) nor "
        "itself, and umockdev's uevents come from the test process "
        "(its own umockdev backend makes a separate testbed of its own)",
        "(peer)", "reported" if r["ug_hotplug"] else "not measured")


if __name__ == "__main__":
    sys.exit(main())
