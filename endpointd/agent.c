/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent: evaluation, reports and policy reload for endpointd.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-daemon.h>

#include "agent.h"
#include "bus.h"
#include "devkey.h"
#include "log.h"
#include "loop.h"
#include "paths.h"
#include "report.h"
#include "spool.h"
#include "state.h"
#include "statsock.h"
#include "uplink.h"
#include "util.h"

#define STATUS_SCHEMA "endpointd.status/1"
/* Events close together (a hub of sticks) share one report. */
#define REPORT_DELAY_MS 1000
/* After a failure to write a report (a full disk), try again this soon. */
#define SPOOL_RETRY_MS (60 * 1000)

static struct host *agent_host_;	/* the machine the checks read */
static struct policy *agent_policy;
static struct devkey *agent_key;
static const struct check_ops *const *agent_registry;
static char *agent_policy_error;
static char agent_last_eval[32];
static bool agent_running;
static struct loop_source *agent_eval_timer;
static struct loop_source *agent_report_timer;
static bool agent_report_due;		/* agent_report_timer is armed */
static bool agent_report_retry;		/* ... to retry a failed write */
static struct loop_source *agent_heartbeat_timer;
static char *agent_state_dir;
/* Reports that could not be written since the last one that was. */
static unsigned agent_spool_failures;
static char *agent_spool_error;
static char agent_spool_since[32];

static bool check_enabled(const struct check_ops *ops)
{
	const struct policy_section *s = policy_section(agent_policy, ops->id);

	return s && s->enabled;
}

static void on_state(json_t *line, void *data)
{
	(void)data;
	if (agent_running)
		statsock_send(line);
}

/* A report within REPORT_DELAY_MS; a stream of events does not postpone
 * it further. */
static void report_soon(void)
{
	if (agent_report_timer && (!agent_report_due || agent_report_retry)) {
		loop_timer_set(agent_report_timer, REPORT_DELAY_MS, 0);
		agent_report_due = true;
		agent_report_retry = false;
	}
}

static void on_changed(struct host *h, const char *check_id, void *data)
{
	const struct check_ops *ops = check_find(agent_registry, check_id);

	(void)data;
	if (!ops || !check_enabled(ops))
		return;
	state_update(check_run(ops, h, agent_policy));
	bus_dispatch();
	if (state_has_events())
		report_soon();
}

static void on_event(struct host *h, json_t *event, void *data)
{
	(void)h;
	(void)data;
	state_event(event);
	report_soon();
}

int agent_init(struct host *h, struct policy *p,
	       const struct check_ops *const *registry, const char *state_dir)
{
	int r = state_init(state_dir, p->report.max_events);

	if (r < 0)
		return r;
	agent_host_ = h;
	agent_policy = p;
	agent_state_dir = xstrdup(state_dir);
	agent_registry = registry;
	state_set_listener(on_state, NULL);
	host_set_callbacks(h, on_changed, on_event, NULL);
	return 0;
}

void agent_exit(void)
{
	state_exit();
	policy_free(agent_policy);
	agent_policy = NULL;
	free(agent_policy_error);
	agent_policy_error = NULL;
	free(agent_state_dir);
	agent_state_dir = NULL;
	free(agent_spool_error);
	agent_spool_error = NULL;
}

char *agent_collector_policy_path(const char *state_dir)
{
	return xasprintf("%s/%s", state_dir, COLLECTOR_POLICY_NAME);
}

const char *agent_policy_path(void)
{
	return agent_policy->path;
}

struct host *agent_host(void)
{
	return agent_host_;
}

void agent_evaluate(void)
{
	for (const struct check_ops *const *c = agent_registry; *c; c++) {
		if (check_enabled(*c))
			state_update(check_run(*c, agent_host_, agent_policy));
		else
			state_forget((*c)->id);
	}
	bus_dispatch();
	time_rfc3339(agent_last_eval);
}

