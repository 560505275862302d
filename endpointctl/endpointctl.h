/* SPDX-License-Identifier: Apache-2.0 */
/*
 * endpointctl's own header: what its command files (status.c, explain.c,
 * privacy.c, enroll.c) share with the dispatcher in endpointctl.c. Not
 * used outside endpointctl/.
 */
#ifndef ENDPOINTCTL_ENDPOINTCTL_H
#define ENDPOINTCTL_ENDPOINTCTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* endpointctl's exit status (endpointctl(1)). */
enum { EXIT_PASSED = 0, EXIT_FAILED = 1, EXIT_ERROR = 2 };

/* How long endpointd has to send its status once connected. */
#define STATUS_TIMEOUT_MS 5000

/* The command summary, on out (stderr after a usage error). */
void ctl_usage(FILE *out);

/* The string member key of o, or NULL. */
const char *ctl_str(const json_t *o, const char *key);

/* Print text wrapped at 76 columns, each line indented. */
void ctl_wrapped(const char *text, const char *indent);

/* The status endpointd sends first, parsed, or NULL when endpointd
 * cannot be reached or says nothing in time (nothing is printed). */
json_t *ctl_status_try(const char *socket_path);

/* status [--json]: this laptop's checks from endpointd's status socket.
 * Returns EXIT_FAILED when a check fails. */
int cmd_status(const char *socket_path, bool json);

/* run: ask endpointd to look again now, wait for it, show the status. */
int cmd_run(const char *socket_path);

/* explain CHECK: what the check looks at, what endpointd sees and the
 * steps to put it right. */
int cmd_explain(const char *socket_path, const char *id);

/* privacy [--json]: what a report holds, where it goes and who sees it. */
int cmd_privacy(const char *socket_path, bool json);

/* enroll [options]: argv[0] is "enroll". Enrols the laptop with the
 * collector. */
int cmd_enroll(int argc, char **argv);

#endif
