/* SPDX-License-Identifier: Apache-2.0 */
/*
 * statsock: a listening AF_UNIX stream socket in the event loop, with a
 * bounded output buffer per client.
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "statsock.h"
#include "utf8.h"
#include "util.h"

#define MAX_CLIENTS 64
/* One local user cannot take every place and lock the others (root
 * included) out: a desktop session needs one for endpoint-notify and one
 * for endpointctl at a time. Root is not counted against it. */
#define MAX_CLIENTS_PER_USER 8
/* Places only root may take: users, however many uids they hold (a
 * rootless container's subordinate ids are users too), never fill the
 * last ones, so root (IT support, endpointctl run) always gets in. */
#define ROOT_PLACES 8
#define MAX_BUFFERED (256 * 1024)

#define MAX_COMMAND 64

struct client {
	int fd;
	bool full;		/* root: evidence and every event */
	uid_t uid;
	char *name;		/* the peer's login name, NULL when unknown */
	char in[MAX_COMMAND + 1];	/* a command line being read */
	size_t inlen;
	struct loop_source *src;
	char *out;
	size_t len;
	struct client *next;
};

static int sock_fd = -1;
static char *sock_path;
static struct loop_source *sock_src;
static struct client *clients;
static unsigned nclients;
static statsock_snapshot_fn sock_snapshot;
static statsock_command_fn sock_command;
static void *sock_data;

static void client_drop(struct client *c)
{
	struct client **pp;

	for (pp = &clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	loop_remove(c->src);
	close(c->fd);
	free(c->out);
	free(c->name);
	free(c);
	nclients--;
}

/* Write what is buffered; returns false when the client is gone. */
static bool client_flush(struct client *c)
{
	while (c->len > 0) {
		ssize_t w = send(c->fd, c->out, c->len,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w < 0)
			return false;
		memmove(c->out, c->out + w, c->len - (size_t)w);
		c->len -= (size_t)w;
	}
	return true;
}

/* Wait for EPOLLOUT only while something is buffered. */
static void client_watch(struct client *c)
{
	loop_fd_modify(c->src, EPOLLIN | (c->len ? EPOLLOUT : 0));
}

static void client_queue(struct client *c, const char *text, size_t n)
{
	bool was_empty = c->len == 0;

	if (c->len + n > MAX_BUFFERED) {
		log_debug("status client too slow; disconnecting it");
		client_drop(c);
		return;
	}
	c->out = xrealloc(c->out, c->len + n);
	memcpy(c->out + c->len, text, n);
	c->len += n;
	if (!client_flush(c)) {
		client_drop(c);
		return;
	}
	if (was_empty && c->len)
		client_watch(c);
}

static void line_queue_owned(struct client *c, json_t *line);

static bool client_alive(const struct client *c)
{
	for (const struct client *k = clients; k; k = k->next)
		if (k == c)
			return true;
	return false;
}

static void client_io(int fd, uint32_t events, void *data)
{
	struct client *c = data;
	char buf[256];

	if (events & EPOLLIN) {
		ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
			client_drop(c);
			return;
		}
		/* One command a line ("run"); a longer line is not one. */
		for (ssize_t i = 0; i < r; i++) {
			json_t *reply;

			if (buf[i] != '\n') {
				if (c->inlen == MAX_COMMAND) {
					client_drop(c);
					return;
				}
				c->in[c->inlen++] = buf[i];
				continue;
			}
			c->in[c->inlen] = '\0';
			c->inlen = 0;
			reply = sock_command ? sock_command(c->in, c->uid,
							    sock_data)
					     : NULL;
			if (!reply)
				reply = json_pack("{s:s, s:s}", "type", "error",
						  "error", "unknown command");
			line_queue_owned(c, reply);
			/* A client too slow to take its answer is gone. */
			if (!client_alive(c))
				return;
		}
	}
	if (events & (EPOLLHUP | EPOLLERR)) {
		client_drop(c);
		return;
	}
	if (events & EPOLLOUT) {
		if (!client_flush(c)) {
			client_drop(c);
			return;
		}
		if (c->len == 0)
			client_watch(c);
	}
}

static void line_queue(struct client *c, const json_t *line)
{
	_cleanup_free_ char *text = json_dumps(line, JSON_COMPACT);
	_cleanup_free_ char *nl = NULL;

	if (!text)
		return;
	nl = xasprintf("%s\n", text);
	client_queue(c, nl, strlen(nl));
}

