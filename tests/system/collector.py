#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""System test of collectord on SQLite: real HTTP on loopback.

Enrolment, every status code of POST /api/v1/reports, a malformed-report
corpus, a forged device, a rotated (revoked) token, admin authentication,
metrics. (kill -9 under load is in the fault suite, faults.py.)
With a PostgreSQL URL as DB, the same on PostgreSQL, and two collectord
instances on it: the same report sent to both is stored once.
Usage: collector.py COLLECTORD ENDPOINTD TMP [DB]
"""
import base64
import ctypes
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

FAILED = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        FAILED.append(what)


def _die_with_parent():
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Collector:
    def __init__(self, exe, db, tmp, extra=(), env=None):
        self.exe, self.db, self.tmp = exe, db, tmp
        self.extra = list(extra)
        self.env = env
        self.port = free_port()
        self.start()

    def start(self):
        os.makedirs(self.tmp, exist_ok=True)
        self.log = open(os.path.join(self.tmp, "collectord.log"), "a")
        self.proc = subprocess.Popen(
            [self.exe, "--db", self.db, "--listen",
             f"127.0.0.1:{self.port}", "--max-body", "262144"] + self.extra,
            stderr=self.log, env=self.env, preexec_fn=_die_with_parent)
        deadline = time.time() + 10
        while True:
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            if time.time() > deadline or self.proc.poll() is not None:
                raise SystemExit("collectord did not start")
            time.sleep(0.05)

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        self.last_headers = r.headers
        c.close()
        return r.status, data

    def oversize(self, token, size):
        """Declare a body of size bytes, send a little of it, and read the
        answer: a server that refuses it early closes the connection."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        sock.sendall((f"POST /api/v1/reports HTTP/1.1\r\nHost: x\r\n"
                      f"Authorization: Bearer {token}\r\n"
                      f"Content-Type: application/json\r\n"
                      f"Content-Length: {size}\r\n\r\n").encode()
                     + b"{" * 1024)
        data = b""
        try:
            while b"\r\n" not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        sock.close()
        return int(data.split()[1]) if data.startswith(b"HTTP/") else 0

    def admin(self, name, password):
        subprocess.run([self.exe, "--db", self.db, "--add-admin", name],
                       input=password + "\n", text=True, check=True,
                       capture_output=True)

    def secret(self, group=None):
        args = [self.exe, "--db", self.db, "--new-enrol-secret"]
        if group:
            args += ["--group", group]
        return subprocess.run(args, check=True, capture_output=True,
                              text=True).stdout.strip()

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=20)
        self.log.close()
        return rc


JSON = {"Content-Type": "application/json"}


def enrol(col, secret, machine_id, group=None):
    body = {"enrol_secret": secret,
            "device": {"machine_id": machine_id, "hostname": "laptop"}}
    if group:
        body["group"] = group
    st, data = col.request("POST", "/api/v1/enrol", json.dumps(body), JSON)
    return st, json.loads(data)


def post(col, token, report, ctype="application/json"):
    body = report if isinstance(report, (bytes, str)) else json.dumps(report)
    return col.request("POST", "/api/v1/reports", body,
                       {"Authorization": f"Bearer {token}",
                        "Content-Type": ctype})


class Key:
    """An Ed25519 key made and used by OpenSSL's command line, standing for
    a laptop's device key (lib/devkey.c is not used to test itself)."""

    def __init__(self, tmp, name):
        self.pem = os.path.join(tmp, name + ".pem")
        self.tmp = tmp
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519",
                        "-out", self.pem], check=True)
        der = subprocess.run(["openssl", "pkey", "-in", self.pem, "-pubout",
                              "-outform", "DER"], capture_output=True,
                             check=True).stdout
        self.public = base64.b64encode(der[-32:]).decode()

    def sign(self, body):
        msg = os.path.join(self.tmp, "to-sign")
        with open(msg, "wb") as f:
            f.write(body if isinstance(body, bytes) else body.encode())
        sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin",
                              "-inkey", self.pem, "-in", msg],
                             capture_output=True, check=True).stdout
        return "ed25519:" + base64.b64encode(sig).decode()


def enrol_key(col, secret, machine_id, key):
    body = {"enrol_secret": secret, "public_key": key,
            "device": {"machine_id": machine_id, "hostname": "laptop"}}
    # A worker whose PostgreSQL connection was lost when the server
    # restarted (storage_unavailable, above) answers 503 once, as it must,
    # and connects again: an uploader tries again, and so does this.
    for _ in range(8):
        st, data = col.request("POST", "/api/v1/enrol", json.dumps(body),
                               JSON)
        if st != 503:
            break
    return st, json.loads(data)


def post_signed(col, token, report, key, signed_as=None):
    body = json.dumps(report)
    return col.request("POST", "/api/v1/reports", body,
                       {"Authorization": f"Bearer {token}",
                        "Content-Type": "application/json",
                        "Endpointd-Signature":
                            key.sign(signed_as or body)})


