/* SPDX-License-Identifier: Apache-2.0 */
/*
 * endpointctl privacy: the account of what leaves this laptop. The fields
 * come from the table the report builder keeps every report to
 * (lib/privacy.c); where the reports go, how often, how long they are kept
 * and who sees them come from endpointd's status (the uploader passes on
 * the collector's terms).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "endpointctl.h"
#include "privacy.h"
#include "table.h"
#include "util.h"

/* A declared path as people read it: "targets[].{kind,what}" becomes
 * "targets[].kind, what". */
static char *field_names(const char *prefix, const char *path)
{
	_cleanup_free_ char *full = *prefix && strncmp(prefix, "checks[", 7) &&
					    strncmp(prefix, "events[", 7)
					    ? xasprintf("%s.%s", prefix, path)
					    : xstrdup(path);
	char *out = xcalloc(1, strlen(full) * 2 + 1), *o = out;

	for (const char *c = full; *c; c++) {
		if (*c == '{' || *c == '}')
			continue;
		*o++ = *c;
		if (*c == ',')
			*o++ = ' ';
	}
	return out;
}

/* The parts and their fields, for --json. */
static json_t *parts_json(void)
{
	json_t *parts = json_array();

	for (const struct privacy_part *const *p = privacy_parts(); *p; p++) {
		json_t *fields = json_array();

		for (const struct privacy_field *f = (*p)->fields; f->path; f++)
			json_array_append_new(fields, json_pack(
				"{s:s, s:s}", "path", f->path, "what", f->what));
		json_array_append_new(parts, json_pack(
			"{s:s, s:s, s:s?, s:o}", "prefix", (*p)->prefix,
			"title", (*p)->title, "when", (*p)->when,
			"fields", fields));
	}
	return parts;
}

/* "every minute", "every 60 minutes". */
static char *every_minutes(json_int_t n)
{
	return n == 1 ? xstrdup("every minute")
		      : xasprintf("every %lld minutes", (long long)n);
}

/* Where the reports go. */
static char *terms_where(const json_t *status, const json_t *up)
{
	const char *col = ctl_str(up, "collector");

	if (!status)
		return xstrdup("Not known: endpointd is not running, so what "
			       "it is set up to do cannot be read.");
	if (!col && (!ctl_str(up, "state") ||
		     strcmp(ctl_str(up, "state"), "unknown") == 0))
		return xstrdup("Not known yet: the uploader, which sends the "
			       "reports, has not run yet. Reports wait on the "
			       "laptop until it does.");
	if (!col)
		return xstrdup("Nowhere yet: this laptop is not enrolled with "
			       "a collector. Reports wait on the laptop until "
			       "it is.");
	return xasprintf("To the school's collector at %s%s.", col,
			 strncasecmp(col, "https://", 8) == 0
				 ? ", over an encrypted connection (HTTPS)"
				 : ", on this machine (plain HTTP is refused "
				   "over the network)");
}

/* When reports are made, from the policy; NULL when not known. */
static char *terms_when(const json_t *status)
{
	const json_t *pol = json_object_get(status, "policy");
	json_int_t every = json_integer_value(
		json_object_get(pol, "interval_minutes"));
	json_int_t beat = json_integer_value(
		json_object_get(pol, "heartbeat_minutes"));
	_cleanup_free_ char *e = NULL, *b = NULL;

	if (!status || !every || !beat)
		return NULL;
	e = every_minutes(every);
	b = every_minutes(beat);
	return xasprintf("A report is made whenever a check's result changes "
			 "or a USB device or camera is used, after each look "
			 "at the laptop (%s), and at least %s as a sign of "
			 "life. Each is sent as soon as the laptop is online.",
			 e, b);
}

/* How long the collector keeps them (its terms t); NULL when not known. */
static char *terms_kept(const json_t *t, const char *col)
{
	if (t)
		return xasprintf("The collector keeps the history (earlier "
				 "reports and events) for %lld days, then "
				 "deletes it. Each laptop's latest report is "
				 "kept, so that IT can see how it is now, "
				 "until IT removes the laptop from the "
				 "collector. On this laptop a report is "
				 "deleted once it has been delivered (one the "
				 "collector refuses is set aside on the laptop "
				 "for IT support).",
				 (long long)json_integer_value(json_object_get(
					 t, "retention_days")));
	if (col)
		return xstrdup("Not known yet: the collector says so when the "
			       "laptop next asks it for the school's rules. On "
			       "this laptop a report is deleted once it has "
			       "been delivered (one the collector refuses is "
			       "set aside on the laptop for IT support).");
	return NULL;
}

