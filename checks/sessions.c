/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sessions: org.freedesktop.login1 over sd-bus.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "loop.h"
#include "sessions.h"
#include "util.h"

#define LOGIND "org.freedesktop.login1"
#define LOGIND_PATH "/org/freedesktop/login1"
#define SESSION_IFACE "org.freedesktop.login1.Session"

static sd_bus_slot *slot_props, *slot_manager, *slot_inhibit;
static struct loop_source *deadline;
static sessions_changed_fn watch_fn;
static void *watch_data;

static int on_signal(sd_bus_message *m, void *data, sd_bus_error *err)
{
	(void)data;
	(void)err;
	log_debug("logind: %s %s", sd_bus_message_get_member(m),
		  sd_bus_message_get_path(m));
	/* Judge outside the bus callback, once for a burst of signals. */
	if (deadline)
		loop_timer_set(deadline, 1, 0);
	return 0;
}

static void on_deadline(void *data)
{
	(void)data;
	if (watch_fn)
		watch_fn(watch_data);
}

int sessions_watch(struct host *h, sessions_changed_fn fn, void *data)
{
	sd_bus *bus = host_bus(h);
	int r;

	if (!bus)
		return -ENOTCONN;
	r = sd_bus_add_match(bus, &slot_props,
			     "type='signal',sender='" LOGIND "',"
			     "interface='org.freedesktop.DBus.Properties',"
			     "member='PropertiesChanged',"
			     "path_namespace='" LOGIND_PATH "/session'",
			     on_signal, NULL);
	if (r >= 0)
		r = sd_bus_add_match(bus, &slot_manager,
				     "type='signal',sender='" LOGIND "',"
				     "interface='org.freedesktop.login1.Manager',"
				     "path='" LOGIND_PATH "'",
				     on_signal, NULL);
	/* logind announces each inhibitor taken or released as a change of
	 * its BlockInhibited property (logind-inhibit.c). */
	if (r >= 0)
		r = sd_bus_add_match(bus, &slot_inhibit,
				     "type='signal',sender='" LOGIND "',"
				     "interface='org.freedesktop.DBus.Properties',"
				     "member='PropertiesChanged',"
				     "path='" LOGIND_PATH "'",
				     on_signal, NULL);
	if (r >= 0) {
		deadline = loop_add_timer(0, 0, on_deadline, NULL);
		if (!deadline)
			r = -errno;
	}
	if (r < 0) {
		sessions_unwatch();
		return r;
	}
	watch_fn = fn;
	watch_data = data;
	return 0;
}

void sessions_unwatch(void)
{
	slot_props = sd_bus_slot_unref(slot_props);
	slot_manager = sd_bus_slot_unref(slot_manager);
	slot_inhibit = sd_bus_slot_unref(slot_inhibit);
	loop_remove(deadline);
	deadline = NULL;
	watch_fn = NULL;
}

struct session {
	const char *type, *cls, *name, *desktop; /* point into the message */
	int idle, locked, remote;
	uint64_t idle_since;		/* CLOCK_REALTIME, usec */
};

/* One a{sv} entry of GetAll: the properties we use, others skipped. */
static int read_prop(sd_bus_message *m, struct session *s)
{
	const char *key;
	int r = sd_bus_message_read(m, "s", &key);

	if (r < 0)
		return r;
	if (strcmp(key, "Type") == 0)
		return sd_bus_message_read(m, "v", "s", &s->type);
	if (strcmp(key, "Class") == 0)
		return sd_bus_message_read(m, "v", "s", &s->cls);
	if (strcmp(key, "Name") == 0)
		return sd_bus_message_read(m, "v", "s", &s->name);
	if (strcmp(key, "Desktop") == 0)
		return sd_bus_message_read(m, "v", "s", &s->desktop);
	if (strcmp(key, "IdleHint") == 0)
		return sd_bus_message_read(m, "v", "b", &s->idle);
	if (strcmp(key, "LockedHint") == 0)
		return sd_bus_message_read(m, "v", "b", &s->locked);
	if (strcmp(key, "Remote") == 0)
		return sd_bus_message_read(m, "v", "b", &s->remote);
	if (strcmp(key, "IdleSinceHint") == 0)
		return sd_bus_message_read(m, "v", "t", &s->idle_since);
	return sd_bus_message_skip(m, "v");
}

static void reply_unrefp(sd_bus_message **m)
{
	sd_bus_message_unref(*m);
}

/* GetAll of one session into s; *keep holds the reply s points into. */
static int session_get(sd_bus *bus, const char *path, struct session *s,
		       sd_bus_message **keep)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	int r;

	r = sd_bus_call_method(bus, LOGIND, path,
			       "org.freedesktop.DBus.Properties", "GetAll",
			       &err, keep, "s", SESSION_IFACE);
	sd_bus_error_free(&err);
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(*keep, 'a', "{sv}");
	while (r >= 0 &&
	       (r = sd_bus_message_enter_container(*keep, 'e', "sv")) > 0) {
		r = read_prop(*keep, s);
		if (r >= 0)
			r = sd_bus_message_exit_container(*keep);
	}
	return r < 0 ? r : 0;
}

static bool graphical(const struct session *s)
{
	return s->type && s->cls && strcmp(s->cls, "user") == 0 &&
	       (strcmp(s->type, "x11") == 0 ||
		strcmp(s->type, "wayland") == 0 ||
		strcmp(s->type, "mir") == 0);
}

static uint64_t realtime_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Judge one session; returns microseconds until it would cross the limit
 * (0: it has, or it cannot). */
