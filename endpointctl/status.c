/* SPDX-License-Identifier: Apache-2.0 */
/*
 * endpointctl status and run: this laptop's checks as endpointd reports
 * them on its status socket (read through lib/statclient), as a table or
 * as JSON, with where the reports stand; run asks endpointd to look again
 * first.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "endpointctl.h"
#include "statclient.h"
#include "table.h"
#include "util.h"

/* Where the reports are: the uploader's last word and the spool. */
static void print_upload(const json_t *u)
{
	const json_t *spool = json_object_get(u, "spool");
	const char *state = ctl_str(u, "state") ? ctl_str(u, "state")
						: "unknown";
	const char *col = ctl_str(u, "collector");
	json_int_t n = json_integer_value(json_object_get(spool, "reports"));
	json_int_t bytes = json_integer_value(json_object_get(spool, "bytes"));

	if (!u)
		return;
	putchar('\n');
	if (strcmp(state, "unknown") == 0)
		printf("Reports: the uploader has not run yet.\n");
	else if (strcmp(state, "not_enrolled") == 0)
		printf("Reports: this laptop is not enrolled with a collector "
		       "(IT: endpointctl enroll).\n");
	else if (strcmp(state, "token_revoked") == 0)
		printf("Reports: the collector %s no longer accepts this "
		       "laptop's token. Nothing is lost: reports are kept "
		       "until IT enrols it again (endpointctl enroll).\n",
		       col ? col : "");
	else
		printf("Collector: %s\n", col ? col : "(unknown)");
	printf("Last delivered: %s\n", ctl_str(u, "last_delivery") ?
	       ctl_str(u, "last_delivery") : "never");
	printf("Waiting to be sent: %lld report%s (%lld KB)\n", (long long)n,
	       n == 1 ? "" : "s", (long long)((bytes + 1023) / 1024));
	if (ctl_str(u, "last_error") && strcmp(state, "idle") != 0)
		printf("Last problem: %s%s%s\n", ctl_str(u, "last_error"),
		       ctl_str(u, "next_attempt") ? "; next try at " : "",
		       ctl_str(u, "next_attempt") ? ctl_str(u, "next_attempt")
						  : "");
	if (json_integer_value(json_object_get(u, "rejected_total")))
		printf("Refused by the collector and set aside: %lld\n",
		       (long long)json_integer_value(
			       json_object_get(u, "rejected_total")));
	if (ctl_str(spool, "error"))
		printf("Reports cannot be written: %s\n",
		       ctl_str(spool, "error"));
}

/* Why endpointd could not be asked, and what to try. */
static int not_running(const char *socket_path, int err)
{
	fprintf(stderr, "endpointctl: cannot reach endpointd at %s: %s\n",
		socket_path, strerror(err));
	if (err == EACCES)
		fprintf(stderr, "The socket is not readable by you: ask IT "
				"support to check its permissions.\n");
	else
		fprintf(stderr, "Is the endpointd service running? Try: "
				"systemctl status endpointd\n");
	return EXIT_ERROR;
}

/* The status endpointd sends first, parsed; NULL when it cannot be had
 * (said on stderr). */
static json_t *status_read(const char *socket_path)
{
	_cleanup_(statclient_freep) struct statclient *sc = NULL;
	_cleanup_free_ char *line = NULL;
	json_error_t jerr;
	json_t *status;
	int r = statclient_connect(socket_path, false, &sc);

	if (r < 0) {
		not_running(socket_path, -r);
		return NULL;
	}
	r = statclient_next(sc, STATUS_TIMEOUT_MS, &line);
	if (r < 0) {
		fprintf(stderr, "endpointctl: reading %s: %s\n", socket_path,
			strerror(-r));
		return NULL;
	}
	status = json_loads(line, 0, &jerr);
	if (!json_is_array(json_object_get(status, "checks"))) {
		/* jansson's message quotes the bytes it stopped at. */
		fprintf(stderr, "endpointctl: endpointd sent something that is "
				"not a status (");
		table_put_safe(stderr, status ? "no checks" : jerr.text);
		fprintf(stderr, ")\n");
		json_decref(status);
		return NULL;
	}
	return status;
}