/* Who can see them (the collector's terms t); NULL when not known. */
static char *terms_who(const json_t *t)
{
	json_int_t n = json_integer_value(
		json_object_get(t, "dashboard_accounts"));

	if (t && json_is_integer(json_object_get(t, "dashboard_accounts")))
		return xasprintf("%s (%lld dashboard account%s.) On this "
				 "laptop, reports waiting to be sent can be "
				 "read by its administrators only.",
				 ctl_str(t, "access"), (long long)n,
				 n == 1 ? "" : "s");
	if (t)
		return xasprintf("%s On this laptop, reports waiting to be "
				 "sent can be read by its administrators only.",
				 ctl_str(t, "access"));
	return NULL;
}

/* Where the reports go, when, for how long and to whom. */
static void print_terms(const json_t *status)
{
	const json_t *up = json_object_get(status, "upload");
	const json_t *t = json_object_get(up, "terms");
	_cleanup_free_ char *where = terms_where(status, up);
	_cleanup_free_ char *when = terms_when(status);
	_cleanup_free_ char *kept = terms_kept(t, ctl_str(up, "collector"));
	_cleanup_free_ char *who = terms_who(t);

	printf("Where they go:\n");
	ctl_wrapped(where, "  ");
	printf("\nWhen:\n");
	ctl_wrapped(when ? when : "Not known: endpointd is not running.", "  ");
	printf("\nHow long they are kept:\n");
	ctl_wrapped(kept ? kept : "Not known until the laptop is enrolled.",
		    "  ");
	printf("\nWho can see them:\n");
	ctl_wrapped(who ? who : "Not known yet: the collector says so when "
				"the laptop next asks it for the school's "
				"rules.",
		    "  ");
}

/* privacy --json: the same account, for programs. */
static void privacy_print_json(const json_t *status)
{
	const json_t *up = json_object_get(status, "upload");
	const json_t *pol = json_object_get(status, "policy");
	json_t *out = json_pack(
		"{s:b, s:O?, s:O?, s:O?, s:O?, s:s, s:o}",
		"endpointd_running", status != NULL,
		"collector", json_object_get(up, "collector"),
		"interval_minutes", json_object_get(pol, "interval_minutes"),
		"heartbeat_minutes", json_object_get(pol, "heartbeat_minutes"),
		"terms", json_object_get(up, "terms"),
		"never_sent", privacy_never, "parts", parts_json());

	json_dumpf(out, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	putchar('\n');
	json_decref(out);
}

/* Each part of a report and its fields, in words. */
static void print_parts(void)
{
	for (const struct privacy_part *const *p = privacy_parts(); *p; p++) {
		printf("\n%s%s%s%s:\n", (*p)->title, (*p)->when ? " (" : "",
		       (*p)->when ? (*p)->when : "", (*p)->when ? ")" : "");
		for (const struct privacy_field *f = (*p)->fields; f->path;
		     f++) {
			_cleanup_free_ char *names =
				field_names((*p)->prefix, f->path);

			printf("  %s\n", names);
			ctl_wrapped(f->what, "      ");
		}
	}
}

int cmd_privacy(const char *socket_path, bool json)
{
	json_t *status = ctl_status_try(socket_path);

	if (!json_is_array(json_object_get(status, "checks"))) {
		json_decref(status);
		status = NULL;
	}
	if (json) {
		privacy_print_json(status);
		json_decref(status);
		return EXIT_PASSED;
	}
	table_scrub(status);
	printf("What endpointd records about this laptop\n\n");
	ctl_wrapped("endpointd checks this laptop against the school's code "
		    "of conduct and sends reports to the school. This is "
		    "everything a report can hold: the program sends nothing "
		    "that is not listed here.", "");
	putchar('\n');
	print_terms(status);
	printf("\nNever sent:\n");
	ctl_wrapped(privacy_never, "  ");
	printf("\nWhat a report holds\n");
	print_parts();
	if (!status)
		fprintf(stderr, "\nendpointctl: endpointd is not running at "
				"%s, so where reports go could not be read.\n",
			socket_path);
	json_decref(status);
	return EXIT_PASSED;
}
