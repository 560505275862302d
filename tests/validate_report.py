#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Validate report files (or - for stdin) against docs/report.schema.json.

Usage: validate_report.py SCHEMA FILE...
A spooled report's first line, endpointd's signature ("ed25519:..."), is
not part of the report. Exit 0 when every file is valid; otherwise print
each error and exit 1.
"""
import json
import sys

import jsonschema


def main():
    schema = json.load(open(sys.argv[1]))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    bad = 0
    for path in sys.argv[2:]:
        text = sys.stdin.read() if path == "-" else open(path).read()
        if text.startswith("ed25519:"):
            text = text.split("\n", 1)[1]
        for err in validator.iter_errors(json.loads(text)):
            print(f"{path}: {'/'.join(map(str, err.path))}: {err.message}")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
