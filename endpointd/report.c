/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report: assembling the report with jansson, keeping it to the fields
 * the privacy account declares (lib/privacy.c). Every string read from the
 * machine goes through json_string_lossy(), so a hostname or serial with
 * control bytes or invalid UTF-8 still gives valid JSON.
 */
#include <stdlib.h>
#include <string.h>

#include "privacy.h"
#include "device.h"
#include "log.h"
#include "report.h"
#include "util.h"

json_t *report_policy(const struct policy *p)
{
	return json_pack("{s:o, s:o, s:s}",
			 "name", json_string_lossy(p->name),
			 "version", json_string_lossy(p->version),
			 "sha256", p->sha256);
}

/* A field the privacy account does not declare is a bug in this program:
 * it is not sent, and the log says which. */
static void undeclared(const char *path, void *data)
{
	(void)data;
	log_errx("report: %s is not in the privacy account (endpointctl "
		 "privacy); not sent", path);
}

json_t *report_build(const struct host *h, const struct policy *p,
		     uint64_t seq, json_t *checks, json_t *events)
{
	json_t *report;
	char now[32];

	time_rfc3339(now);
	report = json_pack("{s:s, s:o, s:o, s:I, s:s, s:o, s:o}",
			 "schema", REPORT_SCHEMA,
			 "device", device_identity(h),
			 "policy", report_policy(p),
			 "seq", (json_int_t)seq,
			 "generated_at", now,
			 "checks", checks,
			 "events", events);
	/* Only what staff are told of leaves the laptop. */
	privacy_filter(report, undeclared, NULL);
	return report;
}
