/*
 * utf8: validation, and repair of text from the machine (hostnames, serials,
 * device strings) that may hold any bytes, before it goes into JSON.
 */
#ifndef ENDPOINTD_UTF8_H
#define ENDPOINTD_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Whether s[0..n) is well-formed UTF-8 (no overlongs, no surrogates). */
bool utf8_valid(const char *s, size_t n);

/* A copy of s[0..n) in which every byte that is not part of a well-formed
 * UTF-8 sequence, and every NUL, is replaced by U+FFFD. Caller frees. */
char *utf8_repair(const char *s, size_t n);

#endif
