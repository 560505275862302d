#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""System test of the camera check: the real endpointd under umockdev's
preload, with a UVC camera (a capture node and a metadata node) on a
testbed. This test opens the camera itself: endpointd must name this very
process, its executable and its user.

Run under umockdev-wrapper. Usage: camera.py ENDPOINTD ENDPOINTCTL TMP FIXTURE
"""
import json
import os
import pwd
import subprocess
import sys
import time

import gi
gi.require_version("UMockdev", "1.0")
from gi.repository import UMockdev  # noqa: E402

from endpointd_test import (Daemon, _die_with_parent, event_of,  # noqa: E402
                            finding_of, write)

POLICY = """[policy]
name = Camera test
version = {version}

[camera]
clause = Images of pupils only on school equipment.
action = warn
min_session_seconds = 1
allowed_apps = /usr/bin/zoom, /opt/teams/{extra}
"""

EXE = os.path.realpath("/proc/self/exe")


def session_event(line, action, pid):
    return (event_of(line, "camera_session") and
            line["event"]["action"] == action and
            line["event"]["pid"] == pid)


def hold(seconds):
    """Another process that opens the camera for a while."""
    return subprocess.Popen([sys.executable, "-c",
                             "import time; f = open('/dev/video0', 'rb'); "
                             f"time.sleep({seconds})"])


# A Flatpak sandbox as bubblewrap makes one: a mount namespace of its
# own whose root holds /.flatpak-info on a read-only bind mount
# (flatpak's --ro-bind-data), $5 (a deployment's files) as /app, the
# host's /usr, /dev, /proc and /tmp (where umockdev's testbed is) bound
# in, and the old root gone (pivot_root, as bubblewrap does). $4 is "ro",
# or "rw" for a writable file the process could have written itself; $5
# as link:PATH makes /app a symbolic link to PATH instead.
SANDBOX = r"""set -e; PATH=/usr/sbin:/usr/bin:/sbin:/bin
R=$1; mkdir -p "$R"; mount --bind "$R" "$R"
mkdir -p "$R/usr" "$R/dev" "$R/proc" "$R/tmp" "$R/etc"
case $5 in
link:*) ln -s "${5#link:}" "$R/app" ;;
*) mkdir -p "$R/app"; mount --bind "$5" "$R/app" ;;
esac
mount --bind /usr "$R/usr"; mount --rbind /dev "$R/dev"
mount --bind /proc "$R/proc"; mount --bind /tmp "$R/tmp"
mount --bind /etc "$R/etc"
for d in bin lib lib64 sbin; do [ ! -L /$d ] || ln -sfn usr/$d "$R/$d"; done
printf '[Application]\nname=%s\nruntime=runtime/org.freedesktop.Platform/x86_64/23.08\n\n[Instance]\ninstance-id=1234\n' "$2" > "$R/.flatpak-info"
if [ "$4" = ro ]; then
    mount --bind "$R/.flatpak-info" "$R/.flatpak-info"
    mount -o remount,bind,ro "$R/.flatpak-info"
fi
cd "$R"; mkdir -p .old; pivot_root . .old
exec chroot . /bin/sh -c "umount -l /.old && rmdir /.old &&
exec /usr/bin/python3 -c \"import os, time
f = open('/dev/video0', 'rb')
open('$3', 'w').write(str(os.getpid()))
time.sleep(30)\""
"""


# endpointd in a mount namespace of its own whose /var/lib/flatpak is the
# test's system-wide installation ($1), so that nothing of the machine's
# changes. Without --fork: endpointd keeps this script's pid.
NAMESPACED = r"""#!/bin/sh
exec unshare --mount --propagation private sh -c '
mount -t tmpfs tmpfs /var/lib && mkdir /var/lib/flatpak &&
mount --bind "$0" /var/lib/flatpak && exec "$@"' "$@"
"""

APP_ID = "org.endpointd.Test"


def installation(tmp, endpointd):
    """A system-wide Flatpak installation holding APP_ID's deployment (as
    flatpak lays it out: app/ID/ARCH/BRANCH/COMMIT/{metadata,files}),
    and a script running endpointd with it as /var/lib/flatpak. Returns
    the script and the deployment's files directory."""
    base = os.path.join(tmp, "flatpak-installation")
    deploy = os.path.join(base, "app", APP_ID, "x86_64", "stable",
                          "0123456789abcdef")
    os.makedirs(os.path.join(deploy, "files", "bin"), exist_ok=True)
    write(os.path.join(deploy, "metadata"),
          f"[Application]\nname={APP_ID}\n"
          "runtime=org.freedesktop.Platform/x86_64/23.08\n")
    script = os.path.join(tmp, "endpointd-ns")
    write(script, NAMESPACED)
    os.chmod(script, 0o755)
    wrapper = os.path.join(tmp, "endpointd-flatpak")
    write(wrapper, f'#!/bin/sh\nexec {script} {base} {endpointd} "$@"\n')
    os.chmod(wrapper, 0o755)
    return wrapper, os.path.join(deploy, "files")


