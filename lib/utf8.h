/* SPDX-License-Identifier: Apache-2.0 */
/*
 * utf8: validation, and repair of text from the machine (hostnames, serials,
 * device strings) that may hold any bytes, before it goes into JSON; and
 * the JSON strings made from such text.
 */
#ifndef ENDPOINTD_UTF8_H
#define ENDPOINTD_UTF8_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* Whether s[0..n) is well-formed UTF-8 (no overlongs, no surrogates). */
bool utf8_valid(const char *s, size_t n);

/* A copy of s[0..n) in which every byte that is not part of a well-formed
 * UTF-8 sequence, and every NUL, is replaced by U+FFFD. Caller frees. */
char *utf8_repair(const char *s, size_t n);

/* C0 and C1 control characters (and DEL) in s, in place, as spaces: text
 * from another program (a collector's error) reaches logs and terminals,
 * where they could forge a line or colour it. */
void utf8_no_controls(char *s);

/* A JSON string for text from the machine: invalid UTF-8 repaired; null
 * for NULL. */
json_t *json_string_lossy(const char *s);
/* json_string_lossy() of a formatted string. */
json_t *json_lossy_vprintf(const char *fmt, va_list ap) _printf_(1, 0);
/* Append json_lossy_vprintf()'s string to array. */
void json_lossy_append(json_t *array, const char *fmt, ...) _printf_(2, 3);

#endif
