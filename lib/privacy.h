/* SPDX-License-Identifier: Apache-2.0 */
/*
 * privacy: the privacy account. Every field a report can carry, in words
 * a member of staff reads. The report builder sends only what is declared
 * here (privacy_filter) and `endpointctl privacy` prints this table, so
 * what staff are told and what leaves the laptop cannot drift apart.
 *
 * A field is named by its path in the report: keys joined by ".", "[]"
 * after an array whose items are objects, and the items of "checks" and
 * "events" named by their id and type: checks[encryption].evidence.targets,
 * events[usb_device].device.serial. In a declared path a segment may be
 * "*" (any one segment), "name[*]" (any item of that array) or
 * "{a,b,c}" (any of those keys).
 */
#ifndef ENDPOINTD_PRIVACY_H
#define ENDPOINTD_PRIVACY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct privacy_field {
	const char *path;
	const char *what;	/* plain words */
};

/* A part of the report: what its fields say, and when it is sent. */
struct privacy_part {
	const char *prefix;	/* "device", "checks[camera]", "events[*]" */
	const char *title;
	const char *when;	/* NULL: in every report */
	const struct privacy_field *fields;	/* ends with { NULL } */
};

/* Every part of the report, NULL-terminated. */
const struct privacy_part *const *privacy_parts(void);

/* Whether the account declares path. */
bool privacy_declared(const char *path);

/* Remove from report every field the account does not declare, calling
 * undeclared(path, data) for each; returns how many were removed. */
size_t privacy_filter(json_t *report,
		      void (*undeclared)(const char *path, void *data),
		      void *data);

/* The collector's terms (its Endpointd-Terms header, passed on by the
 * uploader's status): a clean copy of t holding only retention_days
 * (1..3650), access (one line of text) and dashboard_accounts (a count or
 * null), or NULL when t is not such an object. */
json_t *privacy_terms(const json_t *t);

/* What is never sent, in words (one paragraph). */
extern const char privacy_never[];

#endif
