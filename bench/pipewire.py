#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""make bench: the camera through PipeWire, beside agent.py's direct
holder.

A real pipewire (tests/system/camera.py's configuration: a server-made
camera node whose object.path names the testbed's /dev/video0, held open
by the server) under a private XDG_RUNTIME_DIR, and endpointd, in a mount
namespace whose /run/user is the test's, with camera sessions from 0 s.
One gst-launch-1.0 pipewiresrc stream stays connected; PW_SESSIONS times,
pw-link links the camera node to it and the time to the consumer's
camera_session start event on the status socket is taken, then pw-link
-d unlinks it and the time to the end event. pw-link is a process of its
own: its start-up and connection are in each figure, and its run alone
is given beside them. Then IDLE_SECONDS with the stream linked and
running: endpointd's context switches and CPU.

Run under umockdev-wrapper. Usage: pipewire.py BUILD TMP
Environment: PW_SESSIONS (200), IDLE_SECONDS (60).
"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "system"))
import agent  # noqa: E402
import camera  # noqa: E402
from camera import session_event  # noqa: E402
from endpointd_test import Daemon, write  # noqa: E402
from gi.repository import UMockdev  # noqa: E402

PW_SESSIONS = int(os.environ.get("PW_SESSIONS", "200"))
IDLE_SECONDS = int(os.environ.get("IDLE_SECONDS", "60"))
FIXTURE = os.path.join(HERE, "..", "tests", "fixtures", "camera",
                       "uvc.umockdev")
POLICY = """[policy]
name = Bench
version = 1
interval_minutes = 60

[report]
heartbeat_minutes = 60

[camera]
clause = Images of pupils only on school equipment.
action = warn
min_session_seconds = 0
"""
OUT, IN = "test-camera:out_0", "consumer:in_0"


def server(tmp):
    """pipewire holding the testbed's camera node; its environment."""
    rt = os.path.join(tmp, "run-user", str(os.getuid()))
    os.makedirs(rt, mode=0o700)
    conf = os.path.join(tmp, "pipewire.conf")
    write(conf, camera.PIPEWIRE_CONF)
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    env["XDG_RUNTIME_DIR"] = rt
    cam = os.open("/dev/video0", os.O_RDONLY)
    p = subprocess.Popen(["/usr/bin/pipewire", "-c", conf], env=env,
                         pass_fds=(cam,), stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    os.close(cam)
    camera.wait_until(lambda: OUT in camera.pw_ports(env), "the camera node")
    return p, env


def daemon(build, tmp):
    wrapper = os.path.join(tmp, "endpointd-run-user")
    write(wrapper, camera.RUN_USER.format(
        run_user=os.path.join(tmp, "run-user"),
        endpointd=os.path.join(build, "endpointd")))
    os.chmod(wrapper, 0o755)
    policy = os.path.join(tmp, "bench.ini")
    write(policy, POLICY)
    return Daemon(wrapper, ["--policy", policy, "--udev-rule", ""], tmp)


def sessions(d, env, pid, n):
    opened, closed, tool = [], [], []
    for i in range(n):
        t0 = time.perf_counter()
        r = subprocess.run(["pw-link", OUT, IN], env=env,
                           capture_output=True, text=True)
        assert r.returncode == 0, f"pw-link, session {i}: {r.stderr}"
        tool.append(time.perf_counter() - t0)
        d.wait_for(lambda l: session_event(l, "start", pid), "a session")
        opened.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        subprocess.run(["pw-link", "-d", OUT, IN], env=env, check=True)
        d.wait_for(lambda l: session_event(l, "end", pid), "its end")
        closed.append(time.perf_counter() - t0)
        d.pending.clear()
        if (i + 1) % 100 == 0:
            agent.log(f"  {i + 1} sessions")
    return opened, closed, tool


def rows(opened, closed, tool, idle):
    ms = agent.ms
    agent.row(
        f"camera open to attribution through PipeWire, {PW_SESSIONS:,} "
        "sessions in the same daemon: pw-link of the server's camera node "
        "to a running gst-launch-1.0 pipewiresrc stream, to that client's "
        "camera_session start event (its pipewire.sec.pid, program, user) "
        "on the status socket; includes pw-link's own start-up, the 20 ms "
        "burst wait and the session timer; pw-link -d to the end event "
        "alike (beside the direct holder's row above)",
        f"open: p50 {ms(opened, 50)}, p99 {ms(opened, 99)}; close: p50 "
        f"{ms(closed, 50)}, p99 {ms(closed, 99)}; pw-link alone: p50 "
        f"{ms(tool, 50)}", "(none set)", "reported")
    w = idle[0]
    agent.row(
        f"endpointd idle for {IDLE_SECONDS} s connected to a user's "
        "PipeWire whose camera stream is linked and running (context "
        "switches of every thread, utime+stime)", agent.idle_text(idle),
        "no wake-up between evaluations", "yes" if w == 0 else f"**no**: {w}")


def main():
    build, tmp = sys.argv[1], sys.argv[2]
    os.makedirs(tmp, exist_ok=True)
    tb = UMockdev.Testbed.new()
    tb.add_from_string(open(FIXTURE).read())
    pw, env = server(tmp)
    d = consumer = None
    try:
        d = daemon(build, tmp)
        consumer = camera.gst(env, "pipewiresrc",
                              "stream-properties=props,node.name=consumer",
                              "!", "fakesink")
        camera.wait_until(lambda: IN in camera.pw_ports(env), "the stream")
        agent.log(f"{PW_SESSIONS} sessions through PipeWire")
        opened, closed, tool = sessions(d, env, consumer.pid, PW_SESSIONS)
        subprocess.run(["pw-link", OUT, IN], env=env, check=True)
        d.wait_for(lambda l: session_event(l, "start", consumer.pid),
                   "a session")
        time.sleep(agent.SETTLE)
        agent.log(f"idle: {IDLE_SECONDS} s")
        idle = agent.idle_rows({"a": d.proc.pid}, IDLE_SECONDS)["a"]
    finally:
        if consumer:
            consumer.kill()
            consumer.wait()
        pw.kill()
        pw.wait()
        rc = d.stop()[0] if d else 1
    rows(opened, closed, tool, idle)
    return rc


if __name__ == "__main__":
    sys.exit(main())
