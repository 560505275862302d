#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The fault suite: the real programs (endpointd, endpointd-upload,
collectord, endpointctl) under the faults a school's laptops and its
collector meet. Each case ends with a line "PASS: CASE" or "FAIL: CASE".

  collector_kill9  collectord killed -9 under load from several senders,
                   on SQLite and (PG_URL set) PostgreSQL: every report
                   answered 2xx is stored, none twice after retrying
  agent_kill9      endpointd and endpointd-upload killed -9 at random
                   points while reports are made and delivered: the
                   collector gets every sequence number once, no gaps
  full_disk        the state directory on a small tmpfs, filled up:
                   endpointd keeps running, says so, loses nothing written
                   and recovers when space returns
  clock_jumps      the wall clock of the programs moved back and forth
                   (libfaketime): sequence numbers, the uploader's backoff
                   and the collector's staleness stay right
  policy_rewrite   the policy rewritten in place and renamed over while
                   SIGHUP reloads it: the old policy or the whole new one
  bad_collector    a collector on loopback that answers garbage, slowly,
                   or closes mid-response: nothing deleted without a 2xx,
                   backoff, then everything delivered to a real one
  usb_burst        10,000 uevents in a burst under umockdev (a child
                   process under umockdev-wrapper)
  stuck_client     status-socket clients that connect and never read

Random delays come from one generator; its seed is printed and
FAULTS_SEED=N replays it. Waits have generous deadlines; nothing is timed.
Usage: faults.py BUILD TMP [CASE...]   (all cases when none is named)
"""
import base64
import glob
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# upload.py takes BUILD and TMP from the command line too.
from collector import (FAILED, Collector, check, enrol, free_port,  # noqa
                       make_report, post, query)
from endpointd_test import Daemon, event_of, finding_of, write  # noqa
from upload import (FIXTURE, GROUP, UP_LOG, Laptop, db_rows, device_id,  # noqa
                    events, seqs, wait)

B, T = sys.argv[1], sys.argv[2]
SEED = int(os.environ.get("FAULTS_SEED") or random.randrange(1 << 31))
RNG = random.Random(SEED)
FAKETIME = (glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1") or [""])[0]
ADMIN = ("ict", "correct horse battery")


class Abort(Exception):
    """A wait failed (already reported): the rest of the case is moot."""


def need(what, cond, timeout=20):
    if not wait(what, cond, timeout):
        raise Abort(what)


def until(what, cond, timeout=60):
    """need, polling often: for waits repeated many times."""
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            check(False, "timed out waiting for " + what)
            raise Abort(what)
        time.sleep(0.005)


def new_collector(name, extra=(), env=None):
    """A collectord on its own SQLite database, with an admin and an
    enrolment secret file; returns (collector, db path, url, secret)."""
    db = os.path.join(T, name + ".db")
    col = Collector(f"{B}/collectord", "sqlite:" + db,
                    os.path.join(T, name), extra, env)
    col.admin(*ADMIN)
    secret = os.path.join(T, name + ".secret")
    write(secret, col.secret(GROUP) + "\n")
    return col, db, f"http://127.0.0.1:{col.port}", secret


def enrolled(name, url, secret, env=None):
    """A laptop (endpointd on the fixture root) enrolled with url."""
    lap = Laptop(name)
    lap.env = env
    lap.start_daemon()
    r = lap.enroll(url, secret)
    if r.returncode != 0:
        check(False, f"{name}: endpointctl enroll: {r.stderr.strip()}")
        raise Abort("enrolment")
    return lap


def run_now(lap):
    """endpointctl run (root: at any time): an evaluation and a report."""
    return subprocess.run([f"{B}/endpointctl", "--socket", lap.sock, "run"],
                          capture_output=True, text=True,
                          timeout=90).returncode == 0


def contiguous(got):
    """Every sequence number from 1 to the highest, each once."""
    return bool(got) and sorted(got) == list(range(1, max(got) + 1))


def stop_all(*laps):
    for lap in laps:
        for p in (lap.u, lap.d):
            if p and p.poll() is None:
                p.kill()
                p.wait()
        lap.u = lap.d = None


def clean_stops(lap):
    """SIGTERM both programs: each must exit 0 (a sanitizer report makes
    the status non-zero)."""
    if lap.u:
        check(lap.stop_uploader() == 0, "the uploader stops cleanly")
    if lap.d:
        check(lap.stop_daemon() == 0, "endpointd stops cleanly")


def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def sanitized(exe):
    """Built with AddressSanitizer: its RSS says little about leaks (the
    quarantine keeps freed memory), LeakSanitizer says more at exit."""
    out = subprocess.run(["ldd", exe], capture_output=True, text=True).stdout
    return "libasan" in out


def stop_cleanly(d):
    """SIGTERM, then exit 0 and no sanitizer report in its log."""
    rc, log = d.stop()
    check(rc == 0 and "Sanitizer" not in log,
          f"endpointd stops cleanly (exit {rc})")


def kill_if_running(proc):
    """For a finally: clause, whatever failed before."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def log_from(path, offset):
    with open(path, errors="replace") as f:
        f.seek(offset)
        return f.read()


