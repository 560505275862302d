/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jsonin: a request body (JSON) into a jansson value, fast. jansson's own
 * parser reads a byte at a time through a stream and cost 32 us of a 2.5
 * KB report, the largest share of collectord's CPU under load; yajl's
 * lexer with jansson values built from its callbacks costs 7 us and gives
 * the same value. The rules are jansson's strict ones: UTF-8 checked, no
 * NUL in a string or key, no key twice in an object, no number out of
 * range, nothing after the value, and an object or array at the top.
 */
#ifndef COLLECTORD_JSONIN_H
#define COLLECTORD_JSONIN_H

#include <jansson.h>
#include <stddef.h>

/* Objects and arrays nested deeper than this are refused (a report nests
 * five deep). */
#define JSONIN_MAX_DEPTH 64

/* The value text[0..len) holds, or NULL with why in err ("not valid JSON:
 * ... (at byte N)"). */
json_t *jsonin_parse(const char *text, size_t len, char err[static 256]);

#endif
