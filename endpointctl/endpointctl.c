/*
 * endpointctl: what a member of staff or IT runs on the laptop. It reads
 * endpointd's status socket (never writes to it), validates policy files
 * with the daemon's own parser, and enrols the laptop with the collector
 * (the only command that talks to the network; IT runs it as root).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "device.h"
#include "http.h"
#include "inifile.h"
#include "messages.h"
#include "paths.h"
#include "policy.h"
#include "privacy.h"
#include "table.h"
#include "util.h"

#ifndef VERSION
#define VERSION "0"
#endif
#define UPLOAD_USER "endpointd-upload"
#define ENROL_ANSWER_MAX (64 * 1024)

/* The status object is a few KB; this bounds a confused peer. */
#define STATUS_MAX (4 * 1024 * 1024)
#define STATUS_TIMEOUT_MS 5000

enum { EXIT_PASSED = 0, EXIT_FAILED = 1, EXIT_ERROR = 2 };

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: endpointctl [--socket PATH] COMMAND\n\n"
		"Commands:\n"
		"  status [--json]       this laptop's checks and what to do\n"
		"  explain CHECK         what a check looks at, and how to fix it\n"
		"  run                   check this laptop again now (at most once\n"
		"                        a minute), then show the result\n"
		"  privacy [--json]      what the reports hold, where they go, how\n"
		"                        long they are kept and who can see them\n"
		"  policy check FILE     validate a policy file\n"
		"  enroll --collector URL --secret-file FILE [--group NAME]\n"
		"                        enrol this laptop with the collector (root)\n"
		"  enroll [--config FILE]\n"
		"                        the same, from " PATH_ENROL_CONFIG "\n\n"
		"Exit status: 0 nothing fails, 1 a check fails or the policy is\n"
		"invalid, 2 endpointd could not be asked or enrolment failed.\n"
		"See endpointctl(1) for enroll's other options.\n");
}

static int connect_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

/* Read the first line the daemon sends. Returns 0 or -errno. */
/* Lines from the status socket, buffered: several may arrive at once. */
struct lines {
	int fd;
	char *buf;
	size_t len;
};

static int next_line(struct lines *l, int timeout_ms, char **out)
{
	for (;;) {
		struct pollfd pfd = { .fd = l->fd, .events = POLLIN };
		char *nl = l->len ? memchr(l->buf, '\n', l->len) : NULL;
		char chunk[8192];
		ssize_t r;

		if (nl) {
			*out = xstrndup(l->buf, (size_t)(nl - l->buf));
			l->len -= (size_t)(nl + 1 - l->buf);
			memmove(l->buf, nl + 1, l->len);
			return 0;
		}
		if (l->len > STATUS_MAX)
			return -EMSGSIZE;
		r = poll(&pfd, 1, timeout_ms);
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0)
			return -errno;
		r = read(l->fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ECONNRESET;
		l->buf = xrealloc(l->buf, l->len + (size_t)r);
		memcpy(l->buf + l->len, chunk, (size_t)r);
		l->len += (size_t)r;
	}
}

/* The first line from the status socket: the status. */
static int read_line(int fd, char **out)
{
	struct lines l = { .fd = fd };
	int r = next_line(&l, STATUS_TIMEOUT_MS, out);

	free(l.buf);
	return r;
}

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Where the reports are: the uploader's last word and the spool. */
static void print_upload(const json_t *u)
{
	const json_t *spool = json_object_get(u, "spool");
	const char *state = str(u, "state") ? str(u, "state") : "unknown";
	const char *col = str(u, "collector");
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
	printf("Last delivered: %s\n", str(u, "last_delivery") ?
	       str(u, "last_delivery") : "never");
	printf("Waiting to be sent: %lld report%s (%lld KB)\n", (long long)n,
	       n == 1 ? "" : "s", (long long)((bytes + 1023) / 1024));
	if (str(u, "last_error") && strcmp(state, "idle") != 0)
		printf("Last problem: %s%s%s\n", str(u, "last_error"),
		       str(u, "next_attempt") ? "; next try at " : "",
		       str(u, "next_attempt") ? str(u, "next_attempt") : "");
	if (json_integer_value(json_object_get(u, "rejected_total")))
		printf("Refused by the collector and set aside: %lld\n",
		       (long long)json_integer_value(
			       json_object_get(u, "rejected_total")));
	if (str(spool, "error"))
		printf("Reports cannot be written: %s\n", str(spool, "error"));
}

