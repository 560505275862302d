/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the policy parser: the shipped policy, defaults, and every kind
 * of error with its line number.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy.h"
#include "testutil.h"
#include "util.h"

#define HEAD "[policy]\nname = Test\nversion = 7\n"


/* Load text as a policy file; returns the errors (NULL when valid). */
static char *load_text(const char *text, size_t len, struct policy **out)
{
	_cleanup_free_ char *path = tu_write(tu_dir, "p.ini", text, len);
	char *errors = NULL;
	struct policy *p = NULL;
	int r = policy_load(path, &p, &errors);

	if (r == 0) {
		assert_null(errors);
		assert_non_null(p);
	} else {
		assert_null(p);
		assert_non_null(errors);
	}
	if (out)
		*out = p;
	else
		policy_free(p);
	return errors;
}

/* The policy must be refused with this message at this line. */
static void expect_error(const char *text, unsigned line, const char *msg)
{
	_cleanup_free_ char *errors = load_text(text, strlen(text), NULL);
	_cleanup_free_ char *want = NULL;

	if (!errors)
		fail_msg("accepted, but wanted '%s' for:\n%s", msg, text);
	if (line)
		want = xasprintf("%s/p.ini:%u: ", tu_dir, line);
	else
		want = xasprintf("%s/p.ini: ", tu_dir);
	if (!strstr(errors, want) || !strstr(errors, msg))
		fail_msg("wanted '%s...%s' in:\n%s", want, msg, errors);
}

static void test_shipped_policy(void **state)
{
	_cleanup_free_ char *errors = NULL;
	struct policy *p = NULL;

	(void)state;
	assert_int_equal(policy_load("policy.ini", &p, &errors), 0);
	assert_string_equal(p->name, "Staff laptops");
	assert_int_equal(p->interval_minutes, 60);
	assert_int_equal(p->notify.renotify_hours, 4);
	assert_true(p->encryption.s.present && p->encryption.s.enabled);
	assert_int_equal(p->usb_storage.action, USB_ACTION_WARN);
	/* A blank stick holds no data: allowed ("allow" is the first
	 * choice, stored as USB_ACTION_LOG). */
	assert_int_equal(p->usb_storage.blank, USB_ACTION_LOG);
	assert_int_equal(p->usb_storage.unrecognised, USB_ACTION_WARN);
	assert_int_equal(p->camera.s.severity, SEVERITY_MEDIUM);
	/* Continuation lines are joined with single spaces. */
	assert_non_null(strstr(p->encryption.s.clause,
			       "using secured memory sticks (all laptops, "
			       "memory sticks and devices used must be "
			       "encrypted)."));
	assert_int_equal(strlen(p->sha256), 64);
	policy_free(p);
}

static void test_defaults(void **state)
{
	struct policy *p = NULL;
	const struct policy_section *s;

	(void)state;
	assert_null(load_text(HEAD "[camera]\nclause = Only school kit.\n",
			      strlen(HEAD) + 34, &p));
	assert_int_equal(p->interval_minutes, 60);
	assert_int_equal(p->report.spool_max_reports, 1000);
	assert_int_equal(p->report.max_events, 1000);
	s = policy_section(p, "camera");
	assert_true(s->present && s->enabled);
	assert_int_equal(s->severity, SEVERITY_MEDIUM);
	assert_int_equal(p->camera.action, CAMERA_ACTION_WARN);
	/* An absent check section is not run. */
	s = policy_section(p, "encryption");
	assert_false(s->present);
	assert_false(s->enabled);
	assert_null(policy_section(p, "policy"));
	assert_null(policy_section(p, "nonsense"));
	policy_free(p);
}

static void test_values(void **state)
{
	static const char text[] =
		HEAD "interval_minutes = 1440\n"
		"[usb_storage]\nenabled = no\nseverity = critical\n"
		"action = block\nblank = block\n"
		"clause = Encrypted sticks only. ; a comment\n";
	struct policy *p = NULL;

	(void)state;
	assert_null(load_text(text, strlen(text), &p));
	assert_int_equal(p->interval_minutes, 1440);
	assert_false(p->usb_storage.s.enabled);
	assert_int_equal(p->usb_storage.s.severity, SEVERITY_CRITICAL);
	assert_int_equal(p->usb_storage.action, USB_ACTION_BLOCK);
	assert_int_equal(p->usb_storage.blank, USB_ACTION_BLOCK);
	assert_string_equal(p->usb_storage.s.clause, "Encrypted sticks only.");
	policy_free(p);
}

