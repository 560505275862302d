#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Seed a running collectord, through its own API, with an estate the
dashboard tests can check: two schools, laptops that pass, warn, fail and
go stale, USB, camera and unattended-session events, and one laptop whose
every string is hostile (markup, quotes, a closing script tag).

Usage: dashboard_seed.py URL DB SECRET_OAK SECRET_ELM OUT.json
DB is the SQLite file (sqlite:PATH), used only to age two laptops into
staleness and to give the history chart its past days, as the hourly
snapshots would have.
Writes OUT.json: {"hostile_id", "hostile": {...strings...}, "devices"}.
"""
import hashlib
import json
import sqlite3
import sys
import time
import urllib.request

URL, DB, SECRET_OAK, SECRET_ELM, OUT = sys.argv[1:6]

CLAUSES = {
    "encryption": "All laptops, memory sticks and devices used must be "
                  "encrypted.",
    "screen_lock": "Devices must be password protected and never left "
                   "unattended while unlocked.",
    "usb_storage": "USB flash drives may be used only if they are "
                   "encrypted.",
    "camera": "Images of pupils are taken only on school equipment, for "
              "authorised purposes.",
}
SUMMARIES = {
    ("encryption", "pass"): "The disk is encrypted.",
    ("encryption", "fail"): "The disk holding your files is not encrypted.",
    ("screen_lock", "pass"): "The screen locks when you step away.",
    ("screen_lock", "fail"): "Your screen doesn't lock when you step away.",
    ("screen_lock", "warn"): "Your screen takes too long to lock.",
    ("usb_storage", "pass"): "No unencrypted USB storage is in use.",
    ("usb_storage", "warn"): "An unencrypted USB stick was plugged in.",
    ("camera", "pass"): "The camera was used only by approved "
                        "applications.",
    ("camera", "unknown"): "The camera could not be checked.",
}


def now_iso(offset=0):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ",
                         time.gmtime(time.time() + offset))


def request(method, path, body, headers):
    req = urllib.request.Request(URL + path, method=method,
                                 data=json.dumps(body).encode(),
                                 headers=headers)
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, json.loads(r.read())


def check(cid, status, evidence):
    return {"id": cid, "status": status, "severity": "high",
            "clause": CLAUSES[cid],
            "summary": SUMMARIES.get((cid, status), f"{cid} is {status}"),
            "remedy": None if status == "pass" else
            "Open Settings and follow the steps IT sent you.",
            "evidence": evidence}


def report(dev, seq, statuses, events, users):
    enc = {"root": {"device": "/dev/nvme0n1p3", "chain": [
        {"name": "nvme0n1p3", "type": "crypt", "cipher": "aes-xts-plain64",
         "luks": 2}]}} if statuses["encryption"] == "pass" else \
        {"root": {"device": "/dev/sda2", "chain": [
            {"name": "sda2", "type": "ext4", "luks": None}]}}
    checks = [
        check("encryption", statuses["encryption"], enc),
        check("screen_lock", statuses["screen_lock"],
              {"users": [{"user": u, "lock_enabled":
                          statuses["screen_lock"] == "pass",
                          "idle_delay_seconds": 300} for u in users]}),
        check("usb_storage", statuses["usb_storage"], {"devices": []}),
        check("camera", statuses["camera"], {"sessions": []}),
    ]
    return {
        "schema": "endpointd.report/1",
        "device": dev,
        "policy": {"name": "Staff code of conduct", "version": "3",
                   "sha256": hashlib.sha256(b"policy").hexdigest()},
        "seq": seq,
        "generated_at": now_iso(),
        "checks": checks,
        "events": events,
    }


def enrol(secret, dev):
    st, body = request("POST", "/api/v1/enrol",
                       {"enrol_secret": secret, "device": dev},
                       {"Content-Type": "application/json"})
    assert st == 201, body
    return body["device_id"], body["token"]


def send(token, rep):
    st, body = request("POST", "/api/v1/reports", rep,
                       {"Content-Type": "application/json",
                        "Authorization": f"Bearer {token}"})
    assert st in (200, 201), (st, body)


def main():
    hostile = {
        "hostname": "<img src=x onerror=alert(1)>",
        "serial": "SN\"quoted\" 'single' <b>bold</b>",
        "product": "</script><script>alert(2)</script>",
        "exe": "/usr/bin/\"><svg onload=alert(3)>",
        "user": "o'brien<script>alert(4)</script>",
    }
    devices = []
    for i in range(64):
        school = "Oak Primary" if i % 2 == 0 else "Elm High"
        dev = {"machine_id": f"{i + 1:032x}",
               "hostname": f"{'oak' if i % 2 == 0 else 'elm'}-lt-{i:03d}",
               "vendor": "LENOVO", "model": "ThinkPad T14",
               "serial": f"PF{i:06d}", "os": "Debian GNU/Linux 12",
               "agent_version": "0.1.0"}
        users = [f"staff{i:02d}"]
        if i == 5:
            users = ["mrs.jones"]
        statuses = {"encryption": "fail" if i % 4 == 1 else "pass",
                    "screen_lock": "fail" if i % 8 == 3 else
                    "warn" if i % 8 == 6 else "pass",
                    "usb_storage": "warn" if i % 16 == 9 else "pass",
                    "camera": "unknown" if i % 32 == 17 else "pass"}
        events = []
        if i % 16 == 9:
            events.append({"at": now_iso(-3600), "type": "usb_device",
                           "check": "usb_storage",
                           # one stick was formatted while plugged in
                           "action": "change" if i == 25 else "add",
                           "device": {"vendor_id": "0781",
                                      "product_id": "5583",
                                      "serial": "4C530001",
                                      "manufacturer": "SanDisk",
                                      "product": "Ultra Fit"},
                           "taken": "warn"})
        if i % 8 == 3:
            events.append({"at": now_iso(-7200), "type":
                           "unattended_session", "check": "screen_lock",
                           "session": "3", "user": users[0],
                           "idle_minutes": 25})
        if i % 10 == 0:
            events.append({"at": now_iso(-600), "type": "camera_session",
                           "check": "camera", "action": "start",
                           "device": "/dev/video0", "application": "cheese",
                           "exe": "/usr/bin/cheese", "pid": 4242,
                           "user": users[0], "approved": True,
                           "media_server": False,
                           "started_at": now_iso(-600)})
        secret = SECRET_OAK if school == "Oak Primary" else SECRET_ELM
        did, token = enrol(secret, dev)
        send(token, report(dev, 1, statuses, events, users))
        devices.append({"id": did, "group": school, **dev})

    # The hostile laptop, in Oak Primary: every string it sends is markup.
    dev = {"machine_id": "f" * 32, "hostname": hostile["hostname"],
           "vendor": "<i>v</i>", "model": "\"model\"",
           "serial": hostile["serial"], "os": "Debian GNU/Linux 12",
           "agent_version": "0.1.0"}
    did, token = enrol(SECRET_OAK, dev)
    events = [
        {"at": now_iso(-60), "type": "usb_device", "check": "usb_storage",
         "action": "add", "device": {"vendor_id": "dead", "product_id":
                                     "beef", "serial": "\"><b>x",
                                     "manufacturer": "<b>Evil</b>",
                                     "product": hostile["product"]},
         "taken": "block"},
        {"at": now_iso(-30), "type": "camera_session", "check": "camera",
         "action": "start", "device": "/dev/video0",
         "application": "<script>alert(5)</script>",
         "exe": hostile["exe"], "pid": 1, "user": hostile["user"],
         "approved": False, "media_server": False,
         "started_at": now_iso(-30)},
    ]
    rep = report(dev, 1, {"encryption": "fail", "screen_lock": "pass",
                          "usb_storage": "fail", "camera": "fail"},
                 events, [hostile["user"]])
    rep["checks"][2]["summary"] = "Blocked: " + hostile["product"]
    rep["checks"][3]["evidence"] = {"sessions": [
        {"application": "<img src=y onerror=alert(6)>",
         "exe": hostile["exe"], "user": hostile["user"]}]}
    send(token, rep)
    devices.append({"id": did, "group": "Oak Primary", **dev})

    # Two laptops go quiet (stale), as if not heard from for two days;
    # and the 29 days before today, as the hourly snapshots keep them.
    con = sqlite3.connect(DB[len("sqlite:"):])
    con.execute("UPDATE devices SET last_seen = last_seen - 172800"
                " WHERE hostname IN ('elm-lt-001', 'oak-lt-002')")
    for back in range(1, 30):
        day = time.strftime("%Y-%m-%d", time.gmtime(time.time() -
                                                      back * 86400))
        for grp, n in (("Oak Primary", 33), ("Elm High", 32)):
            passing = max(0, n - 20 + back // 2) if back > 3 else n // 2
            for check_id, status, count in (
                    ("#", "enrolled", n), ("", "pass", passing),
                    ("", "fail", n - passing),
                    ("encryption", "pass", passing),
                    ("encryption", "fail", n - passing)):
                con.execute("INSERT INTO daily VALUES (?, ?, ?, ?, ?)",
                            (day, grp, check_id, status, count))
    con.commit()
    con.close()
    with open(OUT, "w") as f:
        json.dump({"hostile_id": did, "hostile": hostile,
                   "devices": devices}, f)


main()
