/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the check interface, the state and the agent, with checks
 * defined here: the product's registry holds only real checks.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent.h"
#include "check.h"
#include "spool.h"
#include "state.h"
#include "testutil.h"
#include "util.h"


static struct policy *load(const char *text)
{
	_cleanup_free_ char *path = tu_writes(tu_dir, "p.ini", text);
	_cleanup_free_ char *errors = NULL;
	struct policy *p = NULL;

	if (policy_load(path, &p, &errors) < 0)
		fail_msg("%s", errors);
	return p;
}

#define POLICY "[policy]\nname = T\nversion = 1\n" \
	"[encryption]\nseverity = critical\nclause = Encrypt it.\n" \
	"[camera]\nclause = School kit only.\n"

/* A check that reads the file /etc/testcheck below the root: its first
 * line is the status it reports. */
static int file_evaluate(struct host *h, const struct policy *p,
			 struct finding *f)
{
	_cleanup_free_ char *line = NULL;
	enum check_status st;
	int r;

	(void)p;
	r = host_read_line(h, "/etc/testcheck", &line);
	if (r < 0)
		return r;
	if (!finding_status_parse(line, &st))
		return -EINVAL;
	finding_set(f, st, line, st == CHECK_PASS ? NULL : "Fix it.");
	finding_evidence_str(f, "read", line);
	return 0;
}

static int silent_evaluate(struct host *h, const struct policy *p,
			   struct finding *f)
{
	(void)h;
	(void)p;
	f->status = CHECK_PASS;	/* but no summary: not a result */
	return 0;
}

static const struct check_ops file_check = {
	.id = "encryption", .title = "Test", .evaluate = file_evaluate,
};
static const struct check_ops silent_check = {
	.id = "camera", .title = "Silent", .evaluate = silent_evaluate,
};
static const struct check_ops disabled_check = {
	.id = "usb_storage", .title = "Absent", .evaluate = silent_evaluate,
};
static const struct check_ops *const registry[] = {
	&file_check, &silent_check, &disabled_check, NULL,
};

static void test_host_path(void **state)
{
	struct host *h = host_new("/");
	struct host *g = host_new("/srv/fixture//");
	_cleanup_free_ char *a = host_path(h, "/etc/x");
	_cleanup_free_ char *b = host_path(g, "/etc/x");
	_cleanup_free_ char *c = host_path(g, "sys/y");

	(void)state;
	assert_string_equal(a, "/etc/x");
	assert_string_equal(b, "/srv/fixture/etc/x");
	assert_string_equal(c, "/srv/fixture/sys/y");
	assert_string_equal(host_root(h), "/");
	assert_string_equal(host_root(g), "/srv/fixture");
	host_free(h);
	host_free(g);
}

static void test_run_reads_through_root(void **state)
{
	struct policy *p = load(POLICY);
	struct host *h = host_new(tu_dir);
	struct finding *f;

	(void)state;
	free(tu_writes(tu_dir, "etc/testcheck", "fail\n"));
	f = check_run(&file_check, h, p);
	assert_int_equal(f->status, CHECK_FAIL);
	assert_string_equal(f->summary, "fail");
	assert_string_equal(f->remedy, "Fix it.");
	/* Severity and clause come from the policy. */
	assert_int_equal(f->severity, SEVERITY_CRITICAL);
	assert_string_equal(f->clause, "Encrypt it.");
	finding_free(f);
	host_free(h);
	policy_free(p);
}

static void test_what_cannot_be_seen_is_unknown(void **state)
{
	struct policy *p = load(POLICY);
	struct host *h = host_new(tu_dir);
	struct finding *f;

	(void)state;
	/* No file: the check fails to look. */
	f = check_run(&file_check, h, p);
	assert_int_equal(f->status, CHECK_UNKNOWN);
	assert_non_null(strstr(f->summary, "could not look"));
	assert_string_equal(json_string_value(json_object_get(f->evidence,
							      "error")),
			    strerror(ENOENT));
	finding_free(f);
	/* A pass with no summary is no result. */
	f = check_run(&silent_check, h, p);
	assert_int_equal(f->status, CHECK_UNKNOWN);
	finding_free(f);
	host_free(h);
	policy_free(p);
}