/* Report number seq, with the events taken since the last one. */
static json_t *build_report(uint64_t seq)
{
	json_t *events = state_take_events();

	if (agent_spool_failures) {
		char now[32];

		time_rfc3339(now);
		json_array_append_new(events,
				      json_pack("{s:s, s:s, s:i, s:s, s:s}",
						"at", now,
						"type", "spool_write_failed",
						"count",
						(json_int_t)agent_spool_failures,
						"error", agent_spool_error,
						"since", agent_spool_since));
	}
	return report_build(agent_host_, agent_policy, seq, state_checks_json(),
			    events);
}

json_t *agent_report(void)
{
	/* Numbered as the next report would be, but the number is not kept:
	 * this report never reaches the spool, and the service running beside
	 * endpointd --once keeps its numbers to itself. */
	return build_report(state_seq_next());
}

static uint64_t heartbeat_ms(void)
{
	return (uint64_t)agent_policy->report.heartbeat_minutes * 60 * 1000;
}

static bool is_spool_event(const json_t *e)
{
	const char *t = json_string_value(json_object_get(e, "type"));

	return t && strcmp(t, "spool_write_failed") == 0;
}

/* The report could not be written: keep its events for the next one and
 * try again soon. */
static void spool_failed(json_t *report, int err)
{
	json_t *events = json_array(), *e;
	size_t i;

	json_array_foreach(json_object_get(report, "events"), i, e)
		if (!is_spool_event(e))
			json_array_append(events, e);
	state_events_restore(events);
	if (agent_spool_failures++ == 0)
		time_rfc3339(agent_spool_since);
	free(agent_spool_error);
	agent_spool_error = xstrdup(strerror(-err));
	log_errx("cannot write a report to the spool %s (%u since %s): %s; "
		 "trying again in %d s", spool_path(), agent_spool_failures,
		 agent_spool_since, agent_spool_error, SPOOL_RETRY_MS / 1000);
	if (agent_report_timer && !agent_report_due) {
		loop_timer_set(agent_report_timer, SPOOL_RETRY_MS, 0);
		agent_report_due = agent_report_retry = true;
	}
}

/* Written first, then numbered, then put in place (spool.h): a number is
 * kept only for a report that is on disk, and the next report after a
 * failure takes the same number. */
static int spool_report(uint64_t seq, const json_t *report)
{
	int r = spool_prepare(seq, report);

	if (r < 0)
		return r;
	r = state_seq_keep(seq);
	if (r < 0) {
		spool_abort(seq);
		return r;
	}
	r = spool_commit(seq);
	if (r < 0) {
		spool_abort(seq);
		log_errx("report %" PRIu64 " cannot be put in the spool: %s; "
			 "its number is skipped", seq, strerror(-r));
	}
	return r;
}

static void write_report(void)
{
	uint64_t seq = state_seq_next();
	json_t *report = build_report(seq);
	int dropped = spool_report(seq, report);

	if (dropped < 0) {
		spool_failed(report, dropped);
		json_decref(report);
		return;
	}
	json_decref(report);
	if (agent_spool_failures) {
		log_info("reports are written to the spool again");
		agent_spool_failures = 0;
		free(agent_spool_error);
		agent_spool_error = NULL;
	}
	if (dropped > 0)
		state_event(json_pack("{s:s, s:i}", "type", "reports_dropped",
				      "count", dropped));
	if (agent_heartbeat_timer)
		loop_timer_set(agent_heartbeat_timer, heartbeat_ms(), 0);
}

static void on_report_timer(void *data)
{
	(void)data;
	agent_report_due = agent_report_retry = false;
	write_report();
}

static void on_heartbeat_timer(void *data)
{
	(void)data;
	write_report();
}

static void on_eval_timer(void *data)
{
	(void)data;
	agent_evaluate();
	write_report();
}

static uint64_t interval_ms(void)
{
	return (uint64_t)agent_policy->interval_minutes * 60 * 1000;
}

