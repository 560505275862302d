/* SPDX-License-Identifier: Apache-2.0 */
/*
 * endpointd: the device-compliance daemon. Options, the order in which the
 * subsystems start and stop, signals and the systemd protocol; the work is
 * in agent.c and checks/.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "agent.h"
#include "bus.h"
#include "check.h"
#include "log.h"
#include "loop.h"
#include "paths.h"
#include "policy.h"
#include "table.h"
#include "util.h"

#ifndef VERSION
#define VERSION "0"
#endif

/* Exit statuses of --once and --check. */
enum { EXIT_PASSED = 0, EXIT_FAILED = 1, EXIT_ERROR = 2 };

struct options {
	const char *policy;
	const char *root;
	const char *state_dir;
	const char *socket;
	const char *udev_rule;
	bool once, json, check, debug, print_rule;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: endpointd [OPTIONS]\n"
		"Check this laptop against the school's device policy.\n\n"
		"  -p, --policy FILE    policy (default %s)\n"
		"  -r, --root DIR       read the machine below DIR (default /)\n"
		"  -s, --state-dir DIR  state and spool (default %s)\n"
		"  -S, --socket PATH    status socket (default %s)\n"
		"  -u, --udev-rule FILE where the USB storage udev rule is written\n"
		"                       (default %s; \"\" for nowhere)\n"
		"  -U, --print-udev-rule  print that rule for the policy and exit\n"
		"  -1, --once           evaluate once, print the result, exit:\n"
		"                       0 no check fails, 1 one fails, 2 error\n"
		"  -j, --json           with --once: print the report as JSON\n"
		"  -n, --check          validate the policy and exit (0 valid, 1 not)\n"
		"  -d, --debug          log debug messages\n"
		"  -V, --version        print the version\n"
		"  -h, --help           this text\n",
		PATH_POLICY, PATH_STATE_DIR, PATH_STATUS_SOCKET, PATH_UDEV_RULE);
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "root", required_argument, NULL, 'r' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "socket", required_argument, NULL, 'S' },
		{ "udev-rule", required_argument, NULL, 'u' },
		{ "print-udev-rule", no_argument, NULL, 'U' },
		{ "once", no_argument, NULL, '1' },
		{ "json", no_argument, NULL, 'j' },
		{ "check", no_argument, NULL, 'n' },
		{ "debug", no_argument, NULL, 'd' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "p:r:s:S:u:U1jndVh", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'p': o->policy = optarg; break;
		case 'r': o->root = optarg; break;
		case 's': o->state_dir = optarg; break;
		case 'S': o->socket = optarg; break;
		case 'u': o->udev_rule = optarg; break;
		case 'U': o->print_rule = true; break;
		case '1': o->once = true; break;
		case 'j': o->json = true; break;
		case 'n': o->check = true; break;
		case 'd': o->debug = true; break;
		case 'V': printf("endpointd %s\n", VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "endpointd: unexpected argument '%s'\n",
			argv[optind]);
		return -EINVAL;
	}
	if (o->json && !o->once) {
		fprintf(stderr, "endpointd: --json goes with --once\n");
		return -EINVAL;
	}
	return 0;
}

static struct policy *load_policy(const char *path)
{
	_cleanup_free_ char *errors = NULL;
	struct policy *p = NULL;

	if (policy_load(path, &p, &errors) < 0) {
		fputs(errors, stderr);
		return NULL;
	}
	return p;
}

/* A policy accepted from the collector earlier stays in force. */
static struct policy *collector_policy(const struct options *o)
{
	_cleanup_free_ char *path = agent_collector_policy_path(o->state_dir);
	_cleanup_free_ char *errors = NULL;
	struct policy *p = NULL;
	int r = policy_load(path, &p, &errors);

	if (r == -ENOENT)
		return NULL;
	if (r < 0) {
		log_warnx("%s: cannot be used (%s); using %s", path,
			  errors ? strrstrip(errors) : strerror(-r), o->policy);
		return NULL;
	}
	return p;
}

