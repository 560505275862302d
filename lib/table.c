/* SPDX-License-Identifier: Apache-2.0 */
/*
 * table: one block per check, so long summaries stay readable in a
 * terminal of any width.
 */
#include <string.h>

#include "table.h"
#include "util.h"

static const char *colour_of(const char *status)
{
	if (strcmp(status, "pass") == 0)
		return "\033[32m";
	if (strcmp(status, "warn") == 0)
		return "\033[33m";
	if (strcmp(status, "fail") == 0)
		return "\033[1;31m";
	return "\033[35m";
}

static const char *str_or(const json_t *obj, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : def;
}

/* Text from the report may hold what a process or a device chose (a
 * command name, a product string): control characters (C0 but the tab,
 * DEL, C1) never reach the terminal. The copy keeps the length of s. */
static char *scrubbed(const char *s, size_t n)
{
	char *out = xmalloc(n + 1);

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			c = '?';
		else if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
			 (unsigned char)s[i + 1] <= 0x9f) {
			/* A C1 control: "?" and a space keep the length. */
			out[i++] = '?';
			c = ' ';
		}
		out[i] = (char)c;
	}
	out[n] = '\0';
	return out;
}

void table_put_safe(FILE *out, const char *s)
{
	char *t = scrubbed(s, strlen(s));

	fputs(t, out);
	free(t);
}

void table_scrub(json_t *v)
{
	const char *key;
	json_t *x, *tmp;
	void *iter;
	size_t i;

	if (json_is_string(v)) {
		char *s = scrubbed(json_string_value(v), json_string_length(v));

		json_string_setn_nocheck(v, s, strlen(s));
		free(s);
		return;
	}
	json_array_foreach(v, i, x)
		table_scrub(x);
	/* Keys are shown too (evidence is printed whole): a key with a
	 * control character is replaced by its scrubbed form. */
	json_object_foreach_safe(v, iter, key, x) {
		char *k = scrubbed(key, strlen(key));

		table_scrub(x);
		if (strcmp(k, key) != 0) {
			tmp = json_incref(x);
			json_object_del(v, key);
			json_object_set_new_nocheck(v, k, tmp);
		}
		free(k);
	}
}

void table_print(FILE *out, const json_t *checks, bool colour)
{
	size_t i;
	json_t *c;

	if (json_array_size(checks) == 0) {
		fprintf(out, "No checks are enabled in both the policy and "
			     "this build of endpointd.\n");
		return;
	}
	fprintf(out, "%-8s %-12s %s\n", "STATUS", "CHECK", "SUMMARY");
	json_array_foreach(checks, i, c) {
		const char *status = str_or(c, "status", "unknown");
		const char *remedy = str_or(c, "remedy", NULL);

		if (colour)
			fprintf(out, "%s%-8s\033[0m ", colour_of(status), status);
		else
			fprintf(out, "%-8s ", status);
		fprintf(out, "%-12s ", str_or(c, "id", "?"));
		table_put_safe(out, str_or(c, "summary", ""));
		fputc('\n', out);
		if (remedy && strcmp(status, "pass") != 0) {
			fprintf(out, "%-21s What to do: ", "");
			table_put_safe(out, remedy);
			fputc('\n', out);
		}
	}
}
