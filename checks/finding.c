/*
 * finding: building a check's result, and running a check so that what it
 * could not see comes out "unknown", never "pass".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "messages.h"
#include "utf8.h"
#include "util.h"

static const char *const status_names[] = { "pass", "warn", "fail",
					    "unknown" };

const char *check_status_name(enum check_status s)
{
	return (unsigned)s < ARRAY_SIZE(status_names) ? status_names[s]
						      : "unknown";
}

bool check_status_parse(const char *name, enum check_status *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(status_names); i++) {
		if (strcmp(name, status_names[i]) == 0) {
			*out = (enum check_status)i;
			return true;
		}
	}
	return false;
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

int check_unreadable(json_t *unknown, int r, const char *verb,
		     const char *path)
{
	if (r < 0 && r != -ENOENT && r != -ENOTDIR)
		json_lossy_append(unknown, "cannot %s %s (%s)", verb, path,
				  strerror(-r));
	return r;
}

void finding_set(struct finding *f, enum check_status status,
		 const char *summary, const char *remedy)
{
	f->status = status;
	free(f->summary);
	free(f->remedy);
	f->summary = summary ? xstrdup(summary) : NULL;
	f->remedy = remedy ? xstrdup(remedy) : NULL;
}

void finding_evidence_json(struct finding *f, const char *key, json_t *v)
{
	json_object_set_new(f->evidence, key, v ? v : json_null());
}

void finding_evidence_str(struct finding *f, const char *key,
			  const char *value)
{
	finding_evidence_json(f, key, json_string_lossy(value));
}

void finding_evidence_int(struct finding *f, const char *key, long long v)
{
	finding_evidence_json(f, key, json_integer(v));
}

json_t *finding_to_json(const struct finding *f)
{
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:O}",
			 "id", f->check,
			 "status", check_status_name(f->status),
			 "severity", severity_name(f->severity),
			 "clause", json_string_lossy(f->clause),
			 "summary", json_string_lossy(f->summary),
			 "remedy", json_string_lossy(f->remedy),
			 "evidence", f->evidence);
}

void finding_free(struct finding *f)
{
	if (!f)
		return;
	free(f->clause);
	free(f->summary);
	free(f->remedy);
	json_decref(f->evidence);
	free(f);
}

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
