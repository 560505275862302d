/* SPDX-License-Identifier: Apache-2.0 */
/*
 * statclient: the client side of endpointd's status socket, shared by
 * endpointctl (blocking: connect, read the status, maybe send "run") and
 * endpoint-notify (non-blocking, its descriptor watched by sd-event).
 *
 * The socket carries newline-delimited JSON: the status first, then
 * findings and events as they happen, and answers to requests. Lines are
 * buffered here, since several may arrive in one read and one may arrive
 * in several.
 */
#ifndef ENDPOINTD_STATCLIENT_H
#define ENDPOINTD_STATCLIENT_H

#include <stdbool.h>

/* Longest line accepted, without its newline; a longer one is a confused
 * or hostile peer (-EMSGSIZE). endpointd never sends a line over 256 KB:
 * it drops a client whose queue would pass that (MAX_BUFFERED in
 * endpointd/statsock.c); a status is a few KB. */
#define STATCLIENT_LINE_MAX (4 * 1024 * 1024)

struct statclient;

/* Connect to the AF_UNIX stream socket at path; nonblock for a client
 * driven by an event loop (statclient_read() then never waits). Returns 0
 * or -errno (-ENAMETOOLONG when path does not fit a sockaddr_un). */
int statclient_connect(const char *path, bool nonblock,
		       struct statclient **out);

/* The connected descriptor, for an event loop to watch. */
int statclient_fd(const struct statclient *c);

/* Send a request ("run"; the newline is added). Returns 0 or -errno. */
int statclient_send(struct statclient *c, const char *request);

/* Read what the socket holds now into the buffer. Returns 0, -EAGAIN when
 * there is nothing yet (or a signal interrupted), -ECONNRESET when
 * endpointd closed the socket, -EMSGSIZE when the line being received is
 * over STATCLIENT_LINE_MAX, or another -errno. */
int statclient_read(struct statclient *c);

/* The next complete line from the buffer (newline removed, the caller
 * frees it), or NULL when none has arrived whole yet. */
char *statclient_line(struct statclient *c);

/* Wait up to timeout_ms for the next line, reading as needed. Returns 0
 * with *line set (the caller frees it), -ETIMEDOUT, or as
 * statclient_read(). */
int statclient_next(struct statclient *c, int timeout_ms, char **line);

/* Close the socket and free c; NULL is allowed. */
void statclient_free(struct statclient *c);
/* statclient_free() for _cleanup_(statclient_freep). */
void statclient_freep(struct statclient **c);

#endif