def device_keys(col, tmp, secret, report):
    """Issue 27: a laptop's reports are verified against the key it
    enrolled with, and its machine id cannot be taken with another."""
    mid = "5ec0" * 8
    laptop, thief = Key(tmp, "laptop"), Key(tmp, "thief")
    st, e = enrol_key(col, secret, mid, "not a key")
    check(st == 400 and "public_key" in e.get("error", ""),
          "enrolment with a malformed public key: 400")
    st, e = enrol_key(col, secret, mid, laptop.public)
    check(st == 201, "enrolment with the laptop's key: 201")
    token = e["token"]
    r = json.loads(json.dumps(report))
    r["device"]["machine_id"] = mid
    r["seq"] = 1
    st, _ = post_signed(col, token, r, laptop)
    check(st == 201, "a report signed with its key: 201")
    forged = json.loads(json.dumps(r))
    forged["seq"] = 2
    for c in forged["checks"]:
        c["status"] = "pass"
    honest = json.loads(json.dumps(forged))
    honest["checks"][0]["status"] = "fail"
    st, body = post_signed(col, token, forged, laptop,
                           signed_as=json.dumps(honest))
    check(st == 403 and "signature" in body.decode(),
          "a report altered after it was signed: 403")
    st, body = post(col, token, forged)
    check(st == 403 and "not signed" in body.decode(),
          "an unsigned report from a laptop with a key: 403")
    st, body = post_signed(col, token, forged, thief)
    check(st == 403, "a report signed with another key: 403")
    # Anyone with an enrolment secret tries to take the laptop over.
    st, e = enrol_key(col, secret, mid, thief.public)
    check(st == 409, "its machine id enrolled with another key: 409")
    st, e = enrol(col, secret, mid)
    check(st == 409, "its machine id enrolled with no key: 409")
    r["seq"] = 3
    st, _ = post_signed(col, token, r, laptop)
    check(st == 201, "after both, the laptop's own token still works")
    st, e = enrol_key(col, secret, mid, laptop.public)
    check(st == 201, "the laptop itself enrols again with its key: 201")
    # A laptop enrolled before keys: its key is taken only from itself.
    old_mid = "01d0" * 8
    st, e = enrol(col, secret, old_mid)
    old_token = e["token"]
    st, _ = enrol_key(col, secret, old_mid, thief.public)
    check(st == 409, "a key for a laptop enrolled before keys, without "
          "its token: 409")
    body = {"enrol_secret": secret, "public_key": thief.public,
            "token": "1." + "0" * 64,
            "device": {"machine_id": old_mid, "hostname": "laptop"}}
    st, _ = col.request("POST", "/api/v1/enrol", json.dumps(body), JSON)
    check(st == 409, "... or with another laptop's token: 409")
    body.update(public_key=laptop.public, token=old_token)
    st, e = col.request("POST", "/api/v1/enrol", json.dumps(body), JSON)
    check(st == 201, "... with the token it holds: 201, its key registered")
    r["device"]["machine_id"] = old_mid
    r["seq"] = 1
    st, _ = post(col, json.loads(e)["token"], r)
    check(st == 403, "and from then on its reports must be signed")
    st, _ = post_signed(col, json.loads(e)["token"], r, laptop)
    check(st == 201, "... as they are")


def make_report(endpointd, tmp, machine_id):
    root = os.path.join(tmp, "root")
    os.makedirs(os.path.join(root, "etc"), exist_ok=True)
    with open(os.path.join(root, "etc", "machine-id"), "w") as f:
        f.write(machine_id + "\n")
    policy = os.path.join(tmp, "p.ini")
    with open(policy, "w") as f:
        f.write("[policy]\nname = T\nversion = 1\n[camera]\nclause = x\n")
    out = subprocess.run([endpointd, "--once", "--json", "--root", root,
                          "--policy", policy, "--state-dir",
                          os.path.join(tmp, "st")], capture_output=True,
                         text=True).stdout
    return json.loads(out)


def corpus(base):
    """Reports that must be refused with 400, and the field named."""
    def with_(path, value):
        r = json.loads(json.dumps(base))
        cur = r
        for k in path[:-1]:
            cur = cur[k]
        if value is KeyError:
            del cur[path[-1]]
        else:
            cur[path[-1]] = value
        return json.dumps(r)
    deep = "[" * 5000 + "]" * 5000
    return [
        ("seq as a string", with_(["seq"], "7"), "seq"),
        ("seq zero", with_(["seq"], 0), "seq"),
        ("missing checks", with_(["checks"], KeyError), "checks"),
        ("wrong schema", with_(["schema"], "endpointd.report/2"), "schema"),
        ("status not a status", with_(["checks", 0, "status"], "ok"),
         "checks[0].status"),
        ("huge summary", with_(["checks", 0, "summary"], "x" * 5000),
         "checks[0].summary"),
        ("bad time", with_(["generated_at"], "yesterday"), "generated_at"),
        ("extra field", with_(["extra"], 1), "extra"),
        ("deep nesting", with_(["checks", 0, "evidence"], {"d": None})
         .replace('{"d": null}', '{"d": ' + deep + '}'), "JSON"),
        ("truncated", json.dumps(base)[:-10], "JSON"),
        ("not an object", "[1, 2, 3]", "object"),
        ("a key twice", json.dumps(base)[:-1] + ', "seq": 1}', "twice"),
        ("a check twice", with_(["checks"], base["checks"][:1] * 2),
         "checks[1].id"),
        ("a NUL in a string", with_(["checks", 0, "summary"], "a\0b"),
         "NUL"),
        ("a lone surrogate escape", with_(["checks", 0, "summary"], "@")
         .replace("@", "\\udc00"), "surrogate"),
        ("a surrogate escape without its pair",
         with_(["checks", 0, "summary"], "@").replace("@", "\\ud800A"),
         "surrogate"),
        ("something after the report", json.dumps(base) + " {}", "JSON"),
        ("a top-level string", '"report"', "JSON"),
    ]


