/* SPDX-License-Identifier: Apache-2.0 */
/*
 * collectord: the central collector. Options, the configuration file, the
 * administrative commands (which run and exit), and the server's life:
 * its modules started in order (api, server, committer) and stopped in
 * reverse. A request goes one way: server.c hands it to api.c (its
 * dispatcher), whose handlers use auth.c and web.c and pass reports to
 * committer.c, which stores them (store*.c).
 */
#include <errno.h>
#include <getopt.h>
#include <ini.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "auth.h"
#include "committer.h"
#include "log.h"
#include "secret.h"
#include "server.h"
#include "store.h"
#include "utf8.h"
#include "util.h"

#ifndef VERSION
#define VERSION "0"
#endif

struct options {
	struct server_config srv;
	const char *add_admin, *revoke_secret, *group, *remove_device;
	bool new_secret, purge, debug;
	/* Values read from --config files, freed at exit. */
	char **owned;
	size_t nowned;
};

static void options_free(struct options *o)
{
	for (size_t i = 0; i < o->nowned; i++)
		free(o->owned[i]);
	free(o->owned);
}

static const char *own(struct options *o, const char *v)
{
	o->owned = xrealloc(o->owned, (o->nowned + 1) * sizeof(*o->owned));
	return o->owned[o->nowned++] = xstrdup(v);
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: collectord [OPTIONS]\n"
		"       collectord --db URL --add-admin NAME   (password on stdin)\n"
		"       collectord --db URL --new-enrol-secret [--group NAME]\n"
		"       collectord --db URL --revoke-enrol-secret SECRET\n"
		"       collectord --db URL --purge   (history past retention)\n"
		"       collectord --db URL --remove-device ID   (and its history)\n\n"
		"  -l, --listen ADDR:PORT   where to serve (default 127.0.0.1:8080)\n"
		"  -d, --db URL             sqlite:PATH, or postgresql://USER@HOST/DB\n"
		"  -c, --config FILE        INI file with the same settings in "
		"[collectord]\n"
		"      --tls-cert FILE, --tls-key FILE   serve HTTPS\n"
		"      --max-body BYTES     largest request body (default 262144)\n"
		"      --stale-hours N      silent longer than this is stale "
		"(default 24)\n"
		"      --retention-days N   history kept (default 90)\n"
		"      --access TEXT        who sees the reports, told to staff by\n"
		"                           endpointctl privacy\n"
		"      --threads N          worker threads (default: cores)\n"
		"      --max-connections-per-address N   open at once from one\n"
		"                           address (default 64, 0: no limit)\n"
		"      --trusted-proxies LIST   addresses or CIDRs whose\n"
		"                           X-Forwarded-For is believed (default none)\n"
		"      --debug, --version, --help\n");
}

/* A whole number option in [min, max]. */
static int number(const char *name, const char *v, unsigned long min,
		  unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(v, &end, 10);
	if (errno || end == v || *end || *out < min || *out > max) {
		fprintf(stderr, "collectord: %s must be a number from %lu to "
				"%lu\n", name, min, max);
		return -EINVAL;
	}
	return 0;
}

/* Words for staff: one line of valid UTF-8, no control characters. */
static bool access_ok(const char *v)
{
	size_t n = strlen(v);

	for (const char *c = v; *c; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			fprintf(stderr, "collectord: access: one line of text, "
					"please\n");
			return false;
		}
	}
	if (n < 8 || n > 400 || !utf8_valid(v, n)) {
		fprintf(stderr, "collectord: access: from 8 to 400 bytes of "
				"UTF-8 text, please\n");
		return false;
	}
	return true;
}

/* Addresses or CIDRs of the proxies whose X-Forwarded-For counts. */
static bool proxies_ok(const char *v)
{
	_cleanup_free_ char *bad = NULL;

	if (server_proxies_valid(v, &bad))
		return true;
	fprintf(stderr, "collectord: trusted_proxies: %s is not an address "
			"or CIDR (10.0.0.0/8, ::1)\n", bad);
	return false;
}

