/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bus: the system bus connection (sd-bus), handed to the checks through
 * the host and, in the daemon, dispatched from the event loop: its fd is
 * a loop source and its timeout a loop timer, re-armed after every use.
 */
#ifndef ENDPOINTD_BUS_H
#define ENDPOINTD_BUS_H

#include <stdbool.h>

#include "check.h"

/* Connect to the system bus ($DBUS_SYSTEM_BUS_ADDRESS is honoured) and
 * give it to h; with watch, dispatch it from the loop. Returns 0 or -errno;
 * without a bus the checks that need one say "unknown". */
int bus_init(struct host *h, bool watch);
void bus_exit(void);

/* Process what the bus has queued (signals that arrived during a method
 * call) and re-arm the loop. Call after code that used the bus. */
void bus_dispatch(void);

#endif
