#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Seed the fuzz corpora in tests/fuzz/corpus/ from the tests' own inputs
and from what the real programs produce. Run by hand (it replaces the
seed-* files, and leaves inputs libFuzzer added alone):

    /usr/bin/python3 tests/fuzz/seed.py BUILD

policy: policy.ini and every policy in tests/. report: a report endpointd
makes of the fixture laptop, and the malformed ones the collector tests
send. ingest: those as raw HTTP requests, with the placeholders
fuzz_ingest.c fills in. status: the lines a real endpointd sends on its
status socket. udev: tests/fixtures/usb's devices in fuzz_udev.c's form.
userconf: the KDE and Xfce screen-lock cases, and those with a dconf
profile, each built as screen_lock.py builds it (kwriteconfig5 writes
what the case has it write), in fuzz_userconf.c's form.
"""
import glob
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
from collector import corpus as malformed  # noqa: E402

MACHINE = "0f5a0d1e2c3b4a5968778695a4b3c2d1"


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def clear(target):
    for p in glob.glob(os.path.join(HERE, "corpus", target, "seed-*")):
        os.unlink(p)


def policies():
    clear("policy")
    paths = [os.path.join(ROOT, "policy.ini")]
    for p in sorted(glob.glob(os.path.join(ROOT, "tests", "**", "*.ini"),
                              recursive=True)):
        if "node_modules" not in p and "[policy]" in open(p).read():
            paths.append(p)
    for p in paths:
        put("policy", re.sub(r"[^a-z0-9]+", "_",
                             os.path.relpath(p, ROOT).lower()),
            open(p, "rb").read())
    # The policies the system tests write, with their placeholders filled.
    fill = {"mode": "block", "version": "3"}
    for p in sorted(glob.glob(os.path.join(ROOT, "tests", "system", "*.py"))):
        text = open(p).read()
        for i, m in enumerate(re.finditer(r'("""|")(\[policy\].*?)\1', text,
                                          re.S)):
            t = re.sub(r"\{(\w+)\}", lambda k: fill.get(k.group(1), "x"),
                       m.group(2).replace("\\n", "\n"))
            put("policy", f"{os.path.basename(p)[:-3]}{i}", t)


def report(build, tmp):
    root = os.path.join(tmp, "root")
    shutil.copytree(os.path.join(ROOT, "tests", "fixtures", "laptop"), root,
                    symlinks=True)
    with open(os.path.join(root, "etc", "machine-id"), "w") as f:
        f.write(MACHINE + "\n")
    out = subprocess.run([os.path.join(build, "endpointd"), "--once", "--json",
                          "--root", root, "--policy",
                          os.path.join(ROOT, "policy.ini"), "--state-dir",
                          os.path.join(tmp, "state"), "--udev-rule", ""],
                         capture_output=True, text=True)
    return json.loads(out.stdout)


def reports(rep):
    clear("report")
    put("report", "laptop", json.dumps(rep))
    put("report", "device", json.dumps(rep["device"]))
    for i, (what, body, _) in enumerate(malformed(rep)):
        if len(body) < 16384:
            put("report", f"bad{i:02d}", body)


def http(method, path, body=None, headers=()):
    lines = [f"{method} {path} HTTP/1.1", "Host: collector"]
    lines += list(headers)
    if body is not None:
        body = body.encode()
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


