#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Prepare a load run against collectord: enrol N devices, and write a wrk
Lua script that posts realistic reports (about 2 KB, distinct devices and
sequence numbers, keep-alive).

Usage: collector_load.py BUILD URL DB N LUA_OUT ENDPOINTD_REPORT
"""
import http.client
import json
import subprocess
import sys
import urllib.parse


def main():
    build, url, db, n, lua, report_file = sys.argv[1:7]
    n = int(n)
    u = urllib.parse.urlparse(url)
    secret = subprocess.run([f"{build}/collectord", "--db", db,
                             "--new-enrol-secret", "--group", "Bench"],
                            capture_output=True, text=True,
                            check=True).stdout.strip()
    report = json.load(open(report_file))
    # Pad the evidence to a realistic size: a laptop's report is ~2 KB.
    report["checks"][0]["evidence"]["padding"] = "x" * max(
        0, 2048 - len(json.dumps(report)))
    conn = http.client.HTTPConnection(u.hostname, u.port)
    devices = []
    for i in range(n):
        mid = f"{i:032x}"
        conn.request("POST", "/api/v1/enrol", json.dumps(
            {"enrol_secret": secret, "device": {"machine_id": mid}}),
            {"Content-Type": "application/json"})
        r = conn.getresponse()
        body = json.loads(r.read())
        devices.append((body["token"], mid))
    report["device"]["machine_id"] = "@MID@"
    report["seq"] = 424242
    text = json.dumps(report, separators=(",", ":"))
    head, rest = text.split("@MID@")
    mid_part, tail = rest.split("424242")
    with open(lua, "w") as f:
        f.write("local tokens = {%s}\n" % ",".join(
            f'"{t}"' for t, _ in devices))
        f.write("local mids = {%s}\n" % ",".join(f'"{m}"' for _, m in devices))
        f.write("local head, mid, tail = %s, %s, %s\n" % (
            json.dumps(head), json.dumps(mid_part), json.dumps(tail)))
        f.write("""
local counter = 0
-- Each wrk thread gets its own number (a global: thread:set cannot
-- reach a chunk's locals), so no two threads send the same sequence.
local threads = 0
function setup(thread)
  thread:set("base", threads)
  threads = threads + 1
end
function request()
  counter = counter + 1
  local i = (counter % #tokens) + 1
  local seq = base * 100000000 + counter
  local body = head .. mids[i] .. mid .. seq .. tail
  return wrk.format("POST", "/api/v1/reports",
    {["Content-Type"] = "application/json",
     ["Authorization"] = "Bearer " .. tokens[i]}, body)
end
""")
    print(f"{n} devices enrolled; report body {len(text)} bytes")


if __name__ == "__main__":
    main()
