/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent: what endpointd does with the checks. It runs every check the
 * policy enables and this build has, keeps the findings in state, turns
 * them into reports, and swaps in a new policy on reload (keeping the old
 * one when the new one is bad).
 */
#ifndef ENDPOINTD_AGENT_H
#define ENDPOINTD_AGENT_H

#include <jansson.h>
#include <stdbool.h>

#include "check.h"
#include "policy.h"

/* Take ownership of p; use h to read the machine and state_dir for the
 * sequence number. Returns 0 or -errno. */
int agent_init(struct host *h, struct policy *p,
	       const struct check_ops *const *registry, const char *state_dir);
void agent_exit(void);

/* Daemon mode: spool reports under spool_dir, serve socket_path, evaluate
 * on a timer at the policy's interval, start the checks' watchers. */
int agent_start(const char *spool_dir, const char *socket_path);
void agent_stop(void);

/* Where a policy accepted from the collector is kept (caller frees); in
 * force, when present, instead of the local file. */
char *agent_collector_policy_path(const char *state_dir);

/* The file of the policy in force. */
const char *agent_policy_path(void);

/* The host the checks read. */
struct host *agent_host(void);

/* Run every enabled check now. */
void agent_evaluate(void);

/* Build a report for printing (endpointd --once): numbered as the next
 * one, pending events taken, the number not kept. */
json_t *agent_report(void);

/* Reload the policy from its file. A bad policy is refused: the error is
 * logged, becomes an event and shows in the status; the old one stays.
 * Returns 0 or -errno. */
int agent_reload(void);

/* The status object the status socket sends first (new reference). */
json_t *agent_status(void);

/* Whether any current finding is "fail". */
bool agent_any_fail(void);

#endif
