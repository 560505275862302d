/* SPDX-License-Identifier: Apache-2.0 */
/*
 * endpoint-notify: a member of staff's desktop warnings. Started in every
 * graphical session (XDG autostart), it reads endpointd's status socket
 * (what any local user may read: statuses, summaries, what to do) and
 * shows what needs doing through the freedesktop Notifications service on
 * the session bus (sd-bus; no toolkit).
 *
 * Never nagging: a check that goes to fail or warn is shown once, and
 * again at most every renotify_hours of the policy (or --renotify-hours)
 * while it lasts; when it is fixed a
 * short "sorted" notification replaces it. A USB or camera event is shown
 * once. A daemon restart (the socket closes) is followed by reconnecting,
 * and the statuses it then sends again are not shown again. With no
 * notification service, nothing is shown and one line is logged.
 *
 * The socket is read through lib/statclient, non-blocking, its descriptor
 * watched by sd-event.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "log.h"
#include "messages.h"
#include "paths.h"
#include "statclient.h"
#include "util.h"

#define RECONNECT_MIN_US (1000 * 1000ULL)
#define RECONNECT_MAX_US (30 * 1000 * 1000ULL)
#define MAX_SHOWN 64

/* What has been shown for a check. */
struct shown {
	char id[64];
	char status[16];	/* "fail" or "warn" while it lasts */
	uint32_t notification;	/* its id, to replace */
	uint64_t at_us;		/* CLOCK_MONOTONIC, when last shown */
};

static struct {
	const char *socket_path;
	uint64_t renotify_us;
	bool renotify_fixed;	/* by --renotify-hours, not the policy */
	sd_event *event;
	sd_bus *bus;
	sd_event_source *io, *reconnect, *renotify;
	struct statclient *sc;	/* NULL while not connected */
	uint64_t backoff_us;
	bool markup;		/* the service renders body markup */
	bool service_missing_logged;
	struct shown shown[MAX_SHOWN];
	size_t nshown;
} n;

static uint64_t now_us(void)
{
	uint64_t t = 0;

	sd_event_now(n.event, CLOCK_MONOTONIC, &t);
	return t;
}

/* Text for the notification body: escaped when the service reads markup
 * (a USB product name could hold "<b>"). */
static void put_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (n.markup && *s == '&')
			fputs("&amp;", f);
		else if (n.markup && *s == '<')
			fputs("&lt;", f);
		else if (n.markup && *s == '>')
			fputs("&gt;", f);
		else
			fputc(*s, f);
	}
}

/* org.freedesktop.Notifications.Notify; returns its id, or 0. */
static uint32_t notify(uint32_t replaces, const char *title, const char *body,
		       uint8_t urgency)
{
	_cleanup_(sd_bus_error_free) sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	uint32_t id = 0;
	int r;

	r = sd_bus_call_method(n.bus, "org.freedesktop.Notifications",
			       "/org/freedesktop/Notifications",
			       "org.freedesktop.Notifications", "Notify", &err,
			       &reply, "susssasa{sv}i", "endpointd", replaces,
			       "security-high", title, body, 0, 1, "urgency",
			       "y", urgency, -1);
	if (r < 0) {
		if (!n.service_missing_logged)
			log_warnx("cannot show a notification (%s): %s",
				  title, err.message ? err.message
						     : strerror(-r));
		n.service_missing_logged = true;
		return 0;
	}
	n.service_missing_logged = false;
	if (sd_bus_message_read(reply, "u", &id) < 0)
		id = 0;
	sd_bus_message_unref(reply);
	return id;
}

static void capabilities(void)
{
	_cleanup_(sd_bus_error_free) sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *cap;

	n.markup = false;
	if (sd_bus_call_method(n.bus, "org.freedesktop.Notifications",
			       "/org/freedesktop/Notifications",
			       "org.freedesktop.Notifications",
			       "GetCapabilities", &err, &reply, "") < 0)
		return;
	if (sd_bus_message_enter_container(reply, 'a', "s") >= 0) {
		while (sd_bus_message_read(reply, "s", &cap) > 0)
			if (strcmp(cap, "body-markup") == 0)
				n.markup = true;
	}
	sd_bus_message_unref(reply);
}

