/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sessions: graphical sessions as logind sees them (sd-bus): who, idle
 * since when, locked or not. A session idle longer than the limit and not
 * locked is an unattended, unlocked laptop.
 *
 * When watching, the module learns of changes from logind's signals
 * (PropertiesChanged of every session and of the manager, which covers
 * inhibitors taken and released, SessionNew, SessionRemoved,
 * PrepareForSleep) and sets one timer for the moment the next idle session
 * would cross the limit; either calls back. Nothing polls.
 */
#ifndef ENDPOINTD_SESSIONS_H
#define ENDPOINTD_SESSIONS_H

#include <jansson.h>
#include <stdint.h>

#include "check.h"

typedef void (*sessions_changed_fn)(void *data);

/* Subscribe to logind's signals on h's bus. Returns 0 or -errno. */
int sessions_watch(struct host *h, sessions_changed_fn fn, void *data);
void sessions_unwatch(void);

/* Ask logind for every graphical user session now. Each element of
 * *sessions: {"id", "user", "type", "idle", "locked", "idle_seconds"}.
 * Unattended ones (idle over limit seconds, not locked) are also in
 * *unattended. When watching, the deadline timer is re-armed. Returns 0 or
 * -errno (no bus, no logind). */
int sessions_query(struct host *h, uint64_t limit, json_t **sessions,
		   json_t **unattended);

/* The users logind has sessions for: [{"uid", "name"}]. Returns 0 or
 * -errno. */
int sessions_users(struct host *h, json_t **users);

/* logind's idle inhibitors (what includes "idle", mode "block" or
 * "block-weak"): each
 * {"who", "why", "uid", "pid"}. Returns 0 or -errno. */
int sessions_inhibitors(struct host *h, json_t **inhibitors);

#endif
