#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Delivery figures (make bench): 10,000 spooled reports replayed by
endpointd-upload --once to a local collectord (SQLite), and the latency
from a change in endpointd (a policy reload, which becomes an event and a
report) to the report stored in the collector, p50 and p99. The report
for a reload is written at once (it re-evaluates); for a check's event it
is written 1 s later on purpose, so events close together share a report.
Usage: upload.py BUILD TMP [N]
Prints result lines for bench/run.sh (ROW, what, figure, goal, met).
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "system"))
sys.argv[1:1] = []
B, T = sys.argv[1], sys.argv[2]
N = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
import upload as u  # noqa: E402  (the system test's helpers)
from collector import Collector  # noqa: E402

u.B, u.T = B, T
u.D_LOG = os.path.join(T, "endpointd.log")
u.UP_LOG = os.path.join(T, "upload.log")


def row(what, figure, goal, met):
    print("\t".join(["ROW", what, figure, goal, met]), flush=True)


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p / 100))]


def main():
    db = os.path.join(T, "c.db")
    col = Collector(f"{B}/collectord", "sqlite:" + db, os.path.join(T, "col"))
    secret = os.path.join(T, "secret")
    with open(secret, "w") as f:
        f.write(col.secret(u.GROUP) + "\n")
    lap = u.Laptop("lap")
    lap.start_daemon()
    u.wait("the first report", lambda: lap.spooled())
    lap.stop_daemon()
    r = lap.enroll(f"http://127.0.0.1:{col.port}", secret)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(lap.spool, lap.spooled()[0])) as f:
        text = f.read()
    # endpointd's signature line first; the report after it.
    template = json.loads(text.split("\n", 1)[1]
                          if text.startswith("ed25519:") else text)
    for n in range(100, 100 + N):
        template["seq"] = n
        u.spool_report(lap, n, json.dumps(template))
    size = os.path.getsize(os.path.join(lap.spool, lap.spooled()[-1]))
    t0 = time.monotonic()
    rc = subprocess.run([f"{B}/endpointd-upload", "--once", "--state-dir",
                         lap.state, "--upload-dir", lap.upload_dir],
                        stderr=subprocess.DEVNULL).returncode
    dt = time.monotonic() - t0
    stored = len([s for s in u.seqs(db, u.device_id(lap)) if s >= 100])
    row(f"spool replay: {N:,} reports of {size:,} bytes spooled for a local "
        "collectord (SQLite), delivered by endpointd-upload --once (one at a "
        "time, oldest first, one kept-alive connection)",
        f"{dt:.2f} s, {N / dt:,.0f} reports/s; {stored:,} of {N:,} stored "
        f"(exit {rc})", "every report stored",
        "yes" if stored == N and rc == 0 else "**no**")

    # Latency: a change in endpointd to the report stored.
    lap.start_daemon()
    lap.start_uploader()
    dev = u.device_id(lap)
    u.wait("the daemon's report", lambda: not lap.spooled())
    from_event = []
    for i in range(40):
        before = set(u.seqs(db, dev))
        t0 = time.monotonic()
        lap.d.send_signal(signal.SIGHUP)
        while not set(u.seqs(db, dev)) - before:
            time.sleep(0.001)
        from_event.append((time.monotonic() - t0) * 1000)
    # (The report's time in the spool alone is not shown: the uploader
    # takes it in under this loop's polling interval.)
    figure = (f"p50 {pct(from_event, 50):.0f} ms, p99 "
              f"{pct(from_event, 99):.0f} ms")
    row(f"a change in endpointd (a policy reload, which evaluates and "
        f"reports at once) to the report stored in collectord, with "
        f"endpointd-upload running, {len(from_event)} changes; a check's "
        "event waits 1 s more on purpose, so events close together share "
        "a report", figure, "(none set)", "reported")
    lap.stop_uploader()
    lap.stop_daemon()
    col.stop()


main()