def once(endpointd, policy, tmp):
    """endpointd --once: the camera check, and endpointd's exit code."""
    run = subprocess.run([endpointd, "--once", "--json", "--policy", policy,
                          "--state-dir", os.path.join(tmp, "once")],
                         capture_output=True, text=True, timeout=30)
    assert run.stdout, f"endpointd --once: {run.stderr}"
    assert "Sanitizer" not in run.stderr, run.stderr
    return [c for c in json.loads(run.stdout)["checks"]
            if c["id"] == "camera"][0]


def wait_pidfile(path, proc):
    deadline = time.time() + 10
    while time.time() < deadline and proc.poll() is None:
        if os.path.exists(path) and open(path).read():
            return int(open(path).read())
        time.sleep(0.05)
    raise AssertionError(f"the holder never started ({proc.poll()})")


def sandbox(tmp, name, mode, app):
    """A process holding the camera in a Flatpak-like sandbox, and the
    file its pid will be in."""
    pidfile = os.path.join(tmp, f"{name}.pid")
    if os.path.exists(pidfile):
        os.unlink(pidfile)
    return subprocess.Popen(
        ["unshare", "--mount", "--fork", "--kill-child", "--propagation",
         "private", "sh", "-c", SANDBOX, "sh", os.path.join(tmp, name),
         APP_ID, pidfile, mode, app]), pidfile


def flatpak_case(endpointd, tmp, mode, installed=True, update=False):
    """A sandboxed holder; the check's view of it. update: its deployment
    replaced by `flatpak update` while it runs (moved to .removed/)."""
    wrapper, files = installation(tmp, endpointd)
    if installed == "link":
        files = "link:" + files
    elif not installed:
        files = os.path.join(tmp, "a-users-own-app")
        os.makedirs(files, exist_ok=True)
    policy = os.path.join(tmp, "flatpak.ini")
    write(policy, POLICY.format(version=1, extra=", flatpak:" + APP_ID))
    p, pidfile = sandbox(tmp, f"flatpak-{mode}-{installed}-{update}", mode,
                         files)
    try:
        pid = wait_pidfile(pidfile, p)
        if update:
            removed = os.path.join(tmp, "flatpak-installation", ".removed")
            os.makedirs(removed)
            os.rename(os.path.dirname(files),
                      os.path.join(removed, "XYZ123-0123456789abcdef"))
        cam = once(wrapper, policy, tmp)
    finally:
        p.kill()
        p.wait()
    # The sandboxed holder is unshare's child: gone before the next case.
    deadline = time.time() + 10
    while os.path.exists(f"/proc/{pid}") and time.time() < deadline:
        time.sleep(0.05)
    held = [x for x in cam["evidence"]["cameras"][0]["sessions"]
            if x["pid"] == pid]
    assert held, cam
    return cam, held[0]


def upgrade_case(endpointd, tmp, after):
    """An approved program whose file is replaced while it holds the
    camera, as a package upgrade does (the new file renamed over the
    old), then after(path) changes the path further."""
    bindir = os.path.join(tmp, "pkg", "bin")
    os.makedirs(bindir, exist_ok=True)
    app = os.path.join(bindir, "app")
    pidfile = os.path.join(tmp, "upgrade.pid")
    subprocess.run(["cp", EXE, app], check=True)
    if os.path.exists(pidfile):
        os.unlink(pidfile)
    policy = os.path.join(tmp, "upgrade.ini")
    write(policy, POLICY.format(version=1, extra=", " + app))
    p = subprocess.Popen([app, "-c", "import os, time; "
                          "f = open('/dev/video0', 'rb'); "
                          f"open('{pidfile}', 'w').write(str(os.getpid())); "
                          "time.sleep(30)"])
    try:
        wait_pidfile(pidfile, p)
        subprocess.run(["cp", EXE, app + ".new"], check=True)
        os.rename(app + ".new", app)
        assert os.readlink(f"/proc/{p.pid}/exe") == app + " (deleted)"
        after(app)
        cam = once(endpointd, policy, tmp)
    finally:
        p.kill()
        p.wait()
    held = [x for x in cam["evidence"]["cameras"][0]["sessions"]
            if x["pid"] == p.pid]
    assert held, cam
    return cam, held[0]