def query(db, statement):
    """Rows of one query on the test's database (SQLite or PostgreSQL),
    as tuples of strings and numbers as the database gives them."""
    if db.startswith("sqlite:"):
        con = sqlite3.connect(db[7:])
        try:
            return con.execute(statement).fetchall()
        finally:
            con.close()
    out = subprocess.run(["psql", db, "-At", "-F", "\x1f", "-c", statement],
                         capture_output=True, text=True, check=True).stdout
    return [tuple(int(x) if x.lstrip("-").isdigit() else x
                  for x in line.split("\x1f"))
            for line in out.splitlines()]


def stored_seqs(db):
    return {r[0] for r in query(db, "SELECT seq FROM reports")}


def sql(db, statement):
    """Run one statement on the test's database directly (to age rows)."""
    if db.startswith("sqlite:"):
        con = sqlite3.connect(db[7:])
        con.execute(statement)
        con.commit()
        con.close()
    else:
        subprocess.run(["psql", db, "-q", "-c", statement], check=True,
                       capture_output=True)


def admin_get(col, path, auth):
    st, body = col.request("GET", path, None, {"Authorization": f"Basic {auth}"})
    try:
        return st, json.loads(body)
    except ValueError:
        return st, body.decode()


def reading(col, db, exe, secret2, report, auth):
    """The admin API: lists, filters, one device, events, CSV, stale,
    retention."""
    hostile = '=HYPERLINK("http://x","click")'
    st, e = enrol(col, secret2, "ee" * 16)
    dev2 = e["device_id"]
    sql(db, f"UPDATE devices SET hostname = '{hostile}', serial = 'a\"b'"
            f" WHERE id = {dev2}")
    st, d = admin_get(col, "/api/v1/devices", auth)
    check(st == 200 and d["total"] == 2, "devices: both listed")
    st, d = admin_get(col, "/api/v1/devices?group=Elm%20Academy", auth)
    check(st == 200 and [x["id"] for x in d["devices"]] == [dev2],
          "devices: filtered by group")
    st, d = admin_get(col, "/api/v1/devices?q=HYPERLINK", auth)
    check(st == 200 and d["total"] == 1, "devices: free-text search")
    st, d = admin_get(col, "/api/v1/devices?q=%25", auth)
    check(st == 200 and d["total"] == 0, "devices: a % in the search is "
          "a character, not a wildcard")
    st, d = admin_get(col, "/api/v1/devices?sort=password", auth)
    check(st == 400, "devices: an unknown sort is refused")
    st, d = admin_get(col, "/api/v1/devices?per_page=1&page=2&sort=-hostname",
                      auth)
    check(st == 200 and len(d["devices"]) == 1 and d["total"] == 2,
          "devices: paging")
    st, d = admin_get(col, "/api/v1/devices/1", auth)
    check(st == 200 and d["history"] and d["checks"] and
          any(e.get("type") == "usb_device" for e in d["events"]),
          "one device: checks, history and events")
    st, _ = admin_get(col, "/api/v1/devices/999", auth)
    check(st == 404, "an unknown device: 404")
    st, _ = col.request("GET", "/api/v1/devices/1")
    check(st == 401, "one device without signing in: 401")
    st, ev = admin_get(col, "/api/v1/events?type=usb_device", auth)
    check(st == 200 and ev and ev[0]["event"]["device"]["product"] ==
          'Evil "stick"\n\u001b[31m', "events: filtered by type, strings "
          "kept as data")
    st, text = admin_get(col, "/api/v1/devices.csv", auth)
    check(st == 200 and "\"'=HYPERLINK(\"\"http://x\"\",\"\"click\"\")\"" in text
          and '"a""b"' in text,
          "CSV: a formula is neutralised, quotes doubled")
    dashboard(col, db, exe, auth)
    sql(db, f"UPDATE devices SET last_seen = 1000 WHERE id = 1")
    st, sm = admin_get(col, "/api/v1/summary", auth)
    st2, d = admin_get(col, "/api/v1/devices?stale=1", auth)
    check(sm["stale"] == 2 and d["total"] == 2, "stale devices counted and "
          "listed (one silent, one never heard from)")
    # Retention: history older than the limit goes, the latest stays.
    sql(db, "UPDATE reports SET received_at = 1000")
    sql(db, "UPDATE events SET received_at = 1000")
    subprocess.run([exe, "--db", db, "--purge", "--retention-days", "30"],
                   check=True, capture_output=True)
    st, d = admin_get(col, "/api/v1/devices/1", auth)
    check(st == 200 and len(d["history"]) == 1 and not d["events"] and
          d["checks"], "retention purge: history and events gone, the "
          "latest report kept")
    # A laptop given back leaves with everything it sent.
    st, before = admin_get(col, "/api/v1/summary", auth)
    sql(db, f"INSERT INTO events (device_id, at, type, received_at, body)"
            f" VALUES ({dev2}, '2026-11-22T13:00:00Z', 'x', 1, '{{}}')")
    r = subprocess.run([exe, "--db", db, "--remove-device", str(dev2)],
                       capture_output=True, text=True)
    check(r.returncode == 0 and f"device {dev2} removed" in r.stdout,
          "--remove-device: " + r.stdout + r.stderr)
    st, after = admin_get(col, "/api/v1/summary", auth)
    st2, _ = admin_get(col, f"/api/v1/devices/{dev2}", auth)
    st3, left = admin_get(col, "/api/v1/events?type=x", auth)
    check(st2 == 404 and after["devices"] == before["devices"] - 1 and
          "Elm Academy" in before["by_group"] and
          "Elm Academy" not in after["by_group"] and st3 == 200 and
          left == [],
          "removed: gone from the device list, the summary, its group's "
          "counts and the events")
    st, _ = post(col, e["token"], report)
    check(st == 401, "a removed device's token: 401")
    r = subprocess.run([exe, "--db", db, "--remove-device", str(dev2)],
                       capture_output=True, text=True)
    check(r.returncode == 1 and "no device" in r.stderr,
          "removing it again: no device (exit 1)")
    st, e2 = enrol(col, secret2, "ee" * 16)
    st2, _ = post(col, e["token"], report)
    check(st == 201 and st2 == 401,
          "a removed laptop may enrol again; its old token stays refused")


