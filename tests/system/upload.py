#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The whole chain with the real programs: endpointd -> spool ->
endpointd-upload -> collectord (SQLite, loopback), enrolled with
endpointctl enroll.

Enrolment and delivery; a new report leaving within seconds; the
heartbeat; a poison report; a revoked token; a bad policy from the
collector; TLS: a self-signed collector refused without its CA, a wrong
pinned key refused. Kills, a full disk and a collector that misbehaves are
in the fault suite (faults.py), which drives these laptops too.
Usage: upload.py BUILD TMP
"""
import base64
import hashlib
import http.client
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from collector import Collector, check, FAILED, _die_with_parent  # noqa

B, T = sys.argv[1], sys.argv[2]
FIXTURE = "tests/fixtures/laptop"
GROUP = "Hill School"
UP_LOG = os.path.join(T, "upload.log")
D_LOG = os.path.join(T, "endpointd.log")


def wait(what, cond, timeout=20):
    """Wait for another process's reaction; never a measured time."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if cond():
                return True
        except (OSError, ValueError, KeyError, sqlite3.Error):
            pass
        time.sleep(0.05)
    check(False, "timed out waiting for " + what)
    return False


def policy(path, version, extra=""):
    with open(path, "w") as f:
        f.write(f"""[policy]
name = Upload test
version = {version}
interval_minutes = 1440

[report]
heartbeat_minutes = 1
retry_max_seconds = 10
{extra}

[encryption]
clause = All laptops, memory sticks and devices used must be encrypted.

[camera]
enabled = false
clause = Images of pupils only on school equipment.
""")


class Laptop:
    """endpointd and its uploader on one state directory."""

    def __init__(self, name, policy_extra=""):
        self.dir = os.path.join(T, name)
        self.state = os.path.join(self.dir, "state")
        self.spool = os.path.join(self.state, "spool")
        self.upload_dir = os.path.join(self.dir, "upload")
        self.sock = os.path.join(self.dir, "status.sock")
        self.policy = os.path.join(self.dir, "policy.ini")
        os.makedirs(self.dir, exist_ok=True)
        policy(self.policy, 1, policy_extra)
        self.d = self.u = None
        self.env = None		# the programs' environment (libfaketime)

    def start_daemon(self):
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        self.d = subprocess.Popen(
            [f"{B}/endpointd", "--policy", self.policy, "--root", FIXTURE,
             "--state-dir", self.state, "--socket", self.sock,
             "--udev-rule", ""],
            stderr=open(D_LOG, "a"), env=self.env,
            preexec_fn=_die_with_parent)
        wait("endpointd's socket", lambda: os.path.exists(self.sock))

    def stop_daemon(self, sig=signal.SIGTERM):
        self.d.send_signal(sig)
        rc = self.d.wait(timeout=20)
        self.d = None
        return rc

    def start_uploader(self):
        self.u = subprocess.Popen(
            [f"{B}/endpointd-upload", "--state-dir", self.state,
             "--upload-dir", self.upload_dir, "--debug"],
            stderr=open(UP_LOG, "a"), env=self.env,
            preexec_fn=_die_with_parent)

    def stop_uploader(self, sig=signal.SIGTERM):
        self.u.send_signal(sig)
        rc = self.u.wait(timeout=20)
        self.u = None
        return rc

    def enroll(self, url, secret_file, extra=()):
        return subprocess.run(
            [f"{B}/endpointctl", "enroll", "--collector", url,
             "--secret-file", secret_file, "--group", GROUP,
             "--upload-dir", self.upload_dir, "--state-dir", self.state,
             "--policy", self.policy, "--root", FIXTURE, *extra],
            capture_output=True, text=True)

    def status(self):
        out = subprocess.run([f"{B}/endpointctl", "--socket", self.sock,
                              "status", "--json"], capture_output=True,
                             text=True).stdout
        return json.loads(out)

    def status_text(self):
        return subprocess.run([f"{B}/endpointctl", "--socket", self.sock,
                               "status"], capture_output=True,
                              text=True).stdout

    def spooled(self):
        return sorted(n for n in os.listdir(self.spool)
                      if n.endswith(".json") and n[:20].isdigit())

    def uploader_status(self):
        with open(os.path.join(self.spool, "uploader.status")) as f:
            return json.load(f)


def db_rows(db, q, *args):
    con = sqlite3.connect(db)
    try:
        return con.execute(q, args).fetchall()
    finally:
        con.close()


def seqs(db, device):
    return [r[0] for r in db_rows(db, "SELECT seq FROM reports WHERE "
                                  "device_id = ? ORDER BY rowid", device)]


