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

#endif