def dashboard(col, db, exe, auth):
    """What the dashboard reads, and its sessions, on this database."""
    st, d = admin_get(col, "/api/v1/devices?q=%s" % "nobody", auth)
    check(st == 200, "devices: search reaches the users column")
    st, h = admin_get(col, "/api/v1/history?days=30", auth)
    today = h["days"][-1] if st == 200 else {}
    st2, sm = admin_get(col, "/api/v1/summary", auth)
    check(st == 200 and today.get("devices") == sm["devices"] and
          today.get("compliant") == sm["compliant"] and
          today.get("by_check") == sm["by_check"],
          "history: today is the summary as it is now")
    # The hourly snapshot (run at start) gives the past days their rows.
    sql(db, "INSERT INTO daily VALUES ('2000-01-01', 'Oak Primary', '#',"
            " 'enrolled', 7)")
    st, h = admin_get(col, "/api/v1/history?days=30&group=Oak%20Primary",
                      auth)
    check(st == 200 and h["group"] == "Oak Primary" and
          all(x["day"] != "2000-01-01" for x in h["days"]),
          "history: by school, days older than asked left out")
    st, _ = admin_get(col, "/api/v1/history?days=0", auth)
    check(st == 400, "history: days=0 refused")
    st, f = admin_get(col, "/api/v1/findings", auth)
    check(st == 200 and isinstance(f, list) and
          all(x["status"] in ("fail", "warn") and x["devices"] >= 1
              for x in f), "findings: failing and warning, counted")
    st, f = admin_get(col, "/api/v1/findings?group=Oak%20Primary&limit=3",
                      auth)
    check(st == 200 and len(f) <= 3, "findings: of one school")
    st, g = admin_get(col, "/api/v1/groups", auth)
    check(st == 200 and {"Oak Primary", "Elm Academy"} <=
          {x["group"] for x in g}, "groups: every school")
    # Sessions live in the database: sign in, use, sign out.
    st, body = col.request("POST", "/api/v1/session",
                           json.dumps({"name": "ict", "password":
                                       "correct horse battery"}), JSON)
    sess = json.loads(body)
    check(st == 200 and len(sess.get("csrf", "")) == 64,
          "sign-in: a session and its CSRF token")
    st, body = col.request("POST", "/api/v1/session",
                           json.dumps({"name": "ict", "password": "no"}),
                           JSON)
    check(st == 401, "sign-in with a wrong password: 401")
    st, body = col.request("POST", "/api/v1/session", "name=ict",
                           {"Content-Type":
                            "application/x-www-form-urlencoded"})
    check(st == 415, "sign-in from a form (another site's): 415")
    # Basic authentication counts failures too.
    bad = base64.b64encode(b"mallory:guess").decode()
    codes = [admin_get(col, "/api/v1/summary", bad)[0] for _ in range(7)]
    check(codes[:5] == [401] * 5 and codes[-1] == 429,
          f"Basic: guesses for one name are limited ({codes})")
    st, _ = admin_get(col, "/api/v1/summary", auth)
    check(st == 200, "and the other admins are not locked out")


