/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of jarena, the arena collectord builds a report's jansson values
 * in: values built while it is open are whole and readable after it is
 * closed, whatever their size; a document refused halfway (values freed
 * by jansson inside the arena) leaves nothing behind; jansson outside an
 * arena allocates and frees as before. The sanitizer build (each value
 * its own allocation there) catches a value freed twice or leaked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "jarena.h"
#include "jsonin.h"

/* A document of n objects under one array, with a big string in the
 * middle: several chunks, and one value larger than a chunk. */
static char *document(size_t n, size_t big)
{
	size_t cap = n * 64 + big + 64, len = 0;
	char *s = malloc(cap);

	assert_non_null(s);
	len += (size_t)snprintf(s + len, cap - len, "[");
	for (size_t i = 0; i < n; i++) {
		len += (size_t)snprintf(s + len, cap - len,
					"%s{\"id\":%zu,\"name\":\"check %zu\"}",
					i ? "," : "", i, i);
		if (i == n / 2) {
			len += (size_t)snprintf(s + len, cap - len, ",\"");
			memset(s + len, 'x', big);
			len += big;
			len += (size_t)snprintf(s + len, cap - len, "\"");
		}
	}
	snprintf(s + len, cap - len, "]");
	return s;
}

static void values_outlive_close(void **state)
{
	struct jarena a = { 0 };
	char *text = document(2000, 100000), err[256], *dumped;
	json_t *v;

	(void)state;
	jarena_open(&a);
	v = jsonin_parse(text, strlen(text), err);
	jarena_close();
	assert_non_null(v);
	assert_non_null(a.chunks);
	assert_int_equal(json_array_size(v), 2001);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(v, 1999), "id")), 1998);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(v, 7), "name")), "check 7");
	assert_int_equal(json_string_length(json_array_get(v, 1001)), 100000);
	/* Built outside the arena: jansson's own allocation, freed with
	 * free() as its manual says. */
	dumped = json_dumps(v, JSON_COMPACT);
	assert_string_equal(dumped, text);
	free(dumped);
	jarena_free(&a);
	assert_null(a.chunks);
	free(text);
}

static void refused_inside(void **state)
{
	static const char dup[] = "{\"checks\":[{\"id\":\"a\"},{\"id\":\"b\"}],"
				  "\"seq\":1,\"seq\":2}";
	struct jarena a = { 0 };
	char err[256];
	json_t *v;

	(void)state;
	jarena_open(&a);
	v = jsonin_parse(dup, sizeof(dup) - 1, err);
	jarena_close();
	assert_null(v);
	assert_non_null(strstr(err, "appears twice"));
	jarena_free(&a);
	/* The arena again, after it was let go of. */
	jarena_open(&a);
	v = jsonin_parse("{\"a\":[1,2,3]}", strlen("{\"a\":[1,2,3]}"), err);
	jarena_close();
	assert_int_equal(json_array_size(json_object_get(v, "a")), 3);
	jarena_free(&a);
}

static void read_outside(void **state)
{
	static const char two[] = "[{\"id\":\"a\"},{\"id\":\"b\"}]";
	struct jarena a = { 0 };
	json_t *v, *changed, *mine;
	char err[256];

	(void)state;
	jarena_open(&a);
	v = jsonin_parse(two, sizeof(two) - 1, err);
	jarena_close();
	assert_non_null(v);
	/* As the committer does: an array of its own holding some of the
	 * report's values, let go of before the arena. */
	changed = json_array();
	json_array_append(changed, json_array_get(v, 1));
	assert_int_equal(json_array_get(v, 1)->refcount, 2);
	json_decref(changed);
	assert_int_equal(json_array_get(v, 1)->refcount, 1);
	jarena_free(&a);
	/* Outside an arena jansson allocates and frees as before. */
	mine = json_pack("{s:s, s:[i,i]}", "k", "v", "l", 1, 2);
	assert_int_equal(json_array_size(json_object_get(mine, "l")), 2);
	json_decref(mine);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(values_outlive_close),
		cmocka_unit_test(refused_inside),
		cmocka_unit_test(read_outside),
	};

	jarena_setup();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
