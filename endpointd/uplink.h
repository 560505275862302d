/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uplink: endpointd's side of the spool it shares with the uploader.
 *
 * endpointd never talks to the network. It leaves the uploader its
 * settings (uploader.json: the policy's [report] keys the uploader needs)
 * and watches the spool with inotify for what the uploader leaves in
 * return: its status (uploader.status, shown by endpointctl status; a
 * report the collector refused for good becomes an event) and policies
 * fetched from the collector (policy.incoming, handed to the agent, which
 * validates them with the same loader as any policy file). Both are
 * untrusted input: read without following links, bounded, checked field
 * by field.
 */
#ifndef ENDPOINTD_UPLINK_H
#define ENDPOINTD_UPLINK_H

#include <jansson.h>
#include <stddef.h>

#include "policy.h"

/* text is NULL when the file could not be read; error says why. */
typedef void (*uplink_policy_fn)(const char *text, size_t len,
				 const char *error);
typedef void (*uplink_event_fn)(json_t *event);

/* Watch the spool (spool_init() first); state_dir keeps which refused
 * reports were already named in a report. Returns 0 or -errno. */
int uplink_init(const char *state_dir, uplink_policy_fn on_policy,
		 uplink_event_fn on_event);
void uplink_exit(void);

/* Leave the uploader the settings of policy p. Returns 0 or -errno. */
int uplink_publish(const struct policy *p);

/* The uploader's last status as endpointd checked it, with the spool's
 * size (new reference); spool_error is the last failure to write a
 * report, or NULL. */
json_t *uplink_status(const char *spool_error);

#endif