def ingest(rep):
    clear("ingest")
    auth = "Authorization: Bearer @TOKEN@"
    js = "Content-Type: application/json"
    r = json.loads(json.dumps(rep))
    r["device"]["machine_id"] = "@MACHINE@"
    put("ingest", "report", http("POST", "/api/v1/reports", json.dumps(r),
                                 [auth, js]))
    r["seq"] = 2
    chunked = json.dumps(r).encode()
    put("ingest", "report_chunked",
        b"POST /api/v1/reports HTTP/1.1\r\nHost: c\r\n" + auth.encode() +
        b"\r\n" + js.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n" +
        b"%x\r\n" % len(chunked) + chunked + b"\r\n0\r\n\r\n")
    for i, (what, body, _) in enumerate(malformed(rep)[:6]):
        put("ingest", f"bad{i}", http("POST", "/api/v1/reports",
                                      body.replace(MACHINE, "@MACHINE@"),
                                      [auth, js]))
    put("ingest", "text_plain", http("POST", "/api/v1/reports", "{}",
                                     [auth, "Content-Type: text/plain"]))
    put("ingest", "no_token", http("POST", "/api/v1/reports", "{}", [js]))
    put("ingest", "enrol", http("POST", "/api/v1/enrol", json.dumps(
        {"enrol_secret": "@SECRET@", "group": "fuzz",
         "device": {"machine_id": "@MACHINE@", "hostname": "h"}}), [js]))
    put("ingest", "agent_policy", http("GET", "/api/v1/agent/policy", None,
                                       [auth, 'If-None-Match: "x"']))
    put("ingest", "healthz", http("GET", "/healthz"))
    put("ingest", "metrics", http("GET", "/metrics"))
    put("ingest", "summary", http("GET", "/api/v1/summary", None,
                                  ["Authorization: Basic YTpi"]))
    put("ingest", "keepalive", http("GET", "/healthz") +
        http("POST", "/api/v1/reports", "{}", [auth, js]))


def status(build, tmp):
    clear("status")
    sock = os.path.join(tmp, "status.sock")
    d = subprocess.Popen([os.path.join(build, "endpointd"), "--root",
                          os.path.join(ROOT, "tests", "fixtures", "laptop"),
                          "--policy", os.path.join(ROOT, "policy.ini"),
                          "--state-dir", os.path.join(tmp, "st2"),
                          "--socket", sock, "--udev-rule", ""],
                         stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock)
        buf = b""
        while b"\n" not in buf:
            buf += s.recv(65536)
        # No path of this machine in the corpus.
        line = buf.split(b"\n")[0] + b"\n"
        line = line.replace(ROOT.encode(), b"/etc/endpointd")
        put("status", "status", line)
        # "run": the answer and the evaluated line after the status.
        s.sendall(b"run\n")
        s.settimeout(10)
        while buf.count(b"\n") < 3:
            buf += s.recv(65536)
        put("status", "run", b"\n".join(buf.split(b"\n")[:3]).replace(
            ROOT.encode(), b"/etc/endpointd") + b"\n")
        s.close()
    finally:
        d.terminate()
        d.wait()


def udev(tmp):
    from usb import make_images
    images = {k: bytes.fromhex(v) for k, v in make_images(tmp).items()}
    clear("udev")
    fields = ["idVendor", "idProduct", "serial", "manufacturer", "product",
              "bDeviceClass", "bInterfaceClass", "interface"]
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "fixtures", "usb",
                                              "*.umockdev"))):
        attrs = {}
        content = b""
        for line in open(path):
            n = re.match(r"N: \w+=@(\w+)@", line)
            if n and not content:
                content = images[n.group(1)][:16384]
            m = re.match(r"A: (\w+)=(.*)", line.rstrip("\n"))
            if m and m.group(1) not in attrs:
                attrs[m.group(1)] = m.group(2).encode().decode(
                    "unicode_escape").encode("latin-1")
        out = b""
        for f in fields:
            out += attrs.get(f, b"") + b"\n"
        out += b"sdb\n" + attrs.get("size", b"8192") + b"\n"
        props = dict(re.findall(r"^E: (ID_V4L_\w+)=(.*)$", open(path).read(),
                                re.M))
        out += props.get("ID_V4L_CAPABILITIES", ":capture:").encode() + b"\n"
        out += props.get("ID_V4L_PRODUCT", "Integrated Camera").encode()
        out += b"\n" + content
        put("udev", os.path.basename(path)[:-9], out)
    # A stick's first bytes: a FAT boot sector and a LUKS header start.
    fat = bytearray(512)
    fat[0:3] = b"\xeb\x3c\x90"
    fat[3:11] = b"MSDOS5.0"
    fat[11:13] = (512).to_bytes(2, "little")
    fat[13] = 1
    fat[14:16] = (1).to_bytes(2, "little")
    fat[16] = 2
    fat[17:19] = (224).to_bytes(2, "little")
    fat[19:21] = (2880).to_bytes(2, "little")
    fat[21] = 0xF0
    fat[22:24] = (9).to_bytes(2, "little")
    fat[54:62] = b"FAT12   "
    fat[510:512] = b"\x55\xaa"
    base = (b"0781\n5581\nSTICK\nSanDisk\nCruzer\n00\n08\n\nsdb\n8192\n"
            b":capture:\nIntegrated Camera\n")
    put("udev", "fat_boot_sector", base + bytes(fat))
    put("udev", "luks_magic", base + b"LUKS\xba\xbe\x00\x02" + bytes(504))