static int not_running(const char *socket_path, int err);

static int cmd_status(const char *socket_path, bool json)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *line = NULL, *policy_error = NULL;
	json_error_t jerr;
	json_t *status, *checks, *c;
	const char *err;
	int r, ret = EXIT_PASSED;
	size_t i;

	fd = connect_socket(socket_path);
	if (fd < 0)
		return not_running(socket_path, -fd);
	r = read_line(fd, &line);
	if (r < 0) {
		fprintf(stderr, "endpointctl: reading %s: %s\n", socket_path,
			strerror(-r));
		return EXIT_ERROR;
	}
	status = json_loads(line, 0, &jerr);
	checks = json_object_get(status, "checks");
	if (!json_is_array(checks)) {
		/* jansson's message quotes the bytes it stopped at. */
		fprintf(stderr, "endpointctl: endpointd sent something that is "
				"not a status (");
		table_put_safe(stderr, status ? "no checks" : jerr.text);
		fprintf(stderr, ")\n");
		json_decref(status);
		return EXIT_ERROR;
	}
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
		if (policy_error) {
			char *el, *save = NULL;

			printf("\nThe newest policy was refused; the previous "
			       "one is still in force:\n");
			for (el = strtok_r(policy_error, "\n", &save); el;
			     el = strtok_r(NULL, "\n", &save)) {
				table_put_safe(stdout, el);
				putchar('\n');
			}
		}
		print_upload(json_object_get(status, "upload"));
	}
	json_decref(status);
	return ret;
}

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

/* run: ask endpointd to look at the laptop again now, wait for it, and
 * show the result. */
static int cmd_run(const char *socket_path)
{
	struct lines l = { .fd = -1 };
	_cleanup_free_ char *line = NULL;
	const char *type = NULL;
	json_t *v = NULL;
	int r, ret = EXIT_ERROR;

	l.fd = connect_socket(socket_path);
	if (l.fd < 0)
		return not_running(socket_path, -l.fd);
	/* The status first; then the answer to "run"; then, once the
	 * checks have run, "evaluated". */
	if (next_line(&l, STATUS_TIMEOUT_MS, &line) < 0 ||
	    send(l.fd, "run\n", 4, MSG_NOSIGNAL) != 4) {
		fprintf(stderr, "endpointctl: endpointd did not answer\n");
		goto out;
	}
	for (;;) {
		free(line);
		line = NULL;
		json_decref(v);
		r = next_line(&l, 60 * 1000, &line);
		if (r < 0) {
			fprintf(stderr, "endpointctl: waiting for endpointd: %s\n",
				strerror(-r));
			goto out;
		}
		v = json_loads(line, 0, NULL);
		table_scrub(v);
		type = json_string_value(json_object_get(v, "type"));
		if (type && strcmp(type, "run") == 0 &&
		    json_is_false(json_object_get(v, "accepted"))) {
			fprintf(stderr, "endpointd looked at this laptop less than "
					"a minute ago. You can ask again in %lld "
					"seconds.\n",
				(long long)json_integer_value(json_object_get(
					v, "retry_after_seconds")));
			goto out;
		}
		if (type && strcmp(type, "error") == 0) {
			fprintf(stderr, "endpointctl: this endpointd cannot check "
					"on request (%s)\n",
				str(v, "error") ? str(v, "error") : "?");
			goto out;
		}
		if (type && strcmp(type, "evaluated") == 0)
			break;
	}
	printf("Checked again just now.\n\n");
	close(l.fd);
	l.fd = -1;
	ret = cmd_status(socket_path, false);
out:
	json_decref(v);
	if (l.fd >= 0)
		close(l.fd);
	free(l.buf);
	return ret;
}

