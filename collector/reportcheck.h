/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reportcheck: full validation of an endpointd.report/1 document (the
 * schema in docs/report.schema.json), before anything of it is stored.
 * Every string a device sends stays data: checked for type and length,
 * never interpreted.
 */
#ifndef COLLECTORD_REPORTCHECK_H
#define COLLECTORD_REPORTCHECK_H

#include <jansson.h>

/* The largest seq: what a double (the dashboard's JavaScript) holds. */
#define REPORTCHECK_SEQ_MAX (((json_int_t)1 << 53) - 1)
/* Events in one report: endpointd keeps max_events (policy, default
 * 1000) between two reports. */
#define REPORTCHECK_MAX_EVENTS 2000
/* The window an event's time must fall in, around the collector's
 * clock: a laptop's clock may be a day fast, its spool 400 days old. */
#define REPORTCHECK_AHEAD_S (24 * 3600)
#define REPORTCHECK_BEHIND_S (400 * 86400)

/* NULL when report is valid; otherwise what is wrong, naming the field
 * ("checks[2].status: must be one of pass, warn, fail, unknown"). The
 * message is static or kept in buf. Event times are judged against the
 * collector's clock now. */
const char *reportcheck(json_t *report, char buf[static 256]);

/* The same for the "device" object of an enrolment: machine_id is
 * required, the other fields may be left out. */
const char *reportcheck_device(json_t *device, char buf[static 256]);

#endif