def events(db, device, etype):
    return [json.loads(r[0]) for r in db_rows(
        db, "SELECT body FROM events WHERE device_id = ? AND type = ?",
        device, etype)]


def device_id(lap):
    with open(os.path.join(lap.upload_dir, "enrolment.json")) as f:
        return json.load(f)["device_id"]


def sign(lap, body):
    """body's Ed25519 signature (base64) with the laptop's own key, made
    by python3-cryptography, not by the code under test."""
    from cryptography.hazmat.primitives import serialization
    with open(os.path.join(lap.state, "device.key"), "rb") as f:
        key = serialization.load_pem_private_key(f.read(), None)
    return base64.b64encode(key.sign(body.encode())).decode()


def spool_report(lap, seq, body, signed=True, sign_as=None):
    """A report as endpointd writes it: temp file, then rename; signed
    with the laptop's key (the line endpointd writes above the report)
    when there is one, over sign_as instead of body to stand for a
    report altered after it was signed."""
    path = os.path.join(lap.spool, "%020d.json" % seq)
    if signed and os.path.exists(os.path.join(lap.state, "device.key")):
        body = "ed25519:" + sign(lap, sign_as or body) + "\n" + body
    with open(path + ".tmp.test", "w") as f:
        f.write(body)
    os.rename(path + ".tmp.test", path)