/* Print text wrapped at 76 columns, each line indented. */
static void wrapped(const char *text, const char *indent)
{
	_cleanup_free_ char *copy = xstrdup(text ? text : "");
	char *para, *save = NULL;

	for (para = strtok_r(copy, "\n", &save); para;
	     para = strtok_r(NULL, "\n", &save)) {
		size_t col = 0;
		char *word, *wsave = NULL;

		fputs(indent, stdout);
		for (word = strtok_r(para, " ", &wsave); word;
		     word = strtok_r(NULL, " ", &wsave)) {
			if (col && col + strlen(word) + 1 > 76 - strlen(indent)) {
				printf("\n%s", indent);
				col = 0;
			}
			printf("%s%s", col ? " " : "", word);
			col += strlen(word) + (col ? 1 : 0);
		}
		putchar('\n');
	}
}

static void explain_steps(const char *desktop, const char *steps)
{
	printf("\nHow to put it right%s%s:\n", desktop ? " on " : "",
	       desktop ? desktop : "");
	wrapped(steps, "  ");
}

/* explain CHECK: what it looks at, the clause, what endpointd sees now,
 * and the steps, on this desktop (or on each we support). */
static int cmd_explain(const char *socket_path, const char *id)
{
	const struct check_words *w = messages_check(id);
	_cleanup_free_ char *line = NULL;
	_cleanup_close_ int fd = -1;
	const char *desk = getenv("XDG_CURRENT_DESKTOP");
	json_t *status = NULL, *c = NULL, *x;
	size_t i;

	if (!w) {
		const char *near = messages_suggest(id);

		fprintf(stderr, "endpointctl: there is no check called \"%s\".",
			id);
		if (near)
			fprintf(stderr, " Did you mean \"%s\"?", near);
		fputs("\nThe checks are:", stderr);
		for (const struct check_words *const *k = messages_checks(); *k;
		     k++)
			fprintf(stderr, " %s", (*k)->id);
		fputc('\n', stderr);
		return EXIT_ERROR;
	}
	fd = connect_socket(socket_path);
	if (fd >= 0 && read_line(fd, &line) == 0)
		status = json_loads(line, 0, NULL);
	table_scrub(status);
	json_array_foreach(json_object_get(status, "checks"), i, x)
		if (str(x, "id") && strcmp(str(x, "id"), id) == 0)
			c = x;
	printf("%s (%s)\n\nWhat it looks at:\n", w->name, w->id);
	wrapped(w->looks_at, "  ");
	if (c && str(c, "clause")) {
		printf("\nThe code of conduct says:\n");
		wrapped(str(c, "clause"), "  ");
	}
	if (c) {
		printf("\nOn this laptop now: %s\n", str(c, "status"));
		wrapped(str(c, "summary"), "  ");
		if (str(c, "remedy")) {
			printf("\nWhat to do:\n");
			wrapped(str(c, "remedy"), "  ");
		}
		if (json_object_get(c, "evidence")) {
			_cleanup_free_ char *ev = json_dumps(
				json_object_get(c, "evidence"), JSON_INDENT(2));

			printf("\nWhat endpointd saw (for IT support):\n%s\n", ev);
		} else {
			printf("\nThe details endpointd saw are shown to root "
			       "only: sudo endpointctl explain %s\n", id);
		}
	} else if (status) {
		printf("\nThis laptop's policy does not run this check.\n");
	} else {
		printf("\nendpointd is not running, so what it sees on this "
		       "laptop cannot be shown.\n");
	}
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
	json_decref(status);
	return EXIT_PASSED;
}

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

static json_t *privacy_json(void)
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

/* Where the reports go, when, for how long and to whom: from the status
 * (the uploader passes on the collector's terms). */
