/* SPDX-License-Identifier: Apache-2.0 */
/*
 * state: the last finding of every check, the events since the last
 * report, and the report sequence number kept in the state directory.
 *
 * A change of a check's status is an event (time, check, old status, new
 * status). Listeners (the status socket) hear of every finding and event.
 */
#ifndef ENDPOINTD_STATE_H
#define ENDPOINTD_STATE_H

#include <jansson.h>
#include <stdint.h>

#include "check.h"

typedef void (*state_listener_fn)(json_t *line, void *data);

/* Use dir (created 0711 when missing: the uploader
 * walks through it to the spool) for the sequence number; keep at
 * most max_events events between reports. Returns 0 or -errno. */
int state_init(const char *dir, unsigned max_events);
void state_exit(void);

void state_set_max_events(unsigned max_events);
void state_set_listener(state_listener_fn fn, void *data);

/* Record f (ownership taken) as its check's latest finding. Returns true
 * when its status changed from an earlier one. */
bool state_update(struct finding *f);
/* Forget a check's finding (the policy no longer enables it). */
void state_forget(const char *check);
/* The status of a check's latest finding; false when there is none. */
bool state_status(const char *check, enum check_status *out);

/* Every latest finding, as the report's "checks" array (new reference). */
json_t *state_checks_json(void);

/* Add an event (ownership taken): "at" is set to now. When max_events are
 * pending, the oldest is dropped and the drop is counted. */
void state_event(json_t *event);
/* Whether any event waits for the next report. */
bool state_has_events(void);
/* The pending events (new reference); the pending list is emptied. A
 * "events_dropped" event leads when any were dropped. */
json_t *state_take_events(void);

/* Put back events (ownership taken) taken for a report that could not be
 * written, ahead of those that arrived since. */
void state_events_restore(json_t *events);

/* The number the next report takes: one more than the last kept. */
uint64_t state_seq_next(void);
/* Keep seq as the last report's number, durably, so numbers only grow
 * across restarts and none is given twice. Returns 0 or -errno. */
int state_seq_keep(uint64_t seq);
/* The last number kept (0: none yet). */
uint64_t state_seq_last(void);

#endif