static void test_lists(void **state)
{
	static const char text[] =
		HEAD "[encryption]\nclause = x\n"
		"mounts = /srv/data ,/home,  /var/lib/x\n"
		"allowed_ciphers = aes-xts\n";
	struct policy *p = NULL;

	(void)state;
	assert_null(load_text(text, strlen(text), &p));
	assert_int_equal(p->encryption.mounts.n, 3);
	assert_string_equal(p->encryption.mounts.v[0], "/srv/data");
	assert_string_equal(p->encryption.mounts.v[2], "/var/lib/x");
	assert_true(policy_list_has(&p->encryption.allowed_ciphers, "aes-xts"));
	assert_false(policy_list_has(&p->encryption.allowed_ciphers,
				     "serpent-xts"));
	/* Defaults. */
	assert_int_equal(p->encryption.min_key_bits, 256);
	assert_false(p->encryption.allow_plain_dmcrypt);
	policy_free(p);
	assert_null(load_text(HEAD "[encryption]\nclause = x\n"
			      "mounts = /a, /b,\n  /c,\n  /d\n", strlen(HEAD) + 52,
			      &p));
	assert_int_equal(p->encryption.mounts.n, 4);
	assert_string_equal(p->encryption.mounts.v[3], "/d");
	policy_free(p);
	expect_error(HEAD "[encryption]\nclause = x\nmounts = /, home\n", 6,
		     "mounts: 'home' is not an absolute path");
	expect_error(HEAD "[encryption]\nclause = x\nmounts = /,,/home\n", 6,
		     "mounts: '' is empty");
	expect_error(HEAD "[encryption]\nclause = x\nallowed_ciphers =\n", 6,
		     "allowed_ciphers needs at least 1 item(s)");
	expect_error(HEAD "[encryption]\nclause = x\n"
			  "allowed_ciphers = AES XTS\n", 6,
		     "is not a cipher and mode such as aes-xts");
	expect_error(HEAD "[encryption]\nclause = x\nmin_key_bits = 64\n", 6,
		     "min_key_bits = 64 is out of range (128 to 1024)");
}

/* Camera applications: paths, and sandboxed ones by Flatpak ID or snap
 * name, in the forms flatpak and snapd accept. */
static void test_camera_apps(void **state)
{
	static const char text[] =
		HEAD "[camera]\nclause = x\nallowed_apps = /opt/zoom/, "
		"flatpak:us.zoom.Zoom, snap:zoom-client, snap:zoom-client_work\n";
	struct policy *p = NULL;

	(void)state;
	assert_null(load_text(text, strlen(text), &p));
	assert_int_equal(p->camera.allowed_apps.n, 4);
	assert_true(policy_list_has(&p->camera.allowed_apps,
				    "flatpak:us.zoom.Zoom"));
	assert_true(policy_list_has(&p->camera.allowed_apps,
				    "snap:zoom-client"));
	policy_free(p);
	expect_error(HEAD "[camera]\nclause = x\nallowed_apps = flatpak:zoom\n",
		     6, "'flatpak:zoom' is not flatpak:ID");
	expect_error(HEAD "[camera]\nclause = x\n"
			  "allowed_apps = flatpak:us.zoom.1Zoom\n",
		     6, "is not flatpak:ID");
	expect_error(HEAD "[camera]\nclause = x\nallowed_apps = snap:Zoom\n",
		     6, "'snap:Zoom' is not snap:NAME");
	expect_error(HEAD "[camera]\nclause = x\nallowed_apps = snap:a--b\n",
		     6, "is not snap:NAME");
	expect_error(HEAD "[camera]\nclause = x\nallowed_apps = zoom\n", 6,
		     "'zoom' is not an absolute path, flatpak:ID or snap:NAME");
}

static void test_byte_order_mark(void **state)
{
	static const char text[] = "\xef\xbb\xbf" HEAD;

	(void)state;
	assert_null(load_text(text, strlen(text), NULL));
}

static void test_errors(void **state)
{
	(void)state;
	expect_error(HEAD "[printer]\nenabled = true\n", 4,
		     "unknown section [printer]");
	expect_error(HEAD "colour = blue\n", 4, "unknown key 'colour' in [policy]");
	expect_error(HEAD "[camera]\nclause = x\nenabled = maybe\n", 6,
		     "enabled must be true or false");
	expect_error(HEAD "[camera]\nclause = x\nseverity = dire\n", 6,
		     "severity must be one of: low medium high critical");
	expect_error(HEAD "[usb_storage]\nclause = x\naction = shred\n", 6,
		     "action must be one of: log warn block");
	expect_error(HEAD "[usb_storage]\nclause = x\nblank = wipe\n", 6,
		     "blank must be one of: allow warn block");
	expect_error(HEAD "interval_minutes = 0\n", 4,
		     "interval_minutes = 0 is out of range (1 to 1440)");
	expect_error(HEAD "interval_minutes = 1441\n", 4, "out of range");
	expect_error(HEAD "[notify]\nrenotify_hours = 0\n", 5,
		     "renotify_hours = 0 is out of range (1 to 168)");
	expect_error(HEAD "[notify]\nrenotify_minutes = 5\n", 5,
		     "renotify_minutes");
	expect_error(HEAD "interval_minutes = 99999999999999999999\n", 4,
		     "must be a whole number");
	expect_error(HEAD "interval_minutes = -5\n", 4, "must be a whole number");
	expect_error(HEAD "interval_minutes = 10m\n", 4, "must be a whole number");
	expect_error(HEAD "name = Again\n", 4,
		     "key 'name' repeated (first set at line 2)");
	expect_error(HEAD "[camera]\nclause = x\n\n[camera]\nclause = y\n", 7,
		     "section [camera] repeated (first at line 4)");
	expect_error(HEAD "\n[encryption]\nenabled = true\n", 5,
		     "[encryption] missing required key 'clause'");
	expect_error("[policy]\nname = Test\n", 1,
		     "[policy] missing required key 'version'");
	expect_error("name = Test\n" HEAD, 1, "key 'name' before any [section]");
	expect_error(HEAD "this is not a setting\n", 4,
		     "expected 'key = value' or '[section]'");
	expect_error(HEAD "[camera\n", 4, "section header lacks ']'");
	expect_error(HEAD "[camera]\n   indented = 1\n", 5,
		     "indented line continues no key");
	expect_error(HEAD "interval_minutes = 5\n  more\n", 5,
		     "only a text or list value may continue");
	expect_error(HEAD "[camera]\nclause = \n", 5, "clause is empty");
	expect_error(HEAD "[camera]\nclause = a\tb\n", 5,
		     "contains a control character");
	expect_error(HEAD "[camera]\nclause = caf\xe9\n", 5,
		     "is not valid UTF-8");
}