static void print_terms(const json_t *status)
{
	const json_t *up = json_object_get(status, "upload");
	const json_t *pol = json_object_get(status, "policy");
	const json_t *t = json_object_get(up, "terms");
	const char *col = str(up, "collector");
	json_int_t every = json_integer_value(
		json_object_get(pol, "interval_minutes"));
	json_int_t beat = json_integer_value(
		json_object_get(pol, "heartbeat_minutes"));
	json_int_t n = json_integer_value(
		json_object_get(t, "dashboard_accounts"));
	_cleanup_free_ char *where = NULL, *when = NULL, *kept = NULL,
			    *who = NULL;

	if (!status)
		where = xstrdup("Not known: endpointd is not running, so "
				"what it is set up to do cannot be read.");
	else if (!col && (!str(up, "state") ||
			  strcmp(str(up, "state"), "unknown") == 0))
		where = xstrdup("Not known yet: the uploader, which sends "
				"the reports, has not run yet. Reports wait "
				"on the laptop until it does.");
	else if (!col)
		where = xstrdup("Nowhere yet: this laptop is not enrolled "
				"with a collector. Reports wait on the "
				"laptop until it is.");
	else
		where = xasprintf("To the school's collector at %s%s.", col,
				  strncasecmp(col, "https://", 8) == 0
					  ? ", over an encrypted connection "
					    "(HTTPS)"
					  : ", on this machine (plain HTTP is "
					    "refused over the network)");
	if (status && every && beat) {
		_cleanup_free_ char *e = every_minutes(every);
		_cleanup_free_ char *b = every_minutes(beat);

		when = xasprintf("A report is made whenever a check's result "
				 "changes or a USB device or camera is used, "
				 "after each look at the laptop (%s), and at "
				 "least %s as a sign of life. Each is sent as "
				 "soon as the laptop is online.", e, b);
	}
	if (t)
		kept = xasprintf("The collector keeps the history (earlier "
				 "reports and events) for %lld days, then "
				 "deletes it. Each laptop's latest report is "
				 "kept, so that IT can see how it is now, until "
				 "IT removes the laptop from the collector. On "
				 "this laptop a report is deleted once it has "
				 "been delivered (one the collector refuses is "
				 "set aside on the laptop for IT support).",
				 (long long)json_integer_value(json_object_get(
					 t, "retention_days")));
	else if (col)
		kept = xstrdup("Not known yet: the collector says so when "
			       "the laptop next asks it for the school's "
			       "rules. On this laptop a report is deleted "
			       "once it has been delivered (one the collector "
			       "refuses is set aside on the laptop for IT "
			       "support).");
	if (t && json_is_integer(json_object_get(t, "dashboard_accounts")))
		who = xasprintf("%s (%lld dashboard account%s.) On this "
				"laptop, reports waiting to be sent can be "
				"read by its administrators only.",
				str(t, "access"), (long long)n,
				n == 1 ? "" : "s");
	else if (t)
		who = xasprintf("%s On this laptop, reports waiting to be "
				"sent can be read by its administrators only.",
				str(t, "access"));
	printf("Where they go:\n");
	wrapped(where, "  ");
	printf("\nWhen:\n");
	wrapped(when ? when : "Not known: endpointd is not running.", "  ");
	printf("\nHow long they are kept:\n");
	wrapped(kept ? kept : "Not known until the laptop is enrolled.", "  ");
	printf("\nWho can see them:\n");
	wrapped(who ? who : "Not known yet: the collector says so when the "
			    "laptop next asks it for the school's rules.",
		"  ");
}

/* privacy: the account of what leaves this laptop. The fields come from
 * the table the report builder keeps every report to (lib/privacy.c). */
