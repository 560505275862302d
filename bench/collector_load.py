#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Prepare a load run against collectord: enrol N devices, and write a wrk
Lua script that posts realistic reports (about 2 KB, distinct devices and
sequence numbers, keep-alive).

Usage: collector_load.py BUILD URL DB N LUA_OUT ENDPOINTD_REPORT [POOL [signed]]

With POOL, the script posts exactly POOL reports (a wrk thread stops once
its share is sent) from a list made here; with "signed" too, every device
enrols with an Ed25519 key of its own and every report carries its
signature (Endpointd-Signature), made here with python3-cryptography, as
endpointd signs them: the same run with and without signatures measures
what verifying them costs the collector.
"""
import base64
import http.client
import json
import subprocess
import sys
import urllib.parse


def keys(n):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import \
        Ed25519PrivateKey
    from cryptography.hazmat.primitives import serialization
    out = []
    for _ in range(n):
        k = Ed25519PrivateKey.generate()
        pub = k.public_key().public_bytes(serialization.Encoding.Raw,
                                          serialization.PublicFormat.Raw)
        out.append((k, base64.b64encode(pub).decode()))
    return out


def main():
    build, url, db, n, lua, report_file = sys.argv[1:7]
    pool = int(sys.argv[7]) if len(sys.argv) > 7 else 0
    signed = len(sys.argv) > 8 and sys.argv[8] == "signed"
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
    kp = keys(n) if signed else [(None, None)] * n
    for i in range(n):
        mid = f"{i:032x}"
        req = {"enrol_secret": secret, "device": {"machine_id": mid}}
        if signed:
            req["public_key"] = kp[i][1]
        conn.request("POST", "/api/v1/enrol", json.dumps(req),
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
        if pool:
            # The list: device, sequence number and signature of each, in
            # a file of its own read when the script starts (a table of
            # that many entries is more constants than Lua allows).
            with open(lua + ".pool", "w") as pf:
                for j in range(pool):
                    i, seq = j % n, 1 + j // n
                    sig = ""
                    if signed:
                        body = head + devices[i][1] + mid_part + str(seq) + tail
                        sig = "ed25519:" + base64.b64encode(
                            kp[i][0].sign(body.encode())).decode()
                    pf.write(f"{i + 1} {seq} {sig}\n")
            f.write("local pool = {}\n")
            f.write("for line in io.lines(%s) do\n" % json.dumps(
                lua + ".pool"))
            f.write("""  local i, seq, sig = line:match("^(%d+) (%d+) ?(.*)$")
  pool[#pool + 1] = {tonumber(i), seq, sig}
end
""")
            f.write("""
local threads = 0
function setup(thread)
  thread:set("base", threads)
  threads = threads + 1
end
local counter = 0
-- Two threads: the first sends the odd entries, the second the even.
function request()
  local j = base + 1 + 2 * counter
  counter = counter + 1
  if j > #pool then
    wrk.thread:stop()
    j = #pool
  end
  local e = pool[j]
  local body = head .. mids[e[1]] .. mid .. e[2] .. tail
  local h = {["Content-Type"] = "application/json",
             ["Authorization"] = "Bearer " .. tokens[e[1]]}
  if e[3] ~= "" then h["Endpointd-Signature"] = e[3] end
  return wrk.format("POST", "/api/v1/reports", h, body)
end
""")
        else:
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
