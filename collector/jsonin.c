/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jsonin: yajl's callbacks build the jansson value as yajl reads.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "jsonin.h"
#include "utf8.h"
#include "util.h"

struct builder {
	json_t *root;
	json_t *open[JSONIN_MAX_DEPTH];	/* objects and arrays being filled */
	int depth;
	char *key;		/* the key of the next value: a copy, since */
	size_t keylen, keycap;	/* yajl decodes the value in the same buffer */
	const char *why;	/* a rule of ours broken, or NULL */
	yajl_handle h;
	size_t end;		/* where the value ended */
	char whybuf[128];
};

static int refuse(struct builder *b, const char *why)
{
	b->why = why;
	return 0;
}

/* Put v (a new reference) where it belongs: the root, the end of the
 * open array, or the open object under the pending key. */
static int add(struct builder *b, json_t *v)
{
	json_t *top;

	if (!v)
		return refuse(b, "out of memory");
	if (b->depth == 0) {
		b->root = v;
		return 1;
	}
	top = b->open[b->depth - 1];
	if (json_is_array(top))
		return json_array_append_new(top, v) == 0;
	if (json_object_getn(top, b->key, b->keylen)) {
		json_decref(v);
		/* Quoted up to 64 bytes (server_error mends a cut
		 * character). */
		snprintf(b->whybuf, sizeof(b->whybuf), "the key \"%.*s\" "
			 "appears twice in one object",
			 (int)(b->keylen > 64 ? 64 : b->keylen), b->key);
		return refuse(b, b->whybuf);
	}
	return json_object_setn_new_nocheck(top, b->key, b->keylen, v) == 0;
}

static int open_value(struct builder *b, json_t *v)
{
	if (b->depth == JSONIN_MAX_DEPTH) {
		json_decref(v);
		return refuse(b, "nested too deep");
	}
	if (!add(b, json_incref(v))) {
		json_decref(v);
		return 0;
	}
	b->open[b->depth++] = v;
	json_decref(v);	/* its parent (or root) holds it */
	return 1;
}

static int on_null(void *ctx)
{
	return add(ctx, json_null());
}

static int on_boolean(void *ctx, int v)
{
	return add(ctx, json_boolean(v));
}

static int on_integer(void *ctx, long long v)
{
	return add(ctx, json_integer(v));
}

static int on_double(void *ctx, double v)
{
	return add(ctx, json_real(v));
}

/* yajl's own check lets overlong forms and surrogates through, and
 * turns a lone surrogate escape into a character: the text it hands over
 * is checked again here (escapes, before parsing: bad_escape). */
static const char *text_problem(const unsigned char *s, size_t n)
{
	if (memchr(s, '\0', n))
		return "a NUL character";
	if (!utf8_valid((const char *)s, n))
		return "bytes that are not UTF-8";
	return NULL;
}

/* Refuse the document if a string or key (what) is not clean text. */
static bool text_refused(struct builder *b, const char *what,
			 const unsigned char *s, size_t n)
{
	const char *why = text_problem(s, n);

	if (!why)
		return false;
	snprintf(b->whybuf, sizeof(b->whybuf), "%s holds %s", what, why);
	refuse(b, b->whybuf);
	return true;
}

static int on_string(void *ctx, const unsigned char *s, size_t n)
{
	struct builder *b = ctx;

	if (text_refused(b, "a string", s, n))
		return 0;
	return add(b, json_stringn_nocheck((const char *)s, n));
}

static int on_start_map(void *ctx)
{
	return open_value(ctx, json_object());
}

static int on_map_key(void *ctx, const unsigned char *s, size_t n)
{
	struct builder *b = ctx;

	if (text_refused(b, "a key", s, n))
		return 0;
	if (n + 1 > b->keycap) {
		b->keycap = n + 1 > 64 ? n + 1 : 64;
		b->key = xrealloc(b->key, b->keycap);
	}
	memcpy(b->key, s, n);
	b->keylen = n;
	return 1;
}