json_t *ctl_status_try(const char *socket_path)
{
	_cleanup_(statclient_freep) struct statclient *sc = NULL;
	_cleanup_free_ char *line = NULL;

	if (statclient_connect(socket_path, false, &sc) < 0 ||
	    statclient_next(sc, STATUS_TIMEOUT_MS, &line) < 0)
		return NULL;
	return json_loads(line, 0, NULL);
}

/* The refused policy's errors (a copy, cut up here), one a line. */
static void print_policy_error(char *errors)
{
	char *el, *save = NULL;

	printf("\nThe newest policy was refused; the previous one is still "
	       "in force:\n");
	for (el = strtok_r(errors, "\n", &save); el;
	     el = strtok_r(NULL, "\n", &save)) {
		table_put_safe(stdout, el);
		putchar('\n');
	}
}

int cmd_status(const char *socket_path, bool json)
{
	_cleanup_free_ char *policy_error = NULL;
	json_t *status = status_read(socket_path), *checks, *c;
	const char *err;
	int ret = EXIT_PASSED;
	size_t i;

	if (!status)
		return EXIT_ERROR;
	checks = json_object_get(status, "checks");
	/* The refused policy's errors, one a line: the only text kept on
	 * several lines. */
	err = json_string_value(json_object_get(status, "policy_error"));
	policy_error = err ? xstrdup(err) : NULL;
	if (!json)
		table_scrub(status);
	json_array_foreach(checks, i, c) {
		const char *st = json_string_value(json_object_get(c, "status"));

		if (st && strcmp(st, "fail") == 0)
			ret = EXIT_FAILED;
	}
	if (json) {
		/* Escaped to ASCII: a device's string carries no control
		 * character (C1 included) to a terminal this way either. */
		json_dumpf(status, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
		putchar('\n');
	} else {
		table_print(stdout, checks, isatty(STDOUT_FILENO));
		if (policy_error)
			print_policy_error(policy_error);
		print_upload(json_object_get(status, "upload"));
	}
	json_decref(status);
	return ret;
}

/* One line after "run": 0 once endpointd has looked ("evaluated"), 1 to
 * keep waiting, -1 when it will not look (said on stderr). */
static int run_answer(const char *line)
{
	json_t *v = json_loads(line, 0, NULL);
	const char *type;
	int r = 1;

	table_scrub(v);
	type = json_string_value(json_object_get(v, "type"));
	if (type && strcmp(type, "run") == 0 &&
	    json_is_false(json_object_get(v, "accepted"))) {
		fprintf(stderr, "endpointd looked at this laptop less than a "
				"minute ago. You can ask again in %lld "
				"seconds.\n",
			(long long)json_integer_value(json_object_get(
				v, "retry_after_seconds")));
		r = -1;
	} else if (type && strcmp(type, "error") == 0) {
		fprintf(stderr, "endpointctl: this endpointd cannot check on "
				"request (%s)\n",
			ctl_str(v, "error") ? ctl_str(v, "error") : "?");
		r = -1;
	} else if (type && strcmp(type, "evaluated") == 0) {
		r = 0;
	}
	json_decref(v);
	return r;
}

/* Read lines until endpointd has looked again. Returns 0 or -1 (said). */
static int run_wait(struct statclient *sc)
{
	for (;;) {
		_cleanup_free_ char *line = NULL;
		int r = statclient_next(sc, 60 * 1000, &line);

		if (r < 0) {
			fprintf(stderr, "endpointctl: waiting for endpointd: %s\n",
				strerror(-r));
			return -1;
		}
		r = run_answer(line);
		if (r <= 0)
			return r;
	}
}

int cmd_run(const char *socket_path)
{
	_cleanup_(statclient_freep) struct statclient *sc = NULL;
	_cleanup_free_ char *line = NULL;
	int r = statclient_connect(socket_path, false, &sc);

	if (r < 0)
		return not_running(socket_path, -r);
	/* The status first; then the answer to "run"; then, once the
	 * checks have run, "evaluated". */
	if (statclient_next(sc, STATUS_TIMEOUT_MS, &line) < 0 ||
	    statclient_send(sc, "run") < 0) {
		fprintf(stderr, "endpointctl: endpointd did not answer\n");
		return EXIT_ERROR;
	}
	if (run_wait(sc) < 0)
		return EXIT_ERROR;
	printf("Checked again just now.\n\n");
	statclient_free(sc);
	sc = NULL;
	return cmd_status(socket_path, false);
}
