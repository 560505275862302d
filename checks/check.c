/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check: every check the product runs, one ops table per file in
 * checks/, and running one so that what it could not see comes out
 * "unknown", never "pass". A check is listed here only once it is real; a
 * check the policy names but this build lacks is absent from reports,
 * never a stand-in.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "messages.h"

extern const struct check_ops encryption_check;
extern const struct check_ops screen_lock_check;
extern const struct check_ops usb_storage_check;
extern const struct check_ops camera_check;

const struct check_ops *const check_registry[] = {
	&encryption_check,
	&screen_lock_check,
	&usb_storage_check,
	&camera_check,
	NULL,
};

const struct check_ops *check_find(const struct check_ops *const *registry,
				   const char *id)
{
	for (; *registry; registry++)
		if (strcmp((*registry)->id, id) == 0)
			return *registry;
	return NULL;
}

struct finding *check_run(const struct check_ops *ops, struct host *h,
			  const struct policy *p)
{
	const struct policy_section *sec = policy_section(p, ops->id);
	struct finding *f = xcalloc(1, sizeof(*f));
	int r;

	f->check = ops->id;
	f->status = CHECK_UNKNOWN;
	f->severity = sec ? sec->severity : SEVERITY_HIGH;
	f->clause = xstrdup(sec && sec->clause ? sec->clause : "");
	f->evidence = json_object();
	r = ops->evaluate(h, p, f);
	if (r < 0) {
		_cleanup_free_ char *why = xasprintf(SAY_BROKEN, strerror(-r));

		finding_set(f, CHECK_UNKNOWN, why, SAY_BROKEN_DO);
		finding_evidence_str(f, "error", strerror(-r));
	} else if (!f->summary) {
		/* A result nobody can read is no result. */
		finding_set(f, CHECK_UNKNOWN, SAY_NO_RESULT, SAY_BROKEN_DO);
	}
	return f;
}

int check_unreadable(json_t *unknown, int r, const char *verb,
		     const char *path)
{
	if (r < 0 && r != -ENOENT && r != -ENOTDIR)
		json_lossy_append(unknown, "cannot %s %s (%s)", verb, path,
				  strerror(-r));
	return r;
}