def policies(col, db, exe, token, auth):
    """IT sets a group's policy; its agents fetch it, with ETag."""
    good = open("policy.ini").read()
    hdr = {"Authorization": f"Basic {auth}", "Content-Type": "text/plain"}
    st, body = col.request("PUT", "/api/v1/policy?group=Oak%20Primary",
                           good, hdr)
    sha = json.loads(body).get("sha256") if st == 200 else None
    check(st == 200 and sha, "PUT policy: validated and stored")
    st, body = col.request("PUT", "/api/v1/policy?group=Oak%20Primary",
                           good + "\n[printer]\nink = low\n", hdr)
    errs = json.loads(body).get("errors", []) if st == 400 else []
    check(st == 400 and any(e.startswith("policy.ini:") and "[printer]" in e
                            for e in errs),
          f"PUT a broken policy: 400 with FILE:LINE errors ({errs[:1]})")
    agent = {"Authorization": f"Bearer {token}"}
    st, body = col.request("GET", "/api/v1/agent/policy", None, agent)
    check(st == 200 and body.decode() == good,
          "the agent fetches its group's policy, as it was stored "
          f"({st}, {len(body)} bytes, {body[:60]!r})")
    raw = col.last_headers.get("Endpointd-Terms", "")
    terms = json.loads(raw) if raw else {}
    check(raw.isascii() and terms.get("retention_days") == 90 and
          terms.get("dashboard_accounts", 0) >= 1 and
          "dashboard" in terms.get("access", ""),
          f"the policy comes with the collector's terms ({raw})")
    st, _ = col.request("GET", "/api/v1/agent/policy", None,
                        dict(agent, **{"If-None-Match": f'"{sha}"'}))
    check(st == 304 and col.last_headers.get("Endpointd-Terms") == raw,
          "unchanged since its ETag: 304, with the terms")
    st, _ = col.request("GET", "/api/v1/agent/policy", None,
                        {"Authorization": "Bearer 1." + "0" * 64})
    check(st == 401, "a wrong token gets no policy: 401")
    st, body = admin_get(col, "/api/v1/policy?group=Oak%20Primary", auth)
    check(st == 200 and body == good, "an admin reads a group's policy")
    st, _ = admin_get(col, "/api/v1/policy?group=Nowhere", auth)
    check(st == 404, "a group with no policy: 404")
    st, lst = admin_get(col, "/api/v1/enrol-secrets", auth)
    check(st == 200 and lst and all(len(x["id"]) == 12 for x in lst) and
          "hash" not in json.dumps(lst), "enrolment secrets listed by a "
          "short id, never the secret")
    st, lst = admin_get(col, "/api/v1/admins", auth)
    check(st == 200 and [x["name"] for x in lst] == ["ict"] and
          "pwhash" not in json.dumps(lst), "admins listed, no password hash")


def checks_follow(col, token, report, auth):
    """The counts and a device's checks follow its latest report: a check
    that changes moves, one that goes leaves, one that comes back returns
    (the committer counts changes only)."""
    def by_check():
        return admin_get(col, "/api/v1/summary", auth)[1]["by_check"]
    device = token.split(".")[0]
    two = json.loads(json.dumps(report))
    two["checks"].append(dict(two["checks"][0], id="second_check"))
    two["seq"] += 1
    st0, _ = post(col, token, two)
    first = by_check()
    changed = json.loads(json.dumps(two))
    gone = changed["checks"].pop()["id"]
    changed["checks"][0]["status"] = "fail"
    changed["checks"][0]["summary"] = "changed"
    changed["seq"] += 1
    st, _ = post(col, token, changed)
    after = by_check()
    st2, d = admin_get(col, f"/api/v1/devices/{device}", auth)
    c0 = changed["checks"][0]["id"]
    check(st0 == 201 and st == 201 and
          sum(after.get(gone, {}).values()) ==
          sum(first[gone].values()) - 1 and after[c0].get("fail", 0) ==
          first[c0].get("fail", 0) + (two["checks"][0]["status"] != "fail")
          and d["checks"] == changed["checks"],
          "a changed check moves in the counts, one left out leaves them; "
          "the device shows the latest report's checks")
    two["seq"] = changed["seq"] + 1
    st, _ = post(col, token, two)
    st2, d = admin_get(col, f"/api/v1/devices/{device}", auth)
    check(st == 201 and by_check() == first and
          d["checks"] == two["checks"],
          "the same checks again: the counts are as before")
    report["seq"] = two["seq"] + 1