static int cmd_privacy(const char *socket_path, bool json)
{
	_cleanup_free_ char *line = NULL;
	_cleanup_close_ int fd = connect_socket(socket_path);
	json_t *status = NULL;

	if (fd >= 0 && read_line(fd, &line) == 0)
		status = json_loads(line, 0, NULL);
	if (!json_is_array(json_object_get(status, "checks"))) {
		json_decref(status);
		status = NULL;
	}
	if (!json)
		table_scrub(status);
	if (json) {
		const json_t *up = json_object_get(status, "upload");
		const json_t *pol = json_object_get(status, "policy");
		json_t *out = json_pack(
			"{s:b, s:O?, s:O?, s:O?, s:O?, s:s, s:o}",
			"endpointd_running", status != NULL,
			"collector", json_object_get(up, "collector"),
			"interval_minutes",
			json_object_get(pol, "interval_minutes"),
			"heartbeat_minutes",
			json_object_get(pol, "heartbeat_minutes"),
			"terms", json_object_get(up, "terms"),
			"never_sent", privacy_never, "parts", privacy_json());

		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
		putchar('\n');
		json_decref(out);
		json_decref(status);
		return EXIT_PASSED;
	}
	printf("What endpointd records about this laptop\n\n");
	wrapped("endpointd checks this laptop against the school's code of "
		"conduct and sends reports to the school. This is everything "
		"a report can hold: the program sends nothing that is not "
		"listed here.", "");
	putchar('\n');
	print_terms(status);
	printf("\nNever sent:\n");
	wrapped(privacy_never, "  ");
	printf("\nWhat a report holds\n");
	for (const struct privacy_part *const *p = privacy_parts(); *p; p++) {
		printf("\n%s%s%s%s:\n", (*p)->title, (*p)->when ? " (" : "",
		       (*p)->when ? (*p)->when : "", (*p)->when ? ")" : "");
		for (const struct privacy_field *f = (*p)->fields; f->path;
		     f++) {
			_cleanup_free_ char *names =
				field_names((*p)->prefix, f->path);

			printf("  %s\n", names);
			wrapped(f->what, "      ");
		}
	}
	if (!status)
		fprintf(stderr, "\nendpointctl: endpointd is not running at "
				"%s, so where reports go could not be read.\n",
			socket_path);
	json_decref(status);
	return EXIT_PASSED;
}

static int cmd_policy_check(const char *path)
{
	_cleanup_free_ char *errors = NULL;
	struct policy *p = NULL;

	if (policy_load(path, &p, &errors) < 0) {
		fputs(errors, stderr);
		return EXIT_FAILED;
	}
	printf("%s: policy %s version %s is valid\n", path, p->name,
	       p->version);
	policy_free(p);
	return EXIT_PASSED;
}

struct enroll_options {
	const char *collector, *secret_file, *group, *policy, *state_dir;
	const char *upload_dir, *user, *root, *config;
	/* From the enrolment file: the secret itself, or where it is. */
	char *secret, *file_collector, *file_group, *file_secret_file;
};

static size_t on_answer(char *p, size_t size, size_t n, void *data)
{
	struct { char *buf; size_t len; } *a = data;
	size_t len = size * n;

	if (a->len + len > ENROL_ANSWER_MAX)
		return 0;
	a->buf = xrealloc(a->buf, a->len + len + 1);
	memcpy(a->buf + a->len, p, len);
	a->len += len;
	a->buf[a->len] = '\0';
	return len;
}

/* The policy whose [report] TLS settings apply: the collector's copy when
 * one is in force, else the given file. */
static struct policy *enroll_policy(const struct enroll_options *o)
{
	_cleanup_free_ char *errors = NULL, *copy = NULL;
	struct policy *p = NULL;

	if (!o->policy) {
		copy = xasprintf("%s/%s", o->state_dir, COLLECTOR_POLICY_NAME);
		if (access(copy, F_OK) == 0 && policy_load(copy, &p, &errors) == 0)
			return p;
		free(errors);
		errors = NULL;
	}
	if (policy_load(o->policy ? o->policy : PATH_POLICY,
			&p, &errors) < 0) {
		fputs(errors, stderr);
		return NULL;
	}
	return p;
}

/* An enrolment secret is the hex line collectord --new-enrol-secret
 * printed; where names the file it came from. */
static int check_secret(char *text, const char *where)
{
	strrstrip(text);
	if (!text[0] || strlen(text) > 256 ||
	    strspn(text, "0123456789abcdefABCDEF") != strlen(text)) {
		fprintf(stderr, "endpointctl: %s: not an enrolment secret (the "
				"hex line collectord --new-enrol-secret printed)\n",
			where);
		return -EINVAL;
	}
	return 0;
}