static struct shown *shown_for(const char *id, bool add)
{
	for (size_t i = 0; i < n.nshown; i++)
		if (strcmp(n.shown[i].id, id) == 0)
			return &n.shown[i];
	if (!add || n.nshown == MAX_SHOWN || strlen(id) >= sizeof(n.shown[0].id))
		return NULL;
	memset(&n.shown[n.nshown], 0, sizeof(n.shown[0]));
	strcpy(n.shown[n.nshown].id, id);
	return &n.shown[n.nshown++];
}

static void arm_renotify(void);

/* A check's failure or warning: title from the catalogue, then the
 * check's own summary, what to do, and the clause. */
static void show_check(struct shown *s, const json_t *c, const char *status)
{
	const char *id = json_string_value(json_object_get(c, "id"));
	const char *severity = json_string_value(json_object_get(c,
								  "severity"));
	const struct check_words *w = messages_check(id);
	_cleanup_free_ char *title = NULL, *body = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);
	uint8_t urgency;

	if (!f)
		return;
	if (w)
		title = xstrdup(strcmp(status, "fail") == 0 ? w->fail_title
							     : w->warn_title);
	else
		title = xasprintf("%s needs your attention", id);
	put_text(f, json_string_value(json_object_get(c, "summary")));
	if (json_string_value(json_object_get(c, "remedy"))) {
		fputs("\n\nWhat to do: ", f);
		put_text(f, json_string_value(json_object_get(c, "remedy")));
	}
	fputs("\n\nMore help: run \"endpointctl explain ", f);
	put_text(f, id);
	fputs("\".", f);
	if (json_string_value(json_object_get(c, "clause"))) {
		fputs("\n\nCode of conduct: \"", f);
		put_text(f, json_string_value(json_object_get(c, "clause")));
		fputc('"', f);
	}
	fclose(f);
	/* A failure of a high or critical check does not fade away. */
	urgency = strcmp(status, "fail") == 0 && severity &&
				  (strcmp(severity, "high") == 0 ||
				   strcmp(severity, "critical") == 0)
			  ? 2
			  : 1;
	s->notification = notify(s->notification, title, body, urgency);
	snprintf(s->status, sizeof(s->status), "%s", status);
	s->at_us = now_us();
	log_info("shown: %s (%s)", title, status);
}

/* A check as the daemon reports it now. */
static void on_check(const json_t *c)
{
	const char *id = json_string_value(json_object_get(c, "id"));
	const char *status = json_string_value(json_object_get(c, "status"));
	struct shown *s;

	if (!id || !status)
		return;
	if (strcmp(status, "fail") == 0 || strcmp(status, "warn") == 0) {
		s = shown_for(id, true);
		if (!s)
			return;
		/* New, worse or better within fail/warn, or due again. */
		if (strcmp(s->status, status) != 0 ||
		    now_us() >= s->at_us + n.renotify_us)
			show_check(s, c, status);
		arm_renotify();
		return;
	}
	s = shown_for(id, false);
	if (!s || !s->status[0])
		return;
	if (strcmp(status, "pass") == 0) {
		const struct check_words *w = messages_check(id);
		_cleanup_free_ char *title = w ? xstrdup(w->resolved_title)
					       : xasprintf("%s: all sorted, "
							   "thank you", id);

		s->notification = notify(s->notification, title,
					 "This now meets the code of "
					 "conduct. Nothing more to do.", 0);
		s->status[0] = '\0';
		log_info("shown: %s", title);
	}
	/* unknown: the daemon could not look; say nothing new. */
	arm_renotify();
}

/* The last status of each failing check, kept to show it again. */
static json_t *last_checks;

static void remember(json_t *c)
{
	const char *id = json_string_value(json_object_get(c, "id"));

	if (!last_checks)
		last_checks = json_object();
	if (id)
		json_object_set(last_checks, id, c);
}

static int on_renotify(sd_event_source *src, uint64_t usec, void *data)
{
	const char *id;
	json_t *c;

	(void)src;
	(void)usec;
	(void)data;
	json_object_foreach(last_checks, id, c)
		on_check(c);
	return 0;
}

static void arm_renotify(void)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < n.nshown; i++)
		if (n.shown[i].status[0] &&
		    n.shown[i].at_us + n.renotify_us < next)
			next = n.shown[i].at_us + n.renotify_us;
	if (next == UINT64_MAX) {
		sd_event_source_set_enabled(n.renotify, SD_EVENT_OFF);
		return;
	}
	sd_event_source_set_time(n.renotify, next);
	sd_event_source_set_enabled(n.renotify, SD_EVENT_ONESHOT);
}