/* Queue a line for one client (ownership of line taken). The client may
 * be dropped. */
static void line_queue_owned(struct client *c, json_t *line)
{
	line_queue(c, line);
	json_decref(line);
}

/* Events that name nobody: every local user may see them. */
static bool public_event(const json_t *ev)
{
	static const char *const types[] = { "status_change", "policy_loaded",
					     "policy_error", "events_dropped",
					     "reports_dropped" };
	const char *t = json_string_value(json_object_get(ev, "type"));

	for (size_t i = 0; t && i < ARRAY_SIZE(types); i++)
		if (strcmp(t, types[i]) == 0)
			return true;
	return false;
}

/* What the member of staff at the laptop is told of a USB device or a
 * camera session (endpoint-notify shows it): what it is and what was
 * done, never a serial number, a user, a process or a path. NULL for
 * other events. New reference. */
static json_t *staff_event(const json_t *ev)
{
	const char *t = json_string_value(json_object_get(ev, "type"));
	const json_t *d = json_object_get(ev, "device");

	if (t && strcmp(t, "usb_device") == 0)
		return json_pack("{s:s, s:O?, s:O?, s:O?, s:{s:O?, s:O?}}",
				 "type", t, "at", json_object_get(ev, "at"),
				 "action", json_object_get(ev, "action"),
				 "taken", json_object_get(ev, "taken"),
				 "device", "manufacturer",
				 json_object_get(d, "manufacturer"), "product",
				 json_object_get(d, "product"));
	if (t && strcmp(t, "camera_session") == 0)
		return json_pack("{s:s, s:O?, s:O?, s:O?, s:O?}", "type", t,
				 "at", json_object_get(ev, "at"),
				 "action", json_object_get(ev, "action"),
				 "application", json_object_get(ev, "application"),
				 "approved", json_object_get(ev, "approved"));
	return NULL;
}

static bool name_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_' || ch == '-' ||
	       ch == '$';
}

/* text with each whole-word name in it replaced by "another user": NULL
 * when it has none (or memory ran out: the caller then drops the text). */
static char *hide_name(const char *text, const char *name)
{
	size_t n = strlen(name), len;
	const char *p = text, *q;
	bool hid = false;
	char *out = NULL;
	FILE *f;

	if (!n || !strstr(text, name) || !(f = open_memstream(&out, &len)))
		return NULL;
	while ((q = strstr(p, name))) {
		bool word = (q == text || !name_char(q[-1])) && !name_char(q[n]);

		fwrite(p, 1, (size_t)(q - p), f);
		fputs(word ? "another user" : name, f);
		hid |= word;
		p = q + n;
	}
	fputs(p, f);
	fclose(f);
	if (!hid) {
		free(out);
		return NULL;
	}
	return out;
}

/* Leave out of a check's summary and remedy every login name its evidence
 * knows (the screen-lock check names whose session or settings fall
 * short) but own, the reader's; then drop the evidence. */
static void check_redact(json_t *check, const char *own)
{
	static const char *const lists[] = { "users", "unattended",
					     "sessions" };
	json_t *ev = json_object_get(check, "evidence"), *e;
	static const char *const texts[] = { "summary", "remedy" };
	size_t i;

	for (size_t l = 0; l < ARRAY_SIZE(lists); l++)
		json_array_foreach(json_object_get(ev, lists[l]), i, e) {
			const char *name = json_string_value(
				json_object_get(e, "user"));

			if (!name || (own && strcmp(name, own) == 0))
				continue;
			for (size_t t = 0; t < ARRAY_SIZE(texts); t++) {
				const char *text = json_string_value(
					json_object_get(check, texts[t]));
				char *hidden = text ? hide_name(text, name)
						    : NULL;

				if (hidden)
					json_object_set_new(check, texts[t],
							    json_string_lossy(hidden));
				free(hidden);
			}
		}
	json_object_del(check, "evidence");
}

/* What a local user who is not root (login name own, NULL when unknown)
 * may read of a line: statuses and summaries for staff, with no one's
 * name but theirs; no evidence (it can name people, devices and
 * accounts), no event about someone. NULL: nothing. New reference. */