static int read_secret(const char *path, char **out)
{
	_cleanup_free_ char *text = NULL;
	int r = read_file(path, 4096, &text, NULL);

	if (r < 0) {
		fprintf(stderr, "endpointctl: %s: %s\n", path, strerror(-r));
		return r;
	}
	if (check_secret(text, path) < 0)
		return -EINVAL;
	*out = text;
	text = NULL;
	return 0;
}

/* --- the enrolment file IT drops in place for unattended enrolment --- */

struct enrol_file {
	struct enroll_options *o;
	const char *path;
	int errors;
};

static int enrol_file_key(void *user, const char *section, const char *name,
			  const char *value)
{
	struct enrol_file *f = user;
	char **slot = NULL;

	if (strcmp(section, "enrol") == 0) {
		if (strcmp(name, "collector") == 0)
			slot = &f->o->file_collector;
		else if (strcmp(name, "group") == 0)
			slot = &f->o->file_group;
		else if (strcmp(name, "secret") == 0)
			slot = &f->o->secret;
		else if (strcmp(name, "secret_file") == 0)
			slot = &f->o->file_secret_file;
	}
	if (!slot) {
		fprintf(stderr, "endpointctl: %s: [%s] %s: unknown setting (the "
				"keys are collector, group, secret and "
				"secret_file, in [enrol])\n", f->path, section,
			name);
		f->errors++;
		return 1;
	}
	if (*slot) {
		fprintf(stderr, "endpointctl: %s: %s is set twice\n", f->path,
			name);
		f->errors++;
		return 1;
	}
	*slot = xstrdup(value);
	return 1;
}

/* Read the enrolment file: [enrol] collector, group, and secret (or
 * secret_file). It holds a secret, so it must be readable by its owner
 * only. Returns 0, -ENOENT when it does not exist, or -EINVAL (said). */
static int read_enrol_file(struct enroll_options *o, const char *path)
{
	_cleanup_free_ char *buf = NULL;
	struct enrol_file f = { o, path, 0 };
	struct stat st;
	size_t len;
	int r;

	/* Judged before it is read: whoever may write it chooses where this
	 * laptop sends its identity, so it must be root's (the caller's). */
	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		fprintf(stderr, "endpointctl: %s: %s\n", path, strerror(errno));
		return -EINVAL;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 077)) {
		fprintf(stderr, "endpointctl: %s: owner %u, mode %04o; it holds "
				"the enrolment secret, so it must be mode 0600 "
				"and owned by root\n", path, (unsigned)st.st_uid,
			(unsigned)(st.st_mode & 07777));
		return -EINVAL;
	}
	r = read_file(path, 64 * 1024, &buf, &len);
	if (r < 0) {
		fprintf(stderr, "endpointctl: %s: %s\n", path, strerror(-r));
		return -EINVAL;
	}
	if (inifile_parse(buf, len, enrol_file_key, &f) < 0) {
		fprintf(stderr, "endpointctl: %s: not an INI file\n", path);
		return -EINVAL;
	}
	if (f.errors)
		return -EINVAL;
	if (o->secret && o->file_secret_file) {
		fprintf(stderr, "endpointctl: %s: give secret or secret_file, "
				"not both\n", path);
		return -EINVAL;
	}
	if (o->secret && check_secret(o->secret, path) < 0)
		return -EINVAL;
	return 0;
}