def size_of(path):
    return os.path.getsize(path) if os.path.exists(path) else 0


# --- 1. collectord killed -9 under load ---

class Sender(threading.Thread):
    """One laptop's reports, seq 1, 2, ...: each sent until the collector
    answers 2xx, whatever happens to it in between."""

    def __init__(self, col, token, mid, base):
        super().__init__(daemon=True)
        self.col, self.token = col, token
        self.report = json.loads(json.dumps(base))
        self.report["device"]["machine_id"] = mid
        self.acked, self.refused = [], []
        self.stop = threading.Event()

    def body(self, seq):
        self.report["seq"] = seq
        self.report["events"] = [{
            "at": "2026-11-22T13:00:00Z", "type": "usb_device",
            "check": "usb_storage", "action": "add",
            "device": {"product": f"fault {seq}"}}]
        return json.dumps(self.report)

    def run(self):
        seq = 0
        while not self.stop.is_set():
            seq += 1
            body = self.body(seq)
            deadline = time.time() + 60
            while time.time() < deadline:
                try:
                    st, _ = post(self.col, self.token, body)
                except (OSError, http.client.HTTPException):
                    st = 0
                if 200 <= st < 300:
                    self.acked.append(seq)
                    break
                if 400 <= st < 500 and st != 429:
                    self.refused.append((seq, st))
                    return
                time.sleep(0.02)
            else:
                self.refused.append((seq, "no answer for 60 s"))
                return


def collector_kill9_on(db, label, senders=4, kills=3):
    tmp = os.path.join(T, "kill9-" + label)
    col = Collector(f"{B}/collectord", db, tmp)
    try:
        secret = col.secret(GROUP)
        base = make_report(f"{B}/endpointd", tmp, "0" * 32)
        pool = []
        for i in range(senders):
            mid = "%032x" % (0xfa0170 + i)
            st, e = enrol(col, secret, mid)
            if st != 201:
                check(False, f"{label}: enrolment {st}: {e}")
                raise Abort("enrolment")
            pool.append(Sender(col, e["token"], mid, base))
            pool[-1].device = e["device_id"]
        for s in pool:
            s.start()
        for k in range(kills):
            # Under load: every sender has had answers since the last kill.
            marks = [len(s.acked) for s in pool]
            need(f"{label}: the senders at work",
                 lambda: all(len(s.acked) >= m + 20 or s.refused
                             for s, m in zip(pool, marks)), 60)
            time.sleep(RNG.uniform(0, 0.3))
            col.proc.kill()
            col.proc.wait()
            col.log.close()
            time.sleep(RNG.uniform(0, 0.3))
            col.start()
        marks = [len(s.acked) for s in pool]
        need(f"{label}: answers after the last restart",
             lambda: all(len(s.acked) > m or s.refused
                         for s, m in zip(pool, marks)), 60)
        for s in pool:
            s.stop.set()
        for s in pool:
            s.join(90)
        check(not any(s.refused for s in pool),
              f"{label}: no report refused "
              f"({[s.refused for s in pool if s.refused][:2]})")
        acked = {(s.device, q) for s in pool for q in s.acked}
        rows = query(db, "SELECT device_id, seq, COUNT(*) FROM reports "
                         "GROUP BY device_id, seq")
        stored = {(int(r[0]), int(r[1])) for r in rows}
        check(acked and not acked - stored,
              f"{label}: collectord killed -9 {kills} times under "
              f"{senders} senders: all {len(acked)} reports answered 2xx "
              f"are stored ({len(acked - stored)} missing)")
        check(not stored - acked and all(r[2] == 1 for r in rows),
              f"{label}: none stored twice or unasked "
              f"({len(stored - acked)} extra)")
        seen = {}
        for dev, body in query(db, "SELECT device_id, body FROM events"):
            product = json.loads(body).get("device", {}).get("product", "")
            if product.startswith("fault "):
                key = (int(dev), product)
                seen[key] = seen.get(key, 0) + 1
        twice = [k for k, n in seen.items() if n > 1]
        check(len(seen) == len(acked) and not twice,
              f"{label}: each report's event stored once, retries "
              f"included ({len(seen)} for {len(acked)} reports, "
              f"{len(twice)} twice)")
        col.stop()
        log = open(os.path.join(tmp, "collectord.log")).read()
        check("Sanitizer" not in log, f"{label}: no sanitizer report")
    finally:
        kill_if_running(col.proc)


def collector_kill9():
    collector_kill9_on("sqlite:" + os.path.join(T, "kill9.db"), "SQLite")
    if os.environ.get("PG_URL"):
        collector_kill9_on(os.environ["PG_URL"], "PostgreSQL")
    else:
        print("note: PG_URL unset: collectord on PostgreSQL not killed")


# --- 2. endpointd and the uploader killed -9 at random points ---