/* A USB or camera event: once. */
static void on_event(const json_t *ev)
{
	const char *type = json_string_value(json_object_get(ev, "type"));
	const char *action = json_string_value(json_object_get(ev, "action"));
	_cleanup_free_ char *title = NULL, *body = NULL;
	size_t len = 0;
	FILE *f;

	if (!type || !action || strcmp(action, "remove") == 0 ||
	    strcmp(action, "end") == 0)
		return;
	f = open_memstream(&body, &len);
	if (!f)
		return;
	if (strcmp(type, "usb_device") == 0) {
		const json_t *d = json_object_get(ev, "device");
		const char *taken = json_string_value(json_object_get(ev,
								      "taken"));

		if (!taken || strcmp(taken, "none") == 0) {
			fclose(f);
			return;
		}
		title = xstrdup(strcmp(taken, "blocked") == 0
					? "This USB stick has been switched off"
					: "This USB stick isn't encrypted");
		fputs("The USB device \"", f);
		put_text(f, json_string_value(json_object_get(d, "manufacturer")));
		fputc(' ', f);
		put_text(f, json_string_value(json_object_get(d, "product")));
		fputs(strcmp(taken, "blocked") == 0
			      ? "\" is not allowed by the school, so it has been "
				"switched off. Unplug it, and use the school's "
				"storage or an encrypted stick from IT support."
			      : "\" is not encrypted. Please don't put school "
				"files on it: use the school's storage or an "
				"encrypted stick from IT support.",
		      f);
	} else if (strcmp(type, "camera_session") == 0 &&
		   json_is_false(json_object_get(ev, "approved"))) {
		title = xstrdup("An app the school hasn't approved is using the "
				"camera");
		fputc('"', f);
		put_text(f, json_string_value(json_object_get(ev, "application")));
		fputs("\" has started using the camera. Pictures and video of "
		      "pupils must be taken only with apps the school has "
		      "approved.", f);
	} else {
		fclose(f);
		return;
	}
	fclose(f);
	notify(0, title, body, 1);
	log_info("shown: %s", title);
}

/* The policy's renotify_hours, unless --renotify-hours was given. */
static void policy_renotify(const json_t *hours)
{
	double h = json_number_value(hours);

	if (n.renotify_fixed || !json_is_number(hours))
		return;
	if (!(h > 0 && h <= 168)) {
		log_warnx("the policy's renotify_hours (%g) is out of range; "
			  "keeping %g", h, (double)n.renotify_us / 3600e6);
		return;
	}
	if ((uint64_t)(h * 3600e6) == n.renotify_us)
		return;
	n.renotify_us = (uint64_t)(h * 3600e6);
	log_debug("a lasting problem is shown again after %g hours", h);
	arm_renotify();
}

static void on_line(const char *line)
{
	json_error_t je;
	json_t *v = json_loads(line, JSON_REJECT_DUPLICATES, &je);
	const char *type = json_string_value(json_object_get(v, "type"));
	size_t i;
	json_t *c;

	if (!v || !type) {
		log_warnx("the status socket sent a line that is not a status");
		json_decref(v);
		return;
	}
	if (strcmp(type, "status") == 0) {
		policy_renotify(json_object_get(json_object_get(v, "policy"),
						"renotify_hours"));
		json_array_foreach(json_object_get(v, "checks"), i, c) {
			remember(c);
			on_check(c);
		}
	} else if (strcmp(type, "finding") == 0) {
		c = json_object_get(v, "finding");
		if (json_is_object(c)) {
			remember(c);
			on_check(c);
		}
	} else if (strcmp(type, "event") == 0) {
		on_event(json_object_get(v, "event"));
	}
	json_decref(v);
}

static void disconnect_and_retry(void);

static int on_socket(sd_event_source *src, int fd, uint32_t revents,
		     void *data)
{
	char *line;
	int r;

	(void)src;
	(void)fd;
	(void)revents;
	(void)data;
	r = statclient_read(n.sc);
	if (r == -EAGAIN)
		return 0;
	if (r == -EMSGSIZE) {
		log_warnx("a status line over %d bytes; reconnecting",
			  STATCLIENT_LINE_MAX);
		disconnect_and_retry();
		return 0;
	}
	if (r < 0) {
		log_info("endpointd closed the status socket; reconnecting");
		disconnect_and_retry();
		return 0;
	}
	while ((line = statclient_line(n.sc))) {
		on_line(line);
		free(line);
	}
	return 0;
}