static void checks_start(void)
{
	for (const struct check_ops *const *c = agent_registry; *c; c++) {
		int r;

		if ((*c)->policy_applied)
			(*c)->policy_applied(agent_host_, agent_policy);
		if (!(*c)->start || !check_enabled(*c))
			continue;
		r = (*c)->start(agent_host_, agent_policy);
		if (r < 0)
			log_warnx("%s: cannot watch for changes: %s", (*c)->id,
				  strerror(-r));
	}
}

static void checks_stop(void)
{
	for (const struct check_ops *const *c = agent_registry; *c; c++)
		if ((*c)->stop && check_enabled(*c))
			(*c)->stop(agent_host_);
}

static void on_collector_policy(const char *text, size_t len,
				const char *error);
static void on_uplink_event(json_t *event);

static json_t *snapshot(void *data)
{
	(void)data;
	return agent_status();
}

/* "run": any local user may ask for an evaluation now (someone who has
 * just fixed something), at most once a RUN_EVERY_S; root at any time.
 * It runs from the loop, after the answer is queued. */
#define RUN_EVERY_S 60
static struct loop_source *agent_run_timer;
static time_t agent_last_run;

static json_t *on_command(const char *command, uid_t uid, void *data)
{
	time_t now = time(NULL);

	(void)data;
	if (strcmp(command, "run") != 0)
		return NULL;
	if (uid != 0 && agent_last_run && now < agent_last_run + RUN_EVERY_S &&
	    now >= agent_last_run)
		return json_pack("{s:s, s:b, s:I}", "type", "run", "accepted", 0,
				 "retry_after_seconds",
				 (json_int_t)(agent_last_run + RUN_EVERY_S - now));
	agent_last_run = now;
	loop_timer_set(agent_run_timer, 1, 0);
	log_info("evaluation asked for by uid %u", (unsigned)uid);
	return json_pack("{s:s, s:b}", "type", "run", "accepted", 1);
}

static void on_run_timer(void *data)
{
	json_t *line;

	(void)data;
	agent_evaluate();
	write_report();
	line = json_pack("{s:s, s:s}", "type", "evaluated", "at",
			 agent_last_eval);
	statsock_send(line);
	json_decref(line);
}

/* The laptop's key, made at the first start: every report is signed
 * with it (spool.c), and enrolment registers its public half. Without it
 * reports go unsigned, which a collector that knows the key refuses. */
static void device_key_open(void)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", agent_state_dir,
					      DEVICE_KEY_NAME);
	int r = devkey_open(path, &agent_key);

	if (r < 0)
		log_errx("%s: %s; reports are not signed", path, strerror(-r));
	spool_set_key(agent_key);
}

int agent_start(const char *spool_dir, const char *socket_path)
{
	int r;

	r = spool_init(spool_dir, agent_policy->report.spool_max_reports,
		       agent_policy->report.spool_max_bytes);
	if (r < 0)
		return r;
	spool_recover(state_seq_last());
	device_key_open();
	remove_stale_temps(spool_dir, SPOOL_SETTINGS_NAME);
	remove_stale_temps(agent_state_dir, COLLECTOR_POLICY_NAME);
	remove_stale_temps(agent_state_dir, "rejected-named");
	r = statsock_init(socket_path, snapshot, on_command, NULL);
	if (r < 0)
		goto failed_statsock;
	agent_report_timer = loop_add_timer(0, 0, on_report_timer, NULL);
	agent_run_timer = loop_add_timer(0, 0, on_run_timer, NULL);
	agent_eval_timer = loop_add_timer(0, interval_ms(), on_eval_timer,
					  NULL);
	agent_heartbeat_timer = loop_add_timer(heartbeat_ms(), 0,
					       on_heartbeat_timer, NULL);
	if (!agent_report_timer || !agent_eval_timer || !agent_run_timer ||
	    !agent_heartbeat_timer) {
		r = -errno;
		goto failed_timers;
	}
	r = uplink_init(agent_state_dir, on_collector_policy, on_uplink_event);
	if (r < 0)
		goto failed_timers;
	uplink_publish(agent_policy);
	agent_running = true;
	checks_start();
	return 0;

failed_timers:
	loop_remove(agent_report_timer);
	loop_remove(agent_eval_timer);
	loop_remove(agent_heartbeat_timer);
	loop_remove(agent_run_timer);
	agent_report_timer = agent_eval_timer = agent_heartbeat_timer = NULL;
	agent_run_timer = NULL;
	statsock_exit();
failed_statsock:
	spool_exit();
	return r;
}