def agent_kill9(rounds=30):
    col, db, url, secret = new_collector("agentkill")
    lap = None
    stop = threading.Event()
    try:
        lap = enrolled("agentkill", url, secret)
        dev = device_id(lap)
        # A backlog first: reports made while no uploader runs.
        for _ in range(10):
            run_now(lap)
        lap.start_uploader()

        def producer():
            while not stop.is_set():
                try:
                    run_now(lap)
                except subprocess.TimeoutExpired:
                    pass
                time.sleep(0.01)
        prod = threading.Thread(target=producer, daemon=True)
        prod.start()
        kills = {"endpointd": 0, "endpointd-upload": 0}
        for _ in range(rounds):
            time.sleep(RNG.uniform(0.0, 0.25))
            victims = RNG.choice([["d"], ["u"], ["d", "u"]])
            for v in victims:
                p = lap.d if v == "d" else lap.u
                p.kill()
                p.wait()
                kills["endpointd" if v == "d" else "endpointd-upload"] += 1
            time.sleep(RNG.uniform(0.0, 0.1))
            if "d" in victims:
                lap.start_daemon()
            if "u" in victims:
                lap.start_uploader()
        stop.set()
        prod.join(120)
        check(lap.stop_daemon() == 0, "endpointd stops cleanly after the "
              "kills")
        need("the spool to drain", lambda: not lap.spooled(), 60)
        got = seqs(db, dev)
        check(contiguous(got),
              f"killed -9 at random ({kills}): the collector has every "
              f"sequence number from 1 to {max(got or [0])} once "
              f"({len(got)} reports; missing "
              f"{sorted(set(range(1, max(got or [0]) + 1)) - set(got))[:10]}"
              f", doubled {len(got) - len(set(got))})")
        times = [r[0] for r in db_rows(db, "SELECT generated_at FROM reports"
                                       " WHERE device_id = ? ORDER BY seq",
                                       dev)]
        check(times == sorted(times), "sequence numbers follow the time "
              "each report was made (no number used for two reports)")
        check(not os.path.exists(os.path.join(lap.spool, "rejected")),
              "nothing partial was sent (no report refused)")
        left = [n for n in os.listdir(lap.spool) if ".tmp." in n]
        check(not left, f"no half-written file left in the spool ({left[:3]})")
        check(lap.stop_uploader() == 0, "the uploader stops cleanly")
    finally:
        stop.set()
        if lap:
            stop_all(lap)
        col.stop()


# --- 3. a full disk ---

def fill(path):
    """Write path until the file system is full."""
    with open(path, "wb", buffering=0) as f:
        for chunk in (65536, 4096, 512, 1):
            try:
                while True:
                    f.write(b"\0" * chunk)
            except OSError:
                pass


def full_disk():
    col, db, url, secret = new_collector("disk")
    lap = Laptop("disk")
    os.makedirs(lap.state)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o",
                              "size=1m,mode=0711", "tmpfs", lap.state],
                             capture_output=True).returncode == 0
    if not mounted:
        print("note: tmpfs cannot be mounted here: a file-size limit on "
              "endpointd stands in for the full disk")
    try:
        lap.start_daemon()
        r = lap.enroll(url, secret)
        need("enrolment", lambda: r.returncode == 0, 1)
        dev = device_id(lap)
        run_now(lap)
        need("reports in the spool", lambda: len(lap.spooled()) >= 2)
        written = {n: open(os.path.join(lap.spool, n)).read()
                   for n in lap.spooled()}
        reserve = os.path.join(lap.state, "reserve")
        filler = os.path.join(lap.state, "filler")
        if mounted:
            # One page kept back: freed later, it leaves room for a small
            # file (the sequence number) but not for a report.
            write(reserve, "x" * 4096)
            fill(filler)
        else:
            subprocess.run(["prlimit", "--pid", str(lap.d.pid),
                            "--fsize=4096:unlimited"], check=True)
        # Reloads: events (and reports) that cannot be written.
        for _ in range(40):
            lap.d.send_signal(signal.SIGHUP)
            time.sleep(0.01)
        run_now(lap)
        need("the spool error in the status",
             lambda: lap.status()["upload"]["spool"]["error"])
        check(lap.d.poll() is None, "endpointd keeps running on a full disk")
        check("cannot be written" in lap.status_text(),
              "endpointctl status says reports cannot be written")
        if mounted:
            os.unlink(reserve)
        run_now(lap)
        check(lap.d.poll() is None and lap.status()["upload"]["spool"]
              ["error"], "a page free, too little for the report with 40 "
              "events: still running, still said")
        check(all(open(os.path.join(lap.spool, n)).read() == t
                  for n, t in written.items()),
              f"the {len(written)} reports written before are intact")
        if mounted:
            os.unlink(filler)
        else:
            subprocess.run(["prlimit", "--pid", str(lap.d.pid),
                            "--fsize=unlimited:unlimited"], check=True)
        run_now(lap)
        need("the spool error to clear",
             lambda: lap.status()["upload"]["spool"]["error"] is None)
        lap.start_uploader()
        need("the spool to drain", lambda: not lap.spooled(), 60)
        got = seqs(db, dev)
        check(contiguous(got), f"every report from 1 to {max(got)} reached "
              f"the collector once, no number lost to the full disk "
              f"({sorted(got)})")
        fails = events(db, dev, "spool_write_failed")
        check(any(e.get("count", 0) >= 2 and e.get("error") for e in fails),
              f"once it could, a report said how many writes failed "
              f"({fails})")
        clean_stops(lap)
    finally:
        stop_all(lap)
        col.stop()
        if mounted:
            subprocess.run(["umount", "-l", lap.state])


