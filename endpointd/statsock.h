/* SPDX-License-Identifier: Apache-2.0 */
/*
 * statsock: the status socket. A client that connects reads the current
 * status as one JSON object on one line, then one JSON line for every
 * change. A client may write one command a line ("run": evaluate now);
 * the answer is a JSON line to that client alone. Any local user may connect: root reads
 * everything; others read statuses, summaries and what to do, but no
 * evidence and no event that names someone (SO_PEERCRED decides): of a
 * USB device or a camera session only what it is and what was done; in a
 * summary, any login name but the reader's own reads "another user".
 */
#ifndef ENDPOINTD_STATSOCK_H
#define ENDPOINTD_STATSOCK_H

#include <jansson.h>
#include <sys/types.h>

/* Build the status object sent first to each new client (new reference). */
typedef json_t *(*statsock_snapshot_fn)(void *data);

/* Answer a client's command line, from user uid (a new reference, or
 * NULL: an unknown command). */
typedef json_t *(*statsock_command_fn)(const char *command, uid_t uid,
				       void *data);

/* Listen on path (its directory is created 0755 when missing; a stale
 * socket is replaced). Returns 0 or -errno. */
int statsock_init(const char *path, statsock_snapshot_fn snapshot,
		  statsock_command_fn command, void *data);
void statsock_exit(void);

/* Send one line to every client. A client too slow to keep up is
 * disconnected rather than buffered without bound. */
void statsock_send(const json_t *line);

#endif