static void test_finding_json_hostile(void **state)
{
	struct policy *p = load(POLICY);
	struct host *h = host_new(tu_dir);
	_cleanup_free_ char *text = NULL;
	struct finding *f;
	json_t *obj, *back;
	const char *ev;

	(void)state;
	free(tu_writes(tu_dir, "etc/testcheck", "warn\n"));
	f = check_run(&file_check, h, p);
	finding_evidence_str(f, "serial", "a\"b\\c\x01\x1b[31m\xff\xfe\xc3(");
	obj = finding_to_json(f);
	text = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	assert_non_null(text);
	back = json_loads(text, 0, NULL);
	assert_non_null(back);
	ev = json_string_value(json_object_get(json_object_get(back, "evidence"),
					       "serial"));
	assert_string_equal(ev, "a\"b\\c\x01\x1b[31m\xef\xbf\xbd\xef\xbf\xbd"
				"\xef\xbf\xbd(");
	assert_string_equal(json_string_value(json_object_get(back, "status")),
			    "warn");
	json_decref(back);
	finding_free(f);
	host_free(h);
	policy_free(p);
}

static void test_state_events(void **state)
{
	_cleanup_free_ char *sdir = xasprintf("%s/state", tu_dir);
	struct policy *p = load(POLICY);
	struct host *h = host_new(tu_dir);
	json_t *events, *ev;

	(void)state;
	assert_int_equal(state_init(sdir, 10), 0);
	free(tu_writes(tu_dir, "etc/testcheck", "pass\n"));
	/* A first finding is no change. */
	assert_false(state_update(check_run(&file_check, h, p)));
	assert_false(state_has_events());
	free(tu_writes(tu_dir, "etc/testcheck", "fail\n"));
	assert_true(state_update(check_run(&file_check, h, p)));
	events = state_take_events();
	assert_int_equal(json_array_size(events), 1);
	ev = json_array_get(events, 0);
	assert_string_equal(json_string_value(json_object_get(ev, "type")),
			    "status_change");
	assert_string_equal(json_string_value(json_object_get(ev, "check")),
			    "encryption");
	assert_string_equal(json_string_value(json_object_get(ev, "old")), "pass");
	assert_string_equal(json_string_value(json_object_get(ev, "new")), "fail");
	assert_non_null(json_string_value(json_object_get(ev, "at")));
	json_decref(events);
	/* Taken events are gone. */
	events = state_take_events();
	assert_int_equal(json_array_size(events), 0);
	json_decref(events);
	state_exit();
	host_free(h);
	policy_free(p);
}

static void test_state_events_bounded(void **state)
{
	_cleanup_free_ char *sdir = xasprintf("%s/state", tu_dir);
	json_t *events;

	(void)state;
	assert_int_equal(state_init(sdir, 10), 0);
	for (int i = 0; i < 25; i++)
		state_event(json_pack("{s:s, s:i}", "type", "test", "n", i));
	events = state_take_events();
	/* The drop is reported first, then the 10 newest. */
	assert_int_equal(json_array_size(events), 11);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(events, 0), "type")),
			    "events_dropped");
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(events, 0), "count")),
			 15);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(events, 1), "n")),
			 15);
	json_decref(events);
	state_exit();
}

static void test_seq_persists(void **state)
{
	_cleanup_free_ char *sdir = xasprintf("%s/state", tu_dir);
	uint64_t a, b, c;

	(void)state;
	assert_int_equal(state_init(sdir, 10), 0);
	a = state_seq_next();
	assert_int_equal(state_seq_keep(a), 0);
	b = state_seq_next();
	assert_int_equal(state_seq_keep(b), 0);
	/* A number not kept (its report was not written) is given again. */
	assert_int_equal(state_seq_next(), b + 1);
	state_exit();
	assert_int_equal(state_init(sdir, 10), 0);
	assert_int_equal(state_seq_last(), b);
	c = state_seq_next();
	state_exit();
	assert_true(a < b && b < c);
	/* A damaged sequence file is an error, never a restart from 0. */
	free(tu_writes(sdir, "seq", "garbage\n"));
	assert_int_equal(state_init(sdir, 10), -EINVAL);
}

