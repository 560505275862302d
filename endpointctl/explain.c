/* SPDX-License-Identifier: Apache-2.0 */
/*
 * endpointctl explain CHECK: what a check looks at, the clause of the code
 * of conduct, what endpointd sees on this laptop now, and the steps to put
 * it right on this desktop (or on each we support). The words come from
 * lib/messages.c, the catalogue endpoint-notify shows too.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpointctl.h"
#include "messages.h"
#include "table.h"
#include "util.h"

static void explain_steps(const char *desktop, const char *steps)
{
	printf("\nHow to put it right%s%s:\n", desktop ? " on " : "",
	       desktop ? desktop : "");
	ctl_wrapped(steps, "  ");
}

/* An unknown check: the nearest name and the list. */
static int explain_unknown(const char *id)
{
	const char *near = messages_suggest(id);

	fprintf(stderr, "endpointctl: there is no check called \"%s\".", id);
	if (near)
		fprintf(stderr, " Did you mean \"%s\"?", near);
	fputs("\nThe checks are:", stderr);
	for (const struct check_words *const *k = messages_checks(); *k; k++)
		fprintf(stderr, " %s", (*k)->id);
	fputc('\n', stderr);
	return EXIT_ERROR;
}

/* The check id in the status, or NULL. */
static const json_t *explain_find(const json_t *status, const char *id)
{
	const json_t *c = NULL;
	json_t *x;
	size_t i;

	json_array_foreach(json_object_get(status, "checks"), i, x)
		if (ctl_str(x, "id") && strcmp(ctl_str(x, "id"), id) == 0)
			c = x;
	return c;
}

/* What endpointd sees of check c now. */
static void explain_seen(const json_t *c, const char *id)
{
	printf("\nOn this laptop now: %s\n", ctl_str(c, "status"));
	ctl_wrapped(ctl_str(c, "summary"), "  ");
	if (ctl_str(c, "remedy")) {
		printf("\nWhat to do:\n");
		ctl_wrapped(ctl_str(c, "remedy"), "  ");
	}
	if (json_object_get(c, "evidence")) {
		_cleanup_free_ char *ev = json_dumps(
			json_object_get(c, "evidence"), JSON_INDENT(2));

		printf("\nWhat endpointd saw (for IT support):\n%s\n", ev);
	} else {
		printf("\nThe details endpointd saw are shown to root only: "
		       "sudo endpointctl explain %s\n", id);
	}
}

/* The steps for the desktop in use, or for each when it is not known. */
static void explain_desktops(const struct check_words *w)
{
	const char *desk = getenv("XDG_CURRENT_DESKTOP");

	if (desk && strstr(desk, "KDE") && w->kde)
		explain_steps("KDE Plasma", w->kde);
	else if (desk && strstr(desk, "XFCE") && w->xfce)
		explain_steps("Xfce", w->xfce);
	else if (desk && strstr(desk, "GNOME"))
		explain_steps(w->kde || w->xfce ? "GNOME" : NULL, w->gnome);
	else if (!w->kde && !w->xfce)
		explain_steps(NULL, w->gnome);
	else {
		explain_steps("GNOME", w->gnome);
		explain_steps("KDE Plasma", w->kde);
		explain_steps("Xfce", w->xfce);
	}
}

int cmd_explain(const char *socket_path, const char *id)
{
	const struct check_words *w = messages_check(id);
	const json_t *c;
	json_t *status;

	if (!w)
		return explain_unknown(id);
	status = ctl_status_try(socket_path);
	table_scrub(status);
	c = explain_find(status, id);
	printf("%s (%s)\n\nWhat it looks at:\n", w->name, w->id);
	ctl_wrapped(w->looks_at, "  ");
	if (c && ctl_str(c, "clause")) {
		printf("\nThe code of conduct says:\n");
		ctl_wrapped(ctl_str(c, "clause"), "  ");
	}
	if (c)
		explain_seen(c, id);
	else if (status)
		printf("\nThis laptop's policy does not run this check.\n");
	else
		printf("\nendpointd is not running, so what it sees on this "
		       "laptop cannot be shown.\n");
	explain_desktops(w);
	json_decref(status);
	return EXIT_PASSED;
}
