/* SPDX-License-Identifier: Apache-2.0 */
/*
 * finding: building a check's result.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "messages.h"
#include "utf8.h"
#include "util.h"

static const char *const status_names[] = { "pass", "warn", "fail",
					    "unknown" };

const char *finding_status_name(enum check_status s)
{
	return (unsigned)s < ARRAY_SIZE(status_names) ? status_names[s]
						      : "unknown";
}

bool finding_status_parse(const char *name, enum check_status *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(status_names); i++) {
		if (strcmp(name, status_names[i]) == 0) {
			*out = (enum check_status)i;
			return true;
		}
	}
	return false;
}

void finding_set(struct finding *f, enum check_status status,
		 const char *summary, const char *remedy)
{
	f->status = status;
	free(f->summary);
	free(f->remedy);
	f->summary = summary ? xstrdup(summary) : NULL;
	f->remedy = remedy ? xstrdup(remedy) : NULL;
}

void finding_evidence_json(struct finding *f, const char *key, json_t *v)
{
	json_object_set_new(f->evidence, key, v ? v : json_null());
}

void finding_evidence_str(struct finding *f, const char *key,
			  const char *value)
{
	finding_evidence_json(f, key, json_string_lossy(value));
}

void finding_evidence_int(struct finding *f, const char *key, long long v)
{
	finding_evidence_json(f, key, json_integer(v));
}

json_t *finding_to_json(const struct finding *f)
{
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:O}",
			 "id", f->check,
			 "status", finding_status_name(f->status),
			 "severity", severity_name(f->severity),
			 "clause", json_string_lossy(f->clause),
			 "summary", json_string_lossy(f->summary),
			 "remedy", json_string_lossy(f->remedy),
			 "evidence", f->evidence);
}

void finding_free(struct finding *f)
{
	if (!f)
		return;
	free(f->clause);
	free(f->summary);
	free(f->remedy);
	json_decref(f->evidence);
	free(f);
}