static int set(struct options *o, const char *key, const char *v)
{
	unsigned long n;

	if (strcmp(key, "listen") == 0)
		o->srv.listen = own(o, v);
	else if (strcmp(key, "db") == 0)
		o->srv.db_url = own(o, v);
	else if (strcmp(key, "tls_cert") == 0)
		o->srv.tls_cert = own(o, v);
	else if (strcmp(key, "tls_key") == 0)
		o->srv.tls_key = own(o, v);
	else if (strcmp(key, "max_body") == 0 &&
		 number(key, v, 1024, 64 << 20, &n) == 0)
		o->srv.max_body = n;
	else if (strcmp(key, "stale_hours") == 0 &&
		 number(key, v, 1, 24 * 365, &n) == 0)
		o->srv.stale_hours = (unsigned)n;
	else if (strcmp(key, "retention_days") == 0 &&
		 number(key, v, 1, 3650, &n) == 0)
		o->srv.retention_days = (unsigned)n;
	else if (strcmp(key, "threads") == 0 && number(key, v, 1, 256, &n) == 0)
		o->srv.threads = (unsigned)n;
	else if (strcmp(key, "access") == 0 && access_ok(v))
		o->srv.access = own(o, v);
	else if (strcmp(key, "max_connections_per_address") == 0 &&
		 number(key, v, 0, 1024, &n) == 0)
		o->srv.per_address = (unsigned)n;
	else if (strcmp(key, "trusted_proxies") == 0 && proxies_ok(v))
		o->srv.trusted_proxies = own(o, v);
	else
		return -EINVAL;
	return 0;
}

