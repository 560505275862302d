/* SPDX-License-Identifier: Apache-2.0 */
/*
 * utf8: a strict decoder of one sequence at a time (RFC 3629), and JSON
 * strings of text repaired by it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "util.h"

/* Length of the well-formed sequence at s, or 0. */
static size_t seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	while (n > 0) {
		size_t l;
		uint64_t w;

		/* Eight ASCII bytes at a time: most of a report is ASCII. */
		if (n >= 8) {
			memcpy(&w, u, 8);
			if (!(w & UINT64_C(0x8080808080808080))) {
				u += 8;
				n -= 8;
				continue;
			}
		}
		l = seq_len(u, n);

		if (l == 0)
			return false;
		u += l;
		n -= l;
	}
	return true;
}

char *utf8_repair(const char *s, size_t n)
{
	static const char fffd[] = "\xef\xbf\xbd";
	const unsigned char *u = (const unsigned char *)s;
	char *out = xmalloc(n * 3 + 1), *o = out;

	while (n > 0) {
		size_t l = seq_len(u, n);

		if (l == 0 || *u == 0) {
			memcpy(o, fffd, 3);
			o += 3;
			l = 1;
		} else {
			memcpy(o, u, l);
			o += l;
		}
		u += l;
		n -= l;
	}
	*o = '\0';
	return out;
}

json_t *json_string_lossy(const char *s)
{
	_cleanup_free_ char *fixed = NULL;
	size_t n;

	if (!s)
		return json_null();
	n = strlen(s);
	if (utf8_valid(s, n))
		return json_stringn(s, n);
	fixed = utf8_repair(s, n);
	return json_string(fixed);
}

json_t *json_lossy_vprintf(const char *fmt, va_list ap)
{
	_cleanup_free_ char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	return json_string_lossy(s);
}

void json_lossy_append(json_t *array, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	json_array_append_new(array, json_lossy_vprintf(fmt, ap));
	va_end(ap);
}

void utf8_no_controls(char *s)
{
	for (unsigned char *p = (unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			*p = ' ';
		else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			p[0] = p[1] = ' ';
	}
}
