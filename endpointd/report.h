/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report: the JSON report (schema "endpointd.report/1", documented in
 * docs/report.schema.json) that carries one laptop's state to the
 * collector: device identity, policy, sequence number, time, every check
 * and the events since the last report.
 */
#ifndef ENDPOINTD_REPORT_H
#define ENDPOINTD_REPORT_H

#include <jansson.h>
#include <stdint.h>

#include "check.h"
#include "policy.h"

#define REPORT_SCHEMA "endpointd.report/1"

/* The policy's name, version and sha256. */
json_t *report_policy(const struct policy *p);

/* A whole report. Steals the references to checks and events. */
json_t *report_build(const struct host *h, const struct policy *p,
		     uint64_t seq, json_t *checks, json_t *events);

#endif