static uint64_t judge(const char *id, const struct session *s, uint64_t limit,
		      json_t *sessions, json_t *unattended)
{
	uint64_t now = realtime_usec();
	uint64_t idle = s->idle && s->idle_since < now ? now - s->idle_since : 0;
	json_t *o = json_pack("{s:o, s:o, s:s, s:b, s:b, s:I}",
			      "id", json_string_lossy(id),
			      "user", json_string_lossy(s->name),
			      "type", s->type, "idle", s->idle,
			      "locked", s->locked,
			      "idle_seconds", (json_int_t)(idle / 1000000));

	if (s->desktop && *s->desktop)
		json_object_set_new(o, "desktop", json_string_lossy(s->desktop));

	json_array_append(sessions, o);
	if (s->idle && !s->locked && idle >= limit * 1000000) {
		json_array_append(unattended, o);
		json_decref(o);
		return 0;
	}
	json_decref(o);
	return s->idle && !s->locked ? limit * 1000000 - idle : 0;
}

int sessions_query(struct host *h, uint64_t limit, json_t **sessions,
		   json_t **unattended)
{
	sd_bus *bus = host_bus(h);
	_cleanup_(reply_unrefp) sd_bus_message *list = NULL;
	sd_bus_error err = SD_BUS_ERROR_NULL;
	const char *id, *path;
	uint64_t next = 0;
	int r;

	if (!bus)
		return -ENOTCONN;
	r = sd_bus_call_method(bus, LOGIND, LOGIND_PATH,
			       "org.freedesktop.login1.Manager", "ListSessions",
			       &err, &list, NULL);
	if (r < 0) {
		log_debug("logind: %s", err.message ? err.message : strerror(-r));
		sd_bus_error_free(&err);
		return r;
	}
	*sessions = json_array();
	*unattended = json_array();
	r = sd_bus_message_enter_container(list, 'a', "(susso)");
	while (r >= 0 && (r = sd_bus_message_read(list, "(susso)", &id, NULL,
						  NULL, NULL, &path)) > 0) {
		_cleanup_(reply_unrefp) sd_bus_message *props = NULL;
		struct session s = { 0 };
		uint64_t until;

		/* A session that ended between the two calls is gone. */
		if (session_get(bus, path, &s, &props) < 0 || !graphical(&s))
			continue;
		until = judge(id, &s, limit, *sessions, *unattended);
		if (until && (!next || until < next))
			next = until;
	}
	if (deadline)
		loop_timer_set(deadline, next ? next / 1000 + 1 : 0, 0);
	if (r < 0) {
		json_decref(*sessions);
		json_decref(*unattended);
		return r;
	}
	return 0;
}

int sessions_users(struct host *h, json_t **users)
{
	sd_bus *bus = host_bus(h);
	_cleanup_(reply_unrefp) sd_bus_message *list = NULL;
	sd_bus_error err = SD_BUS_ERROR_NULL;
	const char *name;
	uint32_t uid;
	int r;

	if (!bus)
		return -ENOTCONN;
	r = sd_bus_call_method(bus, LOGIND, LOGIND_PATH,
			       "org.freedesktop.login1.Manager", "ListUsers",
			       &err, &list, NULL);
	sd_bus_error_free(&err);
	if (r < 0)
		return r;
	*users = json_array();
	r = sd_bus_message_enter_container(list, 'a', "(uso)");
	while (r >= 0 && (r = sd_bus_message_read(list, "(uso)", &uid, &name,
						  NULL)) > 0)
		json_array_append_new(*users, json_pack(
			"{s:I, s:o}", "uid", (json_int_t)uid, "name",
			json_string_lossy(name)));
	if (r < 0) {
		json_decref(*users);
		return r;
	}
	return 0;
}

/* "sleep:idle:shutdown" names idle. */
static bool inhibits_idle(const char *what)
{
	size_t n = strlen("idle");

	for (const char *s = what; (s = strstr(s, "idle")); s += n)
		if ((s == what || s[-1] == ':') && (s[n] == ':' || !s[n]))
			return true;
	return false;
}

int sessions_inhibitors(struct host *h, json_t **inhibitors)
{
	sd_bus *bus = host_bus(h);
	_cleanup_(reply_unrefp) sd_bus_message *list = NULL;
	sd_bus_error err = SD_BUS_ERROR_NULL;
	const char *what, *who, *why, *mode;
	uint32_t uid, pid;
	int r;

	if (!bus)
		return -ENOTCONN;
	r = sd_bus_call_method(bus, LOGIND, LOGIND_PATH,
			       "org.freedesktop.login1.Manager",
			       "ListInhibitors", &err, &list, NULL);
	sd_bus_error_free(&err);
	if (r < 0)
		return r;
	*inhibitors = json_array();
	r = sd_bus_message_enter_container(list, 'a', "(ssssuu)");
	while (r >= 0 && (r = sd_bus_message_read(list, "(ssssuu)", &what,
						  &who, &why, &mode, &uid,
						  &pid)) > 0)
		if (inhibits_idle(what) && (strcmp(mode, "block") == 0 ||
					    strcmp(mode, "block-weak") == 0))
			json_array_append_new(*inhibitors, json_pack(
				"{s:o, s:o, s:I, s:I}", "who",
				json_string_lossy(who), "why",
				json_string_lossy(why), "uid", (json_int_t)uid,
				"pid", (json_int_t)pid));
	if (r < 0) {
		json_decref(*inhibitors);
		return r;
	}
	return 0;
}