static int cmd_enroll(const struct enroll_options *o)
{
	_cleanup_free_ char *secret = NULL, *url = NULL, *body = NULL,
			    *collector = NULL, *pins = NULL, *etag = NULL;
	_cleanup_(policy_freep) struct policy *p = NULL;
	struct { char *buf; size_t len; } answer = { NULL, 0 };
	struct enrolment e = { 0 };
	struct curl_slist *hdrs = NULL;
	const char *problem, *token;
	struct passwd *pw = NULL;
	struct host *h;
	json_t *req, *ans = NULL;
	CURL *curl;
	CURLcode cc;
	long code = 0;
	int r, ret = EXIT_ERROR;

	problem = http_url_problem(o->collector);
	if (problem) {
		fprintf(stderr, "endpointctl: --collector %s %s\n",
			o->collector ? o->collector : "", problem);
		return EXIT_ERROR;
	}
	collector = xstrdup(o->collector);
	while (collector[0] && collector[strlen(collector) - 1] == '/')
		collector[strlen(collector) - 1] = '\0';
	if (o->secret_file) {
		if (read_secret(o->secret_file, &secret) < 0)
			return EXIT_ERROR;
	} else {
		/* enroll_main made sure there is one or the other. */
		secret = xstrdup(o->secret);
	}
	p = enroll_policy(o);
	if (!p)
		return EXIT_ERROR;
	pw = getpwnam(o->user ? o->user : UPLOAD_USER);
	if (!pw && o->user) {
		fprintf(stderr, "endpointctl: no user %s\n", o->user);
		return EXIT_ERROR;
	}
	if (!pw)
		fprintf(stderr, "endpointctl: no user %s: the token stays "
				"readable by root only\n", UPLOAD_USER);
	pins = http_pins((const char *const *)p->report.pinned_pubkey.v,
			 p->report.pinned_pubkey.n);

	h = host_new(o->root);
	req = json_pack("{s:s, s:s?, s:o}", "enrol_secret", secret,
			"group", o->group, "device", device_identity(h));
	host_free(h);
	body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	url = xasprintf("%s/api/v1/enrol", collector);

	curl = curl_easy_init();
	if (!curl || http_setup(curl, p->report.ca_file.n ? p->report.ca_file.v[0]
							 : NULL, pins) < 0) {
		fprintf(stderr, "endpointctl: libcurl refused the TLS settings\n");
		curl_easy_cleanup(curl);
		return EXIT_ERROR;
	}
	hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_answer);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
	cc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(curl);
	curl_slist_free_all(hdrs);
	if (cc != CURLE_OK) {
		fprintf(stderr, "endpointctl: %s: %s\n", url,
			curl_easy_strerror(cc));
		goto out;
	}
	if (code != 201) {
		_cleanup_free_ char *why = http_error_text(
			answer.buf ? answer.buf : "", answer.len);

		fprintf(stderr, "endpointctl: the collector refused the "
				"enrolment (%ld): %s\n", code, why);
		goto out;
	}
	ans = json_loadb(answer.buf ? answer.buf : "", answer.len, 0, NULL);
	token = json_string_value(json_object_get(ans, "token"));
	if (!token || strlen(token) > 256 ||
	    !json_is_integer(json_object_get(ans, "device_id"))) {
		fprintf(stderr, "endpointctl: the collector's answer has no "
				"device_id and token\n");
		goto out;
	}
	if (mkdir(o->upload_dir, 0700) == 0 && pw &&
	    chown(o->upload_dir, pw->pw_uid, pw->pw_gid) < 0) {
		fprintf(stderr, "endpointctl: %s: %s\n", o->upload_dir,
			strerror(errno));
		goto out;
	}
	e.collector = collector;
	e.device_id = json_integer_value(json_object_get(ans, "device_id"));
	e.token = (char *)(uintptr_t)token;
	e.group = (char *)(uintptr_t)o->group;
	r = enrolment_write(o->upload_dir, &e, pw ? pw->pw_uid : (uid_t)-1,
			    pw ? pw->pw_gid : (gid_t)-1);
	if (r < 0) {
		fprintf(stderr, "endpointctl: %s/%s: %s\n", o->upload_dir,
			ENROLMENT_NAME, strerror(-r));
		goto out;
	}
	/* A new enrolment fetches the group's policy afresh. */
	etag = xasprintf("%s/policy.etag", o->upload_dir);
	unlink(etag);
	printf("Enrolled with %s as device %lld%s%s.\n"
	       "The token is in %s/%s; the uploader sends reports from now "
	       "on.\n", collector, (long long)e.device_id,
	       o->group ? " in group " : "", o->group ? o->group : "",
	       o->upload_dir, ENROLMENT_NAME);
	ret = EXIT_PASSED;
out:
	json_decref(ans);
	free(answer.buf);
	return ret;
}

