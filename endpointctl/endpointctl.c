/* SPDX-License-Identifier: Apache-2.0 */
/*
 * endpointctl: what a member of staff or IT runs on the laptop. It reads
 * endpointd's status socket (writing to it only "run", to ask for a check
 * now), validates policy files with the daemon's own parser, and enrols the
 * laptop with the collector (the only command that talks to the network;
 * IT runs it as root).
 *
 * This file holds main(), the command dispatch, policy check and the
 * helpers the commands share; each group of commands has its own file:
 * status.c (status, run), explain.c, privacy.c and enroll.c.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpointctl.h"
#include "paths.h"
#include "policy.h"
#include "util.h"

#ifndef VERSION
#define VERSION "0"
#endif

void ctl_usage(FILE *out)
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

const char *ctl_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

void ctl_wrapped(const char *text, const char *indent)
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

/* policy check FILE: the daemon's own parser on FILE. */
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

/* A command whose only option is --json (after it, as well as before). */
static bool only_json(int argc, char **argv, bool *json)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") != 0) {
			ctl_usage(stderr);
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
		case 'h': ctl_usage(stdout); return 0;
		default: ctl_usage(stderr); return EXIT_ERROR;
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
		return cmd_enroll(argc, argv);
	if (argc == 3 && strcmp(argv[0], "policy") == 0 &&
	    strcmp(argv[1], "check") == 0)
		return cmd_policy_check(argv[2]);
	ctl_usage(stderr);
	return EXIT_ERROR;
}
