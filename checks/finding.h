/* SPDX-License-Identifier: Apache-2.0 */
/*
 * finding: one check's result, as the report's "checks" entries carry it:
 * status, severity and clause from the policy, a summary and a remedy for
 * staff, and evidence for IT.
 */
#ifndef ENDPOINTD_FINDING_H
#define ENDPOINTD_FINDING_H

#include <jansson.h>

#include "policy.h"

enum check_status { CHECK_PASS, CHECK_WARN, CHECK_FAIL, CHECK_UNKNOWN };

/* One check's result: what the report's "checks" entries carry. */
struct finding {
	const char *check;	/* id: the check's policy section name */
	enum check_status status;
	enum severity severity;	/* from the policy */
	char *clause;		/* from the policy */
	char *summary;		/* one line a member of staff understands */
	char *remedy;		/* what to do; NULL when nothing is needed */
	json_t *evidence;	/* key/values for IT; always an object */
};

/* Set status and the texts (remedy may be NULL). Replaces earlier ones. */
void finding_set(struct finding *f, enum check_status status,
		 const char *summary, const char *remedy);
/* Add evidence; strings from the machine may hold any bytes. */
void finding_evidence_str(struct finding *f, const char *key,
			  const char *value);
void finding_evidence_int(struct finding *f, const char *key, long long v);
/* Takes ownership of v. */
void finding_evidence_json(struct finding *f, const char *key, json_t *v);
/* The finding as the report's check object. */
json_t *finding_to_json(const struct finding *f);
void finding_free(struct finding *f);

const char *finding_status_name(enum check_status s);
/* Parse a status name; returns false for anything else. */
bool finding_status_parse(const char *name, enum check_status *out);

#endif