def sandbox_and_upgrade(endpointd, tmp, ok):
    cam, held = flatpak_case(endpointd, tmp, "ro")
    assert held.get("app_id") == "flatpak:" + APP_ID, held
    assert held["approved"] is True and cam["status"] == "pass", cam
    ok("a Flatpak sandbox's app id, from its read-only /.flatpak-info "
       "and its installed /app, approves it")
    cam, held = flatpak_case(endpointd, tmp, "rw")
    assert "app_id" not in held and held["approved"] is False, held
    assert cam["status"] == "fail", cam
    ok("a /.flatpak-info the sandbox could have written names nothing")
    cam, held = flatpak_case(endpointd, tmp, "ro", installed=False)
    assert "app_id" not in held and held["approved"] is False, held
    assert cam["status"] == "fail", cam
    ok("a sandbox whose /app is not the installed app names nothing")
    cam, held = flatpak_case(endpointd, tmp, "ro", installed="link")
    assert "app_id" not in held and held["approved"] is False, held
    ok("nor one whose /app is a link to the installed app")
    cam, held = flatpak_case(endpointd, tmp, "ro", update=True)
    assert held.get("app_id") == "flatpak:" + APP_ID, held
    assert held["approved"] is True and cam["status"] == "pass", cam
    ok("a Flatpak application updated while it runs keeps its name")

    cam, held = upgrade_case(endpointd, tmp, lambda app: None)
    assert held["exe"] == os.path.join(tmp, "pkg", "bin", "app"), held
    assert held.get("note") == "upgraded while running", held
    assert held["approved"] is True and cam["status"] == "pass", cam
    ok("an approved program upgraded while running is still approved")
    cam, held = upgrade_case(endpointd, tmp, os.unlink)
    assert held["approved"] is False and "note" not in held, held
    assert held["exe"].endswith(" (deleted)") and cam["status"] == "fail"
    ok("its path gone: not the approved program")
    cam, held = upgrade_case(endpointd, tmp,
                             lambda app: os.chown(app, 65534, 65534))
    assert held["approved"] is False and cam["status"] == "fail", held
    ok("its path now a user's file: not the approved program")


# A user's PipeWire, as on a desktop but with no hardware: the native
# protocol, the factories that streams and links need, the access module
# (without which no client is ever answered), and the camera's source
# node, made by the server itself (as WirePlumber's v4l2 monitor has the
# server make it) with the object.path that names the device.
PIPEWIRE_CONF = """context.properties = {
    core.daemon = true
    core.name = pipewire-0
    support.dbus = false
}
context.spa-libs = {
    support.* = support/libspa-support
    videotestsrc = videotestsrc/libspa-videotestsrc
}
context.modules = [
    { name = libpipewire-module-protocol-native }
    { name = libpipewire-module-metadata }
    { name = libpipewire-module-spa-node-factory }
    { name = libpipewire-module-client-node }
    { name = libpipewire-module-adapter }
    { name = libpipewire-module-link-factory }
    { name = libpipewire-module-access args = { } }
]
context.objects = [
    { factory = spa-node-factory
      args = { factory.name = support.node.driver node.name = Dummy-Driver
               priority.driver = 20000 } }
    { factory = spa-node-factory
      args = { factory.name = videotestsrc node.name = test-camera
               media.class = Video/Source
               object.path = "v4l2:/dev/video0" } }
]
"""

# endpointd in a mount namespace of its own whose /run/user is the test's
# ({run_user}), so that it finds the test's PipeWire where a user's would
# be. Without --fork: endpointd keeps this script's pid.
RUN_USER = r"""#!/bin/sh
exec unshare --mount --propagation private sh -c '
mount --bind "$0" /run/user && exec "$@"' {run_user} {endpointd} "$@"
"""


def wait_until(pred, what):
    deadline = time.time() + 10
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def pw_ports(env):
    run = subprocess.run(["pw-link", "--output", "--input"], env=env,
                         capture_output=True, text=True, timeout=10)
    return run.stdout.split()


