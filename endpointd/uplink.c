/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uplink: settings out to the uploader, status and policies back in.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "privacy.h"
#include "check.h"
#include "log.h"
#include "loop.h"
#include "spool.h"
#include "uplink.h"
#include "util.h"

#define STATUS_MAX (64 * 1024)
#define POLICY_MAX (1024 * 1024)
#define REJECTED_MAX 16

static int uplink_fd = -1;
static struct loop_source *uplink_src;
static json_t *uplink_last;		/* checked copy of uploader.status */
static char *uplink_seen_path;		/* highest refused seq already named */
static uint64_t uplink_seen;
static uplink_policy_fn uplink_on_policy;
static uplink_event_fn uplink_on_event;

static char *in_spool(const char *name)
{
	return xasprintf("%s/%s", spool_path(), name);
}

int uplink_publish(const struct policy *p)
{
	_cleanup_free_ char *path = in_spool(SPOOL_SETTINGS_NAME);
	_cleanup_free_ char *text = NULL;
	json_t *s, *pins = json_array();
	int r;

	for (size_t i = 0; i < p->report.pinned_pubkey.n; i++)
		json_array_append_new(pins,
				      json_string(p->report.pinned_pubkey.v[i]));
	s = json_pack("{s:s, s:o, s:o, s:i, s:i}",
		      "schema", "endpointd.uploader/1",
		      "ca_file", p->report.ca_file.n
				 ? json_string(p->report.ca_file.v[0])
				 : json_null(),
		      "pinned_pubkey", pins,
		      "retry_max_seconds", (json_int_t)p->report.retry_max_seconds,
		      "heartbeat_minutes", (json_int_t)p->report.heartbeat_minutes);
	text = json_dumps(s, JSON_COMPACT);
	json_decref(s);
	r = text ? write_file_atomic(path, text, strlen(text), 0640) : -ENOMEM;
	if (r < 0)
		log_warnx("%s: %s", path, strerror(-r));
	return r;
}

/* Copy key from src to dst when it has the right type: a string of at
 * most max bytes (made valid UTF-8), a non-negative integer, or null. */
static void take(json_t *dst, const json_t *src, const char *key, char type,
		 size_t max)
{
	json_t *v = json_object_get(src, key);

	if (json_is_null(v)) {
		json_object_set_new(dst, key, json_null());
	} else if (type == 's' && json_is_string(v) &&
		   json_string_length(v) <= max) {
		json_object_set_new(dst, key, json_string_lossy(
						      json_string_value(v)));
	} else if (type == 'i' && json_is_integer(v) &&
		   json_integer_value(v) >= 0) {
		json_object_set_new(dst, key, json_integer(json_integer_value(v)));
	}
}

static json_t *checked_status(const json_t *in)
{
	static const char *const states[] = { "not_enrolled", "idle",
					      "sending", "retrying",
					      "token_revoked", NULL };
	const char *st = json_string_value(json_object_get(in, "state"));
	json_t *out = json_object(), *rej = json_array(), *e;
	size_t i;

	for (i = 0; st && states[i]; i++)
		if (strcmp(st, states[i]) == 0)
			json_object_set_new(out, "state", json_string(st));
	take(out, in, "collector", 's', 2048);
	take(out, in, "device_id", 'i', 0);
	take(out, in, "last_delivery", 's', 64);
	take(out, in, "last_attempt", 's', 64);
	take(out, in, "next_attempt", 's', 64);
	take(out, in, "last_error", 's', 512);
	take(out, in, "delivered", 'i', 0);
	take(out, in, "rejected_total", 'i', 0);
	json_array_foreach(json_object_get(in, "rejected"), i, e) {
		json_t *r = json_object();

		if (i == REJECTED_MAX)
			break;
		take(r, e, "seq", 'i', 0);
		take(r, e, "http_status", 'i', 0);
		take(r, e, "error", 's', 512);
		take(r, e, "at", 's', 64);
		if (json_is_integer(json_object_get(r, "seq")))
			json_array_append(rej, r);
		json_decref(r);
	}
	json_object_set_new(out, "rejected", rej);
	/* The collector's terms, for endpointctl privacy. */
	if ((e = privacy_terms(json_object_get(in, "terms"))))
		json_object_set_new(out, "terms", e);
	return out;
}

