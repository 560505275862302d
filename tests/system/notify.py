#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""System test of endpoint-notify on a private session bus.

python3-dbusmock's notification_daemon template is the desktop's
notification service; a status socket served here speaks endpointd's
protocol line by line, so every sequence is exact (the real endpointd is
used at the end, for reconnection). Checked: each check's failure (title,
body, urgency) and its resolution (replacing it); a warning not shown again
within --renotify-hours and shown again after it; a USB device switched
off and an unapproved camera app, shown once; a daemon restart mid-stream
(reconnect, nothing shown twice); no notification service (one log line,
no crash); a line that is not JSON.
Usage: notify.py ENDPOINT_NOTIFY ENDPOINTD TMP
"""
import json
import os
import socket
import subprocess
import sys
import time

import dbus
import dbusmock

EXE, ENDPOINTD, TMP = sys.argv[1:4]
FAILED = []
CLAUSE = {
    "encryption": "All laptops, memory sticks and devices used must be "
                  "encrypted.",
    "screen_lock": "Devices must never be left unattended while unlocked.",
    "usb_storage": "USB flash drives may be used only if encrypted.",
    "camera": "Images of pupils only on school equipment.",
}
TITLES = {
    "encryption": "Your laptop's disk isn't encrypted",
    "screen_lock": "Your screen doesn't lock when you step away",
    "usb_storage": "A USB stick the school doesn't allow is plugged in",
    "camera": "An app the school hasn't approved is using the camera",
}
SEVERITY = {"encryption": "high", "screen_lock": "critical",
            "usb_storage": "medium", "camera": "low"}


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        FAILED.append(what)


def finding(cid, status, summary=None):
    return {"id": cid, "status": status, "severity": SEVERITY[cid],
            "clause": CLAUSE[cid],
            "summary": summary or f"The {cid} check says {status}.",
            "remedy": None if status == "pass" else "Do the <b>thing</b>."}


def status_line(checks, renotify_hours=168):
    return {"type": "status", "schema": "endpointd.status/1",
            "policy": {"renotify_hours": renotify_hours}, "checks": checks}


class FakeDaemon:
    """A status socket: accepts endpoint-notify, sends lines."""

    def __init__(self, path):
        self.path = path
        self.listen()

    def listen(self):
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.srv = socket.socket(socket.AF_UNIX)
        self.srv.bind(self.path)
        self.srv.listen(4)
        self.srv.settimeout(10)
        self.conn = None

    def accept(self):
        self.conn, _ = self.srv.accept()

    def send(self, obj):
        text = obj if isinstance(obj, str) else json.dumps(obj)
        self.conn.sendall(text.encode() + b"\n")

    def restart(self):
        """As endpointd stopping and starting: the socket goes away."""
        self.conn.close()
        self.srv.close()
        os.unlink(self.path)
        time.sleep(0.3)
        self.listen()


def calls(mock):
    return [c for c in mock.GetMethodCalls("Notify")]


def wait_calls(mock, n, timeout=8.0):
    end = time.time() + timeout
    while time.time() < end:
        got = calls(mock)
        if len(got) >= n:
            return got
        time.sleep(0.05)
    return calls(mock)


def args_of(call):
    # (timestamp, [app, replaces, icon, title, body, actions, hints, timeout])
    a = call[1]
    return {"replaces": int(a[1]), "title": str(a[3]), "body": str(a[4]),
            "urgency": int(a[6]["urgency"])}


def start_notify(sock, log, hours="0.001"):
    """hours None: the policy's renotify_hours, from the status."""
    opt = ["--renotify-hours", hours] if hours else []
    return subprocess.Popen([EXE, "--socket", sock] + opt, stderr=log,
                            env=dict(os.environ))


