#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Connect to endpointd's status socket and copy every line to stdout."""
import socket
import sys

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
for line in s.makefile("r", encoding="utf-8"):
    sys.stdout.write(line)
    sys.stdout.flush()
