#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""System test of the screen_lock check, against the real endpointd.

A private system bus runs python3-dbusmock's logind template. Then:

1. every tests/fixtures/screen_lock/*.case is built into a root (a base of
   /etc/passwd, /etc/shadow and alice's home, plus the case's files) and
   judged by `endpointd --once --json --root`;
2. the daemon watches a session that goes idle past the limit (a fail and
   an event), locks (cleared), and crosses the limit by the deadline timer
   alone.

Case files (# starts a comment):
  file PATH                   an empty file (a desktop's binary)
  file PATH <<                a file with the lines up to '>>'
  fifo PATH                   a FIFO (a user's trap for a root reader)
  symlink PATH TARGET         a symbolic link
  kwriteconfig PATH GROUP KEY VALUE [TYPE]   KDE's own kwriteconfig5
                              (libkf5config-bin) writes KEY in GROUP of
                              the KConfig file PATH (--type TYPE)
  owner PATH UID              PATH and everything below it owned by UID
                              (and a group of the same number)
  dconf-user USER <<          USER's dconf database, compiled from the
                              keyfile lines up to '>>' with `dconf compile`
  dconf-update                what `dconf update` does: each
                              etc/dconf/db/NAME.d (keyfiles and locks/)
                              compiled into etc/dconf/db/NAME now
  schemas PKG...              the GSettings schemas and overrides of these
                              Debian packages (downloaded by
                              installer/deps.sh debs into $DEBS), compiled
                              with glib-compile-schemas when the root is
                              built, with any override the case writes
  session ID USER UID [KEY=VALUE...]   a logind session (python-dbusmock),
                              properties such as Type=wayland,
                              IdleHint=true, IdleSeconds=600, Desktop=KDE
  inhibit WHAT WHO WHY MODE   a logind inhibitor, held while the case runs
  policy KEY = VALUE          added to [screen_lock]
  expect status STATUS
  expect summary TEXT         substring of the summary
  expect remedy TEXT          substring of the remedy
  expect problem TEXT         substring of one of evidence.problems
  expect unknown TEXT         substring of one of evidence.unknown
  expect no-problems
  expect setting KEY VALUE [FROM]   some desktop's evidence has setting
                              KEY with VALUE (and FROM in where it came
                              from)
  expect desktop FIELD VALUE  the first desktop of the first user has
                              FIELD equal to VALUE (JSON such as true,
                              240 or null; else the text itself)
  expect dconf TEXT           substring of a dconf database's problem
  expect absent TEXT          TEXT appears nowhere in the check's result
  expect evidence PATH VALUE  evidence at dotted PATH (list indexes as
                              numbers) equals VALUE (as for desktop)
Usage: screen_lock.py ENDPOINTD ENDPOINTCTL TMP CASE...
"""
import fcntl
import json
import os
import shlex
import shutil
import struct
import subprocess
import sys
import time

import dbus
import dbusmock

import endpointd_test
from endpointd_test import Daemon, event_of, write

BASE = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/bash\n"
                  "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                  "alice:x:1000:1000:Alice Teacher:/home/alice:/bin/bash\n"
                  "svc:x:1001:1001::/home/svc:/usr/sbin/nologin\n",
    "etc/shadow": "root:!:19000:0:99999:7:::\n"
                  "daemon:*:19000:0:99999:7:::\n"
                  "alice:$y$j9T$notarealhash$notarealhashnotarealhash:19000:0:99999:7:::\n"
                  "svc:!:19000:0:99999:7:::\n",
    "home/alice/.profile": "",
    "home/svc/.profile": "",
}

POLICY = """[policy]
name = Screen lock test
version = 1

[screen_lock]
clause = Devices must not be left unattended.
"""


DEBS = os.environ.get("DEBS", "build/debs")


def dconf_update(root):
    db = os.path.join(root, "etc/dconf/db")
    for d in sorted(os.listdir(db)):
        if d.endswith(".d"):
            subprocess.run(["dconf", "compile", os.path.join(db, d[:-2]),
                            os.path.join(db, d)], check=True)


def schemas(root, pkgs):
    dest = os.path.join(root, "usr/share/glib-2.0/schemas")
    os.makedirs(dest, exist_ok=True)
    for pkg in pkgs:
        src = os.path.join(DEBS, "x", pkg, "usr/share/glib-2.0/schemas")
        if not os.path.isdir(src):
            sys.exit(f"{src}: missing (run sh installer/deps.sh debs {DEBS})")
        for f in os.listdir(src):
            shutil.copy(os.path.join(src, f), dest)


def build(case, root):
    """Build the root for a .case file; return (policy extras, expects,
    logind sessions, inhibitors)."""
    for rel, text in BASE.items():
        write(os.path.join(root, rel), text)
    extras, expects, sessions, inhibitors = [], [], [], []
    compile_schemas = False
    lines = open(case).read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if not line or line.startswith("#"):
            continue
        body = None
        if line.endswith("<<"):
            line = line[:-2].strip()
            body = []
            while lines[i].strip() != ">>":
                body.append(lines[i])
                i += 1
            i += 1
        word, _, rest = line.partition(" ")
        if word == "file":
            write(os.path.join(root, rest),
                  "" if body is None else "\n".join(body) + "\n")
        elif word == "fifo":
            path = os.path.join(root, rest)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            os.mkfifo(path)
        elif word == "symlink":
            link, target = rest.split()
            path = os.path.join(root, link)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            os.symlink(target, path)
        elif word == "dconf-user":
            home = os.path.join(root, "home", rest, ".config", "dconf")
            write(os.path.join(home, "user.d", "keyfile"), "\n".join(body) + "\n")
            subprocess.run(["dconf", "compile", os.path.join(home, "user"),
                            os.path.join(home, "user.d")], check=True)
        elif word == "kwriteconfig":
            w = shlex.split(rest)
            cmd = ["kwriteconfig5", "--file", os.path.join(root, w[0]),
                   "--group", w[1], "--key", w[2]]
            if len(w) > 4:
                cmd += ["--type", w[4]]
            # Nothing of the test's own account is read or written.
            subprocess.run(cmd + ["--", w[3]], check=True, env={
                "PATH": os.environ["PATH"],
                "HOME": root, "XDG_CONFIG_HOME": os.path.join(root, ".kde-tool")})
        elif word == "owner":
            path, uid = rest.split()
            for d, _, files in os.walk(os.path.join(root, path)):
                for x in [d] + [os.path.join(d, f) for f in files]:
                    os.lchown(x, int(uid), int(uid))
        elif word == "dconf-update":
            dconf_update(root)
        elif word == "schemas":
            schemas(root, rest.split())
            compile_schemas = True
        elif word == "session":
            sessions.append(rest.split())
        elif word == "inhibit":
            inhibitors.append(shlex.split(rest))
        elif word == "policy":
            extras.append(rest)
        elif word == "expect":
            expects.append(shlex.split(rest))
        else:
            sys.exit(f"{case}: unknown line '{line}'")
    if compile_schemas:
        subprocess.run(["glib-compile-schemas", "--strict", os.path.join(
            root, "usr/share/glib-2.0/schemas")], check=True)
    return extras, expects, sessions, inhibitors


def json_or_text(v):
    """A case's expected value: JSON (true, 240, null, [..]) or else the
    text itself."""
    try:
        return json.loads(v)
    except ValueError:
        return v


def evidence_at(ev, path):
    for part in path.split("."):
        if isinstance(ev, list):
            ev = ev[int(part)] if int(part) < len(ev) else None
        elif isinstance(ev, dict):
            ev = ev.get(part)
        else:
            return None
    return ev


def settings_of(ev):
    for u in ev.get("users", []):
        for d in u["desktops"]:
            for st in d.get("settings", []):
                yield st["key"], st


def verify(check, expects):
    ev = check["evidence"]
    for e in expects:
        kind = e[0]
        if kind == "status" and check["status"] != e[1]:
            return f"status {check['status']}, wanted {e[1]}"
        if kind == "summary" and e[1] not in check["summary"]:
            return f"summary is '{check['summary']}'"
        if kind == "remedy" and e[1] not in (check["remedy"] or ""):
            return f"remedy is '{check['remedy']}'"
        if kind == "problem" and not any(e[1] in p for p in ev["problems"]):
            return f"no problem '{e[1]}' in {ev['problems']}"
        if kind == "unknown" and not any(e[1] in u for u in ev["unknown"]):
            return f"no unknown '{e[1]}' in {ev['unknown']}"
        if kind == "no-problems" and ev["problems"]:
            return f"problems: {ev['problems']}"
        if kind == "setting" and not any(
                k == e[1] and v["value"] == e[2] and
                (len(e) < 4 or e[3] in v["from"])
                for k, v in settings_of(ev)):
            return f"no setting {e[1:]} in {dict(settings_of(ev))}"
        if kind == "desktop":
            got = evidence_at(ev, "users.0.desktops.0." + e[1])
            if got != json_or_text(e[2]):
                return f"desktop {e[1]} is {got!r}, wanted {e[2]}"
        if kind == "evidence":
            got = evidence_at(ev, e[1])
            if got != json_or_text(e[2]):
                return f"evidence {e[1]} is {got!r}, wanted {e[2]}"
        if kind == "absent" and e[1] in json.dumps(check):
            return f"'{e[1]}' is in the result"
        if kind == "dconf" and not any(
                e[1] in d.get("problem", "")
                for d in ev.get("dconf", {}).get("databases", [])):
            return f"no dconf problem '{e[1]}' in {ev.get('dconf')}"
    return None


LOGIND = "org.freedesktop.login1"
SESSION_IFACE = "org.freedesktop.login1.Session"


class Logind:
    """python-dbusmock's logind on the private system bus; a case that
    adds sessions or inhibitors gets a fresh one."""

    def __init__(self):
        self.start()

    def start(self):
        self.server, _ = dbusmock.DBusTestCase.spawn_server_template(
            "logind", {}, stdout=subprocess.DEVNULL)
        self.bus = dbusmock.DBusTestCase.get_dbus(system_bus=True)
        manager = self.bus.get_object(LOGIND, "/org/freedesktop/login1")
        self.mock = dbus.Interface(manager, dbusmock.MOCK_IFACE)
        self.manager = dbus.Interface(manager, LOGIND + ".Manager")
        self.held = []
        self.dirty = False

    def stop(self):
        self.held = []
        self.server.terminate()
        self.server.wait()

    def reset(self):
        if self.dirty:
            self.stop()
            self.start()

    def session(self, sid, user, uid, *props):
        """A graphical session; props KEY=VALUE (IdleSeconds=N sets
        IdleHint and IdleSinceHint N seconds ago)."""
        self.dirty = True
        path = self.mock.AddSession(sid, "seat0", dbus.UInt32(int(uid)),
                                    user, True)
        obj = dbus.Interface(self.bus.get_object(LOGIND, path),
                             dbusmock.MOCK_IFACE)
        update = {"Type": "wayland"}
        for p in props:
            k, _, v = p.partition("=")
            if k == "IdleSeconds":
                now = int(time.time() * 1e6)
                update["IdleHint"] = True
                update["IdleSinceHint"] = dbus.UInt64(now - int(v) * 10**6)
            elif v in ("true", "false"):
                update[k] = v == "true"
            else:
                update[k] = v
        for k, v in update.items():
            try:
                obj.UpdateProperties(SESSION_IFACE, {k: v})
            except dbus.exceptions.DBusException:
                obj.AddProperty(SESSION_IFACE, k, v)

    def inhibit(self, what, who, why, mode):
        self.dirty = True
        self.held.append(self.manager.Inhibit(what, who, why, mode))


def run_cases(endpointd, tmp, cases, logind):
    failed = 0
    for case in cases:
        name = os.path.basename(case)[:-len(".case")]
        root = os.path.join(tmp, name)
        extras, expects, sessions, inhibitors = build(case, root)
        logind.reset()
        for sess in sessions:
            logind.session(*sess)
        for inh in inhibitors:
            logind.inhibit(*inh)
        policy = os.path.join(tmp, name + ".ini")
        write(policy, POLICY + "".join(x + "\n" for x in extras))
        try:
            run = subprocess.run([endpointd, "--once", "--json", "--root",
                                  root, "--policy", policy, "--state-dir",
                                  os.path.join(tmp, name + ".state")],
                                 capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            print(f"FAIL: {name}: endpointd hung")
            failed += 1
            continue
        try:
            check = [c for c in json.loads(run.stdout)["checks"]
                     if c["id"] == "screen_lock"][0]
            err = verify(check, expects)
        except (ValueError, IndexError, KeyError) as e:
            check, err = None, f"no result ({e}), exit {run.returncode}: {run.stdout[:200]!r} {run.stderr}"
        if not err and "Sanitizer" in run.stderr:
            err = "sanitizer: " + run.stderr
        if err:
            print(f"FAIL: {name}: {err}")
            if check:
                print(json.dumps(check, indent=1))
            failed += 1
        else:
            print(f"ok: {name}: {check['status']}")
    return failed


def finding_of(line, status):
    return endpointd_test.finding_of(line, "screen_lock", status)


def gnome_root(root, idle_delay=None):
    """A fixture root with GNOME, its real schemas and alice."""
    for rel, text in BASE.items():
        write(os.path.join(root, rel), text)
    write(os.path.join(root, "usr/bin/gnome-shell"), "")
    schemas(root, ["gsettings-desktop-schemas"])
    subprocess.run(["glib-compile-schemas", os.path.join(
        root, "usr/share/glib-2.0/schemas")], check=True)
    if idle_delay is not None:
        home = os.path.join(root, "home/alice/.config/dconf")
        write(os.path.join(home, "user.d/keyfile"),
              f"[org/gnome/desktop/session]\nidle-delay=uint32 {idle_delay}\n")
        subprocess.run(["dconf", "compile", os.path.join(home, "user"),
                        os.path.join(home, "user.d")], check=True)


def scenario(endpointd, tmp, bus):
    root = os.path.join(tmp, "daemon-root")
    # GNOME blanks and locks after 1 minute, as this policy asks.
    gnome_root(root, idle_delay=60)
    policy = os.path.join(tmp, "daemon.ini")
    write(policy, POLICY + "max_idle_minutes = 1\ngrace_seconds = 0\n")
    manager = bus.get_object("org.freedesktop.login1", "/org/freedesktop/login1")
    mock = dbus.Interface(manager, dbusmock.MOCK_IFACE)
    path = mock.AddSession("c7", "seat0", dbus.UInt32(1000), "alice", True)
    session = dbus.Interface(bus.get_object("org.freedesktop.login1", path),
                             dbusmock.MOCK_IFACE)
    session.UpdateProperties("org.freedesktop.login1.Session",
                             {"Type": "wayland"})
    d = Daemon(endpointd, ["--root", root, "--policy", policy], tmp)
    try:
        checks = {c["id"]: c for c in d.status["checks"]}
        assert checks["screen_lock"]["status"] == "pass", checks["screen_lock"]
        print("ok: daemon: an active session passes")

        now = int(time.time() * 1e6)
        session.UpdateProperties("org.freedesktop.login1.Session", {
            "IdleHint": True, "IdleSinceHint": dbus.UInt64(now - 600 * 10**6)})
        ev = d.wait_for(lambda l: event_of(l, "unattended_session"),
                        "unattended_session event")["event"]
        assert ev["user"] == "alice" and ev["idle_minutes"] == 10, ev
        d.wait_for(lambda l: finding_of(l, "fail"), "fail finding")
        print("ok: daemon: idle 10 min and unlocked is a fail and an event")

        # What logind does when the desktop reports its lock screen up.
        # (The template's SetLockedHint stores it under another interface.)
        session.UpdateProperties("org.freedesktop.login1.Session",
                                 {"LockedHint": True})
        d.wait_for(lambda l: event_of(l, "unattended_session_end"),
                   "unattended_session_end event")
        d.wait_for(lambda l: finding_of(l, "pass"), "pass after locking")
        print("ok: daemon: locking clears it")

        # Idle for 57 s of the 60 allowed: only the deadline timer can
        # notice the crossing, since logind sends nothing more.
        now = int(time.time() * 1e6)
        session.UpdateProperties("org.freedesktop.login1.Session", {
            "LockedHint": False, "IdleHint": True,
            "IdleSinceHint": dbus.UInt64(now - 57 * 10**6)})
        d.wait_for(lambda l: finding_of(l, "fail"), "fail from the timer")
        print("ok: daemon: the deadline timer catches the crossing")

        session.UpdateProperties("org.freedesktop.login1.Session",
                                 {"IdleHint": False})
        d.wait_for(lambda l: finding_of(l, "pass"), "pass when active")
        print("ok: daemon: using the laptop again clears it")
    finally:
        rc, log = d.stop()
    assert rc == 0 and "Sanitizer" not in log, f"exit {rc}: {log}"
    print("ok: daemon: stops cleanly")


def scenario_signin(endpointd, tmp, logind):
    """alice's eCryptfs home is closed: unknown; she signs in (logind's
    SessionNew, her home mounted): judged at once on her own settings."""
    tmp = os.path.join(tmp, "signin")
    root = os.path.join(tmp, "root")
    gnome_root(root)
    write(os.path.join(root, "home/.ecryptfs/alice/.ecryptfs/Private.mnt"),
          "/home/alice\n")
    mountinfo = os.path.join(root, "proc/1/mountinfo")
    write(mountinfo, "24 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw\n")
    policy = os.path.join(tmp, "policy.ini")
    write(policy, POLICY)
    d = Daemon(endpointd, ["--root", root, "--policy", policy], tmp)
    try:
        checks = {c["id"]: c for c in d.status["checks"]}
        assert checks["screen_lock"]["status"] == "unknown", checks["screen_lock"]
        assert "closed while she is signed out" in checks["screen_lock"]["summary"]
        print("ok: daemon: a closed encrypted home is unknown")

        # Signing in opens her home: the mount, then logind's session.
        gnome_root(root, idle_delay=0)
        with open(mountinfo, "a") as f:
            f.write("61 24 0:52 / /home/alice rw,relatime shared:33 - "
                    "ecryptfs /home/.ecryptfs/alice/.Private rw,"
                    "ecryptfs_sig=fedcba9876543210,ecryptfs_cipher=aes\n")
        path = logind.mock.AddSession("c9", "seat0", dbus.UInt32(1000),
                                      "alice", True)
        logind.mock.EmitSignal("org.freedesktop.login1.Manager",
                               "SessionNew", "so", ["c9", path])
        line = d.wait_for(lambda l: finding_of(l, "fail"),
                          "fail once she signs in")
        assert "does not lock the screen of alice" in \
            line["finding"]["summary"], line
        print("ok: daemon: judged as soon as she signs in")
    finally:
        rc, log = d.stop()
    assert rc == 0 and "Sanitizer" not in log, f"exit {rc}: {log}"


def inhibited(what):
    return ["org.freedesktop.login1.Manager",
            dbus.Dictionary({"BlockInhibited": what}, signature="sv"),
            dbus.Array([], signature="s")]


def scenario_inhibit(endpointd, tmp, logind):
    """An application holds logind's idle inhibitor past
    max_inhibit_minutes (1): a warning naming it; released: a pass."""
    tmp = os.path.join(tmp, "inhibit")
    root = os.path.join(tmp, "root")
    gnome_root(root)
    policy = os.path.join(tmp, "policy.ini")
    write(policy, POLICY + "max_inhibit_minutes = 1\n")
    d = Daemon(endpointd, ["--root", root, "--policy", policy], tmp)
    changed = ("org.freedesktop.DBus.Properties", "PropertiesChanged",
               "sa{sv}as")
    try:
        checks = {c["id"]: c for c in d.status["checks"]}
        assert checks["screen_lock"]["status"] == "pass", checks["screen_lock"]
        # What logind does when an inhibitor is taken (logind-inhibit.c:
        # BlockInhibited changes).
        fd = logind.manager.Inhibit("idle", "Caffeine", "Keeping awake",
                                    "block")
        logind.mock.EmitSignal(*changed, inhibited("idle"))
        line = d.wait_for(lambda l: finding_of(l, "warn"),
                          "warning after a minute", timeout=90)
        assert "Caffeine has kept this laptop's screen from locking for 1 " \
            "minutes" in line["finding"]["summary"], line
        assert line["finding"]["evidence"]["idle_inhibitors"][0][
            "held_minutes"] >= 1, line
        print("ok: daemon: an idle inhibitor held past the limit warns")
        del fd
        logind.mock.EmitSignal(*changed, inhibited(""))
        d.wait_for(lambda l: finding_of(l, "pass"), "pass once released")
        print("ok: daemon: released, it passes again")
    finally:
        rc, log = d.stop()
    assert rc == 0 and "Sanitizer" not in log, f"exit {rc}: {log}"


def _ioc(direction, nr, size):
    return (direction << 30) | (size << 16) | (ord("f") << 8) | nr


FS_IOC_ADD_ENCRYPTION_KEY = _ioc(3, 23, 80)
FS_IOC_SET_ENCRYPTION_POLICY = _ioc(2, 19, 12)
FS_IOC_REMOVE_ENCRYPTION_KEY = _ioc(3, 24, 64)


def once(endpointd, root, policy, state):
    run = subprocess.run([endpointd, "--once", "--json", "--root", root,
                          "--policy", policy, "--state-dir", state],
                         capture_output=True, text=True, timeout=60)
    return [c for c in json.loads(run.stdout)["checks"]
            if c["id"] == "screen_lock"][0]


def scenario_fscrypt(endpointd, tmp):
    """alice's home is an fscrypt directory (a v2 policy, as fscrypt and
    homed set) on a real ext4 file system: judged while its key is in the
    kernel, unknown once the key is removed (she signed out)."""
    tmp = os.path.join(tmp, "fscrypt")
    root = os.path.join(tmp, "root")
    gnome_root(root)
    shutil.rmtree(os.path.join(root, "home"))
    home = os.path.join(root, "home")
    os.makedirs(home)
    img = os.path.join(tmp, "home.img")
    subprocess.run(["truncate", "-s", "32M", img], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-O", "encrypt", img], check=True)
    subprocess.run(["mount", "-o", "loop", img, home], check=True)
    policy = os.path.join(tmp, "policy.ini")
    write(policy, POLICY)
    state = os.path.join(tmp, "state")
    fd = os.open(home, os.O_RDONLY)
    try:
        key = os.urandom(64)
        arg = bytearray(struct.pack("=II32sII32x", 2, 0, b"", len(key),
                                    0)) + key
        fcntl.ioctl(fd, FS_IOC_ADD_ENCRYPTION_KEY, arg)
        ident = bytes(arg[8:24])    # the kernel's identifier for the key
        alice = os.path.join(home, "alice")
        os.mkdir(alice)
        afd = os.open(alice, os.O_RDONLY)
        fcntl.ioctl(afd, FS_IOC_SET_ENCRYPTION_POLICY,
                    struct.pack("=BBBB4s16s", 2, 1, 4, 2, b"", ident))
        os.close(afd)
        gnome_root(root, idle_delay=0)
        os.chown(alice, 1000, 1000)
        c = once(endpointd, root, policy, state)
        assert c["status"] == "fail", c
        assert c["evidence"]["users"][0]["home_encryption"] == "fscrypt", c
        print("ok: fscrypt: her open home is judged on her own settings")
        fcntl.ioctl(fd, FS_IOC_REMOVE_ENCRYPTION_KEY, bytearray(
            struct.pack("=II16s16sI20x", 2, 0, ident, b"", 0)))
        c = once(endpointd, root, policy, state)
        assert c["status"] == "unknown", c
        assert "alice's home folder is encrypted (fscrypt) and closed" in \
            c["summary"], c
        print("ok: fscrypt: her closed home is unknown, not the defaults")
    finally:
        os.close(fd)
        subprocess.run(["umount", home], check=True)


def main():
    endpointd, tmp = sys.argv[1], sys.argv[3]
    cases = sys.argv[4:]
    dbusmock.DBusTestCase.start_system_bus()
    logind = Logind()
    failed = 0
    try:
        failed = run_cases(endpointd, tmp, cases, logind)
        for name, run in (("daemon", lambda: scenario(endpointd, tmp,
                                                        logind.bus)),
                          ("signin", lambda: scenario_signin(endpointd, tmp,
                                                             logind)),
                          ("inhibit", lambda: scenario_inhibit(endpointd, tmp,
                                                               logind)),
                          ("fscrypt", lambda: scenario_fscrypt(endpointd,
                                                               tmp))):
            logind.reset()
            logind.dirty = True
            try:
                run()
            except AssertionError as e:
                print(f"FAIL: {name}: {e}")
                log = os.path.join(tmp, "" if name == "daemon" else name,
                                   "daemon.log")
                if os.path.exists(log):
                    print(open(log).read())
                failed += 1
    finally:
        logind.stop()
        dbusmock.DBusTestCase.tearDownClass()
    print(f"{len(cases) + 4 - failed} screen-lock tests right, {failed} wrong")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
