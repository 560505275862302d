/* SPDX-License-Identifier: Apache-2.0 */
/*
 * statclient: endpointd's status socket from the client's side; a
 * connection and the bytes received that do not yet make a whole line.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "statclient.h"
#include "util.h"

/* What one read takes from the socket. */
#define CHUNK 8192

struct statclient {
	int fd;
	char *buf;		/* received, not yet handed out as lines */
	size_t len;
	size_t tail;		/* of which after the last newline */
};

int statclient_connect(const char *path, bool nonblock,
		       struct statclient **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct statclient *c;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
			     (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	*out = c;
	return 0;
}

int statclient_fd(const struct statclient *c)
{
	return c->fd;
}

int statclient_send(struct statclient *c, const char *request)
{
	_cleanup_free_ char *text = xasprintf("%s\n", request);
	ssize_t w = send(c->fd, text, strlen(text), MSG_NOSIGNAL);

	if (w < 0)
		return -errno;
	return (size_t)w == strlen(text) ? 0 : -EIO;
}

int statclient_read(struct statclient *c)
{
	char chunk[CHUNK];
	ssize_t r = recv(c->fd, chunk, sizeof(chunk), 0);
	const char *nl;

	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		      errno == EINTR))
		return -EAGAIN;
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ECONNRESET;
	c->buf = xrealloc(c->buf, c->len + (size_t)r);
	memcpy(c->buf + c->len, chunk, (size_t)r);
	c->len += (size_t)r;
	/* Only the new bytes are looked at: a line arriving in many reads
	 * costs no more than its length. */
	nl = memrchr(chunk, '\n', (size_t)r);
	c->tail = nl ? (size_t)(chunk + r - nl - 1) : c->tail + (size_t)r;
	return c->tail > STATCLIENT_LINE_MAX ? -EMSGSIZE : 0;
}

char *statclient_line(struct statclient *c)
{
	char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
	char *line;

	if (!nl)
		return NULL;
	line = xstrndup(c->buf, (size_t)(nl - c->buf));
	c->len -= (size_t)(nl + 1 - c->buf);
	memmove(c->buf, nl + 1, c->len);
	return line;
}

int statclient_next(struct statclient *c, int timeout_ms, char **line)
{
	for (;;) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		int r;

		*line = statclient_line(c);
		if (*line)
			return 0;
		r = poll(&pfd, 1, timeout_ms);
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0)
			return -errno;
		r = statclient_read(c);
		if (r < 0 && r != -EAGAIN)
			return r;
	}
}

void statclient_free(struct statclient *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c->buf);
	free(c);
}

void statclient_freep(struct statclient **c)
{
	statclient_free(*c);
}