static json_t *redact(const json_t *line, const char *own)
{
	const char *type = json_string_value(json_object_get(line, "type"));
	json_t *copy, *checks, *c;
	size_t i;

	if (type && strcmp(type, "event") == 0) {
		const json_t *ev = json_object_get(line, "event");

		if (public_event(ev))
			return json_deep_copy(line);
		return (copy = staff_event(ev))
			       ? json_pack("{s:s, s:o}", "type", "event",
					   "event", copy)
			       : NULL;
	}
	copy = json_deep_copy(line);
	if (json_object_get(copy, "finding"))
		check_redact(json_object_get(copy, "finding"), own);
	checks = json_object_get(copy, "checks");
	json_array_foreach(checks, i, c)
		check_redact(c, own);
	return copy;
}

/* The login name of uid, NULL when there is none. Asked once a
 * connection. */
static char *user_name(uid_t uid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return NULL;
	return xstrdup(res->pw_name);
}

/* The peer's user id, (uid_t)-1 when unknown. */
static uid_t peer_uid(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0
		       ? cred.uid
		       : (uid_t)-1;
}

static bool full_said;

static unsigned clients_of(uid_t uid)
{
	unsigned n = 0;

	for (const struct client *k = clients; k; k = k->next)
		n += k->uid == uid;
	return n;
}

static void sock_accept(int fd, uint32_t events, void *data)
{
	struct client *c;
	json_t *snap, *shown;
	uid_t uid;
	int cfd;

	(void)events;
	(void)data;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("status socket: accept");
		return;
	}
	uid = peer_uid(cfd);
	if (nclients >= (uid == 0 ? MAX_CLIENTS : MAX_CLIENTS - ROOT_PLACES)) {
		/* Said once until a place is free again: users could fill
		 * the journal otherwise. */
		if (!full_said)
			log_warnx("status socket: %u clients already; refusing "
				  "more", nclients);
		full_said = true;
		close(cfd);
		return;
	}
	full_said = false;
	if (uid != 0 && clients_of(uid) >= MAX_CLIENTS_PER_USER) {
		/* debug: a user could fill the journal otherwise */
		log_debug("status socket: uid %u has %d clients already; "
			  "refusing one", (unsigned)uid, MAX_CLIENTS_PER_USER);
		close(cfd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->fd = cfd;
	c->src = loop_add_fd(cfd, EPOLLIN, client_io, c);
	if (!c->src) {
		log_warn("status socket: watching a client");
		close(cfd);
		free(c);
		return;
	}
	c->uid = uid;
	c->full = c->uid == 0;
	c->name = c->full ? NULL : user_name(uid);
	c->next = clients;
	clients = c;
	nclients++;
	snap = sock_snapshot(sock_data);
	shown = c->full ? json_incref(snap) : redact(snap, c->name);
	line_queue(c, shown);
	json_decref(shown);
	json_decref(snap);
}

static int ensure_dir(const char *path)
{
	_cleanup_free_ char *copy = xstrdup(path);
	const char *dir = dirname(copy);

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int statsock_init(const char *path, statsock_snapshot_fn snapshot,
		  statsock_command_fn command, void *data)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	r = ensure_dir(path);
	if (r < 0)
		return r;
	sock_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sock_fd < 0)
		return -errno;
	unlink(path);
	if (bind(sock_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0666) < 0 || listen(sock_fd, 16) < 0)
		goto failed;
	sock_src = loop_add_fd(sock_fd, EPOLLIN, sock_accept, NULL);
	if (!sock_src)
		goto failed;
	sock_path = xstrdup(path);
	sock_snapshot = snapshot;
	sock_command = command;
	sock_data = data;
	return 0;
failed:
	r = -errno;
	close(sock_fd);
	sock_fd = -1;
	return r;
}

void statsock_exit(void)
{
	while (clients)
		client_drop(clients);
	loop_remove(sock_src);
	sock_src = NULL;
	if (sock_fd >= 0)
		close(sock_fd);
	sock_fd = -1;
	if (sock_path)
		unlink(sock_path);
	free(sock_path);
	sock_path = NULL;
}

void statsock_send(const json_t *line)
{
	struct client *c = clients, *next;

	for (; c; c = next) {
		json_t *shown;

		next = c->next;
		if (c->full) {
			line_queue(c, line);
			continue;
		}
		/* Per client: each reads their own name only. */
		shown = redact(line, c->name);
		if (shown)
			line_queue(c, shown);
		json_decref(shown);
	}
}
