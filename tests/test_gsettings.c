/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of gsettings (the dconf profile, IT's databases and what is
 * in force, GVariant text) and desktop_timespan(), on fixture roots. What
 * the desktops' real schemas give is tested by tests/system/screen_lock.py.
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

#include "desktop.h"
#include "gsettings.h"
#include "testutil.h"
#include "util.h"

static void test_gvariant_text(void **state)
{
	(void)state;
	assert_int_equal(gsettings_int("uint32 300"), 300);
	assert_int_equal(gsettings_int("int32 5"), 5);
	assert_int_equal(gsettings_int("900"), 900);
	assert_int_equal(gsettings_int("int32 -5"), -1);
	assert_int_equal(gsettings_int("uint32 12abc"), -1);
	assert_int_equal(gsettings_int("99999999999999999999999"), -1);
	assert_int_equal(gsettings_int(""), -1);
	assert_int_equal(gsettings_int(NULL), -1);
	assert_int_equal(gsettings_bool("true"), 1);
	assert_int_equal(gsettings_bool("false"), 0);
	assert_int_equal(gsettings_bool("yes"), -1);
	assert_int_equal(gsettings_bool(NULL), -1);
}

static void test_timespan(void **state)
{
	(void)state;
	assert_int_equal(desktop_timespan("30min"), 1800);
	assert_int_equal(desktop_timespan("1h 30s"), 3630);
	assert_int_equal(desktop_timespan("5 min"), 300);
	assert_int_equal(desktop_timespan("300"), 300);
	assert_int_equal(desktop_timespan("infinity"), -1);
	assert_int_equal(desktop_timespan("10ms"), -1);
	assert_int_equal(desktop_timespan("-5s"), -1);
}

/* A database whose keyfiles were never compiled is not in force, and
 * says so; nothing of it reaches the profile the tools get. */
static void test_uncompiled_database(void **state)
{
	struct host *h = host_new(tu_dir);
	struct gsettings *g;
	json_t *ev, *db;

	(void)state;
	free(tu_writes(tu_dir, "etc/dconf/profile/user",
		       "user-db:user\nsystem-db:local\n"));
	free(tu_writes(tu_dir, "etc/dconf/db/local.d/00-lock",
		       "[org/gnome/desktop/session]\nidle-delay=uint32 300\n"));
	g = gsettings_new(h);
	assert_non_null(gsettings_stale(g));
	assert_non_null(strstr(gsettings_stale(g),
			       "`dconf update` has not been run"));
	ev = gsettings_evidence(g);
	assert_string_equal(json_string_value(json_object_get(ev, "profile")),
			    "/etc/dconf/profile/user");
	db = json_array_get(json_object_get(ev, "databases"), 0);
	assert_string_equal(json_string_value(json_object_get(db, "name")),
			    "local");
	assert_true(json_is_false(json_object_get(db, "compiled")));
	json_decref(ev);
	gsettings_free(g);
	host_free(h);
}

/* Lines the session's dconf would not read, or that would lead out of
 * /etc/dconf/db, are noted and not passed on. */
static void test_profile_hostile_lines(void **state)
{
	struct host *h = host_new(tu_dir);
	struct gsettings *g;
	json_t *ev, *notes;

	(void)state;
	free(tu_writes(tu_dir, "etc/dconf/profile/user",
		       "# comment\nuser-db:user\nsystem-db:../../tmp/x\n"
		       "service-db:site\nsystem-db:\nnonsense\n"));
	g = gsettings_new(h);
	ev = gsettings_evidence(g);
	notes = json_object_get(ev, "notes");
	assert_int_equal(json_array_size(json_object_get(ev, "databases")), 0);
	assert_int_equal(json_array_size(notes), 4);
	/* The lines themselves are never repeated: a user's runtime profile
	 * may be a link to a file she cannot read. */
	assert_null(strstr(json_string_value(json_array_get(notes, 0)),
			   "tmp/x"));
	assert_non_null(strstr(json_string_value(json_array_get(notes, 1)),
			       "service-db"));
	assert_null(gsettings_stale(g));
	json_decref(ev);
	gsettings_free(g);
	host_free(h);
}

/* No schemas below the root: the key cannot be read, and the reason
 * says so (never the value a constant would give). */
static void test_no_schema_is_an_error(void **state)
{
	struct host *h = host_new(tu_dir);
	struct user u = { .name = "alice", .uid = getuid(), .gid = getgid(),
			  .home = "/home/alice", .source = "passwd" };
	struct gsettings *g;
	struct gsettings_user *gu;
	struct gsetting s;
	int r;

	(void)state;
	free(tu_writes(tu_dir, "home/alice/.profile", ""));
	g = gsettings_new(h);
	gu = gsettings_user_new(g, &u);
	r = gsettings_get(gu, "org.gnome.desktop.session", "idle-delay", &s);
	assert_true(r == -ENOENT || r == -ENOPKG);
	assert_non_null(strstr(gsettings_error(gu), "not installed"));
	gsettings_user_free(gu);
	gsettings_free(g);
	host_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gvariant_text),
		cmocka_unit_test(test_timespan),
		cmocka_unit_test_setup_teardown(test_uncompiled_database,
						tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(test_profile_hostile_lines,
						tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(test_no_schema_is_an_error,
						tu_setup, tu_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