# fuzz_userconf.c's parts, in its order: where a case's root has each
# (alice's own file first; IT's, in the same format, as hers otherwise,
# and in a second seed where the case has both).
USERCONF_SEP = b"--8<--\n"
USERCONF_XFCONF = "xfce4/xfconf/xfce-perchannel-xml/"
USERCONF_PARTS = [
    ["home/alice/.config/kscreenlockerrc", "etc/xdg/kscreenlockerrc"],
    ["home/alice/.config/" + USERCONF_XFCONF + "xfce4-power-manager.xml",
     "etc/xdg/" + USERCONF_XFCONF + "xfce4-power-manager.xml"],
    ["run/user/1000/dconf/profile", "run/dconf/user/1000",
     "etc/dconf/profile/user"],
    ["home/alice/.config/kdeglobals", "etc/xdg/kdeglobals",
     "etc/xdg/system.kdeglobals"],
    ["home/alice/.config/" + USERCONF_XFCONF + "xfce4-screensaver.xml",
     "etc/xdg/" + USERCONF_XFCONF + "xfce4-screensaver.xml"],
]


def regular(path):
    """A regular file's bytes, or None (absent, a FIFO, a link)."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
    except FileNotFoundError:
        return None
    return open(path, "rb").read()


def userconf_input(root, its_first):
    parts = []
    for where in USERCONF_PARTS:
        found = [regular(os.path.join(root, w)) for w in where]
        if its_first:
            found.reverse()
        parts.append(next((f for f in found if f is not None), None))
    libs = sorted(os.path.basename(p)[len("libKScreenLocker.so."):]
                  for p in glob.glob(os.path.join(
                      root, "usr/lib/*/libKScreenLocker.so.*")))
    parts.append("".join(v + "\n" for v in libs).encode() if libs else None)
    while parts and parts[-1] is None:
        parts.pop()
    return USERCONF_SEP.join(p or b"" for p in parts)


def userconf(tmp):
    # The packages screen_lock.py takes schemas from, as make check has them.
    os.environ.setdefault("DEBS", os.path.join(ROOT, "build", "debs"))
    from screen_lock import build
    clear("userconf")
    cases = os.path.join(ROOT, "tests", "fixtures", "screen_lock")
    seen = set()
    for path in sorted(glob.glob(os.path.join(cases, "*.case"))):
        name = os.path.basename(path)[:-5]
        text = open(path).read()
        if not (name.startswith(("kde_", "xfce_")) or
                re.search(r"dconf/profile|run/dconf/user", text)):
            continue
        root = os.path.join(tmp, "userconf", name)
        build(path, root)
        for suffix, its_first in (("", False), ("_its", True)):
            data = userconf_input(root, its_first)
            if data and data not in seen:
                seen.add(data)
                put("userconf", name + suffix, data)
    # Every kind of profile line, the databases named absent from the
    # fuzz root (so nothing is run for them).
    put("userconf", "profile_every_line", USERCONF_SEP * 2 + (
        b"user-db:user\nsystem-db:local\nsystem-db:site # IT's\n"
        b"file-db:/etc/dconf/db/ibus\nservice-db:ibus\n  \t\n"
        b"user-db:second\nuser-db:../x\nsystem-db:.hidden\n"
        b"file-db:relative\nnonsense\n"))


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
    with tempfile.TemporaryDirectory() as tmp:
        policies()
        rep = report(build, tmp)
        reports(rep)
        ingest(rep)
        status(build, tmp)
        udev(tmp)
        userconf(tmp)


if __name__ == "__main__":
    main()