/* Each report refused since the last one named becomes an event. */
static void name_rejected(const json_t *status)
{
	uint64_t highest = uplink_seen;
	size_t i;
	json_t *e;
	char buf[24];

	json_array_foreach(json_object_get(status, "rejected"), i, e) {
		uint64_t seq = (uint64_t)json_integer_value(
			json_object_get(e, "seq"));

		if (seq <= uplink_seen)
			continue;
		uplink_on_event(json_pack("{s:s, s:I, s:O?, s:O?}",
					  "type", "report_rejected",
					  "seq", (json_int_t)seq,
					  "http_status",
					  json_object_get(e, "http_status"),
					  "error", json_object_get(e, "error")));
		if (seq > highest)
			highest = seq;
	}
	if (highest == uplink_seen)
		return;
	uplink_seen = highest;
	snprintf(buf, sizeof(buf), "%" PRIu64 "\n", highest);
	if (write_file_atomic(uplink_seen_path, buf, strlen(buf), 0600) < 0)
		log_warn("%s", uplink_seen_path);
}

static void read_status(void)
{
	_cleanup_free_ char *path = in_spool(SPOOL_STATUS_NAME);
	_cleanup_free_ char *text = NULL;
	json_error_t je;
	json_t *in;
	size_t len;
	int r;

	r = read_file_nofollow(path, STATUS_MAX, &text, &len);
	if (r == -ENOENT)
		return;
	if (r < 0) {
		log_warnx("%s: %s", path, strerror(-r));
		return;
	}
	in = json_loadb(text, len, 0, &je);
	if (!json_is_object(in)) {
		log_warnx("%s: not a status object: %s", path,
			  in ? "wrong type" : je.text);
		json_decref(in);
		return;
	}
	json_decref(uplink_last);
	uplink_last = checked_status(in);
	json_decref(in);
	name_rejected(uplink_last);
}

static void read_policy(void)
{
	_cleanup_free_ char *path = in_spool(SPOOL_POLICY_NAME);
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	r = read_file_nofollow(path, POLICY_MAX, &text, &len);
	if (r == -ENOENT)
		return;
	/* Taken, whatever it holds: a bad one is refused once. */
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("%s", path);
	if (r < 0) {
		_cleanup_free_ char *why = xasprintf(
			"%s: cannot be read: %s", SPOOL_POLICY_NAME,
			r == -EFBIG ? "larger than 1 MiB" : strerror(-r));

		uplink_on_policy(NULL, 0, why);
		return;
	}
	uplink_on_policy(text, len, NULL);
}

static void on_inotify(int fd, uint32_t events, void *data)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool status = false, policy = false;
	ssize_t n;

	(void)events;
	(void)data;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *e = (void *)p;

			if (e->mask & IN_Q_OVERFLOW)
				status = policy = true;
			else if (e->len && strcmp(e->name, SPOOL_STATUS_NAME) == 0)
				status = true;
			else if (e->len && strcmp(e->name, SPOOL_POLICY_NAME) == 0)
				policy = true;
			p += sizeof(*e) + e->len;
		}
	}
	if (status)
		read_status();
	if (policy)
		read_policy();
}

int uplink_init(const char *state_dir, uplink_policy_fn on_policy,
		 uplink_event_fn on_event)
{
	_cleanup_free_ char *seen = NULL;

	uplink_on_policy = on_policy;
	uplink_on_event = on_event;
	uplink_seen_path = xasprintf("%s/rejected-named", state_dir);
	if (read_file(uplink_seen_path, 64, &seen, NULL) == 0)
		uplink_seen = strtoull(seen, NULL, 10);
	uplink_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (uplink_fd < 0)
		goto failed;
	if (inotify_add_watch(uplink_fd, spool_path(),
			      IN_MOVED_TO | IN_CLOSE_WRITE) < 0)
		goto failed;
	uplink_src = loop_add_fd(uplink_fd, EPOLLIN, on_inotify, NULL);
	if (!uplink_src)
		goto failed;
	read_status();
	read_policy();
	return 0;

failed:;
	int r = -errno;

	uplink_exit();
	return r;
}

void uplink_exit(void)
{
	loop_remove(uplink_src);
	uplink_src = NULL;
	if (uplink_fd >= 0)
		close(uplink_fd);
	uplink_fd = -1;
	json_decref(uplink_last);
	uplink_last = NULL;
	free(uplink_seen_path);
	uplink_seen_path = NULL;
	uplink_seen = 0;
}

json_t *uplink_status(const char *spool_error)
{
	json_t *out = uplink_last ? json_deep_copy(uplink_last)
				  : json_pack("{s:s}", "state", "unknown");
	unsigned reports = 0;
	uint64_t bytes = 0;

	if (spool_usage(&reports, &bytes) == 0)
		json_object_set_new(out, "spool",
				    json_pack("{s:i, s:I, s:o}",
					      "reports", (json_int_t)reports,
					      "bytes", (json_int_t)bytes,
					      "error",
					      json_string_lossy(spool_error)));
	return out;
}