void agent_stop(void)
{
	checks_stop();
	agent_running = false;
	uplink_exit();
	loop_remove(agent_report_timer);
	loop_remove(agent_eval_timer);
	loop_remove(agent_heartbeat_timer);
	loop_remove(agent_run_timer);
	agent_report_timer = agent_eval_timer = agent_heartbeat_timer = NULL;
	agent_run_timer = NULL;
	statsock_exit();
	spool_set_key(NULL);
	devkey_free(agent_key);
	agent_key = NULL;
	spool_exit();
}

static void policy_refused(const char *errors)
{
	_cleanup_free_ char *copy = xstrdup(errors);
	char *line, *save = NULL;

	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		log_errx("%s", line);
	log_errx("new policy refused; policy %s %s stays in force",
		 agent_policy->name, agent_policy->version);
	free(agent_policy_error);
	agent_policy_error = strrstrip(xstrdup(errors));
	state_event(json_pack("{s:s, s:o}", "type", "policy_error", "error",
			      json_string_lossy(agent_policy_error)));
	report_soon();
}

/* Put p (ownership taken) in force. */
static void policy_swap(struct policy *p, const char *source)
{
	if (agent_running)
		checks_stop();
	policy_free(agent_policy);
	agent_policy = p;
	free(agent_policy_error);
	agent_policy_error = NULL;
	state_set_max_events(p->report.max_events);
	if (agent_running) {
		spool_set_limits(p->report.spool_max_reports,
				 p->report.spool_max_bytes);
		loop_timer_set(agent_eval_timer, 0, interval_ms());
		uplink_publish(p);
		checks_start();
	}
	/* Announced once the checks run under it. */
	log_info("policy %s %s loaded from %s", p->name, p->version, source);
	state_event(json_pack("{s:s, s:o, s:s}", "type", "policy_loaded",
			      "policy", report_policy(p), "source", source));
	/* Clients read the policy's settings (renotify_hours) from the
	 * status: a fresh one tells them of the new policy. */
	if (agent_running) {
		json_t *st = agent_status();

		statsock_send(st);
		json_decref(st);
	}
}

int agent_reload(void)
{
	_cleanup_free_ char *errors = NULL;
	struct policy *p = NULL;
	int r;

	sd_notify(0, "RELOADING=1");
	r = policy_load(agent_policy->path, &p, &errors);
	if (r < 0) {
		policy_refused(errors ? errors : strerror(-r));
		sd_notify(0, "READY=1");
		return r;
	}
	policy_swap(p, p->path);
	sd_notify(0, "READY=1");
	return 0;
}

/* A policy the uploader fetched from the collector: validated by the
 * same loader as any file, kept in the state directory once valid (it
 * stays in force across restarts), refused otherwise. */
/* Why a policy as the uploader handed it over is refused: not signed
 * with the collector's policy key pinned at enrolment (the uploader
 * cannot write one of its own). NULL when it holds, with the policy's
 * text in *body; a laptop enrolled before signed policies pinned no key
 * (*pinned false). The caller frees the reason. */
