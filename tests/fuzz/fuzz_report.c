/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_report: collectord's validation of an endpointd.report/1 document
 * and of an enrolling device's description, on any bytes a laptop (or
 * anyone holding a token) could send.
 *
 * Invariants: the validator answers for every document, never changes it,
 * and names the field that is wrong when it refuses; a report it accepts
 * has the fields the store relies on.
 *
 * And collectord's parser (jsonin: yajl building jansson values) accepts
 * exactly what jansson's strict parser accepts, nested up to its depth
 * and without a raw NUL byte, and gives the same value.
 */
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "jsonin.h"
#include "reportcheck.h"

static int depth(json_t *v)
{
	const char *k;
	json_t *x;
	size_t i;
	int d = 0;

	if (json_is_object(v))
		json_object_foreach(v, k, x)
			d = d > depth(x) ? d : depth(x);
	else if (json_is_array(v))
		json_array_foreach(v, i, x)
			d = d > depth(x) ? d : depth(x);
	else
		return 0;
	return d + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t je;
	json_t *v = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
			       &je);
	char buf[256], *before, *after;
	json_t *fast = jsonin_parse((const char *)data, size, buf);
	const char *why;

	if (fast && !v)
		fuzz_fail("jsonin accepted what jansson refuses (%s)", je.text);
	/* jansson lets a raw NUL byte between tokens through; JSON has no
	 * place for one, and jsonin refuses it. */
	if (!fast && v && depth(v) <= JSONIN_MAX_DEPTH &&
	    !memchr(data, '\0', size))
		fuzz_fail("jsonin refused what jansson accepts: %s", buf);
	if (fast && !json_equal(fast, v))
		fuzz_fail("jsonin and jansson read different values");
	if (!fast && (strncmp(buf, "not valid JSON: ", 16) != 0 || !buf[16]))
		fuzz_fail("jsonin refused without a reason: %s", buf);
	json_decref(fast);
	if (!v)
		return 0;
	before = json_dumps(v, JSON_SORT_KEYS | JSON_ENCODE_ANY);
	why = reportcheck(v, buf);
	if (why && !*why)
		fuzz_fail("a report refused with an empty reason");
	if (!why && (!json_is_object(v) ||
		     !json_is_string(json_object_get(v, "schema")) ||
		     !json_is_array(json_object_get(v, "checks"))))
		fuzz_fail("a report accepted without its schema or checks");
	why = reportcheck_device(v, buf);
	if (why && !*why)
		fuzz_fail("a device refused with an empty reason");
	after = json_dumps(v, JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (!before || !after || strcmp(before, after) != 0)
		fuzz_fail("validation changed the document");
	free(before);
	free(after);
	json_decref(v);
	return 0;
}