def main():
    dbusmock.DBusTestCase.start_session_bus()
    sock = os.path.join(TMP, "status.sock")
    logpath = os.path.join(TMP, "notify.log")
    log = open(logpath, "w")

    # No notification service yet: one log line, still running.
    daemon = FakeDaemon(sock)
    proc = start_notify(sock, log)
    daemon.accept()
    daemon.send(status_line([finding("encryption", "fail")]))
    daemon.send(status_line([finding("encryption", "fail")]))
    time.sleep(1.0)
    text = open(logpath).read()
    check(proc.poll() is None, "no notification service: still running")
    check(text.count("cannot show a notification") == 1,
          "no notification service: one log line")
    proc.terminate()
    proc.wait(timeout=10)
    daemon.conn.close()

    server, _ = dbusmock.DBusTestCase.spawn_server_template(
        "notification_daemon", {}, stdout=subprocess.DEVNULL)
    bus = dbusmock.DBusTestCase.get_dbus(system_bus=False)
    mock = dbus.Interface(bus.get_object("org.freedesktop.Notifications",
                                         "/org/freedesktop/Notifications"),
                          dbusmock.MOCK_IFACE)
    try:
        proc = start_notify(sock, log)
        daemon.accept()
        # Every check fails at once.
        daemon.send(status_line([finding(c, "fail") for c in TITLES]))
        got = [args_of(c) for c in wait_calls(mock, 4)]
        check(len(got) == 4, f"four failures: four notifications ({len(got)})")
        by_title = {g["title"]: g for g in got}
        for cid, title in TITLES.items():
            g = by_title.get(title)
            want = 2 if SEVERITY[cid] in ("high", "critical") else 1
            check(g is not None and g["urgency"] == want and
                  f"The {cid} check says fail." in g["body"] and
                  "What to do: Do the &lt;b&gt;thing&lt;/b&gt;." in g["body"]
                  and CLAUSE[cid] in g["body"] and
                  f'endpointctl explain {cid}' in g["body"],
                  f"{cid} fails: \"{title}\", urgency {want}, the summary, "
                  "what to do (markup escaped), the clause")
        check(all(g["replaces"] == 0 for g in got),
              "each failure is a new notification")
        mock.ClearCalls()
        # Each is fixed: a short notification replaces each.
        for cid in TITLES:
            daemon.send({"type": "finding", "finding": finding(cid, "pass")})
        got = [args_of(c) for c in wait_calls(mock, 4)]
        check(len(got) == 4 and all(g["urgency"] == 0 and
                                    "all sorted" in g["title"] for g in got),
              "each fixed: a \"sorted\" notification, low urgency")
        # The mock numbers new notifications from 1: the failures were
        # 1 to 4, and each resolution names one of them to replace.
        check(sorted(g["replaces"] for g in got) == [1, 2, 3, 4],
              "each resolution replaces its failure's notification")
        mock.ClearCalls()
        # A warning: shown once, not again within --renotify-hours
        # (3.6 s here), shown again after it.
        t0 = time.time()
        daemon.send({"type": "finding", "finding":
                     finding("screen_lock", "warn")})
        got = [args_of(c) for c in wait_calls(mock, 1)]
        check(len(got) == 1 and got[0]["title"] ==
              "Your screen takes too long to lock" and got[0]["urgency"] == 1,
              "a warning: shown, normal urgency")
        daemon.send({"type": "finding", "finding":
                     finding("screen_lock", "warn", "Still too long.")})
        daemon.send(status_line([finding("screen_lock", "warn")]))
        time.sleep(0.5)
        check(len(calls(mock)) == 1 and time.time() - t0 < 3.0,
              "the same warning again at once: not shown again")
        got = [args_of(c) for c in wait_calls(mock, 2, timeout=10)]
        check(len(got) == 2 and time.time() - t0 >= 3.5 and
              got[1]["replaces"] == got[0]["replaces"],
              f"after --renotify-hours it is shown again "
              f"({time.time() - t0:.1f} s), replacing the first")
        mock.ClearCalls()
        # Events: once each.
        # "taken" as endpointd's usb_storage check names it (taken_names).
        daemon.send({"type": "event", "event": {
            "type": "usb_device", "action": "add", "taken": "blocked",
            "device": {"manufacturer": "SanDisk", "product": "<Ultra>"}}})
        daemon.send({"type": "event", "event": {
            "type": "usb_device", "action": "remove",
            "device": {"manufacturer": "SanDisk", "product": "<Ultra>"}}})
        daemon.send({"type": "event", "event": {
            "type": "camera_session", "action": "start",
            "application": "snapcam", "approved": False}})
        daemon.send({"type": "event", "event": {
            "type": "camera_session", "action": "start",
            "application": "cheese", "approved": True}})
        daemon.send("this is not JSON")
        got = [args_of(c) for c in wait_calls(mock, 2)]
        time.sleep(0.5)
        got = [args_of(c) for c in calls(mock)]
        check(len(got) == 2 and
              got[0]["title"] == "This USB stick has been switched off" and
              "SanDisk &lt;Ultra&gt;" in got[0]["body"] and
              "snapcam" in got[1]["body"],
              "a USB stick switched off and an unapproved camera app: "
              "shown once each; its removal and an approved app: not")
        check(proc.poll() is None, "a line that is not JSON: still running")
        mock.ClearCalls()
        # The daemon restarts mid-stream: endpoint-notify reconnects; the
        # warning it sends again is not shown again.
        daemon.restart()
        daemon.accept()
        daemon.send(status_line([finding("screen_lock", "warn"),
                                 finding("encryption", "pass")]))
        time.sleep(0.7)
        check(len(calls(mock)) == 0, "after a daemon restart: reconnected, "
              "nothing shown twice")
        daemon.send({"type": "finding", "finding":
                     finding("encryption", "fail")})
        got = [args_of(c) for c in wait_calls(mock, 1)]
        check(len(got) == 1 and got[0]["title"] == TITLES["encryption"],
              "after the restart, a new failure is shown")
        proc.terminate()
        check(proc.wait(timeout=10) == 0, "SIGTERM: exits 0")
        mock.ClearCalls()

        # Without --renotify-hours, the policy's renotify_hours holds
        # (above, the option's 0.001 overrode the policy's 168).
        proc = start_notify(sock, log, None)
        daemon.accept()
        t0 = time.time()
        daemon.send(status_line([finding("camera", "warn")], 0.001))
        got = [args_of(c) for c in wait_calls(mock, 1)]
        check(len(got) == 1 and got[0]["title"].startswith("The camera is being used by"),
              "without the option: a warning shown")
        got = [args_of(c) for c in wait_calls(mock, 2, timeout=10)]
        check(len(got) == 2 and time.time() - t0 >= 3.5,
              "and shown again after the policy's renotify_hours "
              f"({time.time() - t0:.1f} s)")
        proc.terminate()
        proc.wait(timeout=10)
        daemon.conn.close()
        daemon.srv.close()

        # The real endpointd: connect, and reconnect when it restarts.
        root = os.path.join(TMP, "root")
        os.makedirs(os.path.join(root, "etc"), exist_ok=True)
        sock2 = os.path.join(TMP, "real.sock")
        d_args = [ENDPOINTD, "--root", root, "--policy", "policy.ini",
                  "--state-dir", os.path.join(TMP, "state"), "--socket",
                  sock2, "--udev-rule", ""]
        dlog = open(os.path.join(TMP, "endpointd.log"), "w")
        d = subprocess.Popen(d_args, stderr=dlog)
        proc = start_notify(sock2, log, "4")
        end = time.time() + 10
        while time.time() < end and \
                open(logpath).read().count(f"connected to {sock2}") < 1:
            time.sleep(0.1)
        d.terminate()
        d.wait(timeout=10)
        d = subprocess.Popen(d_args, stderr=dlog)
        end = time.time() + 15
        while time.time() < end and \
                open(logpath).read().count(f"connected to {sock2}") < 2:
            time.sleep(0.1)
        check(open(logpath).read().count(f"connected to {sock2}") == 2,
              "the real endpointd restarted: endpoint-notify reconnected")
        proc.terminate()
        proc.wait(timeout=10)
        d.terminate()
        d.wait(timeout=10)
    finally:
        server.terminate()
        server.wait()
        dbusmock.DBusTestCase.tearDownClass()
    print(f"{len(FAILED)} notify tests wrong")
    sys.exit(1 if FAILED else 0)


main()
