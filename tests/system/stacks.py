#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Build fixture roots from stack descriptions and check endpointd on them.

Each tests/fixtures/encryption/*.stack file describes one machine (its
mounts, swaps, block devices) and what endpointd must say about it. This
script builds the root (proc/1/mountinfo, proc/swaps, a sysfs tree,
dev/ nodes as symlinks to real LUKS/ext4/swap images made by the caller),
runs `endpointd --once --json --root ROOT` and checks the report.

Lines of a .stack file (# starts a comment):
  mount MAJ:MIN TARGET FSTYPE SOURCE [SUPER-OPTIONS]
  swap PATH partition|file
  resume MAJ:MIN
  block NAME MAJ:MIN [dm=UUID] [dmname=NAME] [slaves=A,B] [md=LEVEL]
        [backing=PATH] [image=luks2|luks1|weak|ext4|swap]
  btrfs UUID DEV,DEV...
  file PATH LINE               (LINE appended to the root's file PATH:
                                etc/crypttab, etc/passwd...)
  dir PATH                     (an empty folder below the root)
  nosys                        (the root has no /sys at all)
  nomountinfo                  (no /proc/1/mountinfo)
  policy KEY = VALUE           (added to [encryption])
  expect status STATUS
  expect verdict WHAT VERDICT  (a target's verdict: WHAT is its "what")
  expect chain WHAT TEXT       (a target's chain, exactly)
  expect reason WHAT TEXT      (a substring of the target's reason)
  expect summary TEXT          (a substring of the summary)
  expect problem TEXT          (a substring of one of the problems)
  expect targets N             (how many targets were judged)
  expect layer WHAT KEY TEXT   (a layer of the target has KEY equal to
                                TEXT; a list's items joined with ", ")
  expect evidence KEY TEXT     (a substring of the evidence's KEY as JSON)
Usage: stacks.py ENDPOINTD IMAGES_DIR TMP_DIR STACK...
"""
import json
import os
import shlex
import subprocess
import sys

POLICY = """[policy]
name = Stacks
version = 1

[encryption]
clause = All laptops, memory sticks and devices used must be encrypted.
"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def symlink(target, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.symlink(target, path)


def build(desc, root, images):
    """Create the root described by desc; return (policy extras, expects)."""
    mountinfo, swaps, extras, expects = [], [], [], []
    flags = set()
    for lineno, raw in enumerate(open(desc), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        word, _, rest = line.partition(" ")
        if word == "policy":
            extras.append(rest)
            continue
        args = shlex.split(rest)
        if word == "mount":
            devno, target, fstype, source = args[:4]
            opts = args[4] if len(args) > 4 else "rw"
            mountinfo.append(f"{len(mountinfo) + 20} 1 {devno} / {target} "
                             f"rw,relatime shared:1 - {fstype} {source} {opts}")
        elif word == "swap":
            swaps.append(f"{args[0]}\t\t\t\t{args[1]}\t\t1048572\t\t0\t\t-2")
        elif word == "resume":
            write(f"{root}/sys/power/resume", args[0] + "\n")
        elif word == "block":
            name, devno = args[:2]
            kv = dict(a.split("=", 1) for a in args[2:])
            d = f"{root}/sys/class/block/{name}"
            write(f"{d}/dev", devno + "\n")
            symlink(f"../../class/block/{name}", f"{root}/sys/dev/block/{devno}")
            if "dm" in kv:
                write(f"{d}/dm/uuid", kv["dm"] + "\n")
            if "dmname" in kv:
                write(f"{d}/dm/name", kv["dmname"] + "\n")
            if "dm" in kv or "dmname" in kv or "slaves" in kv:
                os.makedirs(f"{d}/slaves", exist_ok=True)
            for s in filter(None, kv.get("slaves", "").split(",")):
                symlink(f"../../{s}", f"{d}/slaves/{s}")
            if "md" in kv:
                write(f"{d}/md/level", kv["md"] + "\n")
            if "backing" in kv:
                write(f"{d}/loop/backing_file", kv["backing"] + "\n")
            if "image" in kv:
                symlink(os.path.join(images, kv["image"] + ".img"),
                        f"{root}/dev/{name}")
        elif word == "btrfs":
            for dev in args[1].split(","):
                symlink(f"../../../../class/block/{dev}",
                        f"{root}/sys/fs/btrfs/{args[0]}/devices/{dev}")
        elif word == "file":
            path = f"{root}/{args[0]}"
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "a") as f:
                f.write(args[1] + "\n")
        elif word == "dir":
            os.makedirs(f"{root}/{args[0]}", exist_ok=True)
        elif word in ("nosys", "nomountinfo"):
            flags.add(word)
        elif word == "expect":
            expects.append((lineno, args))
        else:
            sys.exit(f"{desc}:{lineno}: unknown line '{word}'")
    if "nomountinfo" not in flags:
        write(f"{root}/proc/1/mountinfo", "\n".join(mountinfo) + "\n")
    write(f"{root}/proc/swaps",
          "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
          + "".join(s + "\n" for s in swaps))
    if "nosys" in flags:
        subprocess.run(["rm", "-rf", f"{root}/sys"], check=True)
    return extras, expects


def target(check, what):
    for t in check["evidence"].get("targets", []):
        if t["what"] == what:
            return t
    raise AssertionError(f"no target '{what}' in "
                         f"{[t['what'] for t in check['evidence'].get('targets', [])]}")


def verify(check, rc, expects):
    for lineno, args in expects:
        kind = args[0]
        try:
            if kind == "status":
                assert check["status"] == args[1], \
                    f"status {check['status']}, wanted {args[1]}"
                want_rc = 1 if args[1] == "fail" else 0
                assert rc == want_rc, f"exit status {rc}, wanted {want_rc}"
            elif kind == "verdict":
                got = target(check, args[1])["verdict"]
                assert got == args[2], f"verdict of {args[1]} is '{got}'"
            elif kind == "chain":
                got = target(check, args[1])["chain"]
                assert got == args[2], f"chain of {args[1]} is '{got}'"
            elif kind == "reason":
                got = target(check, args[1]).get("reason", "")
                assert args[2] in got, f"reason of {args[1]} is '{got}'"
            elif kind == "summary":
                assert args[1] in check["summary"], \
                    f"summary is '{check['summary']}'"
            elif kind == "problem":
                probs = [p for t in check["evidence"].get("targets", [])
                         for p in t["problems"]]
                assert any(args[1] in p for p in probs), f"problems: {probs}"
            elif kind == "layer":
                layers = target(check, args[1])["layers"]
                got = [", ".join(v) if isinstance(v, list) else str(v)
                       for v in (l.get(args[2]) for l in layers)]
                assert args[3] in got, f"{args[2]} of the layers: {got}"
            elif kind == "evidence":
                got = json.dumps(check["evidence"].get(args[1]))
                assert args[2] in got, f"evidence {args[1]} is {got}"
            elif kind == "targets":
                n = len(check["evidence"].get("targets", []))
                assert n == int(args[1]), f"{n} targets"
            else:
                raise AssertionError(f"unknown expectation {kind}")
        except AssertionError as e:
            return f"line {lineno}: {e}"
    return None


def main():
    endpointd, images, tmp = sys.argv[1:4]
    failed = 0
    for desc in sys.argv[4:]:
        name = os.path.basename(desc)[:-len(".stack")]
        root = os.path.join(tmp, name)
        os.makedirs(root)
        extras, expects = build(desc, root, images)
        policy = os.path.join(tmp, name + ".ini")
        write(policy, POLICY + "".join(e + "\n" for e in extras))
        run = subprocess.run([endpointd, "--once", "--json", "--root", root,
                              "--policy", policy, "--state-dir",
                              os.path.join(tmp, name + ".state")],
                             capture_output=True, text=True)
        try:
            report = json.loads(run.stdout)
            check = [c for c in report["checks"] if c["id"] == "encryption"][0]
        except (ValueError, IndexError, KeyError) as e:
            print(f"FAIL: {name}: no encryption result ({e}); exit "
                  f"{run.returncode}; stderr: {run.stderr}")
            failed += 1
            continue
        err = verify(check, run.returncode, expects)
        if err:
            print(f"FAIL: {name}: {desc}:{err}")
            print(json.dumps(check, indent=1))
            failed += 1
        else:
            print(f"ok: {name}: {check['status']}")
        if run.stderr and "Sanitizer" in run.stderr:
            print(f"FAIL: {name}: sanitizer: {run.stderr}")
            failed += 1
    print(f"{len(sys.argv) - 4 - failed} stacks right, {failed} wrong")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
