#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The collector's front door (docs/security.md): what it refuses before
anything is stored, and the limits that keep one client from spoiling it
for the others. Each test names what it shows.

seq past 2^53 - 1; event times that are not RFC 3339 UTC, or too far from
the collector's clock; events per report and per device and day (429 with
Retry-After); sign-in delays kept in memory, per name and address, that
write nothing; connections per address; X-Forwarded-For only from
trusted proxies; CSV cells, long query arguments and error texts.
Usage: frontdoor.py COLLECTORD ENDPOINTD TMP [DB]
"""
import base64
import json
import os
import socket
import sys
import time
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import collector as C  # noqa: E402
from collector import (JSON, Collector, admin_get, check, enrol,  # noqa: E402
                       make_report, post, query, sql)

ADMIN = ("ict", "correct horse battery")
BASIC = base64.b64encode(":".join(ADMIN).encode()).decode()


def rows_everywhere(db):
    """How many rows each table of the database holds: a write anywhere
    changes it."""
    names = query(db, "SELECT name FROM sqlite_master WHERE type = 'table'"
                  if db.startswith("sqlite:") else
                  "SELECT tablename FROM pg_tables WHERE schemaname = "
                  "'public'")
    return {n: query(db, f'SELECT COUNT(*) FROM "{n}"')[0][0]
            for (n,) in names}


def utc(delta=timedelta(0)):
    return (datetime.now(timezone.utc) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def device_status(col, dev):
    return admin_get(col, f"/api/v1/devices/{dev}", BASIC)[1].get("status")


def seq_range(col, token, dev, report):
    """seq 2^53 (which no double holds) is refused; the laptop's next
    report is still the one shown."""
    r = json.loads(json.dumps(report))
    r["seq"] = 2 ** 53
    st, body = post(col, token, r)
    msg = json.loads(body).get("error", "") if st == 400 else body[:80]
    r2 = json.loads(json.dumps(report))
    r2["seq"] = report["seq"] + 1
    r2["checks"][0]["status"] = "fail"
    st2, _ = post(col, token, r2)
    check(st == 400 and "seq" in msg and "2^53" in msg and st2 == 201 and
          device_status(col, dev) == "fail",
          f"seq 2^53: 400 ({st}: {msg}); the next report is shown "
          f"({st2}, {device_status(col, dev)})")
    for bad in (-1, 0, 2 ** 63 - 1):
        r["seq"] = bad
        st, _ = post(col, token, r)
        check(st == 400, f"seq {bad}: 400 ({st})")
    report["seq"] = r2["seq"]


def event_times(col, token, report):
    """Event times: RFC 3339 UTC with real ranges, within a day ahead and
    400 days behind the collector's clock."""
    def with_at(at):
        r = json.loads(json.dumps(report))
        report["seq"] += 1
        r["seq"] = report["seq"]
        r["events"] = [{"at": at, "type": "usb_device",
                        "check": "usb_storage", "action": "add"}]
        st, body = post(col, token, r)
        return st, (json.loads(body).get("error", "") if st != 201 else "")
    for at, why in (("2026-11-22T-1:-1:-1Z", "negative fields"),
                    ("2026-13-22T13:08:53Z", "month 13"),
                    ("2026-02-30T13:08:53Z", "30 February"),
                    ("2026-11-22T24:00:00Z", "hour 24"),
                    ("2026-11-22T13:08:53+00:00", "not Z"),
                    ("2026-11-22 13:08:53Z", "no T"),
                    ("2026-11-22T13:08:53.Z", "an empty fraction"),
                    ("9999-12-31T23:59:59Z", "the year 9999"),
                    (utc(timedelta(hours=25)), "25 hours ahead"),
                    (utc(-timedelta(days=401)), "401 days old")):
        st, msg = with_at(at)
        check(st == 400 and "events[0].at" in msg,
              f"event time {at!r} ({why}): 400 ({st}: {msg})")
    for at, why in ((utc(timedelta(hours=23)), "23 hours ahead"),
                    (utc(-timedelta(days=399)), "399 days old"),
                    (utc()[:-1] + ".123456Z", "with a fraction")):
        st, msg = with_at(at)
        check(st == 201, f"event time {at!r} ({why}): 201 ({st}: {msg})")
    st, ev = admin_get(col, "/api/v1/events?limit=1", BASIC)
    check(st == 200 and ev and ev[0]["event"]["at"] <= utc(timedelta(days=1)),
          f"the newest event on the Events page is not from the future "
          f"({ev[0]['event']['at'] if ev else None})")


