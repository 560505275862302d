/*
 * agent: evaluation, reports and policy reload for endpointd.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "agent.h"
#include "bus.h"
#include "log.h"
#include "loop.h"
#include "report.h"
#include "spool.h"
#include "state.h"
#include "statsock.h"
#include "util.h"

#define STATUS_SCHEMA "endpointd.status/1"
/* Events close together (a hub of sticks) share one report. */
#define REPORT_DELAY_MS 1000

static struct host *agent_host_;	/* the machine the checks read */
static struct policy *agent_policy;
static const struct check_ops *const *agent_registry;
static char *agent_policy_error;
static char agent_last_eval[32];
static bool agent_running;
static struct loop_source *agent_eval_timer;
static struct loop_source *agent_report_timer;
static bool agent_report_due;		/* agent_report_timer is armed */

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
	if (agent_report_timer && !agent_report_due) {
		loop_timer_set(agent_report_timer, REPORT_DELAY_MS, 0);
		agent_report_due = true;
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

json_t *agent_report(int *err)
{
	uint64_t seq;
	int r = state_next_seq(&seq);

	if (r < 0) {
		*err = r;
		return NULL;
	}
	return report_build(agent_host_, agent_policy, seq, state_checks_json(),
			    state_take_events());
}

static void write_report(void)
{
	json_t *report;
	int err = 0, dropped;

	report = agent_report(&err);
	if (!report) {
		log_errx("cannot keep the report sequence number: %s",
			 strerror(-err));
		return;
	}
	dropped = spool_put((uint64_t)json_integer_value(
				    json_object_get(report, "seq")),
			    report);
	json_decref(report);
	if (dropped < 0)
		log_errx("cannot write a report to the spool: %s",
			 strerror(-dropped));
	else if (dropped > 0)
		state_event(json_pack("{s:s, s:i}", "type", "reports_dropped",
				      "count", dropped));
}

static void on_report_timer(void *data)
{
	(void)data;
	agent_report_due = false;
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

static json_t *snapshot(void *data)
{
	(void)data;
	return agent_status();
}

int agent_start(const char *spool_dir, const char *socket_path)
{
	int r;

	r = spool_init(spool_dir, agent_policy->report.spool_max_reports);
	if (r < 0)
		return r;
	r = statsock_init(socket_path, snapshot, NULL);
	if (r < 0)
		goto failed_statsock;
	agent_report_timer = loop_add_timer(0, 0, on_report_timer, NULL);
	agent_eval_timer = loop_add_timer(0, interval_ms(), on_eval_timer,
					  NULL);
	if (!agent_report_timer || !agent_eval_timer) {
		r = -errno;
		goto failed_timers;
	}
	agent_running = true;
	checks_start();
	return 0;

failed_timers:
	loop_remove(agent_report_timer);
	loop_remove(agent_eval_timer);
	statsock_exit();
failed_statsock:
	spool_exit();
	return r;
}

void agent_stop(void)
{
	checks_stop();
	agent_running = false;
	loop_remove(agent_report_timer);
	loop_remove(agent_eval_timer);
	agent_report_timer = agent_eval_timer = NULL;
	statsock_exit();
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
	if (agent_running)
		checks_stop();
	policy_free(agent_policy);
	agent_policy = p;
	free(agent_policy_error);
	agent_policy_error = NULL;
	state_set_max_events(p->report.max_events);
	if (agent_running) {
		spool_set_max(p->report.spool_max_reports);
		loop_timer_set(agent_eval_timer, 0, interval_ms());
		checks_start();
	}
	/* Announced once the checks run under it. */
	log_info("policy %s %s loaded from %s", p->name, p->version, p->path);
	state_event(json_pack("{s:s, s:o}", "type", "policy_loaded", "policy",
			      report_policy(p)));
	sd_notify(0, "READY=1");
	return 0;
}

json_t *agent_status(void)
{
	json_t *pol = report_policy(agent_policy);

	json_object_set_new(pol, "path", json_string_lossy(agent_policy->path));
	json_object_set_new(pol, "interval_minutes",
			    json_integer(agent_policy->interval_minutes));
	return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}",
			 "type", "status",
			 "schema", STATUS_SCHEMA,
			 "policy", pol,
			 "policy_error", json_string_lossy(agent_policy_error),
			 "last_evaluation",
			 agent_last_eval[0] ? json_string(agent_last_eval)
					    : json_null(),
			 "checks", state_checks_json());
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
