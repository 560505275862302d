/* SPDX-License-Identifier: Apache-2.0 */
/*
 * table: the readable form of a list of checks (the report's "checks"
 * array), shared by `endpointd --once` and `endpointctl status`.
 */
#ifndef ENDPOINTD_TABLE_H
#define ENDPOINTD_TABLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* Print checks: status, check, one-line summary and what to do. With
 * colour, statuses are coloured (for a terminal). */
void table_print(FILE *out, const json_t *checks, bool colour);

/* Print s with every control character (C0 but the tab, DEL, C1) shown
 * as '?'. */
void table_put_safe(FILE *out, const char *s);

/* Replace the control characters in every string of v (keys included)
 * with '?', tabs apart: for text about to be shown on a terminal, which an
 * escape sequence could otherwise rewrite, and where a newline in a
 * program's name could add lines that look like endpointctl's own. */
void table_scrub(json_t *v);

#endif
