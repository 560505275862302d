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

/* NULL when report is valid; otherwise what is wrong, naming the field
 * ("checks[2].status: must be one of pass, warn, fail, unknown"). The
 * message is static or kept in buf. */
const char *reportcheck(json_t *report, char buf[static 256]);

/* The same for the "device" object of an enrolment: machine_id is
 * required, the other fields may be left out. */
const char *reportcheck_device(json_t *device, char buf[static 256]);

#endif