static bool exists(const char *dir, const char *name)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, name);

	return access(p, F_OK) == 0;
}

/* A report written but not yet in place when the daemon stopped: put in
 * place if its number was kept and it is whole, removed if not. */
static void test_spool_recover(void **state)
{
	_cleanup_free_ char *dir = xasprintf("%s/spool", tu_dir);
	json_t *report = json_pack("{s:i}", "seq", 5);

	(void)state;
	assert_int_equal(spool_init(dir, 10, 1 << 20), 0);
	assert_int_equal(spool_prepare(5, report), 0);
	assert_int_equal(spool_prepare(6, report), 0);
	/* Cut short while written, under a number kept by another run. */
	free(tu_writes(dir, "00000000000000000004.json.tmp", "{\"seq\": 4, \"sch"));
	assert_false(exists(dir, "00000000000000000005.json"));
	spool_recover(5);
	assert_false(exists(dir, "00000000000000000004.json"));
	assert_false(exists(dir, "00000000000000000004.json.tmp"));
	assert_true(exists(dir, "00000000000000000005.json"));
	assert_false(exists(dir, "00000000000000000005.json.tmp"));
	assert_false(exists(dir, "00000000000000000006.json.tmp"));
	assert_false(exists(dir, "00000000000000000006.json"));
	/* Committed: in place; aborted: gone. */
	assert_int_equal(spool_prepare(6, report), 0);
	assert_int_equal(spool_commit(6), 0);
	assert_true(exists(dir, "00000000000000000006.json"));
	assert_int_equal(spool_prepare(7, report), 0);
	spool_abort(7);
	assert_false(exists(dir, "00000000000000000007.json.tmp"));
	spool_exit();
	json_decref(report);
}

static void test_agent_enabled_checks_only(void **state)
{
	_cleanup_free_ char *sdir = xasprintf("%s/state", tu_dir);
	struct host *h = host_new(tu_dir);
	json_t *report, *checks;

	(void)state;
	free(tu_writes(tu_dir, "etc/testcheck", "fail\n"));
	assert_int_equal(agent_init(h, load(POLICY), registry, sdir), 0);
	agent_evaluate();
	assert_true(agent_any_fail());
	report = agent_report();
	assert_non_null(report);
	checks = json_object_get(report, "checks");
	/* encryption and camera are in the policy, usb_storage is not. */
	assert_int_equal(json_array_size(checks), 2);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(checks, 0), "id")),
			    "encryption");
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(checks, 1), "status")),
			    "unknown");
	/* The test check's evidence "read" is in no privacy account: it is
	 * not sent, and what is declared still is. */
	assert_null(json_object_get(json_object_get(json_array_get(checks, 0),
						    "evidence"), "read"));
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(checks, 0), "summary")),
			    "fail");
	json_decref(report);
	free(tu_writes(tu_dir, "etc/testcheck", "pass\n"));
	agent_evaluate();
	assert_false(agent_any_fail());
	agent_exit();
	host_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_path),
		cmocka_unit_test_setup_teardown(test_run_reads_through_root,
						tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(
			test_what_cannot_be_seen_is_unknown, tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(test_finding_json_hostile, tu_setup,
						tu_teardown),
		cmocka_unit_test_setup_teardown(test_state_events, tu_setup,
						tu_teardown),
		cmocka_unit_test_setup_teardown(test_state_events_bounded, tu_setup,
						tu_teardown),
		cmocka_unit_test_setup_teardown(test_seq_persists, tu_setup,
						tu_teardown),
		cmocka_unit_test_setup_teardown(test_spool_recover, tu_setup,
						tu_teardown),
		cmocka_unit_test_setup_teardown(test_agent_enabled_checks_only,
						tu_setup, tu_teardown),
	};

	return cmocka_run_group_tests_name("checks", tests, NULL, NULL);
}
