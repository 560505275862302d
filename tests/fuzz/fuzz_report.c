/*
 * fuzz_report: collectord's validation of an endpointd.report/1 document
 * and of an enrolling device's description, on any bytes a laptop (or
 * anyone holding a token) could send.
 *
 * Invariants: the validator answers for every document, never changes it,
 * and names the field that is wrong when it refuses; a report it accepts
 * has the fields the store relies on.
 */
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "reportcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t je;
	json_t *v = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
			       &je);
	char buf[256], *before, *after;
	const char *why;

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
