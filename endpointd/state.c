/* SPDX-License-Identifier: Apache-2.0 */
/*
 * state: findings, pending events and the persistent sequence number.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "state.h"
#include "util.h"

#define SEQ_FILE "seq"

static char *state_dir;
static json_t *state_findings_json;	/* check id -> finding object */
static struct finding **state_findings;
static size_t state_nfindings;
static json_t *state_events;
static unsigned state_max_events;
static unsigned long state_dropped;
static uint64_t state_seq;
static state_listener_fn state_listener;
static void *state_listener_data;

static int seq_load(void)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", state_dir, SEQ_FILE);
	_cleanup_free_ char *buf = NULL;
	char *end;
	int r;

	r = read_file(path, 64, &buf, NULL);
	if (r == -ENOENT) {
		state_seq = 0;
		return 0;
	}
	if (r < 0)
		return r;
	errno = 0;
	state_seq = strtoull(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n')) {
		log_errx("%s: not a sequence number", path);
		return -EINVAL;
	}
	return 0;
}

int state_init(const char *dir, unsigned max_events)
{
	int r;

	if (mkdir(dir, 0711) < 0 && errno != EEXIST)
		return -errno;
	state_dir = xstrdup(dir);
	state_events = json_array();
	state_findings_json = json_object();
	state_max_events = max_events;
	state_dropped = 0;
	remove_stale_temps(dir, SEQ_FILE);
	r = seq_load();
	if (r < 0)
		state_exit();
	return r;
}

void state_exit(void)
{
	for (size_t i = 0; i < state_nfindings; i++)
		finding_free(state_findings[i]);
	free(state_findings);
	state_findings = NULL;
	state_nfindings = 0;
	json_decref(state_events);
	json_decref(state_findings_json);
	state_events = state_findings_json = NULL;
	free(state_dir);
	state_dir = NULL;
	state_listener = NULL;
}

void state_set_max_events(unsigned max_events)
{
	state_max_events = max_events;
}

void state_set_listener(state_listener_fn fn, void *data)
{
	state_listener = fn;
	state_listener_data = data;
}

static void tell(json_t *line)
{
	if (state_listener)
		state_listener(line, state_listener_data);
	json_decref(line);
}

static ssize_t find_index(const char *check)
{
	for (size_t i = 0; i < state_nfindings; i++)
		if (strcmp(state_findings[i]->check, check) == 0)
			return (ssize_t)i;
	return -1;
}

bool state_status(const char *check, enum check_status *out)
{
	ssize_t i = find_index(check);

	if (i < 0)
		return false;
	*out = state_findings[i]->status;
	return true;
}

bool state_update(struct finding *f)
{
	ssize_t i = find_index(f->check);
	json_t *obj = finding_to_json(f);
	bool changed = false;

	if (i >= 0) {
		struct finding *old = state_findings[i];

		changed = old->status != f->status;
		if (changed)
			state_event(json_pack("{s:s, s:s, s:s, s:s}",
					      "type", "status_change",
					      "check", f->check,
					      "old", finding_status_name(old->status),
					      "new", finding_status_name(f->status)));
		finding_free(old);
		state_findings[i] = f;
	} else {
		state_findings = xrealloc(state_findings,
					  (state_nfindings + 1) *
						  sizeof(*state_findings));
		state_findings[state_nfindings++] = f;
	}
	/* Listeners hear of a finding only when what staff see changed. */
	if (!json_equal(json_object_get(state_findings_json, f->check), obj))
		tell(json_pack("{s:s, s:O}", "type", "finding", "finding",
			       obj));
	json_object_set_new(state_findings_json, f->check, obj);
	return changed;
}

void state_forget(const char *check)
{
	ssize_t i = find_index(check);

	if (i < 0)
		return;
	finding_free(state_findings[i]);
	memmove(&state_findings[i], &state_findings[i + 1],
		(state_nfindings - (size_t)i - 1) * sizeof(*state_findings));
	state_nfindings--;
	json_object_del(state_findings_json, check);
}

json_t *state_checks_json(void)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < state_nfindings; i++)
		json_array_append(arr, json_object_get(state_findings_json,
						       state_findings[i]->check));
	return arr;
}

void state_event(json_t *event)
{
	char now[32];

	if (!event)
		return;
	time_rfc3339(now);
	json_object_set_new(event, "at", json_string(now));
	if (json_array_size(state_events) >= state_max_events) {
		json_array_remove(state_events, 0);
		state_dropped++;
	}
	json_array_append(state_events, event);
	tell(json_pack("{s:s, s:o}", "type", "event", "event", event));
}

bool state_has_events(void)
{
	return json_array_size(state_events) > 0 || state_dropped > 0;
}

json_t *state_take_events(void)
{
	json_t *events = state_events;

	if (state_dropped) {
		char now[32];

		time_rfc3339(now);
		json_array_insert_new(events, 0,
				      json_pack("{s:s, s:s, s:I}",
						"at", now,
						"type", "events_dropped",
						"count", (json_int_t)state_dropped));
	}
	state_dropped = 0;
	state_events = json_array();
	return events;
}

uint64_t state_seq_next(void)
{
	return state_seq + 1;
}

int state_seq_keep(uint64_t seq)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", state_dir, SEQ_FILE);
	char buf[32];
	int n, r;

	n = snprintf(buf, sizeof(buf), "%" PRIu64 "\n", seq);
	r = write_file_atomic(path, buf, (size_t)n, 0600);
	if (r < 0)
		return r;
	state_seq = seq;
	return 0;
}

uint64_t state_seq_last(void)
{
	return state_seq;
}

void state_events_restore(json_t *events)
{
	size_t i;
	json_t *e;

	/* Taken events go back in front of any that arrived since, with
	 * the newest kept when that is more than max_events. */
	json_array_extend(events, state_events);
	json_decref(state_events);
	state_events = events;
	while (json_array_size(state_events) > state_max_events) {
		e = json_array_get(state_events, 0);
		if (json_is_object(e) &&
		    strcmp(json_string_value(json_object_get(e, "type")) ?: "",
			   "events_dropped") == 0)
			state_dropped += (unsigned long)json_integer_value(
				json_object_get(e, "count"));
		else
			state_dropped++;
		json_array_remove(state_events, 0);
	}
	/* A restored "events_dropped" is counted again when taken. */
	json_array_foreach(state_events, i, e)
		if (strcmp(json_string_value(json_object_get(e, "type")) ?: "",
			   "events_dropped") == 0) {
			state_dropped += (unsigned long)json_integer_value(
				json_object_get(e, "count"));
			json_array_remove(state_events, i);
			break;
		}
}
