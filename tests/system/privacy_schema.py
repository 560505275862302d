#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Every field the report schema allows appears in endpointctl privacy.

Usage: privacy_schema.py SCHEMA PRIVACY_JSON
Walks docs/report.schema.json (properties, array items, $refs, and the
if/then branches of each check id and event type) into the paths of the
privacy account (checks[encryption].evidence.targets[].kind), and matches
each against the paths `endpointctl privacy --json` declares, with the
same rules as lib/privacy.c (written again here, independently).
Prints each field the account leaves out; exit 1 if there is one.
"""
import json
import sys


def segments(path):
    """Split at dots outside braces."""
    out, depth, cur = [], 0, ""
    for ch in path:
        if ch == "." and not depth:
            out.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    return out + [cur] if path else out


def alternatives(p):
    """A pattern segment as the list of names it stands for, or None for
    a wildcard."""
    if p == "*":
        return None
    if p.startswith("{"):
        close = p.index("}")
        rest = p[close + 1:]
        return [a + rest for a in p[1:close].split(",")]
    if "[{" in p:
        name, inner = p.split("[", 1)
        return [f"{name}[{a}]" for a in alternatives(inner[:-1])]
    return [p]


def seg_match(p, s):
    if p.endswith("[*]"):
        return "[" in s and s.endswith("]") and \
            seg_match(p[:-3], s.split("[", 1)[0])
    alts = alternatives(p)
    return alts is None or s in alts


def match(pattern, path, prefix=False):
    """(matched, rest of the path)."""
    pat, segs = segments(pattern), segments(path)
    for i, s in enumerate(segs):
        if i == len(pat):
            return prefix, segs[i:]
        last = i == len(segs) - 1
        name = pat[i].split("[", 1)[0] if not pat[i].startswith("{") \
            else pat[i][:pat[i].index("}") + 1]
        if not seg_match(pat[i], s) and not (last and seg_match(name, s)):
            return False, []
    return True, []


def declared(parts, path):
    for part in parts:
        rest = segments(path)
        if part["prefix"]:
            ok, rest = match(part["prefix"], path, prefix=True)
            if not ok:
                continue
        if not rest:
            return True
        for f in part["fields"]:
            if match(f["path"], ".".join(rest))[0]:
                return True
    return False


def walk(schema, node, path, out):
    """Every property path below node."""
    if "$ref" in node:
        node = schema["$defs"][node["$ref"].split("/")[-1]]
    for sub in node.get("allOf", []):
        if "if" in sub:
            cond = sub["if"]["properties"]
            key, c = next(iter(cond.items()))
            names = [c["const"]] if "const" in c else c["enum"]
            for n in names:
                # The branch of one check id or event type.
                base = path.rsplit("[", 1)[0] + f"[{n}]" \
                    if path.endswith("]") else path
                walk(schema, sub["then"], base, out)
        else:
            walk(schema, sub, path, out)
    for key, sub in node.get("properties", {}).items():
        p = f"{path}.{key}" if path else key
        out.add(p)
        if "$ref" in sub:
            walk(schema, sub, p, out)
        if sub.get("type") == "object" or "properties" in sub:
            walk(schema, sub, p, out)
        items = sub.get("items")
        if items:
            item = "checks[any_check]" if p == "checks" else \
                "events[any_event]" if p == "events" else p + "[]"
            walk(schema, items, item, out)


def main():
    schema = json.load(open(sys.argv[1]))
    parts = json.load(open(sys.argv[2]))["parts"]
    paths = set()
    walk(schema, schema, "", paths)
    missing = sorted(p for p in paths if not declared(parts, p))
    for p in missing:
        print(f"not in endpointctl privacy: {p}")
    print(f"{len(paths)} schema fields, {len(missing)} not in the account")
    # The walk must reach the details, or it proves nothing.
    for p in ("checks[camera].evidence.cameras[].sessions[].user",
              "events[usb_device].device.parts[].mounted_at",
              "checks[screen_lock].evidence.sessions[].idle_seconds",
              "events[camera_session].exe", "device.serial"):
        if p not in paths:
            print(f"the schema walk did not reach {p}")
            return 1
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