static int run_once(const struct options *o)
{
	json_t *report;
	int status, r;

	r = bus_init(agent_host(), false);
	if (r < 0)
		log_debug("no system bus: %s", strerror(-r));
	agent_evaluate();
	bus_exit();
	report = agent_report();
	if (o->json) {
		json_dumpf(report, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		table_print(stdout, json_object_get(report, "checks"),
			    isatty(STDOUT_FILENO));
	}
	status = agent_any_fail() ? EXIT_FAILED : EXIT_PASSED;
	json_decref(report);
	return fflush(stdout) == 0 ? status : EXIT_ERROR;
}

static void on_signal(int signo, void *data)
{
	(void)data;
	if (signo == SIGHUP) {
		agent_reload();
		return;
	}
	log_info("signal %d: stopping", signo);
	sd_notify(0, "STOPPING=1");
	loop_quit(0);
}

static void on_watchdog(void *data)
{
	(void)data;
	sd_notify(0, "WATCHDOG=1");
}

static int run_daemon(const struct options *o)
{
	static const int signals[] = { SIGTERM, SIGINT, SIGHUP, 0 };
	_cleanup_free_ char *spool = xasprintf("%s/spool", o->state_dir);
	struct loop_source *sigs, *watchdog = NULL;
	uint64_t wd_usec = 0;
	int r;

	r = loop_init();
	if (r < 0) {
		log_errx("epoll: %s", strerror(-r));
		return EXIT_ERROR;
	}
	sigs = loop_add_signals(signals, on_signal, NULL);
	if (!sigs) {
		log_err("signalfd");
		r = -errno;
		goto failed_signals;
	}
	r = bus_init(agent_host(), true);
	if (r < 0)
		log_warnx("no system bus (%s): the sessions logind knows "
			  "cannot be watched", strerror(-r));
	r = agent_start(spool, o->socket);
	if (r < 0) {
		log_errx("cannot start (spool %s, socket %s): %s", spool,
			 o->socket, strerror(-r));
		goto failed_agent;
	}
	if (sd_watchdog_enabled(0, &wd_usec) > 0)
		watchdog = loop_add_timer(wd_usec / 2000, wd_usec / 2000,
					  on_watchdog, NULL);
	sd_notify(0, "READY=1");
	log_info("started; policy %s", agent_policy_path());
	r = loop_run();
	if (r < 0)
		log_errx("event loop: %s", strerror(-r));

	loop_remove(watchdog);
	agent_stop();
failed_agent:
	bus_exit();
	loop_remove(sigs);
failed_signals:
	loop_exit();
	return r < 0 ? EXIT_ERROR : 0;
}

int main(int argc, char **argv)
{
	struct options o = {
		.policy = PATH_POLICY,
		.root = "/",
		.state_dir = PATH_STATE_DIR,
		.socket = PATH_STATUS_SOCKET,
		.udev_rule = PATH_UDEV_RULE,
	};
	struct policy *p;
	struct host *h;
	int r, status;

	if (parse_options(argc, argv, &o) < 0)
		return EXIT_ERROR;
	/* A full disk or a file-size limit is an error to report, not a
	 * reason to die. */
	signal(SIGXFSZ, SIG_IGN);
	log_init("endpointd", o.debug);
	p = o.check || o.print_rule ? NULL : collector_policy(&o);
	if (!p)
		p = load_policy(o.policy);
	if (!p)
		return o.check ? EXIT_FAILED : EXIT_ERROR;
	if (o.print_rule) {
		for (const struct check_ops *const *c = check_registry; *c;
		     c++) {
			_cleanup_free_ char *rule =
				(*c)->udev_rule ? (*c)->udev_rule(p) : NULL;

			if (rule)
				fputs(rule, stdout);
		}
		policy_free(p);
		return 0;
	}
	if (o.check) {
		printf("%s: policy %s version %s is valid\n", o.policy, p->name,
		       p->version);
		policy_free(p);
		return 0;
	}
	h = host_new(o.root);
	if (!o.once)
		host_set_udev_rule(h, o.udev_rule);
	r = agent_init(h, p, check_registry, o.state_dir);
	if (r < 0) {
		log_errx("state directory %s: %s", o.state_dir, strerror(-r));
		policy_free(p);
		status = EXIT_ERROR;
		goto failed_agent;
	}
	status = o.once ? run_once(&o) : run_daemon(&o);
	agent_exit();
failed_agent:
	host_free(h);
	return status;
}