def event_budget(col, secret, endpointd, tmp):
    """At most 2,000 events in a report (400) and 10,000 a device a UTC
    day (then 429 with Retry-After: the uploader waits that long)."""
    mid = "5e" * 16
    st, e = enrol(col, secret, mid)
    report = make_report(endpointd, tmp, mid)
    ev = {"at": utc(), "type": "usb_device", "check": "usb_storage",
          "action": "add"}
    report["events"] = [ev] * 2001
    report["seq"] = 1
    st, body = post(col, e["token"], report)
    msg = json.loads(body).get("error", "") if st == 400 else ""
    check(st == 400 and "2000" in msg, f"2,001 events in a report: 400 "
          f"({st}: {msg})")
    report["events"] = [ev] * 2000
    codes, t0 = [], time.time()
    for seq in range(1, 8):
        report["seq"] = seq
        codes.append(post(col, e["token"], report)[0])
    retry = col.last_headers.get("Retry-After", "")
    n = query(col.db, f"SELECT COUNT(*) FROM events WHERE device_id ="
                      f" {e['device_id']}")[0][0]
    check(codes == [201] * 5 + [429] * 2 and retry.isdigit() and
          0 < int(retry) <= 86400 and n == 10000,
          f"2,000 events a report, 7 reports: 10,000 events stored, then 429 "
          f"with Retry-After {retry} ({codes}, {n} stored, "
          f"{time.time() - t0:.1f} s)")
    report["events"] = []
    report["seq"] = 8
    st, _ = post(col, e["token"], report)
    check(st == 201, f"a report without events still goes in ({st})")


