# SPDX-License-Identifier: Apache-2.0
"""Helpers shared by the Python system tests: the real endpointd as a
daemon, and a reader of its status socket."""
import ctypes
import json
import os
import signal
import socket
import subprocess
import time


def _die_with_parent():
    """In the child: SIGTERM when the test process dies, so a crashed test
    leaves no daemon behind."""
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


class Daemon:
    """The real endpointd, and a client of its status socket."""

    def __init__(self, endpointd, args, tmp, env=None):
        self.sock_path = os.path.join(tmp, "status.sock")
        self.log_path = os.path.join(tmp, "daemon.log")
        self.log = open(self.log_path, "w")
        debug = ["--debug"] if os.environ.get("DEBUG_LINES") else []
        self.proc = subprocess.Popen(
            [endpointd, "--state-dir", os.path.join(tmp, "state"),
             "--socket", self.sock_path] + args + debug,
            stderr=self.log, stdout=subprocess.DEVNULL, env=env,
            preexec_fn=_die_with_parent)
        deadline = time.time() + 10
        while not os.path.exists(self.sock_path):
            if time.time() > deadline or self.proc.poll() is not None:
                raise AssertionError("endpointd did not start: "
                                     + open(self.log_path).read())
            time.sleep(0.05)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.sock_path)
        self.lines = self.sock.makefile("r", encoding="utf-8")
        self.status = json.loads(self.lines.readline())
        self.pending = []

    def wait_for(self, pred, what, timeout=15):
        """The first line, read or still to come, for which pred holds;
        lines it passes over are kept for later waits, since events of
        devices plugged together may come in either order."""
        for i, line in enumerate(self.pending):
            if pred(line):
                return self.pending.pop(i)
        deadline = time.time() + timeout
        try:
            while True:
                self.sock.settimeout(max(0.01, deadline - time.time()))
                raw = self.lines.readline()
                if not raw:
                    raise AssertionError(f"socket closed before {what}")
                line = json.loads(raw)
                if os.environ.get("DEBUG_LINES"):
                    print("line:", json.dumps(line)[:300])
                if pred(line):
                    return line
                self.pending.append(line)
        except (OSError, ValueError) as e:
            raise AssertionError(f"no {what} ({e})")

    def hup(self):
        self.proc.send_signal(signal.SIGHUP)

    def stop(self):
        """SIGTERM; returns the exit status and the log."""
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=20)
        self.log.close()
        log = open(self.log_path).read()
        # Every field of every report is in the privacy account.
        undeclared = [line for line in log.splitlines()
                      if "not in the privacy account" in line]
        if undeclared:
            raise AssertionError("\n".join(undeclared))
        return rc, log


def finding_of(line, check, status):
    return (line.get("type") == "finding" and
            line["finding"]["id"] == check and
            line["finding"]["status"] == status)


def event_of(line, etype):
    return line.get("type") == "event" and line["event"]["type"] == etype
