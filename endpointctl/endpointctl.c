/*
 * endpointctl: what a member of staff or IT runs on the laptop. It reads
 * endpointd's status socket (never writes to it) and validates policy
 * files with the daemon's own parser.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "policy.h"
#include "table.h"
#include "util.h"

#ifndef VERSION
#define VERSION "0"
#endif
#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif

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
		"  policy check FILE     validate a policy file\n\n"
		"Exit status: 0 nothing fails, 1 a check fails or the policy is\n"
		"invalid, 2 endpointd could not be asked.\n");
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
static int read_line(int fd, char **out)
{
	_cleanup_free_ char *buf = xmalloc(4096);
	size_t len = 0, cap = 4096;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		char *nl;
		ssize_t r;

		r = poll(&pfd, 1, STATUS_TIMEOUT_MS);
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0)
			return -errno;
		if (len == cap) {
			if (cap >= STATUS_MAX)
				return -EMSGSIZE;
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ECONNRESET;
		nl = memchr(buf + len, '\n', (size_t)r);
		len += (size_t)r;
		if (nl) {
			*out = xstrndup(buf, (size_t)(nl - buf));
			return 0;
		}
	}
}

static int cmd_status(const char *socket_path, bool json)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *line = NULL;
	json_error_t jerr;
	json_t *status, *checks, *c;
	const char *err;
	int r, ret = EXIT_PASSED;
	size_t i;

	fd = connect_socket(socket_path);
	if (fd < 0) {
		fprintf(stderr, "endpointctl: cannot reach endpointd at %s: %s\n"
				"Is the endpointd service running?\n",
			socket_path, strerror(-fd));
		return EXIT_ERROR;
	}
	r = read_line(fd, &line);
	if (r < 0) {
		fprintf(stderr, "endpointctl: reading %s: %s\n", socket_path,
			strerror(-r));
		return EXIT_ERROR;
	}
	status = json_loads(line, 0, &jerr);
	checks = json_object_get(status, "checks");
	if (!json_is_array(checks)) {
		fprintf(stderr, "endpointctl: endpointd sent something that is "
				"not a status (%s)\n",
			status ? "no checks" : jerr.text);
		json_decref(status);
		return EXIT_ERROR;
	}
	json_array_foreach(checks, i, c) {
		const char *st = json_string_value(json_object_get(c, "status"));

		if (st && strcmp(st, "fail") == 0)
			ret = EXIT_FAILED;
	}
	if (json) {
		json_dumpf(status, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		table_print(stdout, checks, isatty(STDOUT_FILENO));
		err = json_string_value(json_object_get(status, "policy_error"));
		if (err)
			printf("\nThe newest policy was refused; the previous "
			       "one is still in force:\n%s\n", err);
	}
	json_decref(status);
	return ret;
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

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *socket_path = RUNSTATEDIR "/endpointd/status.sock";
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
	if (argc >= 1 && strcmp(argv[0], "status") == 0) {
		for (int i = 1; i < argc; i++) {
			if (strcmp(argv[i], "--json") != 0) {
				usage(stderr);
				return EXIT_ERROR;
			}
			json = true;
		}
		return cmd_status(socket_path, json);
	}
	if (argc == 3 && strcmp(argv[0], "policy") == 0 &&
	    strcmp(argv[1], "check") == 0)
		return cmd_policy_check(argv[2]);
	usage(stderr);
	return EXIT_ERROR;
}