static void test_error_lines_all_reported(void **state)
{
	static const char text[] = HEAD "bad1 = x\n[camera]\nclause = x\n"
				   "action = loud\n";
	_cleanup_free_ char *errors = load_text(text, strlen(text), NULL);
	_cleanup_free_ char *l4 = xasprintf("%s/p.ini:4: ", tu_dir);
	_cleanup_free_ char *l7 = xasprintf("%s/p.ini:7: ", tu_dir);

	(void)state;
	assert_non_null(strstr(errors, l4));
	assert_non_null(strstr(errors, l7));
}

static void test_long_line(void **state)
{
	char text[512];
	size_t n;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text), HEAD "[camera]\nclause = ");
	memset(text + n, 'x', 300);
	strcpy(text + n + 300, "\n");
	expect_error(text, 5, "line longer than 198 bytes");
}

static void test_clause_too_long(void **state)
{
	_cleanup_free_ char *text = NULL;
	char *p;

	(void)state;
	/* 12 continuation lines of 100 bytes: 1200 bytes joined. */
	text = xmalloc(strlen(HEAD) + 32 + 12 * 104);
	p = text + sprintf(text, HEAD "[camera]\nclause = start\n");
	for (int i = 0; i < 12; i++) {
		p += sprintf(p, "  ");
		memset(p, 'w', 100);
		p += 100;
		*p++ = '\n';
	}
	*p = '\0';
	expect_error(text, 15, "clause is too long (at most 1000 bytes)");
}

static void test_nul_byte(void **state)
{
	static const char text[] = HEAD "[camera]\nclause = a\0b\n";
	_cleanup_free_ char *errors = load_text(text, sizeof(text) - 1, NULL);

	(void)state;
	assert_non_null(strstr(errors, ":5: NUL byte in line"));
}

static void test_not_ini(void **state)
{
	(void)state;
	expect_error("{\"policy\": {\"name\": \"x\"}}\n", 1,
		     "expected 'key = value' or '[section]'");
	expect_error("{\"policy\": {\"name\": \"x\"}}\n", 0,
		     "missing section [policy]");
	expect_error("\x7f" "ELF\x02\x01\x01\n\xff\xfe\n", 1, "expected");
}

static void test_empty(void **state)
{
	(void)state;
	expect_error("", 0, "missing section [policy]");
	expect_error("; only a comment\n\n", 0, "missing section [policy]");
}

static void test_huge_file(void **state)
{
	size_t n = 10 * 1024 * 1024;
	_cleanup_free_ char *text = xmalloc(n);
	_cleanup_free_ char *errors = NULL;

	(void)state;
	memcpy(text, HEAD, strlen(HEAD));
	for (size_t i = strlen(HEAD); i < n; i++)
		text[i] = (i % 64 == 63) ? '\n' : ';';
	errors = load_text(text, n, NULL);
	assert_non_null(strstr(errors, "larger than 1048576 bytes"));
}

static void test_too_many_errors(void **state)
{
	size_t n = 200 * 8;
	_cleanup_free_ char *text = xmalloc(n + 1);
	_cleanup_free_ char *errors = NULL;
	unsigned lines = 0;

	(void)state;
	for (size_t i = 0; i < 200; i++)
		memcpy(text + i * 8, "garbage\n", 8);
	text[n] = '\0';
	errors = load_text(text, n, NULL);
	for (const char *c = errors; *c; c++)
		lines += *c == '\n';
	assert_int_equal(lines, 50);
	assert_non_null(strstr(errors, "too many errors"));
}

static void test_missing_file(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/none.ini", tu_dir);
	_cleanup_free_ char *errors = NULL;
	struct policy *p = NULL;

	(void)state;
	assert_int_equal(policy_load(path, &p, &errors), -ENOENT);
	assert_null(p);
	assert_non_null(strstr(errors, "No such file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_policy),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_camera_apps),
		cmocka_unit_test(test_byte_order_mark),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_error_lines_all_reported),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_clause_too_long),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_not_ini),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_huge_file),
		cmocka_unit_test(test_too_many_errors),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests_name("policy", tests, tu_setup, tu_teardown);
}