def signin_limits(col):
    """Failed sign-ins slow down one name from one address: 2 s, 4 s...
    (Retry-After), never a lockout of the real admin, and nothing is
    written to the database, refused or not."""
    def signin(name, password):
        st, body = col.request("POST", "/api/v1/session",
                               json.dumps({"name": name,
                                           "password": password}), JSON)
        return st, col.last_headers.get("Retry-After")
    many = [admin_get(col, "/api/v1/groups", BASIC)[0] for _ in range(12)]
    check(many == [200] * 12, f"a script signing in with Basic again and "
          f"again is never slowed down ({many})")
    before = rows_everywhere(col.db)
    codes = [signin("ict", f"guess {i}") for i in range(8)]
    waits = [r for st, r in codes if st == 429]
    check([st for st, _ in codes[:5]] == [401] * 5 and
          [st for st, _ in codes[5:]] == [429] * 3 and waits and
          all(w and 0 < int(w) <= 2 for w in waits),
          f"5 wrong passwords, then 429 with Retry-After of 2 s at most "
          f"({codes})")
    import threading
    par = []
    ts = [threading.Thread(target=lambda: par.append(
        signin("governor", "parallel")[0])) for _ in range(12)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(sorted(par) == [401] * 5 + [429] * 7,
          f"12 guesses at once: 5 checked, 7 refused ({sorted(par)})")
    after = rows_everywhere(col.db)
    check(after == before, f"the wrong and refused sign-ins wrote nothing "
          f"to the database (rows per table {before} -> {after})")
    time.sleep(min(int(waits[-1] or 0), 3) + 0.2 if waits else 0)
    st, _ = signin(*ADMIN)
    check(st == 200, f"the real admin, after that wait, signs in ({st}): a "
          "delay, not a lockout")
    # Wrong again from the start: the right password cleared the slate.
    st, _ = signin("ict", "guess again")
    check(st == 401, f"and a wrong password after it starts afresh ({st})")
    codes = [signin("ict", f"guess {i}")[0] for i in range(5)]
    st1, w1 = signin("ict", "x")
    time.sleep(min(int(w1 or 0), 3) + 0.2)
    st2, _ = signin("ict", "y")
    st3, w3 = signin("ict", "z")
    check(st1 == 429 and st2 == 401 and st3 == 429 and w3 and
          int(w3) > int(w1 or 0),
          f"each wrong password past the delay doubles it (Retry-After "
          f"{w1} then {w3}; {codes}, {st1}, {st2}, {st3})")


def flood_ingest(col, token, report, clients, seconds=3):
    """Reports stored a second while clients (processes of their own, so
    that they do not share this one's interpreter lock with the sender)
    flood sign-ins with wrong Basic passwords."""
    import multiprocessing

    def flood(stop):
        bad = base64.b64encode(b"mallory:flood").decode()
        while not stop.is_set():
            try:
                admin_get(col, "/api/v1/summary", bad)
            except OSError:
                pass
    stop = multiprocessing.Event()
    floods = [multiprocessing.Process(target=flood, args=(stop,),
                                      daemon=True) for _ in range(clients)]
    for p in floods:
        p.start()
    time.sleep(0.5 if clients else 0)
    n, t0 = 0, time.time()
    while time.time() - t0 < seconds:
        report["seq"] += 1
        if post(col, token, report)[0] == 201:
            n += 1
    rate = n / (time.time() - t0)
    stop.set()
    for p in floods:
        p.join(10)
    return rate


def per_address(exe, db, tmp):
    """libmicrohttpd's limit of connections from one address: set, and 64
    by default."""
    for extra, limit in ((["--max-connections-per-address", "4"], 4),
                         ([], 64)):
        try:
            col = Collector(exe, db, os.path.join(tmp, f"conn{limit}"), extra)
        except SystemExit:
            check(False, f"collectord {' '.join(extra)} did not start")
            continue
        # limit + 1 connections at once, each with half a request: one
        # of them (whichever libmicrohttpd accepts last) is closed. The
        # start-up probe's connection is let go of first.
        time.sleep(1)
        held = []
        for _ in range(limit + 1):
            s = socket.create_connection(("127.0.0.1", col.port), timeout=5)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            held.append(s)
        time.sleep(0.5)
        answered = 0
        for s in held:
            try:
                s.sendall(b"\r\n")
                answered += s.recv(12).startswith(b"HTTP/1.1 200")
            except OSError:
                pass
            s.close()
        time.sleep(0.3)
        st, _ = col.request("GET", "/healthz")
        check(answered == limit and st == 200,
              f"{limit + 1} connections from one address at once: "
              f"{answered} answered, the others closed; once they close, "
              f"the next is answered ({st})")
        col.stop()


def forwarded(exe, db, tmp):
    """X-Forwarded-For counts only from trusted_proxies."""
    col = Collector(exe, db, os.path.join(tmp, "xff"))
    codes = []
    for i in range(8):
        st, _ = col.request("POST", "/api/v1/session",
                            json.dumps({"name": "ict", "password": "no"}),
                            dict(JSON, **{"X-Forwarded-For":
                                          f"198.51.100.{i}"}))
        codes.append(st)
    check(codes[:5] == [401] * 5 and codes[5:] == [429] * 3,
          f"no trusted proxy: an X-Forwarded-For that changes each time "
          f"does not escape the sign-in limit ({codes})")
    col.stop()
    col = Collector(exe, db, os.path.join(tmp, "xff2"),
                    ["--trusted-proxies", "10.9.0.0/16, 127.0.0.1 ::1"])
    via = {"X-Forwarded-For": "203.0.113.5"}
    codes = [col.request("POST", "/api/v1/session",
                         json.dumps({"name": "ict", "password": "no"}),
                         dict(JSON, **via))[0] for _ in range(6)]
    st, _ = col.request("POST", "/api/v1/session", json.dumps(
        {"name": ADMIN[0], "password": ADMIN[1]}),
        dict(JSON, **{"X-Forwarded-For": "203.0.113.5, 203.0.113.6, "
                      "10.9.1.1"}))
    check(codes[-1] == 429 and st == 200,
          f"behind a trusted proxy: one client's guesses are limited "
          f"({codes}), another client, behind two proxies, signs in ({st})")
    col.stop()
    bad = C.subprocess.run([exe, "--db", db, "--trusted-proxies",
                            "10.0.0.0/33"], capture_output=True, text=True)
    check(bad.returncode == 2 and "trusted_proxies" in bad.stderr,
          f"a trusted_proxies value that is no CIDR is refused "
          f"({bad.stderr.strip()})")


def smaller(col, token, report, dev):
    """CSV cells, long query arguments, error texts."""
    for i, host in enumerate((" =1+2", "\n=1+2", "\t-3", "\r@SUM(A1)",
                              "  +cmd")):
        sql(col.db, "UPDATE devices SET hostname = '%s' WHERE id = %d" %
            (host.replace("'", "''"), dev))
        st, text = admin_get(col, "/api/v1/devices.csv", BASIC)
        check(st == 200 and ('"\'' + host + '"') in text,
              f"CSV: a cell {host!r} is neutralised with an apostrophe")
    sql(col.db, f"UPDATE devices SET hostname = 'laptop' WHERE id = {dev}")
    st, body = admin_get(col, "/api/v1/devices?group=" + "x" * 300, BASIC)
    st2, _ = admin_get(col, "/api/v1/events?type=" + "x" * 257, BASIC)
    st3, _ = admin_get(col, "/api/v1/devices?group=" + "x" * 256, BASIC)
    check(st == 400 and st2 == 400 and st3 == 200 and
          "256" in json.dumps(body),
          f"a query argument of 300 or 257 bytes: 400 ({st}, {st2}); 256 "
          f"bytes: 200 ({st3})")
    r = json.loads(json.dumps(report))
    r["\x1b[31mred\nforged: line\u0085"] = 1
    st, body = post(col, token, r)
    msg = json.loads(body).get("error", "") if st == 400 else ""
    check(st == 400 and msg and
          not any(ord(ch) < 0x20 or 0x7f <= ord(ch) <= 0x9f for ch in msg),
          f"an error quoting what the client sent has no control "
          f"characters ({msg!r})")


def main():
    exe, endpointd, tmp = sys.argv[1:4]
    db = sys.argv[4] if len(sys.argv) > 4 else \
        "sqlite:" + os.path.join(tmp, "frontdoor.db")
    col = Collector(exe, db, os.path.join(tmp, "frontdoor"))
    col.admin(*ADMIN)
    secret = col.secret("Oak Primary")
    mid = "f0" * 16
    st, e = enrol(col, secret, mid)
    token, dev = e["token"], e["device_id"]
    report = make_report(endpointd, tmp, mid)
    report["seq"] = 10
    check(post(col, token, report)[0] == 201, "a report: 201")

    seq_range(col, token, dev, report)
    event_times(col, token, report)
    event_budget(col, secret, endpointd, tmp)
    smaller(col, token, report, dev)
    calm = flood_ingest(col, token, report, 0)
    rate = flood_ingest(col, token, report, 4)
    print(f"note: one client stores {calm:.0f} reports a second alone, "
          f"{rate:.0f} during a flood of wrong Basic passwords for another "
          f"name from 4 clients")
    check(rate > calm / 8, f"a sign-in flood leaves reports going in "
          f"({rate:.0f} a second, {calm:.0f} without it)")
    st, _ = admin_get(col, "/api/v1/summary", BASIC)
    check(st == 200, f"and the admin, from the same address, is let in "
          f"({st})")
    signin_limits(col)
    col.stop()
    per_address(exe, db, tmp)
    forwarded(exe, db, tmp)
    print(f"{len(C.FAILED)} front-door tests wrong")
    return 1 if C.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