def migration(exe, db):
    """A database of schema 1 is upgraded in place, its data kept."""
    for undo in ("ALTER TABLE devices ADD COLUMN latest TEXT",
                 "DROP TABLE policies", "DROP INDEX checks_finding",
                 "ALTER TABLE checks_latest DROP COLUMN summary",
                 "ALTER TABLE devices DROP COLUMN users",
                 "ALTER TABLE devices DROP COLUMN status_since",
                 "DROP TABLE sessions", "DROP TABLE IF EXISTS signin_failures",
                 "DROP TABLE daily",
                 "ALTER TABLE devices DROP COLUMN public_key",
                 "DROP TABLE signing_keys"):
        sql(db, undo)
    sql(db, "UPDATE schema_version SET version = 1")
    r = subprocess.run([exe, "--db", db, "--new-enrol-secret"],
                       capture_output=True, text=True)
    rows = stored_seqs(db)
    if db.startswith("sqlite:"):
        v = sqlite3.connect(db[7:]).execute(
            "SELECT version FROM schema_version").fetchone()[0]
    else:
        v = int(subprocess.run(["psql", db, "-At", "-c",
                                "SELECT version FROM schema_version"],
                               capture_output=True, text=True).stdout)
    check(r.returncode == 0 and v == 7 and rows,
          "schema 1 upgraded to 7 in place, reports kept")