static int on_end(void *ctx)
{
	struct builder *b = ctx;

	if (--b->depth == 0)
		b->end = yajl_get_bytes_consumed(b->h);
	return 1;
}

static int on_start_array(void *ctx)
{
	return open_value(ctx, json_array());
}

static const yajl_callbacks callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_boolean,
	.yajl_integer = on_integer,
	.yajl_double = on_double,
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_map_key,
	.yajl_end_map = on_end,
	.yajl_start_array = on_start_array,
	.yajl_end_array = on_end,
};

static int hex4(const char *p)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		int c = p[i], d = c >= '0' && c <= '9' ? c - '0'
			       : c >= 'a' && c <= 'f' ? c - 'a' + 10
			       : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* Every \u escape of a surrogate is a high one followed at once by a low
 * one, as jansson requires; yajl would take "\ud800" alone for "?".
 * In JSON a backslash appears only in a string, where it starts an
 * escape of the next character; one outside a string is yajl's error.
 * The offset of the first bad escape, or -1. */
static long bad_escape(const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	while ((p = memchr(p, '\\', (size_t)(end - p))) && end - p >= 2) {
		int u = p[1] == 'u' && end - p >= 6 ? hex4(p + 2) : -1;

		if (u >= 0xdc00 && u <= 0xdfff)
			return p - text;
		if (u >= 0xd800 && u <= 0xdbff) {
			int low = end - p >= 12 && p[6] == '\\' && p[7] == 'u'
					  ? hex4(p + 8) : -1;

			if (low < 0xdc00 || low > 0xdfff)
				return p - text;
			p += 12;
		} else {
			p += 2;
		}
	}
	return -1;
}

json_t *jsonin_parse(const char *text, size_t len, char err[static 256])
{
	struct builder b = { 0 };
	long bad = bad_escape(text, len);
	const char *ff = memchr(text, '\f', len), *vt = memchr(text, '\v', len);
	yajl_handle h;
	yajl_status st;

	if (bad >= 0) {
		snprintf(err, 256, "not valid JSON: a \\u escape of half a "
			 "surrogate pair (at byte %ld)", bad);
		return NULL;
	}
	/* yajl takes a form feed or vertical tab for white space; JSON has
	 * neither, there or in a string. */
	if (ff || vt) {
		snprintf(err, 256, "not valid JSON: a control character (at "
			 "byte %td)", (ff && (!vt || ff < vt) ? ff : vt) - text);
		return NULL;
	}
	h = b.h = yajl_alloc(&callbacks, NULL, &b);
	if (!h) {
		snprintf(err, 256, "not valid JSON: out of memory");
		return NULL;
	}
	st = yajl_parse(h, (const unsigned char *)text, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	if (st == yajl_status_ok && !json_is_object(b.root) &&
	    !json_is_array(b.root)) {
		st = yajl_status_error;
		b.why = "an object or an array must come first";
	}
	/* yajl lets the start of a string after the value through. */
	for (size_t i = b.end; st == yajl_status_ok && i < len; i++) {
		if (!strchr(" \t\n\r", text[i]) || !text[i]) {
			st = yajl_status_error;
			b.why = "something after the value";
		}
	}
	if (st != yajl_status_ok) {
		size_t at = yajl_get_bytes_consumed(h);

		if (b.why) {
			snprintf(err, 256, "not valid JSON: %s (at byte %zu)",
				 b.why, at);
		} else {
			unsigned char *msg = yajl_get_error(h, 0, NULL, 0);
			size_t n = msg ? strcspn((char *)msg, "\n") : 0;

			snprintf(err, 256, "not valid JSON: %.*s (at byte %zu)",
				 (int)n, msg ? (char *)msg : "", at);
			yajl_free_error(h, msg);
		}
		json_decref(b.root);
		b.root = NULL;
	}
	yajl_free(h);
	free(b.key);
	return b.root;
}