def main():
    db = os.path.join(T, "c.db")
    col = Collector(f"{B}/collectord", "sqlite:" + db,
                    os.path.join(T, "col"),
                    ["--retention-days", "30", "--access",
                     "Ms Khan, the ICT manager, and the ICT technicians."])
    url = f"http://127.0.0.1:{col.port}"
    secret = os.path.join(T, "secret")
    with open(secret, "w") as f:
        f.write(col.secret(GROUP) + "\n")
    col.admin("ict", "correct horse battery")
    auth = base64.b64encode(b"ict:correct horse battery").decode()

    # A second laptop that is never touched: its heartbeat is checked at
    # the end (heartbeat_minutes = 1).
    quiet = Laptop("quiet")
    quiet.start_daemon()
    wait("quiet's first report", lambda: quiet.spooled())
    quiet_started = time.time()

    lap = Laptop("lap")
    lap.start_daemon()

    # --- enrolment, first report, findings on the collector ---
    r = lap.enroll("http://192.0.2.1:8080", secret)
    check(r.returncode == 2 and "clear" in r.stderr,
          "enroll refuses http:// to another machine")
    r = lap.enroll("http://127.example.org:8080", secret)
    check(r.returncode == 2 and "clear" in r.stderr,
          "a host name starting 127. is not loopback")
    r = lap.enroll(url, secret)
    check(r.returncode == 0, "endpointctl enroll: " + r.stdout + r.stderr)
    st = os.stat(os.path.join(lap.upload_dir, "enrolment.json"))
    check(st.st_mode & 0o777 == 0o600, "the token file is mode 0600")
    dev = device_id(lap)
    lap.start_uploader()
    wait("the first report at the collector", lambda: seqs(db, dev))
    st, body = col.request("GET", f"/api/v1/devices/{dev}", None,
                           {"Authorization": f"Basic {auth}"})
    detail = json.loads(body) if st == 200 else {}
    check(st == 200 and detail.get("group") == GROUP,
          "the collector's API shows the enrolled device in its group")
    check("encryption" in json.dumps(detail),
          "and its findings")
    wait("the spool to empty", lambda: not lap.spooled())
    wait("the uploader's status", lambda: lap.uploader_status()
         ["last_delivery"] is not None)
    s = lap.status()
    check(s["upload"].get("collector") == url and
          s["upload"].get("last_delivery") and
          s["upload"]["spool"]["reports"] == 0,
          "endpointctl status: collector, last delivery, spool size")
    check("Collector: " + url in lap.status_text(),
          "endpointctl status says where reports go")

    # --- the collector's terms reach endpointctl privacy ---
    wait("the collector's terms", lambda: lap.uploader_status().get("terms"))
    check(lap.uploader_status()["terms"] ==
          {"retention_days": 30, "dashboard_accounts": 1,
           "access": "Ms Khan, the ICT manager, and the ICT technicians."},
          "the uploader keeps the terms the collector sent with the policy")
    out = subprocess.run([f"{B}/endpointctl", "--socket", lap.sock,
                          "privacy", "--json"], capture_output=True,
                         text=True)
    p = json.loads(out.stdout) if out.returncode == 0 else {}
    check(p.get("collector") == url and p.get("terms", {}).get(
          "retention_days") == 30 and p.get("interval_minutes") and
          p.get("heartbeat_minutes") == 1,
          "endpointctl privacy --json: collector, schedule and terms")
    text = subprocess.run([f"{B}/endpointctl", "--socket", lap.sock,
                           "privacy"], capture_output=True,
                          text=True).stdout
    flat = " ".join(text.split())
    check(f"collector at {url}" in flat and "for 30 days" in flat and
          "Ms Khan, the ICT manager, and the ICT technicians. "
          "(1 dashboard account.)" in flat and "at least every minute" in flat,
          "endpointctl privacy says where, when, how long and who: "
          + flat[:600])

    # Enrolled elsewhere (a collector not answering yet): the old
    # collector's terms are not shown as the new one's, even though the
    # uploader keeps terms across restarts.
    lap.stop_uploader()
    enrol = os.path.join(lap.upload_dir, "enrolment.json")
    saved = open(enrol).read()
    e = json.loads(saved)
    e["collector"] = "http://127.0.0.1:9"
    with open(enrol, "w") as f:
        json.dump(e, f)
    lap.start_uploader()
    wait("the uploader retrying the new collector",
         lambda: lap.uploader_status().get("collector") ==
         "http://127.0.0.1:9" and lap.uploader_status()["last_error"])
    check(lap.uploader_status().get("terms") is None,
          "another collector: the old one's terms are not shown")
    lap.stop_uploader()
    with open(enrol, "w") as f:
        f.write(saved)
    lap.start_uploader()
    wait("the terms again", lambda: lap.uploader_status().get("terms"))

    # --- a new report leaves within seconds ---
    before = len(seqs(db, dev))
    policy(lap.policy, 2)
    lap.d.send_signal(signal.SIGHUP)
    wait("the report of the reload at the collector",
         lambda: len(seqs(db, dev)) > before)
    check(any(e.get("policy", {}).get("version") == "2"
              for e in events(db, dev, "policy_loaded")),
          "the reload's event reached the collector")

    last = max(seqs(db, dev))
    template = json.loads(db_rows(db, "SELECT body FROM reports WHERE "
                                  "device_id = ? AND seq = ?", dev,
                                  last)[0][0])

    # --- a poison report does not block the ones behind it ---
    poison = dict(template, seq=2000, generated_at="yesterday")
    spool_report(lap, 2000, json.dumps(poison))
    template["seq"] = 2001
    spool_report(lap, 2001, json.dumps(template))
    wait("the report behind the poison", lambda: 2001 in seqs(db, dev))
    check(os.path.exists(os.path.join(lap.spool, "rejected",
                                      "%020d.json" % 2000)),
          "the poison report was set aside in spool/rejected/")
    wait("the refusal to be named in a report",
         lambda: any(e.get("seq") == 2000 and e.get("http_status") == 400
                     for e in events(db, dev, "report_rejected")))

    # --- the uploader can neither forge nor alter a report (issue 27) ---
    # endpointd signs every report it spools with the laptop's key.
    lap.stop_uploader()
    before = set(lap.spooled())
    lap.d.send_signal(signal.SIGHUP)
    wait("a report spooled while the uploader is stopped",
         lambda: set(lap.spooled()) - before)
    with open(os.path.join(lap.spool, sorted(set(lap.spooled()) -
                                             before)[0])) as f:
        line, text = f.read().split("\n", 1)
    from cryptography.hazmat.primitives import serialization
    with open(os.path.join(lap.state, "device.key"), "rb") as f:
        pub = serialization.load_pem_private_key(f.read(),
                                                 None).public_key()
    try:
        pub.verify(base64.b64decode(line[len("ed25519:"):]), text.encode())
        verified = line.startswith("ed25519:")
    except Exception:
        verified = False
    check(verified, "endpointd's spooled report starts with its signature "
          "line, which holds against the laptop's key")
    lap.start_uploader()
    forged = json.loads(json.dumps(dict(template, seq=2002)))
    for c in forged["checks"]:
        c["status"] = "pass"
    # Signed over the real report, sent with every check passing.
    real = dict(template, seq=2002)
    spool_report(lap, 2002, json.dumps(forged), sign_as=json.dumps(real))
    spool_report(lap, 2003, json.dumps(dict(forged, seq=2003)),
                 signed=False)
    template["seq"] = 2004
    spool_report(lap, 2004, json.dumps(template))
    wait("the report behind the forged ones", lambda: 2004 in seqs(db, dev))
    stored = sorted(n for n in seqs(db, dev) if n >= 2000)
    check(2002 not in stored and 2003 not in stored,
          f"an altered report and an unsigned one are not stored ({stored}; "
          f"rejected: {sorted(os.listdir(os.path.join(lap.spool, 'rejected')))})")
    wait("the refusals to be named in a report",
         lambda: {e.get("seq") for e in events(db, dev, "report_rejected")
                  if e.get("http_status") == 403} >= {2002, 2003})

    # --- a bad policy from the collector is refused ---
    con = sqlite3.connect(db)
    con.execute("INSERT OR REPLACE INTO policies (grp, body, sha256, "
                "updated_at) VALUES (?, ?, ?, 0)",
                (GROUP, "[policy]\nname = Broken\n", "0" * 64))
    con.commit()
    con.close()
    lap.u.send_signal(signal.SIGHUP)
    wait("the refusal", lambda: lap.status()["policy_error"])
    s = lap.status()
    check(s["policy"]["version"] == "2" and
          "version" in s["policy_error"],
          "a bad policy from the collector is refused; the old one stays")
    wait("the refusal at the collector",
         lambda: events(db, dev, "policy_error"))
    st, body = col.request("GET", f"/api/v1/events?device={dev}", None,
                           {"Authorization": f"Basic {auth}"})
    check(st == 200 and b"policy_error" in body,
          "the policy error reaches the dashboard's API")

    # --- a good one from the collector is taken ---
    with open(lap.policy) as f:
        good = f.read().replace("version = 2", "version = 7")
    st, _ = col.request("PUT", f"/api/v1/policy?group={GROUP.replace(' ', '%20')}",
                        good, {"Authorization": f"Basic {auth}"})
    check(st == 200, "an admin puts a new policy")
    lap.u.send_signal(signal.SIGHUP)
    wait("the new policy in force",
         lambda: lap.status()["policy"]["version"] == "7")
    check(lap.status()["policy"]["path"].endswith("collector-policy.ini"),
          "the collector's policy is kept in the state directory")

    # --- the uploader cannot hand endpointd a policy of its own (27) ---
    check(os.path.exists(os.path.join(lap.state, "collector-key.pub")),
          "enrolment pinned the collector's policy key in the state "
          "directory")
    token = json.load(open(os.path.join(lap.upload_dir,
                                        "enrolment.json")))["token"]

    def signed_policy():
        """The group's policy as the collector sends it, signature and
        all, in the form the uploader hands it over."""
        c = http.client.HTTPConnection("127.0.0.1", col.port, timeout=5)
        c.request("GET", "/api/v1/agent/policy",
                  headers={"Authorization": f"Bearer {token}"})
        r = c.getresponse()
        return r.getheader("Endpointd-Signature") + "\n" + r.read().decode()

    def hand_over(text):
        path = os.path.join(lap.spool, "policy.incoming")
        with open(path + ".test", "w") as f:
            f.write(text)
        os.rename(path + ".test", path)

    seven = signed_policy()
    weak = good.replace("version = 7", "version = 99").replace(
        "[usb_storage]", "[usb_storage]\nenabled = false")
    for name, text, said in (
            ("an unsigned policy", weak, "not signed"),
            ("a policy with another signature",
             seven.split("\n", 1)[0] + "\n" + weak, "does not verify")):
        hand_over(text)
        wait(f"the refusal of {name}",
             lambda: said in (lap.status()["policy_error"] or ""))
        check(lap.status()["policy"]["version"] == "7",
              f"{name} dropped in the spool by the uploader is refused; "
              "version 7 stays")
    st, _ = col.request("PUT", f"/api/v1/policy?group={GROUP.replace(' ', '%20')}",
                        good.replace("version = 7", "version = 8"),
                        {"Authorization": f"Basic {auth}"})
    lap.u.send_signal(signal.SIGHUP)
    wait("version 8 in force", lambda: lap.status()["policy"]["version"] == "8")
    hand_over(seven)
    wait("the refusal of an old signed policy",
         lambda: "not newer" in (lap.status()["policy_error"] or ""))
    check(lap.status()["policy"]["version"] == "8",
          "an older policy the collector signed, replayed, rolls nothing "
          "back")

    # --- a revoked token: stop, keep the spool, say so ---
    old = json.load(open(os.path.join(lap.upload_dir, "enrolment.json")))
    r = lap.enroll(url, secret)		# rotates the token
    check(r.returncode == 0, "enrolled again")
    with open(os.path.join(lap.upload_dir, "enrolment.json.new"), "w") as f:
        json.dump(old, f)
    os.rename(os.path.join(lap.upload_dir, "enrolment.json.new"),
              os.path.join(lap.upload_dir, "enrolment.json"))
    lap.d.send_signal(signal.SIGHUP)
    wait("the uploader to see the revoked token",
         lambda: lap.uploader_status()["state"] == "token_revoked")
    wait("the status to say so",
         lambda: "no longer accepts" in lap.status_text())
    check(lap.spooled(), "the spool is kept while the token is refused")
    r = lap.enroll(url, secret)
    check(wait("delivery after enrolling again",
               lambda: not lap.spooled() and
               lap.uploader_status()["state"] == "idle"),
          "enrolling again resumes delivery")

    # --- TLS ---
    tls(lap, secret, db)

    # --- the heartbeat of the quiet laptop ---
    left = 75 - (time.time() - quiet_started)
    if left > 0:
        time.sleep(left)
    check(len(quiet.spooled()) >= 2,
          "a laptop with nothing new still reports every heartbeat_minutes")

    for l in (lap, quiet):
        if l.u:
            check(l.stop_uploader() == 0, "the uploader stops cleanly")
        check(l.stop_daemon() == 0, "endpointd stops cleanly")
    col.stop()
    return 1 if FAILED else 0