# --- 4. the clock jumping ---

def faked(clock_file):
    """The environment of a program whose wall clock is clock_file's
    offset (libfaketime); its monotonic clocks stay true, as when the
    time is set on a real machine."""
    env = dict(os.environ)
    env["LD_PRELOAD"] = " ".join(filter(None, [env.get("LD_PRELOAD"),
                                                FAKETIME]))
    env["FAKETIME_TIMESTAMP_FILE"] = clock_file
    env["FAKETIME_NO_CACHE"] = "1"
    env["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"
    return env


def set_clock(path, offset):
    with open(path + ".new", "w") as f:
        f.write(offset + "\n")
    os.rename(path + ".new", path)


def epoch(rfc3339):
    return time.mktime(time.strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ")) \
        - time.timezone


def clock_jumps():
    if not FAKETIME:
        check(False, "libfaketime is missing (installer/deps.sh: faketime)")
        return
    lclock, cclock = os.path.join(T, "laptop.clock"), \
        os.path.join(T, "collector.clock")
    set_clock(lclock, "+0")
    set_clock(cclock, "+0")
    col, db, url, secret = new_collector("clock", ["--stale-hours", "24"],
                                         faked(cclock))
    auth = {"Authorization": "Basic " + base64.b64encode(
        ":".join(ADMIN).encode()).decode()}

    def stale():
        st, body = col.request("GET", "/api/v1/summary", None, auth)
        return json.loads(body)["stale"] if st == 200 else None

    lap = None
    try:
        lap = enrolled("clock", url, secret, faked(lclock))
        dev = device_id(lap)
        lap.start_uploader()
        need("the first report", lambda: seqs(db, dev))
        for offset, days in (("-3d", -3), ("+5d", 5), ("+0", 0)):
            set_clock(lclock, offset)
            last = max(seqs(db, dev))
            run_now(lap)
            need(f"a report at {offset}",
                 lambda: max(seqs(db, dev)) > last)
            seq = max(seqs(db, dev))
            gen = db_rows(db, "SELECT generated_at FROM reports WHERE "
                          "device_id = ? AND seq = ?", dev, seq)[0][0]
            drift = epoch(gen) - time.time() - days * 86400
            check(abs(drift) < 3600,
                  f"the laptop's clock at {offset}: its report ({gen}) "
                  f"says so, seq {last} -> {seq}, accepted")
            check(stale() == 0, f"laptop clock {offset}: the collector "
                  "does not judge it stale")

        # Backoff: the collector away while the laptop's clock jumps.
        col.stop()
        mark = size_of(UP_LOG)
        run_now(lap)
        need("the uploader to retry",
             lambda: lap.uploader_status()["state"] == "retrying")
        for offset in ("-1d", "+2d", "+0"):
            set_clock(lclock, offset)
            time.sleep(2)
        tries = log_from(UP_LOG, mark).count("Couldn't connect")
        check(1 <= tries <= 20, f"the uploader backs off across the jumps "
              f"({tries} tries in 6 s: neither none nor a tight loop)")
        waiting = list(lap.spooled())
        col.start()
        need("delivery once the collector is back (no huge sleep after "
             "the backwards jump)", lambda: not lap.spooled(), 40)
        check(set(waiting) and contiguous(seqs(db, dev)),
              "every report delivered, in sequence")

        # The collector's own clock.
        set_clock(cclock, "+2d")
        check(stale() == 1, "collector clock +2 days: the laptop, silent "
              "for two days of its time, is stale")
        last = max(seqs(db, dev))
        run_now(lap)
        need("a report", lambda: max(seqs(db, dev)) > last)
        check(stale() == 0, "it reports: no longer stale")
        set_clock(cclock, "+0")
        check(stale() == 0, "collector clock back two days: the laptop "
              "that just reported is not stale")
        # Its hourly work (at start, then every hour of a clock that
        # setting the time does not move) counts a time seen in the
        # future as now: a restart runs it at once.
        col.stop()
        col.start()
        set_clock(cclock, "+25h")
        check(stale() == 1, "25 hours later with no report, it is stale "
              "again (its last report is not kept in the future)")
        clean_stops(lap)
    finally:
        if lap:
            stop_all(lap)
        col.stop()


# --- 5. the policy replaced while it is read ---

class Lines(threading.Thread):
    """Every line of a root client of the status socket, read as soon as
    it comes, so endpointd never has to drop this client."""

    def __init__(self, d):
        super().__init__(daemon=True)
        self.d, self.lines, self.closed = d, [], False
        self.bytes = 0
        self.usb = {"add": set(), "remove": set()}	# bus paths
        d.sock.settimeout(None)

    def run(self):
        try:
            for raw in self.d.lines:
                line = json.loads(raw)
                self.lines.append(line)
                self.bytes += len(raw)
                if event_of(line, "usb_device"):
                    e = line["event"]
                    self.usb[e["action"]].add(e["device"]["bus_path"])
        except (OSError, ValueError):
            pass
        self.closed = True

    def events(self, etype):
        return [l["event"] for l in list(self.lines) if event_of(l, etype)]


def policy_rewrite(seconds=3):
    tmp = os.path.join(T, "policy")
    path = os.path.join(tmp, "policy.ini")
    base = open("policy.ini").read()
    a = base.replace("version = 1\n", "version = 101\n", 1)
    b = base.replace("version = 1\n", "version = 102\n", 1).replace(
        "for purposes authorised", "for purposes approved")
    check(a != b and len(a) > 8192, "two policies larger than a read")
    sha = {}
    for text in (a, b):
        write(path, text)
        out = subprocess.run([f"{B}/endpointd", "--once", "--json",
                              "--root", FIXTURE, "--policy", path,
                              "--state-dir", os.path.join(tmp, "once")],
                             capture_output=True, text=True).stdout
        sha[json.loads(out)["policy"]["sha256"]] = text
    write(path, a)
    d = Daemon(f"{B}/endpointd", ["--policy", path, "--root", FIXTURE,
                                  "--udev-rule", ""], tmp)
    reader = Lines(d)
    reader.start()
    stop = threading.Event()

    def in_place():
        i = 0
        while not stop.is_set():
            fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
            os.write(fd, (a, b)[i % 2].encode())
            os.close(fd)
            i += 1
            # As fast as an editor or a script saves, not faster: a file
            # rewritten without pause never reads the same twice, and
            # endpointd (rightly) refuses it as still changing.
            time.sleep(0.001)

    def renamed():
        i = 0
        while not stop.is_set():
            with open(path + ".new", "w") as f:
                f.write((a, b)[i % 2])
            os.rename(path + ".new", path)
            i += 1

    try:
        for how, writer in (("rewritten in place", in_place),
                            ("renamed over", renamed)):
            before = len(reader.events("policy_loaded"))
            stop.clear()
            t = threading.Thread(target=writer, daemon=True)
            t.start()
            deadline = time.time() + seconds
            while time.time() < deadline and d.proc.poll() is None:
                d.hup()
                time.sleep(0.002)
            stop.set()
            t.join()
            write(path, a)
            d.hup()
            need("the last reload", lambda: any(
                e["policy"]["sha256"] in sha and sha[e["policy"]["sha256"]]
                == a for e in reader.events("policy_loaded")[before:][-1:]))
            loaded = [e["policy"]["sha256"]
                      for e in reader.events("policy_loaded")[before:]]
            torn = [s for s in loaded if s not in sha]
            if how == "renamed over":
                check(d.proc.poll() is None and not torn and
                      len(loaded) > 10,
                      f"policy {how} during {len(loaded)} reloads: each one "
                      f"loaded is the old or the whole new one "
                      f"({len(torn)} torn)")
            else:
                # A reader cannot always tell a file written in place
                # from one still being written (two reads may both see
                # the same half); endpointd reads until two agree, which
                # makes a torn load rare, and the next change puts right.
                check(d.proc.poll() is None and len(loaded) > 10 and
                      len(torn) * 20 <= len(loaded),
                      f"policy {how} during {len(loaded)} reloads: "
                      f"{len(torn)} loaded half-written (at most 1 in 20), "
                      "the others the old or the whole new one")
        st = subprocess.run([f"{B}/endpointctl", "--socket", d.sock_path,
                             "status", "--json"], capture_output=True,
                            text=True).stdout
        st = json.loads(st)
        check(st["policy"]["version"] == "101" and st["policy_error"] is None,
              "at the end the last one written is in force, no error shown")
        stop_cleanly(d)
    finally:
        stop.set()
        kill_if_running(d.proc)


# --- 6. a collector that misbehaves ---

class BadCollector(threading.Thread):
    """A web server on 127.0.0.1 that never gives a whole 2xx answer."""

    ANSWERS = {
        "garbage": b"\x00\xff\xfe garbage \r\n\r\n\x1b[31m",
        "no status line": b"stored, thank you\n",
        "bad status": b"HTTP/1.1 2O1 Created\r\nContent-Length: 0\r\n\r\n",
        "bad chunks": b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked"
                      b"\r\n\r\nzz\r\n{}\r\n",
        "cut": b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
               b"Content-Length: 40\r\n\r\n{\"stored\": ",
        "closed": b"",
    }

    def __init__(self, port):
        super().__init__(daemon=True)
        self.mode = "garbage"
        self.posts, self.conns = {}, 0
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", port))
        self.srv.listen(16)

    def run(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            self.conns += 1
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        mode = self.mode
        try:
            c.settimeout(30)
            req = b""
            while b"\r\n\r\n" not in req:
                chunk = c.recv(65536)
                if not chunk:
                    return
                req += chunk
            head, body = req.split(b"\r\n\r\n", 1)
            m = re.search(rb"(?i)content-length: *(\d+)", head)
            while m and len(body) < int(m.group(1)):
                body += c.recv(65536)
            if head.startswith(b"POST"):
                self.posts[mode] = self.posts.get(mode, 0) + 1
            if mode == "slow" and head.startswith(b"POST"):
                for byte in (b"HTTP/1.1 201 Created\r\nContent-Length: 2"
                             b"\r\n\r\n{}"):
                    c.sendall(bytes([byte]))
                    time.sleep(0.25)
            elif mode == "slow":
                c.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0"
                          b"\r\n\r\n")
            elif mode == "reset":
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             b"\1\0\0\0\0\0\0\0")
            else:
                c.sendall(self.ANSWERS[mode])
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        """Stop listening (shutdown wakes the accept in progress)."""
        try:
            self.srv.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.srv.close()
        self.join(10)


def bad_collector():
    col, db, url, secret = new_collector("bad")
    lap, bad = None, None
    try:
        lap = enrolled("bad", url, secret)
        dev = device_id(lap)
        col.stop()
        bad = BadCollector(col.port)
        bad.start()
        run_now(lap)
        modes = list(BadCollector.ANSWERS) + ["reset", "slow"]
        for mode in modes:
            bad.mode = mode
            before = set(lap.spooled())
            mark = size_of(UP_LOG)
            if mode == "slow":
                # Its clock runs 20 times faster, so its 60-second timeout
                # comes within seconds while the answer dribbles in.
                lap.env = dict(os.environ, LD_PRELOAD=" ".join(filter(
                    None, [os.environ.get("LD_PRELOAD"), FAKETIME])),
                    FAKETIME="+0 x20")
            lap.start_uploader()
            need(f"a report sent to the {mode} collector",
                 lambda: bad.posts.get(mode) and lap.uploader_status()
                 ["state"] == "retrying", 40)
            err = lap.uploader_status()["last_error"] or ""
            check(before <= set(lap.spooled()) and
                  not os.path.exists(os.path.join(lap.spool, "rejected")),
                  f"a collector answering {mode}: no report deleted or "
                  f"set aside ({err})")
            if mode == "slow":
                check("Timeout" in err, "the slow answer timed out")
                lap.env = None
            if mode != modes[-1]:
                lap.stop_uploader()
        # The last uploader keeps running: it must back off.
        lap.stop_uploader()
        bad.mode = "garbage"
        conns = bad.conns
        lap.start_uploader()
        time.sleep(3)
        tries = bad.conns - conns
        check(1 <= tries <= 6, f"the uploader backs off ({tries} "
              "connections in 3 s: neither none nor a tight loop)")
        check(lap.d.poll() is None and lap.u.poll() is None,
              "endpointd and the uploader keep running")
        bad.close()
        col.start()
        lap.u.send_signal(signal.SIGHUP)	# try at once
        need("everything delivered to the real collector",
             lambda: not lap.spooled(), 40)
        got = seqs(db, dev)
        check(contiguous(got), f"every report once, in sequence ({got})")
        clean_stops(lap)
    finally:
        if bad:
            bad.close()
        if lap:
            stop_all(lap)
        col.stop()


# --- 7. 10,000 USB events (a child under umockdev-wrapper) ---

QLEN = "/proc/sys/net/unix/max_dgram_qlen"


def usb_burst():
    # umockdev hands uevents over AF_UNIX datagrams, of which a socket
    # queues max_dgram_qlen (10 by default; the kernel's netlink socket
    # takes 4 MB of them from endpointd): in a network namespace of its
    # own the child may raise it for itself.
    child = ["umockdev-wrapper", sys.executable, os.path.abspath(__file__),
             B, T, "--usb-child"]
    if subprocess.run(["unshare", "--net", "true"]).returncode == 0:
        child = ["unshare", "--net", "sh", "-c",
                 f'echo 16384 > {QLEN} && exec "$@"', "sh"] + child
    else:
        print("note: no network namespace: uevents go in small batches")
    r = subprocess.run(child, text=True, capture_output=True, timeout=600)
    sys.stdout.write(r.stdout)
    if r.returncode != 0:
        print(r.stderr[-3000:])
    check(r.returncode == 0, "the USB burst under umockdev")


def usb_child(sticks=int(os.environ.get("FAULTS_STICKS", 1672)), kept=10,
              window=40):
    """Runs under umockdev-wrapper: the testbed, endpointd under its
    preload, and a burst: sticks plugged one after another, each pulled
    out again once `window` more have come, but the last `kept`: 6
    uevents a stick (3 add, 3 remove), 10,002 for 1,672 sticks."""
    import gi
    gi.require_version("UMockdev", "1.0")
    from gi.repository import UMockdev
    sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
    from agent import stick	# bench/agent.py: a FAT stick on a port

    tmp = os.path.join(T, "usb")
    os.makedirs(tmp, exist_ok=True)
    img = os.path.join(tmp, "vfat.img")
    subprocess.run(["truncate", "-s", "2M", img], check=True)
    subprocess.run(["mkfs.vfat", img], check=True, capture_output=True)
    node = open(img, "rb").read(8192).hex().upper()
    tb = UMockdev.Testbed.new()
    policy = os.path.join(tmp, "usb.ini")
    write(policy, "[policy]\nname = Burst\nversion = 1\n\n[usb_storage]\n"
                  "clause = Encrypted sticks only.\naction = block\n")
    d = Daemon(f"{B}/endpointd", ["--policy", policy, "--udev-rule", ""],
               tmp)
    reader = Lines(d)
    reader.start()
    answered, asking = [], threading.Event()

    def ask():
        while not asking.is_set():
            r = subprocess.run([f"{B}/endpointctl", "--socket", d.sock_path,
                                "status", "--json"], capture_output=True,
                               timeout=60)
            answered.append(r.returncode in (0, 1))
            time.sleep(0.2)
    try:
        rss0, fds0 = rss_kb(d.proc.pid), fds(d.proc.pid)
        devs = [stick(i, node) for i in range(1, sticks + 1)]
        stay = {bus for _, _, bus in devs[-kept:]}
        gone = [x for x in devs if x[2] not in stay]
        # A stick's sysfs entries come before its first uevent and go
        # once endpointd has seen it removed, so each is judged alike
        # however far endpointd lags behind.
        paths_of = {bus: paths for _, paths, bus in devs}
        swept = set()

        def sweep():
            for bus in reader.usb["remove"] - swept:
                for p in reversed(paths_of[bus]):
                    tb.remove_device("/sys" + p)
                swept.add(bus)
        asker = threading.Thread(target=ask, daemon=True)
        asker.start()
        # umockdev's sender gives up on a uevent its socket cannot queue
        # (max_dgram_qlen of them): wait for endpointd whenever the next
        # would overflow (never, when the queue was raised).
        room = int(open(QLEN).read()) - 16
        uevents = 0

        def send(paths, action):
            nonlocal uevents
            if uevents - settled() + len(paths) > room:
                until("endpointd to take the queued uevents",
                      lambda: uevents - settled() + len(paths) <= room)
            for p in paths:
                tb.uevent("/sys" + p, action)
            uevents += len(paths)

        def settled():		# uevents endpointd surely read
            return 3 * (len(reader.usb["add"]) + len(reader.usb["remove"]))
        for i, (desc, paths, bus) in enumerate(devs):
            tb.add_from_string(desc)
            send(paths, "add")
            sweep()
            if i >= window and devs[i - window][2] not in stay:
                send(list(reversed(devs[i - window][1])), "remove")
        for _, paths, bus in devs[-window:]:
            if bus not in stay:
                send(list(reversed(paths)), "remove")
        until("a verdict for every stick",
              lambda: len(reader.usb["add"]) == len(devs) or reader.closed,
              120)
        check(not reader.closed, "endpointd kept the status client")
        until("every removal", lambda: len(reader.usb["remove"]) ==
              len(gone), 300)
        sweep()
        asking.set()
        asker.join(90)
        check(True, f"{uevents} uevents in a burst: a verdict for each of "
              f"{len(devs)} sticks, {len(gone)} removals seen")
        check(answered and all(answered),
              "endpointd answered its status socket throughout "
              f"({len(answered)} times)")
        adds = [e for e in reader.events("usb_device") if e["action"] == "add"]
        check(len(adds) == len(devs) and
              all(e["device"]["verdict"] == "not encrypted" and
                  e["taken"] == "blocked" for e in adds),
              f"each stick judged once, not encrypted, blocked "
              f"({len(adds)}: {set((e['device']['verdict'], e['taken']) for e in adds)})")
        # The end state: the sticks still plugged, and only they, fail.
        run = subprocess.run([f"{B}/endpointctl", "--socket", d.sock_path,
                              "status", "--json"], capture_output=True,
                             text=True)
        st = json.loads(run.stdout)
        usbc = [c for c in st["checks"] if c["id"] == "usb_storage"][0]
        listed = {x["bus_path"] for x in
                  usbc.get("evidence", {}).get("devices", [])}
        check(usbc["status"] == "fail" and listed == stay,
              f"at the end the {len(stay)} sticks still plugged, and only "
              f"they, fail the check ({len(listed)} listed)")
        auth = {open(tb.get_root_dir() + "/sys" + paths[0] +
                     "/authorized").read().strip()
                for _, paths, bus in devs if bus in stay}
        check(auth == {"0"}, "and each is deauthorised")
        check(fds(d.proc.pid) <= fds0 + 2, f"no file descriptor kept: "
              f"{fds0} open before, {fds(d.proc.pid)} after")
        rss1 = rss_kb(d.proc.pid)
        if sanitized(f"{B}/endpointd"):
            print(f"note: RSS {rss0} -> {rss1} kB under AddressSanitizer "
                  "(its quarantine holds freed memory): LeakSanitizer at "
                  "exit judges instead")
        else:
            check(rss1 - rss0 < 16 * 1024, f"memory: RSS {rss0} -> {rss1} kB "
                  f"after {len(devs)} sticks")
        stop_cleanly(d)
    finally:
        asking.set()
        kill_if_running(d.proc)
    return 1 if FAILED else 0


# --- 8. status-socket clients that never read ---

def stuck_client():
    tmp = os.path.join(T, "stuck")
    path = os.path.join(tmp, "policy.ini")
    write(path, open("policy.ini").read())
    d = Daemon(f"{B}/endpointd", ["--policy", path, "--root", FIXTURE,
                                  "--udev-rule", ""], tmp)
    reader = Lines(d)
    reader.start()
    stuck = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.connect(d.sock_path)
    try:
        rss0 = rss_kb(d.proc.pid)
        # A reload sends every client the whole status: 1 MB of lines,
        # more than the socket and endpointd's buffer for it hold.
        deadline = time.time() + 120
        while reader.bytes < 1024 * 1024 and d.proc.poll() is None and \
                time.time() < deadline:
            d.hup()
            time.sleep(0.005)
        sent = reader.bytes
        r = subprocess.run([f"{B}/endpointctl", "--socket", d.sock_path,
                            "status", "--json"], capture_output=True,
                           timeout=30)
        check(r.returncode in (0, 1) and not reader.closed,
              f"{sent >> 10} KB sent while a client never read: other "
              "clients are still answered")
        stuck.settimeout(10)
        got, eof = 0, False
        try:
            while True:
                chunk = stuck.recv(65536)
                if not chunk:
                    eof = True
                    break
                got += len(chunk)
        except OSError:
            pass
        check(eof and got < sent, f"the client that never read was dropped "
              f"(it had {got >> 10} KB of {sent >> 10} KB, then the end)")
        rss1 = rss_kb(d.proc.pid)
        if not sanitized(f"{B}/endpointd"):
            check(rss1 - rss0 < 4 * 1024, f"memory: RSS {rss0} -> {rss1} kB")
        many_stuck(d.sock_path)
        stop_cleanly(d)
    finally:
        stuck.close()
        kill_if_running(d.proc)


HOG = """
import socket, sys, time
held = []
for _ in range(100):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    held.append(s)
time.sleep(0.5)
kept = 0
for s in held:		# refused ones are closed at once: nothing, then EOF
    s.settimeout(0.2)
    try:
        kept += len(s.recv(1 << 20)) > 0
    except OSError:
        pass
print(kept, flush=True)
sys.stdin.read()	# held until the test is done
"""


def as_user(uid, argv):
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"] \
        + argv


def many_stuck(sock_path):
    """One local user opens 100 connections and never reads: root and
    another user are still answered."""
    os.chmod(os.path.dirname(sock_path), 0o755)
    hog = subprocess.Popen(as_user(65534, [sys.executable, "-c", HOG,
                                           sock_path]),
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           text=True)
    try:
        kept = int(hog.stdout.readline() or -1)
        answers = [subprocess.run(argv + ["--socket", sock_path, "status"],
                                  capture_output=True, timeout=30).returncode
                   for argv in ([f"{B}/endpointctl"],
                                as_user(1000, [f"{B}/endpointctl"]))]
        check(0 < kept < 64 and all(r in (0, 1) for r in answers),
              f"a user holding {kept} of 100 connections it never reads "
              f"does not lock out root or another user (exit {answers})")
        # Many user ids (a rootless container's subordinate ids are
        # users too) fill every place but root's.
        more = [subprocess.Popen(as_user(2000 + i, [sys.executable, "-c",
                                                    HOG, sock_path]),
                                 stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
                for i in range(8)]
        try:
            held = kept + sum(int(h.stdout.readline() or 0) for h in more)
            r = subprocess.run([f"{B}/endpointctl", "--socket", sock_path,
                                "status"], capture_output=True, timeout=30)
            check(held <= 56 and r.returncode in (0, 1),
                  f"nine users holding {held} connections leave root its "
                  f"places (root's status: exit {r.returncode})")
        finally:
            for h in more:
                h.stdin.close()
                h.wait(30)
    finally:
        hog.stdin.close()
        hog.wait(30)


CASES = [
    ("collector_kill9", collector_kill9),
    ("agent_kill9", agent_kill9),
    ("full_disk", full_disk),
    ("clock_jumps", clock_jumps),
    ("policy_rewrite", policy_rewrite),
    ("bad_collector", bad_collector),
    ("usb_burst", usb_burst),
    ("stuck_client", stuck_client),
]


def main():
    if sys.argv[3:] == ["--usb-child"]:
        return usb_child()
    names = sys.argv[3:] or [n for n, _ in CASES]
    unknown = set(names) - {n for n, _ in CASES}
    if unknown:
        sys.exit(f"no such case: {', '.join(sorted(unknown))}")
    print(f"fault suite: seed {SEED} (FAULTS_SEED={SEED} replays it)")
    results = []
    for name, fn in CASES:
        if name not in names:
            continue
        print(f"--- {name}")
        before, t0 = len(FAILED), time.time()
        try:
            fn()
        except Abort:
            pass
        except Exception as e:		# a broken case is a failed one
            import traceback
            traceback.print_exc()
            check(False, f"{name}: {type(e).__name__}: {e}")
        ok = len(FAILED) == before
        results.append(ok)
        print(f"{'PASS' if ok else 'FAIL'}: {name} "
              f"({time.time() - t0:.0f} s)")
    print(f"{results.count(True)} fault cases passed, "
          f"{results.count(False)} failed (seed {SEED})")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