static int enroll_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "collector", required_argument, NULL, 'c' },
		{ "secret-file", required_argument, NULL, 'f' },
		{ "group", required_argument, NULL, 'g' },
		{ "policy", required_argument, NULL, 'p' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "upload-dir", required_argument, NULL, 'u' },
		{ "user", required_argument, NULL, 'U' },
		{ "root", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	struct enroll_options o = {
		.state_dir = PATH_STATE_DIR,
		.upload_dir = PATH_UPLOAD_DIR,
		.root = "/",
		.config = PATH_ENROL_CONFIG,
	};
	bool config_given = false;
	int c, r, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:f:g:p:s:u:U:r:C:", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'c': o.collector = optarg; break;
		case 'f': o.secret_file = optarg; break;
		case 'g': o.group = optarg; break;
		case 'p': o.policy = optarg; break;
		case 's': o.state_dir = optarg; break;
		case 'u': o.upload_dir = optarg; break;
		case 'U': o.user = optarg; break;
		case 'r': o.root = optarg; break;
		case 'C': o.config = optarg; config_given = true; break;
		default: usage(stderr); return EXIT_ERROR;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return EXIT_ERROR;
	}
	/* Unattended enrolment: what the command line does not say comes
	 * from the enrolment file (which must exist when --config names it). */
	r = 0;
	if (config_given || !o.collector || !o.secret_file) {
		r = read_enrol_file(&o, o.config);
		if (r == -ENOENT && !config_given)
			r = 0;
	}
	if (r == 0) {
		if (!o.collector)
			o.collector = o.file_collector;
		if (!o.group)
			o.group = o.file_group;
		/* A --secret-file given wins over the file's secret. */
		if (o.secret_file) {
			free(o.secret);
			o.secret = NULL;
		} else if (!o.secret) {
			o.secret_file = o.file_secret_file;
		}
	}
	if (r == -ENOENT || (r == 0 && (!o.collector ||
					(!o.secret_file && !o.secret)))) {
		fprintf(stderr, "endpointctl: enroll needs --collector URL and "
				"--secret-file FILE, or the enrolment file %s\n",
			o.config);
		r = -EINVAL;
	}
	ret = r < 0 ? EXIT_ERROR : cmd_enroll(&o);
	free(o.secret);
	free(o.file_collector);
	free(o.file_group);
	free(o.file_secret_file);
	return ret;
}

/* A command whose only option is --json (after it, as well as before). */
static bool only_json(int argc, char **argv, bool *json)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") != 0) {
			usage(stderr);
			return false;
		}
		*json = true;
	}
	return true;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *socket_path = PATH_STATUS_SOCKET;
	bool json = false;
	int c;

	while ((c = getopt_long(argc, argv, "+S:jVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'S': socket_path = optarg; break;
		case 'j': json = true; break;
		case 'V': printf("endpointctl %s\n", VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_ERROR;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc >= 1 && strcmp(argv[0], "status") == 0)
		return only_json(argc, argv, &json)
			       ? cmd_status(socket_path, json)
			       : EXIT_ERROR;
	if (argc == 1 && strcmp(argv[0], "run") == 0)
		return cmd_run(socket_path);
	if (argc >= 1 && strcmp(argv[0], "privacy") == 0)
		return only_json(argc, argv, &json)
			       ? cmd_privacy(socket_path, json)
			       : EXIT_ERROR;
	if (argc == 2 && strcmp(argv[0], "explain") == 0)
		return cmd_explain(socket_path, argv[1]);
	if (argc >= 1 && strcmp(argv[0], "explain") == 0) {
		fprintf(stderr, "endpointctl: explain takes one check: "
				"encryption, screen_lock, usb_storage or camera\n");
		return EXIT_ERROR;
	}
	if (argc >= 1 && strcmp(argv[0], "enroll") == 0)
		return enroll_main(argc, argv);
	if (argc == 3 && strcmp(argv[0], "policy") == 0 &&
	    strcmp(argv[1], "check") == 0)
		return cmd_policy_check(argv[2]);
	usage(stderr);
	return EXIT_ERROR;
}
