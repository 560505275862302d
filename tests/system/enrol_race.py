#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""endpointctl enroll (root) against a hostile uploader account: while it
writes the token into the uploader's directory, a process running as that
account (uid 65534, no system user made) keeps putting a symlink to a
root-owned file at enrolment.json.new. Root must never chown, write or
follow it, and the enrolment must still work.
Usage: enrol_race.py BUILD TMP [RUNS]
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from collector import Collector, check, FAILED  # noqa

B, T = sys.argv[1], sys.argv[2]
RUNS = int(sys.argv[3]) if len(sys.argv) > 3 else 40
UID = GID = 65534
GROUP = "Race School"
FIXTURE = "tests/fixtures/laptop"


def racer(up, victim):
    """As uid 65534: put a symlink to victim at enrolment.json.new, for
    ever, by rename so the name is never missing for long."""
    pid = os.fork()
    if pid:
        return pid
    try:
        os.setgroups([])
        os.setgid(GID)
        os.setuid(UID)
        link = os.path.join(up, "x.lnk")
        new = os.path.join(up, "enrolment.json.new")
        while True:
            try:
                os.symlink(victim, link)
            except FileExistsError:
                pass
            try:
                os.rename(link, new)
            except OSError:
                pass
    finally:
        os._exit(0)


def enroll(up, secret, policy, state):
    return subprocess.run(
        [f"{B}/endpointctl", "enroll", "--collector", URL,
         "--secret-file", secret, "--group", GROUP, "--user", USER,
         "--upload-dir", up, "--state-dir", state, "--policy", policy,
         "--root", FIXTURE], capture_output=True, text=True)


def main():
    global URL, USER
    import pwd
    USER = pwd.getpwuid(UID).pw_name	# Debian's nobody; none is made
    col = Collector(f"{B}/collectord", "sqlite:" + os.path.join(T, "c.db"),
                    os.path.join(T, "col"))
    URL = f"http://127.0.0.1:{col.port}"
    secret = os.path.join(T, "secret")
    with open(secret, "w") as f:
        f.write(col.secret(GROUP) + "\n")
    policy = "policy.ini"
    state = os.path.join(T, "state")
    os.mkdir(state, 0o700)
    up = os.path.join(T, "upload")
    os.mkdir(up, 0o700)
    os.chown(up, UID, GID)
    victim = os.path.join(T, "victim")
    with open(victim, "w") as f:
        f.write("root's\n")
    os.chmod(victim, 0o644)

    pid = racer(up, victim)
    chowned = ok = 0
    try:
        for _ in range(RUNS):
            r = enroll(up, secret, policy, state)
            ok += r.returncode == 0
            st = os.stat(victim)
            if st.st_uid != 0 or st.st_gid != 0:
                chowned += 1
                os.chown(victim, 0, 0)
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    print(f"{RUNS} enrolments under the race: {ok} succeeded, the victim "
          f"chowned to uid {UID} in {chowned}")
    check(chowned == 0, "root never chowns the file a symlink points to")
    check(open(victim).read() == "root's\n", "the victim is not written")
    check(ok == RUNS, "every enrolment works while the account races")

    # Without the race: the token is the uploader's, a regular file.
    r = enroll(up, secret, policy, state)
    check(r.returncode == 0, "enrolment after the race: " + r.stderr.strip())
    path = os.path.join(up, "enrolment.json")
    st = os.lstat(path)
    check(os.path.isfile(path) and not os.path.islink(path) and
          st.st_uid == UID and st.st_mode & 0o777 == 0o600,
          "enrolment.json is a regular file, the uploader's, mode 0600")
    check(json.load(open(path)).get("token"), "it holds the token")

    # The directory itself: a symlink in its place is refused, and what it
    # points to is not chowned.
    os.rename(up, up + ".real")
    os.symlink(victim + ".dir", up)
    os.mkdir(victim + ".dir", 0o700)
    r = enroll(up, secret, policy, state)
    check(r.returncode != 0 and
          not os.path.exists(os.path.join(victim + ".dir", "enrolment.json")),
          "an upload directory that is a symlink is refused")
    check(os.stat(victim + ".dir").st_uid == 0,
          "the directory it points to stays root's")
    col.stop()


main()
sys.exit(1 if FAILED else 0)