def two_instances(exe, db, tmp, token, report, mid):
    """Two collectords on one database behave as one."""
    a = Collector(exe, db, os.path.join(tmp, "a"))
    b = Collector(exe, db, os.path.join(tmp, "b"))
    report["seq"] = 900000
    results = []

    def send(col):
        results.append(post(col, token, report)[0])

    ts = [threading.Thread(target=send, args=(c,)) for c in (a, b)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(sorted(results) == [200, 201] and
          list(stored_seqs(db)).count(900000) == 1,
          f"two instances, one report sent to both: stored once {results}")
    # a has just verified the token and keeps it in memory; re-enrolling
    # through b rotates it, and a's committer refuses it from then on.
    st, e = enrol(b, b.secret("Oak Primary"), mid)
    report["seq"] += 1
    st_old, _ = post(a, token, report)
    st_new, _ = post(a, e["token"], report)
    check(st == 201 and st_old == 401 and st_new == 201,
          f"a token rotated through the other instance: 401 at once "
          f"[{st_old}], the new one 201 [{st_new}]")
    a.stop()
    b.stop()


def counts_match(col, db, auth):
    """The summary's counts (kept as reports arrive) equal a count made
    from the devices and their latest checks."""
    st, sm = admin_get(col, "/api/v1/summary", auth)
    by_check = {}
    for check_id, status, n in query(db, "SELECT check_id, status, COUNT(*)"
                                         " FROM checks_latest GROUP BY"
                                         " check_id, status"):
        by_check.setdefault(check_id, {})[status] = n
    groups = {}
    for grp, status, n in query(db, "SELECT grp, status, COUNT(*) FROM"
                                    " devices GROUP BY grp, status"):
        g = groups.setdefault(grp, {"devices": 0, "compliant": 0})
        g["devices"] += n
        g["compliant"] += n if status == "pass" else 0
    kept = {c: {k: v for k, v in by.items() if v}
            for c, by in sm["by_check"].items()}
    return (st == 200 and {c: by for c, by in kept.items() if by} == by_check
            and {g: v for g, v in sm["by_group"].items() if v["devices"]}
            == groups)


def remembered(col, db, report, auth):
    """The committer remembers each device between reports; what another
    connection changes meanwhile (here an enrolment moving the device to
    another school with a new token) is seen at once."""
    mid = "dd" * 16
    st, e = enrol(col, col.secret("Elm Academy"), mid)
    first = json.loads(json.dumps(report))
    first["device"]["machine_id"] = mid
    first["seq"] = 1
    st1, _ = post(col, e["token"], first)
    st, e2 = enrol(col, col.secret("Oak Primary"), mid)
    second = json.loads(json.dumps(first))
    second["seq"] = 2
    second["checks"][0]["status"] = "fail"
    st2, _ = post(col, e["token"], second)
    st3, _ = post(col, e2["token"], second)
    st, d = admin_get(col, f"/api/v1/devices/{e2['device_id']}", auth)
    check(st1 == 201 and st2 == 401 and st3 == 201 and
          d.get("group") == "Oak Primary" and d.get("status") == "fail",
          f"a device moved to another school between two reports: its old "
          f"token refused, the report counted in its new school "
          f"({st1}, {st2}, {st3}, {d.get('group')}, {d.get('status')})")
    check(counts_match(col, db, auth), "the summary's counts equal a count "
          "of the devices and their latest checks")


def storage_unavailable(col, db, token, report):
    """The database cannot take the report: 503, nothing stored, and the
    agent's retry is stored once it can. SQLite: another process holds
    the write lock longer than collectord waits (5 s). PostgreSQL: the
    server is stopped, when the test script says how (PG_DOWN, PG_UP)."""
    report = json.loads(json.dumps(report))
    report["seq"] += 500
    if db.startswith("sqlite:"):
        holder = sqlite3.connect(db[len("sqlite:"):], isolation_level=None,
                                 timeout=10)
        holder.execute("BEGIN IMMEDIATE")
        st, body = post(col, token, report)
        holder.execute("ROLLBACK")
        holder.close()
        how = "another process holds SQLite's write lock"
    elif os.environ.get("PG_DOWN") and os.environ.get("PG_UP"):
        subprocess.run(os.environ["PG_DOWN"], shell=True, check=True)
        try:
            st, body = post(col, token, report)
        finally:
            subprocess.run(os.environ["PG_UP"], shell=True, check=True)
        how = "PostgreSQL is stopped"
    else:
        return
    msg = json.loads(body).get("error", "") if st == 503 else body[:80]
    check(st == 503 and "try again" in msg and
          report["seq"] not in stored_seqs(db),
          f"{how}: 503 ({msg}), nothing stored")
    st, _ = post(col, token, report)
    st2, _ = post(col, token, report)
    check(st == 201 and st2 == 200 and report["seq"] in stored_seqs(db),
          f"then the same report again: 201, then 200 ({st}, {st2})")
    # Each committer (several on PostgreSQL) had a connection to the
    # stopped server: none answers 503 once it is back.
    after = []
    for _ in range(6):
        report["seq"] += 1
        after.append(post(col, token, report)[0])
    check(after == [201] * 6, f"and the next reports: 201 ({after})")


def main():
    exe, endpointd, tmp = sys.argv[1:4]
    db = sys.argv[4] if len(sys.argv) > 4 else \
        "sqlite:" + os.path.join(tmp, "estate.db")
    col = Collector(exe, db, tmp)
    col.admin("ict", "correct horse battery")
    secret = col.secret("Oak Primary")
    mid = "0123456789abcdef0123456789abcdef"

    st, e = enrol(col, "f" * 64, mid)
    check(st == 401, "enrolment with an unknown secret: 401")
    st, e = enrol(col, secret, mid, group="Elm Academy")
    check(st == 403, "enrolment into another group than the secret's: 403")
    st, e = enrol(col, secret, mid)
    check(st == 201 and e["group"] == "Oak Primary" and "token" in e,
          "enrolment: 201 with a token")
    token = e["token"]

    report = make_report(endpointd, tmp, mid)
    st, body = post(col, token, report)
    check(st == 201, "a real report: 201")
    st, body = post(col, token, report)
    check(st == 200 and json.loads(body)["stored"] is False,
          "the same report again: 200, stored once")
    st, _ = post(col, token, report, "text/plain")
    check(st == 415, "not JSON: 415")
    st, _ = post(col, "1." + "0" * 64, report)
    check(st == 401, "a wrong token: 401")
    st, _ = col.request("POST", "/api/v1/reports", json.dumps(report), JSON)
    check(st == 401, "no token: 401")
    forged = json.loads(json.dumps(report))
    forged["device"]["machine_id"] = "ffff" * 8
    forged["seq"] += 100
    st, _ = post(col, token, forged)
    check(st == 403, "a report naming another device: 403")
    check(col.oversize(token, 300 * 1024) == 413,
          "a body over the limit: 413")
    check(col.oversize(token, 10 * 1024 * 1024) == 413, "a 10 MB body: 413")
    bad_utf8 = json.dumps(report).replace('"T"', '"\\ud800"').encode()
    st, body = post(col, token, bad_utf8)
    check(st == 400, "invalid UTF-8 (a lone surrogate): 400")
    for raw in (b"\xff", b"\xc0\xaf", b"\xed\xa0\x80"):
        text = json.dumps(report).encode().replace(b'"T"', b'"T' + raw + b'"', 1)
        st, _ = post(col, token, text)
        check(raw in text and st == 400,
              f"bytes that are not UTF-8 ({raw!r}): 400")
    for name, body_text, field in corpus(report):
        st, body = post(col, token, body_text)
        msg = json.loads(body).get("error", "") if st == 400 else ""
        check(st == 400 and field in msg, f"malformed ({name}): 400 naming "
              f"{field} ({msg[:80]})")

    # Re-enrolling rotates the token: the old one is revoked.
    st, e2 = enrol(col, secret, mid)
    old, token = token, e2["token"]
    report["seq"] += 1000
    st, _ = post(col, old, report)
    check(st == 401, "the token before re-enrolment: 401")
    st, _ = post(col, token, report)
    check(st == 201, "the new token: 201")

    auth = base64.b64encode(b"ict:correct horse battery").decode()
    checks_follow(col, token, report, auth)
    st, body = col.request("GET", "/api/v1/summary", None,
                           {"Authorization": f"Basic {auth}"})
    s = json.loads(body)
    check(st == 200 and s["devices"] == 1 and
          s["by_group"]["Oak Primary"]["devices"] == 1,
          "summary as admin: one device in Oak Primary")
    report["seq"] += 1
    report["events"] = [{"at": "2026-11-22T13:00:00Z", "type": "usb_device",
                         "check": "usb_storage", "action": "add",
                         "device": {"product": 'Evil "stick"\n\x1b[31m'}}]
    st, _ = post(col, token, report)
    check(st == 201, "a report with an event: 201")
    reading(col, db, exe, col.secret("Elm Academy"), report, auth)
    # A long summary (the most common findings index it): stored, cut to
    # 512 bytes on a character boundary (PostgreSQL refuses b-tree
    # entries over 2704 bytes).
    long_report = json.loads(json.dumps(report))
    long_report["seq"] += 1
    long_report["events"] = []
    # Incompressible, and with a two-byte character across byte 512.
    long_report["checks"][0]["summary"] = (
        "a" * 511 + "\u00e9" + base64.b64encode(os.urandom(2600)).decode())
    st, _ = post(col, token, long_report)
    st2, f = admin_get(col, "/api/v1/findings?limit=100", auth)
    check(st == 201, "a 4000-byte summary: 201")
    report["seq"] = long_report["seq"]
    # The summary's counts follow a device that moves school.
    st, sm = admin_get(col, "/api/v1/summary", auth)
    before = (sm["by_group"]["Oak Primary"]["devices"],
              sm["by_group"]["Elm Academy"]["devices"], sm["devices"])
    st, e = enrol(col, secret, "ee" * 16)
    st, sm = admin_get(col, "/api/v1/summary", auth)
    after = (sm["by_group"]["Oak Primary"]["devices"],
             sm["by_group"].get("Elm Academy", {}).get("devices", 0),
             sm["devices"])
    checks = sum(sum(v.values()) for v in sm["by_check"].values())
    check(before == (1, 1, 2) and after == (2, 0, 2) and
          checks == len(report["checks"]),
          f"summary counts follow a device into another group "
          f"({before} -> {after}, {checks} check results)")
    policies(col, db, exe, token, auth)
    wrong = base64.b64encode(b"ict:wrong password").decode()
    st, _ = col.request("GET", "/api/v1/summary", None,
                        {"Authorization": f"Basic {wrong}"})
    check(st == 401, "summary with a wrong password: 401")
    st, body = col.request("GET", "/metrics")
    text = body.decode()
    check(st == 200 and 'collectord_devices{status="all"} 2' in text,
          "metrics: devices by status")
    check(st == 200 and
          'collectord_reports_accepted_total{result="stored"} 7' in text and
          'collectord_reports_rejected_total{reason="forbidden"} 1' in text,
          "metrics count accepted and rejected reports")
    subprocess.run([exe, "--db", db, "--revoke-enrol-secret", secret],
                   check=True, capture_output=True)
    st, _ = enrol(col, secret, "ab" * 16)
    check(st == 401, "a revoked enrolment secret: 401")
    # A new password ends the old one at once, whatever was verified.
    col.admin("ict", "a brand new passphrase")
    st, _ = col.request("GET", "/api/v1/summary", None,
                        {"Authorization": f"Basic {auth}"})
    new = base64.b64encode(b"ict:a brand new passphrase").decode()
    st2, _ = col.request("GET", "/api/v1/summary", None,
                         {"Authorization": f"Basic {new}"})
    check(st == 401 and st2 == 200, "after a password change the old one "
          "is refused at once, the new one accepted")

    remembered(col, db, report, new)
    storage_unavailable(col, db, token, report)

    # The same settings from a configuration file.
    cfg = os.path.join(tmp, "collectord.ini")
    cport = free_port()
    with open(cfg, "w") as f:
        f.write(f"[collectord]\nlisten = 127.0.0.1:{cport}\ndb = {db}\n"
                "stale_hours = 48\nretention_days = 30\n")
    cp = subprocess.Popen([exe, "--config", cfg], stderr=subprocess.DEVNULL,
                          preexec_fn=_die_with_parent)
    ok_cfg = False
    for _ in range(100):
        try:
            c = http.client.HTTPConnection("127.0.0.1", cport, timeout=2)
            c.request("GET", "/healthz")
            ok_cfg = c.getresponse().status == 200
            break
        except OSError:
            time.sleep(0.05)
    cp.terminate()
    cp.wait()
    bad = subprocess.run([exe, "--config", "/dev/null", "--db", db,
                          "--stale-hours", "0"], capture_output=True,
                         text=True)
    check(ok_cfg and bad.returncode == 2 and "stale_hours" in bad.stderr,
          "--config serves with its settings; a bad value is refused")

    # Last: its devices and refusals would change the counts above.
    device_keys(col, tmp, col.secret("Oak Primary"), report)
    # kill -9 under load is in the fault suite (faults.py).
    rc = col.stop()
    log = open(os.path.join(tmp, "collectord.log")).read()
    check(rc == 0 and "Sanitizer" not in log, "SIGTERM stops it cleanly")
    migration(exe, db)
    if not db.startswith("sqlite:"):
        two_instances(exe, db, tmp, token, report, mid)
    total = 0
    print(f"{len(FAILED)} collector tests wrong")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
