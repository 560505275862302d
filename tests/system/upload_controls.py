#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The collector's words in the uploader's log: a collector (here a fake
one, since collectord strips them itself) that answers with control
characters in its error cannot forge a log line or colour a terminal:
endpointd-upload turns them into spaces before they reach its log and
endpointctl status.
Usage: upload_controls.py BUILD TMP
"""
import json
import os
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import upload as U  # noqa: E402
from collector import Collector, check, FAILED  # noqa: E402

EVIL = "\x1b[31mred\nforged: line\r\x85end\x7f"


def fake_collector(port, posts):
    """Answers every POST 400 with EVIL as the error, anything else 404."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(8)

    def serve(c):
        try:
            req = b""
            while b"\r\n\r\n" not in req:
                chunk = c.recv(65536)
                if not chunk:
                    return
                req += chunk
            head, body = req.split(b"\r\n\r\n", 1)
            n = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    n = int(line.split(b":")[1])
            while len(body) < n:
                body += c.recv(65536)
            if head.startswith(b"POST"):
                posts.append(head.split(b" ")[1])
                text = json.dumps({"error": EVIL}).encode()
                c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Type: "
                          b"application/json\r\nConnection: close\r\n"
                          b"Content-Length: %d\r\n\r\n" % len(text) + text)
            else:
                c.sendall(b"HTTP/1.1 404 Not Found\r\nConnection: close\r\n"
                          b"Content-Length: 0\r\n\r\n")
        except OSError:
            pass
        finally:
            c.close()

    def run():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(c,), daemon=True).start()
    threading.Thread(target=run, daemon=True).start()
    return srv


def main():
    B, T = U.B, U.T
    db = os.path.join(T, "ctl.db")
    col = Collector(f"{B}/collectord", "sqlite:" + db, os.path.join(T, "ctlc"))
    secret = os.path.join(T, "ctl.secret")
    with open(secret, "w") as f:
        f.write(col.secret(U.GROUP) + "\n")
    lap = U.Laptop("ctl")
    lap.start_daemon()
    r = lap.enroll(f"http://127.0.0.1:{col.port}", secret)
    check(r.returncode == 0, f"enrolled ({r.stderr.strip()})")
    col.stop()
    # The same laptop, now answered by a collector with hostile words.
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    posts = []
    srv = fake_collector(port, posts)
    path = os.path.join(lap.upload_dir, "enrolment.json")
    with open(path) as f:
        e = json.load(f)
    e["collector"] = f"http://127.0.0.1:{port}"
    with open(path, "w") as f:
        json.dump(e, f)
    mark = os.path.getsize(U.UP_LOG) if os.path.exists(U.UP_LOG) else 0
    lap.start_uploader()
    U.wait("a report refused by the fake collector",
           lambda: "refused by the collector" in open(U.UP_LOG).read()[mark:])
    lap.stop_uploader()
    lap.stop_daemon()
    srv.close()
    log = open(U.UP_LOG).read()[mark:]
    lines = [ln for ln in log.splitlines() if "refused by the collector" in ln]
    status = json.dumps(lap.uploader_status())
    shown = json.loads(status)
    errors = [x.get("error", "") for x in shown.get("rejected", [])]
    check(posts and lines and "red forged: line" in lines[0] and
          not any(ch in log for ch in "\x1b\r\x7f\x85") and
          not any(ln.startswith("forged") for ln in log.splitlines()),
          f"the uploader's log has the collector's words without control "
          f"characters ({lines[:1]!r})")
    check(errors and not any(ord(ch) < 0x20 or 0x7f <= ord(ch) <= 0x9f
                             for err in errors for ch in err),
          f"and so has its status for endpointctl ({errors[:1]!r})")
    print(f"{len(FAILED)} uploader control-character tests wrong")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