def gst(env, *pipeline):
    return subprocess.Popen(["gst-launch-1.0", "-q"] + list(pipeline),
                            env=env, preexec_fn=_die_with_parent,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def pw_link(env, out, inp):
    wait_until(lambda: out in pw_ports(env) and inp in pw_ports(env),
               f"the ports {out} and {inp}")
    subprocess.run(["pw-link", out, inp], env=env, check=True, timeout=10)


def pipewire_server(conf, env):
    """/usr/bin/pipewire, started holding the testbed's camera node open
    (as its v4l2 plugin would hold it), once its camera node is there."""
    cam = os.open("/dev/video0", os.O_RDONLY)
    server = subprocess.Popen(["/usr/bin/pipewire", "-c", conf], env=env,
                              pass_fds=(cam,), preexec_fn=_die_with_parent,
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    os.close(cam)
    wait_until(lambda: "test-camera:out_0" in pw_ports(env),
               "PipeWire's camera node")
    return server


def pipewire(endpointd, tmp, ok):
    """A real pipewire holding the camera (the node is open when it
    starts, as the v4l2 plugin would have it), and gst-launch-1.0
    consuming its camera node: endpointd must name gst-launch-1.0. An
    application's own node claiming the camera's path names no one."""
    tmp = os.path.join(tmp, "pipewire")
    run_user = os.path.join(tmp, "run-user")
    rt = os.path.join(run_user, str(os.getuid()))
    os.makedirs(rt, mode=0o700)
    conf = os.path.join(tmp, "pipewire.conf")
    write(conf, PIPEWIRE_CONF)
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    env["XDG_RUNTIME_DIR"] = rt
    env["PIPEWIRE_LOG"] = os.path.join(tmp, "pipewire.log")
    wrapper = os.path.join(tmp, "endpointd-run-user")
    write(wrapper, RUN_USER.format(run_user=run_user, endpointd=endpointd))
    os.chmod(wrapper, 0o755)
    policy = os.path.join(tmp, "pipewire.ini")
    write(policy, POLICY.format(version=1, extra=""))
    d = None
    others = []
    server = pipewire_server(conf, env)
    try:
        d = Daemon(wrapper, ["--policy", policy, "--udev-rule", ""], tmp)
        d.wait_for(lambda l: session_event(l, "start", server.pid),
                   "PipeWire's own session while nothing consumes")
        # First a fake: a node an application (pw-cli, which stays
        # connected) has the server make, claiming the camera's path,
        # and another client consuming it.
        cli = subprocess.Popen(["pw-cli"], env=env, stdin=subprocess.PIPE,
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, text=True,
                               preexec_fn=_die_with_parent)
        others.append(cli)
        cli.stdin.write("create-node spa-node-factory { factory.name = "
                        "videotestsrc node.name = fake-camera media.class = "
                        "Video/Source object.path = \"v4l2:/dev/video0\" }\n")
        cli.stdin.flush()
        others.append(gst(env, "pipewiresrc",
                          "stream-properties=props,node.name=misled", "!",
                          "fakesink"))
        pw_link(env, "fake-camera:out_0", "misled:in_0")
        consumer = gst(env, "pipewiresrc",
                       "stream-properties=props,node.name=consumer", "!",
                       "fakesink")
        others.append(consumer)
        pw_link(env, "test-camera:out_0", "consumer:in_0")
        ev = d.wait_for(lambda l: session_event(l, "start", consumer.pid),
                        "a session for the consumer")["event"]
        assert ev["exe"] == "/usr/bin/gst-launch-1.0", ev
        assert ev.get("via") == "pipewire", ev
        assert ev["approved"] is False and ev["media_server"] is False, ev
        assert ev["user"] == pwd.getpwuid(os.getuid()).pw_name, ev
        line = d.wait_for(lambda l: finding_of(l, "camera", "fail"),
                          "fail while it lasts")
        assert "gst-launch-1.0" in line["finding"]["summary"], line
        sessions = line["finding"]["evidence"]["cameras"][0]["sessions"]
        assert [x["pid"] for x in sessions] == [consumer.pid], sessions
        assert not [x for x in d.pending if event_of(x, "camera_session")
                    and x["event"]["pid"] == others[1].pid], d.pending
        # No thread for PipeWire: the context's data loop is stopped.
        assert os.listdir(f"/proc/{d.proc.pid}/task") == [str(d.proc.pid)]
        d.wait_for(lambda l: session_event(l, "end", server.pid),
                   "PipeWire no longer the camera's user")
        ok("through PipeWire: the consuming client's pid and program, "
           "from pipewire.sec.pid, and a fail")
        consumer.kill()
        consumer.wait()
        ev = d.wait_for(lambda l: session_event(l, "end", consumer.pid),
                        "the consumer's session's end")["event"]
        assert ev.get("via") == "pipewire", ev
        ok("the client gone: its session ends")

        # Nothing consumes: PipeWire is the holder again. Then it hangs
        # up (its hold on the camera ends with it); a new one is found
        # on the next look and followed as the first was.
        d.wait_for(lambda l: session_event(l, "start", server.pid),
                   "PipeWire's own session again")
        server.kill()
        server.wait()
        d.wait_for(lambda l: session_event(l, "end", server.pid),
                   "PipeWire's session's end")
        server = pipewire_server(conf, env)
        d.wait_for(lambda l: session_event(l, "start", server.pid),
                   "the new PipeWire's session")
        consumer = gst(env, "pipewiresrc",
                       "stream-properties=props,node.name=consumer", "!",
                       "fakesink")
        others.append(consumer)
        pw_link(env, "test-camera:out_0", "consumer:in_0")
        ev = d.wait_for(lambda l: session_event(l, "start", consumer.pid),
                        "a session through the new PipeWire")["event"]
        assert ev.get("via") == "pipewire", ev
        ok("a PipeWire that hangs up is dropped; a new one is followed")
    finally:
        for p in others + [server]:
            p.kill()
            p.wait()
        rc, log = d.stop() if d else (0, "")
        if os.environ.get("DEBUG_LINES"):
            print(log)
    assert rc == 0 and "Sanitizer" not in log, f"exit {rc}: {log}"


def main():
    endpointd, ctl, tmp, fixture = sys.argv[1:5]
    tb = UMockdev.Testbed.new()
    tb.add_from_string(open(fixture).read())
    policy = os.path.join(tmp, "camera.ini")
    write(policy, POLICY.format(version=1, extra=""))
    results = []

    def ok(what):
        print("ok:", what)
        results.append(True)

    # Discovery: the capture node is a camera, the metadata node is not.
    run = subprocess.run([endpointd, "--once", "--json", "--policy", policy,
                          "--state-dir", os.path.join(tmp, "once")],
                         capture_output=True, text=True)
    check = [c for c in json.loads(run.stdout)["checks"]
             if c["id"] == "camera"][0]
    devices = [c["device"] for c in check["evidence"]["cameras"]]
    assert devices == ["/dev/video0"], devices
    assert "Never an image" in check["evidence"]["privacy"]
    ok("udev finds the capture node and not the metadata node")

    # --once while a camera is held: the holder, judged, and nothing
    # else (no sessions, so no events, and no re-evaluation loop).
    p = hold(30)
    deadline = time.time() + 10
    while time.time() < deadline and not any(
            os.path.exists(f"/proc/{p.pid}/fd/{fd}") and
            os.path.realpath(f"/proc/{p.pid}/fd/{fd}").startswith("/dev/pts")
            for fd in range(3, 6)):
        time.sleep(0.05)
    run = subprocess.run([endpointd, "--once", "--json", "--policy", policy,
                          "--state-dir", os.path.join(tmp, "once")],
                         capture_output=True, text=True, timeout=30)
    report = json.loads(run.stdout)
    cam = [c for c in report["checks"] if c["id"] == "camera"][0]
    held = cam["evidence"]["cameras"][0]["sessions"]
    p.kill()
    p.wait()
    assert [x["pid"] for x in held] == [p.pid], held
    assert cam["status"] == "fail" and run.returncode == 1, cam
    assert not [e for e in report["events"] if e["type"] == "camera_session"]
    ok("--once names the process holding the camera, with no sessions")

    # A program merely named pipewire is not the media server.
    fake = os.path.join(tmp, "bin", "pipewire")
    os.makedirs(os.path.dirname(fake))
    subprocess.run(["cp", EXE, fake], check=True)
    p = subprocess.Popen([fake, "-c", "import time; f = open('/dev/video0', "
                          "'rb'); time.sleep(30)"])
    deadline = time.time() + 10
    run = None
    while time.time() < deadline:
        run = subprocess.run([endpointd, "--once", "--json", "--policy",
                              policy, "--state-dir",
                              os.path.join(tmp, "once")],
                             capture_output=True, text=True, timeout=30)
        cam = [c for c in json.loads(run.stdout)["checks"]
               if c["id"] == "camera"][0]
        if cam["evidence"]["cameras"][0]["sessions"]:
            break
        time.sleep(0.1)
    p.kill()
    p.wait()
    held = cam["evidence"]["cameras"][0]["sessions"]
    assert held and held[0]["media_server"] is False, held
    assert cam["status"] == "fail", cam
    ok("a copy named pipewire is judged as the application it is")

    sandbox_and_upgrade(endpointd, tmp, ok)

    wrapper, files = installation(tmp, endpointd)
    d = Daemon(wrapper, ["--policy", policy, "--udev-rule", ""], tmp)
    try:
        me = os.getpid()
        f = open("/dev/video0", "rb")
        ev = d.wait_for(lambda l: session_event(l, "start", me),
                        "a session for this process")["event"]
        assert ev["exe"] == EXE, ev
        assert ev["user"] == pwd.getpwuid(os.getuid()).pw_name, ev
        assert ev["approved"] is False and ev["media_server"] is False, ev
        line = d.wait_for(lambda l: finding_of(l, "camera", "fail"),
                          "fail while it lasts")
        assert EXE in line["finding"]["summary"], line["finding"]["summary"]
        ok("an unapproved application: a session with this pid and exe, "
           "and a fail")
        f.close()
        ev = d.wait_for(lambda l: session_event(l, "end", me),
                        "the session's end")["event"]
        assert ev["duration_seconds"] >= 1, ev
        d.wait_for(lambda l: finding_of(l, "camera", "pass"), "pass again")
        ok("closing ends the session and clears the fail")

        # A probe shorter than min_session_seconds is not a session; a
        # longer hold by another process after it is, so the wait below
        # ends on that one and nothing in between may be the probe's.
        probe = hold(0.05)
        probe.wait()
        longer = hold(2.5)
        ev = d.wait_for(lambda l: event_of(l, "camera_session") and
                        l["event"]["action"] == "start", "a session")["event"]
        assert ev["pid"] == longer.pid, f"the short probe became {ev}"
        longer.wait()
        d.wait_for(lambda l: session_event(l, "end", longer.pid), "its end")
        ok("a short probe is not a session")

        # Approve this interpreter's directory: an event only, no fail.
        write(policy, POLICY.format(version=2,
                                    extra=", " + os.path.dirname(EXE) + "/"))
        d.hup()
        d.wait_for(lambda l: event_of(l, "policy_loaded"), "reload")
        p = hold(2.5)
        ev = d.wait_for(lambda l: session_event(l, "start", p.pid),
                        "an approved session")["event"]
        assert ev["approved"] is True, ev
        # The daemon judges in the same step that sends the event, so the
        # status it serves now has the approved session in it.
        st = json.loads(subprocess.run(
            [ctl, "--socket", d.sock_path, "status", "--json"],
            capture_output=True, text=True).stdout)
        cam = [c for c in st["checks"] if c["id"] == "camera"][0]
        sessions = cam["evidence"]["cameras"][0]["sessions"]
        assert cam["status"] == "pass", cam
        assert [x["pid"] for x in sessions] == [p.pid], sessions
        p.wait()
        d.wait_for(lambda l: session_event(l, "end", p.pid), "its end")
        ok("an approved application: events only, the check passes")

        # A Flatpak application approved by its id: the session's events
        # carry it (and so does what leaves the laptop).
        write(policy, POLICY.format(version=3, extra=", flatpak:" + APP_ID))
        d.hup()
        d.wait_for(lambda l: event_of(l, "policy_loaded"), "reload")
        sb, pidfile = sandbox(tmp, "flatpak-daemon", "ro", files)
        try:
            pid = wait_pidfile(pidfile, sb)
            ev = d.wait_for(lambda l: session_event(l, "start", pid),
                            "the sandbox's session")["event"]
        finally:
            sb.kill()
            sb.wait()
        assert ev.get("app_id") == "flatpak:" + APP_ID, ev
        assert ev["approved"] is True, ev
        d.wait_for(lambda l: session_event(l, "end", pid), "its end")
        ok("a Flatpak application's session names its app id, approved")
    finally:
        rc, log = d.stop()
        if os.environ.get("DEBUG_LINES"):
            print(log)
    assert rc == 0 and "Sanitizer" not in log, f"exit {rc}: {log}"
    ok("endpointd stops cleanly")

    pipewire(endpointd, tmp, ok)
    print(f"{len(results)} camera tests right, 0 wrong")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAIL: {e}")
        sys.exit(1)
