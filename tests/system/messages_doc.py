#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The checks' words in lib/messages.h against docs/messages.md.

Usage: messages_doc.py HEADER DOC     exit 1 naming each SAY_ text the
                                       document lacks
       messages_doc.py HEADER          print the document's section

A text is the #define's string literals joined, with each printf
conversion (%s, %u, %ld, %lld) shown as "…".
"""
import re
import sys

GROUPS = [("SAY_ENCRYPTION", "Disk encryption"),
          ("SAY_SCREEN_LOCK", "Screen lock"),
          ("SAY_USB", "USB storage"), ("SAY_CAMERA", "Camera"),
          ("SAY_", "Any check")]


def texts(header):
    src = open(header).read().replace("\\\n", " ")
    out = {}
    for m in re.finditer(r'^#define (SAY_[A-Z_]+)\s+((?:"(?:[^"\\]|\\.)*"\s*)+)$',
                         src, re.M):
        parts = re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2))
        text = "".join(parts).replace('\\"', '"')
        out[m.group(1)] = re.sub(r"%l{0,2}[sud]", "…", text)
    return out


def flat(s):
    return " ".join(s.split())


def main():
    said = texts(sys.argv[1])
    if len(said) < 40:
        print(f"only {len(said)} SAY_ texts found in {sys.argv[1]}")
        return 1
    if len(sys.argv) == 2:
        for prefix, title in GROUPS:
            names = [n for n in said if n.startswith(prefix)]
            if not names:
                continue
            print(f"\n### {title}\n\n| in the code | the words |\n| --- | --- |")
            for n in names:
                print(f"| `{n}` | {said[n]} |")
                del said[n]
        return 0
    doc = flat(open(sys.argv[2]).read())
    missing = [n for n, t in said.items() if f"| `{n}` | {flat(t)} |" not in doc]
    for n in missing:
        print(f"{sys.argv[2]} lacks {n}: {said[n]}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