static char *unsigned_policy(const char *text, size_t len, bool *pinned,
			     const char **body, size_t *body_len)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", agent_state_dir,
					      COLLECTOR_KEY_NAME);
	_cleanup_free_ char *key = NULL;
	char sig[DEVKEY_SIG_B64 + 1];
	int r;

	*pinned = false;
	if (spool_split(text, len, sig, body, body_len) < 0)
		return xstrdup("its signature's line is malformed");
	r = read_file_nofollow(path, 256, &key, NULL);
	if (r == -ENOENT)
		return NULL;
	if (r < 0)
		return xasprintf("%s cannot be read: %s", path, strerror(-r));
	*pinned = true;
	strrstrip(key);
	if (!sig[0])
		return xstrdup("it is not signed with the collector's key");
	if (devkey_verify(key, *body, *body_len, sig) < 0)
		return xstrdup("its signature does not verify against the "
			       "collector's key pinned at enrolment");
	return NULL;
}

/* A policy's version as a number, or -1 when it is not a whole number. */
static long long policy_number(const char *version)
{
	char *end;
	long long v;

	if (!version || !*version || strspn(version, "0123456789") !=
					    strlen(version))
		return -1;
	errno = 0;
	v = strtoll(version, &end, 10);
	return errno ? -1 : v;
}

/* Why p, signed by the collector, does not replace the policy in force:
 * it must be newer, so an old signed policy replayed rolls nothing back.
 * NULL when it is newer. */
static char *older_policy(const struct policy *p)
{
	long long now = policy_number(agent_policy->version);
	long long v = policy_number(p->version);

	if (v < 0)
		return xasprintf("version \"%s\" is not a whole number, so it "
				 "cannot be told newer than the one in force",
				 p->version);
	if (v <= now)
		return xasprintf("version %lld is not newer than version %lld "
				 "in force", v, now);
	return NULL;
}

static void on_collector_policy(const char *text, size_t len,
				const char *error)
{
	_cleanup_free_ char *errors = NULL, *path = NULL, *why = NULL;
	struct policy *p = NULL;
	bool pinned;
	int r;

	if (!text) {
		policy_refused(error);
		return;
	}
	why = unsigned_policy(text, len, &pinned, &text, &len);
	if (why) {
		policy_refused(why);
		return;
	}
	r = policy_parse("collector:" COLLECTOR_POLICY_NAME, text, len, &p, &errors);
	if (r < 0) {
		policy_refused(errors ? errors : strerror(-r));
		return;
	}
	if (strcmp(p->sha256, agent_policy->sha256) == 0) {
		policy_free(p);
		return;
	}
	why = pinned ? older_policy(p) : NULL;
	if (why) {
		policy_free(p);
		policy_refused(why);
		return;
	}
	path = agent_collector_policy_path(agent_state_dir);
	r = write_file_atomic(path, text, len, 0644);
	if (r < 0) {
		why = xasprintf("%s: cannot be kept: %s", path, strerror(-r));
		policy_free(p);
		policy_refused(why);
		return;
	}
	free(p->path);
	p->path = xstrdup(path);
	policy_swap(p, "the collector");
	report_soon();
}

static void on_uplink_event(json_t *event)
{
	state_event(event);
	report_soon();
}

json_t *agent_status(void)
{
	json_t *pol = report_policy(agent_policy);

	json_object_set_new(pol, "path", json_string_lossy(agent_policy->path));
	json_object_set_new(pol, "interval_minutes",
			    json_integer(agent_policy->interval_minutes));
	json_object_set_new(pol, "heartbeat_minutes",
			    json_integer(agent_policy->report.heartbeat_minutes));
	json_object_set_new(pol, "renotify_hours",
			    json_integer(agent_policy->notify.renotify_hours));
	return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o}",
			 "type", "status",
			 "schema", STATUS_SCHEMA,
			 "policy", pol,
			 "policy_error", json_string_lossy(agent_policy_error),
			 "last_evaluation",
			 agent_last_eval[0] ? json_string(agent_last_eval)
					    : json_null(),
			 "checks", state_checks_json(),
			 "upload", uplink_status(agent_spool_error));
}

bool agent_any_fail(void)
{
	for (const struct check_ops *const *c = agent_registry; *c; c++) {
		enum check_status s;

		if (state_status((*c)->id, &s) && s == CHECK_FAIL)
			return true;
	}
	return false;
}
