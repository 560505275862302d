/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reportcheck: the schema's rules, by hand over jansson values, so every
 * error can name its field.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "reportcheck.h"
#include "util.h"

#define MAX_TEXT 4096		/* a clause, a summary */
#define MAX_SHORT 256		/* identity fields, names */
#define MAX_CHECKS 64

static const char *bad(char buf[static 256], const char *fmt, ...)
	_printf_(2, 3);

static const char *bad(char buf[static 256], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, 256, fmt, ap);
	va_end(ap);
	return buf;
}

static bool is_text(json_t *v, size_t max, bool nullable)
{
	if (nullable && json_is_null(v))
		return true;
	return json_is_string(v) && json_string_length(v) <= max;
}

static bool is_word(json_t *v)
{
	const char *s = json_string_value(v);
	size_t n = s ? strlen(s) : 0;

	return n > 0 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz_") == n;
}

static bool one_of(json_t *v, const char *const *names)
{
	const char *s = json_string_value(v);

	for (; s && *names; names++)
		if (strcmp(s, *names) == 0)
			return true;
	return false;
}

/* Digits only, n of them: sscanf's %d would take "-1" or " 1". */
static bool digits(const char *s, size_t n, int *out)
{
	*out = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*out = *out * 10 + (s[i] - '0');
	}
	return true;
}

static int month_days(int y, int mo)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
				    30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return mo == 2 && leap ? 29 : days[mo - 1];
}

/* RFC 3339 in UTC: YYYY-MM-DDTHH:MM:SS[.frac]Z, every field in its real
 * range (a leap second allowed), into *t when not NULL. */
static bool is_time_at(json_t *v, time_t *t)
{
	const char *s = json_string_value(v);
	size_t n = s ? strlen(s) : 0, frac = 0;
	int y, mo, d, h, mi, sec;
	struct tm tm;

	if (n < 20 || n > 30 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || !digits(s, 4, &y) ||
	    !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
	    !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) ||
	    !digits(s + 17, 2, &sec))
		return false;
	if (s[19] == '.')
		frac = strspn(s + 20, "0123456789");
	if (s[19] == '.' ? frac < 1 || frac > 9 || s[20 + frac] != 'Z' ||
			   n != 21 + frac
			 : s[19] != 'Z' || n != 20)
		return false;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) ||
	    h > 23 || mi > 59 || sec > 60)
		return false;
	if (t) {
		tm = (struct tm){ .tm_year = y - 1900, .tm_mon = mo - 1,
				  .tm_mday = d, .tm_hour = h, .tm_min = mi,
				  .tm_sec = sec };
		*t = timegm(&tm);
	}
	return true;
}

static bool is_time(json_t *v)
{
	return is_time_at(v, NULL);
}

static bool only_keys(json_t *obj, const char *const *keys,
		      const char **extra)
{
	const char *k;
	json_t *v;

	json_object_foreach(obj, k, v) {
		const char *const *p;

		for (p = keys; *p && strcmp(*p, k) != 0; p++)
			;
		if (!*p) {
			*extra = k;
			return false;
		}
	}
	return true;
}

/* With all, every field must be there (a report); without, only
 * machine_id (an enrolment). */
static const char *check_device(json_t *dev, bool all, char buf[static 256])
{
	static const char *const keys[] = { "machine_id", "hostname", "vendor",
					    "model", "serial", "os",
					    "agent_version", NULL };
	const char *extra, *mid;

	if (!json_is_object(dev))
		return "device: must be an object";
	if (!only_keys(dev, keys, &extra))
		return bad(buf, "device.%.64s: not a field of the schema", extra);
	mid = json_string_value(json_object_get(dev, "machine_id"));
	if (!mid || !*mid || strlen(mid) > 64 ||
	    strspn(mid, "0123456789abcdef") != strlen(mid))
		return "device.machine_id: must be the machine's id (hex, 1 to "
		       "64 characters)";
	for (const char *const *k = keys + 1; *k; k++)
		if ((all || json_object_get(dev, *k)) &&
		    !is_text(json_object_get(dev, *k), MAX_SHORT,
			     strcmp(*k, "agent_version") != 0))
			return bad(buf, "device.%s: must be a string of at most "
				   "%d bytes%s", *k, MAX_SHORT,
				   strcmp(*k, "agent_version") ? " or null" : "");
	return NULL;
}

const char *reportcheck_device(json_t *dev, char buf[static 256])
{
	return check_device(dev, false, buf);
}

static const char *check_policy(json_t *pol, char buf[static 256])
{
	static const char *const keys[] = { "name", "version", "sha256", NULL };
	const char *extra, *sha;

	if (!json_is_object(pol))
		return "policy: must be an object";
	if (!only_keys(pol, keys, &extra))
		return bad(buf, "policy.%.64s: not a field of the schema", extra);
	if (!is_text(json_object_get(pol, "name"), MAX_SHORT, false) ||
	    !json_string_length(json_object_get(pol, "name")))
		return "policy.name: must be a non-empty string";
	if (!is_text(json_object_get(pol, "version"), MAX_SHORT, false) ||
	    !json_string_length(json_object_get(pol, "version")))
		return "policy.version: must be a non-empty string";
	sha = json_string_value(json_object_get(pol, "sha256"));
	if (!sha || strlen(sha) != 64 ||
	    strspn(sha, "0123456789abcdef") != 64)
		return "policy.sha256: must be 64 lower-case hex digits";
	return NULL;
}