static int try_connect(sd_event_source *src, uint64_t usec, void *data);

static void disconnect_and_retry(void)
{
	n.io = sd_event_source_unref(n.io);
	statclient_free(n.sc);
	n.sc = NULL;
	sd_event_source_set_time(n.reconnect, now_us() + n.backoff_us);
	sd_event_source_set_enabled(n.reconnect, SD_EVENT_ONESHOT);
	n.backoff_us = n.backoff_us * 2 > RECONNECT_MAX_US ? RECONNECT_MAX_US
							   : n.backoff_us * 2;
}

static int try_connect(sd_event_source *src, uint64_t usec, void *data)
{
	int r;

	(void)src;
	(void)usec;
	(void)data;
	r = statclient_connect(n.socket_path, true, &n.sc);
	if (r == -ENAMETOOLONG) {
		log_errx("%s: socket path too long", n.socket_path);
		return sd_event_exit(n.event, 2);
	}
	if (r < 0) {
		if (n.backoff_us == RECONNECT_MIN_US)
			log_info("endpointd is not running (%s): waiting for it",
				 strerror(-r));
		disconnect_and_retry();
		return 0;
	}
	n.backoff_us = RECONNECT_MIN_US;
	if (sd_event_add_io(n.event, &n.io, statclient_fd(n.sc), EPOLLIN,
			    on_socket, NULL) < 0) {
		disconnect_and_retry();
		return 0;
	}
	capabilities();
	log_info("connected to %s", n.socket_path);
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: endpoint-notify [-S PATH] [--renotify-hours N] [-d]\n"
		"Show endpointd's findings as desktop notifications.\n\n"
		"  -S, --socket PATH       endpointd's status socket (default %s)\n"
		"      --renotify-hours N  show a lasting problem again after N "
		"hours\n"
		"                          (default: the policy's renotify_hours, "
		"4)\n"
		"  -d, --debug             log more\n"
		"  -h, --help              this help\n",
		PATH_STATUS_SOCKET);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "renotify-hours", required_argument, NULL, 'r' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double hours = 4;
	bool debug = false;
	char *end;
	int c, r;

	n.socket_path = PATH_STATUS_SOCKET;
	while ((c = getopt_long(argc, argv, "S:dh", opts, NULL)) != -1) {
		switch (c) {
		case 'S': n.socket_path = optarg; break;
		case 'r':
			hours = strtod(optarg, &end);
			if (*end || !(hours > 0 && hours <= 168)) {
				fprintf(stderr, "endpoint-notify: --renotify-hours "
						"takes a number of hours, over 0 and "
						"up to 168\n");
				return 2;
			}
			n.renotify_fixed = true;
			break;
		case 'd': debug = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init("endpoint-notify", debug);
	n.renotify_us = (uint64_t)(hours * 3600.0 * 1e6);
	n.backoff_us = RECONNECT_MIN_US;
	r = sd_event_default(&n.event);
	if (r >= 0)
		r = sd_bus_open_user(&n.bus);
	if (r < 0) {
		log_errx("no session bus: %s", strerror(-r));
		return 1;
	}
	sd_bus_set_exit_on_disconnect(n.bus, 1);
	sd_bus_attach_event(n.bus, n.event, SD_EVENT_PRIORITY_NORMAL);
	sd_event_set_signal_exit(n.event, true);
	if (sd_event_add_time(n.event, &n.reconnect, CLOCK_MONOTONIC, 0, 0,
			      try_connect, NULL) < 0 ||
	    sd_event_add_time(n.event, &n.renotify, CLOCK_MONOTONIC, 0, 0,
			      on_renotify, NULL) < 0) {
		log_errx("cannot set up timers");
		return 1;
	}
	sd_event_source_set_enabled(n.renotify, SD_EVENT_OFF);
	/* The session bus going away ends the session: exit with it. */
	r = sd_event_loop(n.event);
	statclient_free(n.sc);
	json_decref(last_checks);
	sd_event_source_unref(n.io);
	sd_event_source_unref(n.reconnect);
	sd_event_source_unref(n.renotify);
	sd_bus_flush_close_unref(n.bus);
	sd_event_unref(n.event);
	return r < 0 ? 1 : r;
}
