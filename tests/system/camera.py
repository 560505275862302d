#!/usr/bin/python3
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

from endpointd_test import Daemon, event_of, finding_of, write  # noqa: E402

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

    d = Daemon(endpointd, ["--policy", policy, "--udev-rule", ""], tmp)
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
    finally:
        rc, log = d.stop()
        if os.environ.get("DEBUG_LINES"):
            print(log)
    assert rc == 0 and "Sanitizer" not in log, f"exit {rc}: {log}"
    ok("endpointd stops cleanly")
    print(f"{len(results)} camera tests right, 0 wrong")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAIL: {e}")
        sys.exit(1)