static const char *check_check(json_t *c, size_t i, char buf[static 256])
{
	static const char *const keys[] = { "id", "status", "severity", "clause",
					    "summary", "remedy", "evidence",
					    NULL };
	static const char *const statuses[] = { "pass", "warn", "fail",
						"unknown", NULL };
	static const char *const severities[] = { "low", "medium", "high",
						  "critical", NULL };
	const char *extra;

	if (!json_is_object(c))
		return bad(buf, "checks[%zu]: must be an object", i);
	if (!only_keys(c, keys, &extra))
		return bad(buf, "checks[%zu].%.64s: not a field of the schema", i,
			   extra);
	if (!is_word(json_object_get(c, "id")))
		return bad(buf, "checks[%zu].id: must be a check name", i);
	if (!one_of(json_object_get(c, "status"), statuses))
		return bad(buf, "checks[%zu].status: must be one of pass, warn, "
			   "fail, unknown", i);
	if (!one_of(json_object_get(c, "severity"), severities))
		return bad(buf, "checks[%zu].severity: must be one of low, "
			   "medium, high, critical", i);
	if (!is_text(json_object_get(c, "clause"), MAX_TEXT, false))
		return bad(buf, "checks[%zu].clause: must be a string of at most "
			   "%d bytes", i, MAX_TEXT);
	if (!is_text(json_object_get(c, "summary"), MAX_TEXT, false))
		return bad(buf, "checks[%zu].summary: must be a string of at most "
			   "%d bytes", i, MAX_TEXT);
	if (!is_text(json_object_get(c, "remedy"), MAX_TEXT, true))
		return bad(buf, "checks[%zu].remedy: must be a string or null", i);
	if (!json_is_object(json_object_get(c, "evidence")))
		return bad(buf, "checks[%zu].evidence: must be an object", i);
	return NULL;
}

static const char *check_event(json_t *e, size_t i, time_t now,
			       char buf[static 256])
{
	json_t *check = json_object_get(e, "check");
	time_t at;

	if (!json_is_object(e))
		return bad(buf, "events[%zu]: must be an object", i);
	if (!is_time_at(json_object_get(e, "at"), &at))
		return bad(buf, "events[%zu].at: must be a UTC time such as "
			   "2026-11-22T13:08:53Z", i);
	/* A time far ahead would head the Events page for good; one from
	 * long ago is a clock gone wrong, or a forgery. */
	if (at > now + REPORTCHECK_AHEAD_S)
		return bad(buf, "events[%zu].at: more than %d hours ahead of the "
			   "collector's clock", i, REPORTCHECK_AHEAD_S / 3600);
	if (at < now - REPORTCHECK_BEHIND_S)
		return bad(buf, "events[%zu].at: more than %d days before the "
			   "collector's clock", i, REPORTCHECK_BEHIND_S / 86400);
	if (!is_word(json_object_get(e, "type")))
		return bad(buf, "events[%zu].type: must be an event name", i);
	if (check && !is_word(check))
		return bad(buf, "events[%zu].check: must be a check name", i);
	return NULL;
}

const char *reportcheck(json_t *r, char buf[static 256])
{
	static const char *const keys[] = { "schema", "device", "policy", "seq",
					    "generated_at", "checks", "events",
					    NULL };
	json_t *checks, *events, *seq, *v;
	const char *extra, *err;
	time_t now = time(NULL);
	size_t i;

	if (!json_is_object(r))
		return "the report must be a JSON object";
	if (!only_keys(r, keys, &extra))
		return bad(buf, "%.64s: not a field of the schema", extra);
	if (!json_is_string(json_object_get(r, "schema")) ||
	    strcmp(json_string_value(json_object_get(r, "schema")),
		   "endpointd.report/1") != 0)
		return "schema: must be \"endpointd.report/1\"";
	if ((err = check_device(json_object_get(r, "device"), true, buf)) ||
	    (err = check_policy(json_object_get(r, "policy"), buf)))
		return err;
	seq = json_object_get(r, "seq");
	if (!json_is_integer(seq) || json_integer_value(seq) < 1 ||
	    json_integer_value(seq) > REPORTCHECK_SEQ_MAX)
		return "seq: must be a whole number from 1 to 9007199254740991 "
		       "(2^53 - 1)";
	if (!is_time(json_object_get(r, "generated_at")))
		return "generated_at: must be a UTC time such as "
		       "2026-11-22T13:08:53Z";
	checks = json_object_get(r, "checks");
	if (!json_is_array(checks) || json_array_size(checks) > MAX_CHECKS)
		return "checks: must be an array of at most 64 checks";
	json_array_foreach(checks, i, v) {
		if ((err = check_check(v, i, buf)))
			return err;
		/* One status per check: the collector keeps each check's
		 * latest, and a check twice would leave it two. */
		for (size_t k = 0; k < i; k++)
			if (json_equal(json_object_get(json_array_get(checks, k),
						       "id"),
				       json_object_get(v, "id")))
				return bad(buf, "checks[%zu].id: %.64s is "
					   "checks[%zu] already", i,
					   json_string_value(json_object_get(v,
									"id")),
					   k);
	}
	events = json_object_get(r, "events");
	if (!json_is_array(events) ||
	    json_array_size(events) > REPORTCHECK_MAX_EVENTS)
		return bad(buf, "events: must be an array of at most %d events",
			   REPORTCHECK_MAX_EVENTS);
	json_array_foreach(events, i, v)
		if ((err = check_event(v, i, now, buf)))
			return err;
	return NULL;
}