def tls(lap, secret, db):
    cert, key = os.path.join(T, "cert.pem"), os.path.join(T, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1"], check=True,
                   capture_output=True)
    der = subprocess.run(
        f"openssl x509 -in {cert} -pubkey -noout | openssl pkey -pubin "
        f"-outform der", shell=True, check=True, capture_output=True).stdout
    pin = "sha256//" + base64.b64encode(hashlib.sha256(der).digest()).decode()
    wrong = "sha256//" + base64.b64encode(hashlib.sha256(b"x").digest()).decode()
    sdb = "sqlite:" + os.path.join(T, "tls.db")
    col = Collector.__new__(Collector)
    col.exe, col.db, col.tmp = f"{B}/collectord", sdb, os.path.join(T, "tls")
    from collector import free_port
    col.port = free_port()
    os.makedirs(col.tmp, exist_ok=True)
    tsecret = os.path.join(T, "tls-secret")
    with open(tsecret, "w") as f:
        f.write(col.secret(GROUP) + "\n")
    proc = subprocess.Popen([col.exe, "--db", sdb, "--listen",
                             f"127.0.0.1:{col.port}", "--tls-cert", cert,
                             "--tls-key", key],
                            stderr=open(os.path.join(T, "tls.log"), "a"),
                            preexec_fn=_die_with_parent)
    url = f"https://127.0.0.1:{col.port}"
    t = Laptop("tls")
    wait("the TLS collector", lambda: subprocess.run(
        ["curl", "-sf", "-o", "/dev/null", "--cacert", cert,
         url + "/healthz"]).returncode == 0)

    r = t.enroll(url, tsecret)
    check(r.returncode == 2 and "certificate" in r.stderr.lower(),
          "a self-signed collector is refused without its CA: " +
          r.stderr.strip())
    policy(t.policy, 1, f"ca_file = {cert}\npinned_pubkey = {wrong}")
    r = t.enroll(url, tsecret)
    check(r.returncode == 2 and "public key" in r.stderr.lower(),
          "a wrong pinned key is refused: " + r.stderr.strip())
    policy(t.policy, 1, f"ca_file = {cert}\npinned_pubkey = {pin}")
    r = t.enroll(url, tsecret)
    check(r.returncode == 0, "with its CA in ca_file and the right pin, "
          "enrolment works: " + r.stderr.strip())
    t.start_daemon()
    t.start_uploader()
    tdb = os.path.join(T, "tls.db")
    tdev = device_id(t)
    wait("a report over HTTPS", lambda: seqs(tdb, tdev))
    check(bool(seqs(tdb, tdev)), "the uploader delivers over HTTPS, pinned")

    # The policy changes the pin: the uploader must refuse the server.
    policy(t.policy, 2, f"ca_file = {cert}\npinned_pubkey = {wrong}")
    t.d.send_signal(signal.SIGHUP)
    wait("a report held back by the wrong pin",
         lambda: t.uploader_status()["state"] == "retrying" and t.spooled())
    check("public key" in (t.uploader_status()["last_error"] or "").lower(),
          "the uploader refuses a collector whose key does not match the "
          "pin")
    t.stop_uploader()
    t.stop_daemon()
    proc.terminate()
    proc.wait(timeout=20)


if __name__ == "__main__":
    try:
        rc = main()
    except SystemExit:
        raise
    print(f"{len(FAILED)} failed" if FAILED else "all passed")
    sys.exit(rc)