static int config_handler(void *user, const char *section, const char *name,
			  const char *value)
{
	if (strcmp(section, "collectord") != 0 || set(user, name, value) < 0) {
		fprintf(stderr, "collectord: [%s] %s: unknown setting or bad "
				"value\n", section, name);
		return 0;
	}
	return 1;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	enum { O_TLS_CERT = 256, O_TLS_KEY, O_MAX_BODY, O_STALE, O_RETENTION,
	       O_THREADS, O_ACCESS, O_PER_ADDRESS, O_PROXIES, O_ADMIN, O_NEW_SECRET, O_REVOKE, O_GROUP, O_PURGE,
	       O_REMOVE };
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "db", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "tls-cert", required_argument, NULL, O_TLS_CERT },
		{ "tls-key", required_argument, NULL, O_TLS_KEY },
		{ "max-body", required_argument, NULL, O_MAX_BODY },
		{ "stale-hours", required_argument, NULL, O_STALE },
		{ "retention-days", required_argument, NULL, O_RETENTION },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "access", required_argument, NULL, O_ACCESS },
		{ "max-connections-per-address", required_argument, NULL,
		  O_PER_ADDRESS },
		{ "trusted-proxies", required_argument, NULL, O_PROXIES },
		{ "add-admin", required_argument, NULL, O_ADMIN },
		{ "new-enrol-secret", no_argument, NULL, O_NEW_SECRET },
		{ "revoke-enrol-secret", required_argument, NULL, O_REVOKE },
		{ "group", required_argument, NULL, O_GROUP },
		{ "purge", no_argument, NULL, O_PURGE },
		{ "remove-device", required_argument, NULL, O_REMOVE },
		{ "debug", no_argument, NULL, 'D' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const keys[] = {
		[O_TLS_CERT - 256] = "tls_cert", [O_TLS_KEY - 256] = "tls_key",
		[O_MAX_BODY - 256] = "max_body", [O_STALE - 256] = "stale_hours",
		[O_RETENTION - 256] = "retention_days",
		[O_THREADS - 256] = "threads", [O_ACCESS - 256] = "access",
		[O_PER_ADDRESS - 256] = "max_connections_per_address",
		[O_PROXIES - 256] = "trusted_proxies",
	};
	int c, r;

	while ((c = getopt_long(argc, argv, "l:d:c:DVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'l': o->srv.listen = optarg; break;
		case 'd': o->srv.db_url = optarg; break;
		case 'c':
			r = ini_parse(optarg, config_handler, o);
			if (r != 0) {
				fprintf(stderr, "collectord: %s:%d: cannot use "
						"this configuration\n", optarg,
					r < 0 ? 0 : r);
				return -EINVAL;
			}
			break;
		case O_ADMIN: o->add_admin = optarg; break;
		case O_NEW_SECRET: o->new_secret = true; break;
		case O_REVOKE: o->revoke_secret = optarg; break;
		case O_GROUP: o->group = optarg; break;
		case O_PURGE: o->purge = true; break;
		case O_REMOVE: o->remove_device = optarg; break;
		case 'D': o->debug = true; break;
		case 'V': printf("collectord %s\n", VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		case '?': usage(stderr); return -EINVAL;
		default:
			if (set(o, keys[c - 256], optarg) < 0)
				return -EINVAL;
		}
	}
	if (optind < argc || !o->srv.db_url) {
		fprintf(stderr, "collectord: --db URL is needed\n");
		return -EINVAL;
	}
	return 0;
}

static int add_admin(struct store *s, const char *name)
{
	char line[1024];
	_cleanup_free_ char *hash = NULL;
	size_t n;

	if (!fgets(line, sizeof(line), stdin)) {
		fprintf(stderr, "collectord: give the password on standard input\n");
		return 1;
	}
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (n < 8 || !*name || strlen(name) > 64) {
		fprintf(stderr, "collectord: a name, and a password of 8 "
				"characters or more\n");
		return 1;
	}
	hash = password_hash(line);
	explicit_bzero(line, sizeof(line));
	if (!hash || store_admin_add(s, name, hash) < 0)
		return 1;
	printf("admin %s added\n", name);
	return 0;
}

static int new_secret(struct store *s, const char *group)
{
	char secret[SECRET_HEX_LEN + 1], hash[SECRET_HASH_LEN + 1];

	if (group && !store_group_ok(group)) {
		fprintf(stderr, "collectord: --group: 1 to 64 letters, digits, "
				"spaces or ._-'\n");
		return 1;
	}
	if (secret_new(secret) < 0)
		return 1;
	secret_hash(secret, hash);
	if (store_secret_add(s, hash, group ? group : "") < 0)
		return 1;
	/* Shown once: only its hash is kept. */
	printf("%s\n", secret);
	return 0;
}

static int revoke_secret(struct store *s, const char *secret)
{
	char hash[SECRET_HASH_LEN + 1];
	int r;

	secret_hash(secret, hash);
	r = store_secret_revoke(s, hash);
	if (r == -ENOENT)
		fprintf(stderr, "collectord: no live enrolment secret is that one\n");
	return r < 0 ? 1 : 0;
}

/* Monitoring data is personal data: history past retention goes. */
static int purge(struct store *s, unsigned days)
{
	int n = store_purge(s, days);

	if (n < 0)
		return 1;
	log_info("purged %d records older than %u days", n, days);
	return 0;
}

/* Today's counts kept for the dashboard's 30-day chart: at start and
 * every hour, so each day keeps its last hour's picture. */
static void snapshot(struct store *s, const struct server_config *c)
{
	int n = store_seen_not_after_now(s);

	if (n > 0)
		log_warnx("%d devices were last seen later than now: this "
			  "server's clock was set back; they count as seen now", n);
	if (store_snapshot(s, (int)c->stale_hours, c->retention_days) < 0)
		log_warnx("cannot keep today's counts for the history chart");
}

#define PURGE_EVERY_S 3600

/* Seconds on a clock that setting the time does not move: the hour to
 * the next purge stays an hour whatever happens to the wall clock. */
static time_t boottime_s(void)
{
	return (time_t)(boottime_ms() / 1000);
}

/* The key that signs each group's policy, from the database. */
static char *policy_pem;

static int serve(const struct options *o)
{
	struct timespec every = { 0 };
	time_t next_purge;
	_cleanup_free_ char *err = NULL;
	struct store *s;
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Blocked before the workers start, so they inherit the mask. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (api_init(policy_pem) < 0) {
		log_errx("the policy key in the database is not an Ed25519 "
			 "key");
		return 1;
	}
	if (server_init(&o->srv) < 0)
		goto failed_server;
	committer_init(o->srv.db_url, o->srv.threads);
	sd_notify(0, "READY=1");
	/* A PostgreSQL URL may hold a password: never in the log. */
	log_info("listening on %s, database %s", o->srv.listen,
		 strncmp(o->srv.db_url, "sqlite:", 7) == 0 ? o->srv.db_url
							   : "PostgreSQL");
	/* The main thread waits for signals, and purges once an hour, on
	 * the hour it planned, however many signals come in between. */
	next_purge = boottime_s() + PURGE_EVERY_S;
	s = store_open(o->srv.db_url, false, &err);
	if (s)
		snapshot(s, &o->srv);
	store_close(s);
	free(err);
	err = NULL;
	for (;;) {
		time_t now = boottime_s();

		every.tv_sec = next_purge > now ? next_purge - now : 0;
		sig = sigtimedwait(&set, NULL, &every);
		if (sig < 0 && errno == EAGAIN) {
			next_purge = boottime_s() + PURGE_EVERY_S;
			s = store_open(o->srv.db_url, false, &err);
			if (s) {
				purge(s, o->srv.retention_days);
				snapshot(s, &o->srv);
			}
			store_close(s);
			free(err);
			err = NULL;
			continue;
		}
		if (sig != SIGHUP && !(sig < 0 && errno == EINTR))
			break;
	}
	sd_notify(0, "STOPPING=1");
	log_info("signal %d: stopping", sig);
	/* Every waiting report is committed and answered before the server
	 * stops: it must not stop with connections suspended. */
	committer_exit();
	server_exit();
	auth_exit();
	api_exit();
	return 0;
failed_server:
	api_exit();
	return 1;
}

/* A laptop given back, sold or destroyed leaves the collector with
 * everything it sent. */
static int remove_device(struct store *s, const char *arg)
{
	unsigned long id;
	int r;

	if (number("--remove-device", arg, 1, INT64_MAX, &id) < 0)
		return 2;
	r = store_device_remove(s, (int64_t)id);
	if (r == -ENOENT) {
		log_errx("no device %lu", id);
		return 1;
	}
	if (r < 0) {
		log_errx("device %lu: the database refused the removal", id);
		return 1;
	}
	printf("device %lu removed, with its reports and events\n", id);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = {
		.srv = { .listen = "127.0.0.1:8080", .max_body = 256 * 1024,
			 .stale_hours = 24, .retention_days = 90,
			 .per_address = 64,
			 .access = "The school's ICT staff who have an account "
				   "on the compliance dashboard.",
			 .dispatch = api_dispatch },
	};
	_cleanup_free_ char *err = NULL;
	struct store *s;
	int status;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	o.srv.threads = cores > 0 ? (unsigned)cores : 2;
	if (parse_options(argc, argv, &o) < 0) {
		options_free(&o);
		return 2;
	}
	log_init("collectord", o.debug);
	/* Creates or upgrades the schema, then serves or runs a command. */
	s = store_open(o.srv.db_url, true, &err);
	if (!s) {
		log_errx("%s", err);
		options_free(&o);
		return 1;
	}
	if (o.add_admin)
		status = add_admin(s, o.add_admin);
	else if (o.new_secret)
		status = new_secret(s, o.group);
	else if (o.revoke_secret)
		status = revoke_secret(s, o.revoke_secret);
	else if (o.purge)
		status = purge(s, o.srv.retention_days);
	else if (o.remove_device)
		status = remove_device(s, o.remove_device);
	else if (store_signing_key(s, "policy", &policy_pem) < 0) {
		log_errx("cannot read or make the policy key");
		status = 1;
	} else
		status = -1;
	store_close(s);
	if (status < 0)
		status = serve(&o);
	free(policy_pem);
	options_free(&o);
	return status;
}
