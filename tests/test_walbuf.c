/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of walbuf, the VFS that gathers a write-ahead log's writes until
 * the log is synced: with real SQLite databases in a temporary directory,
 * what one connection commits through it is what another connection, on
 * SQLite's own VFS, reads at once, and what a reopened database holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "testutil.h"
#include "util.h"
#include "walbuf.h"

struct dbs {
	char *dir, *path;
	sqlite3 *writer;	/* through walbuf */
	sqlite3 *reader;	/* through SQLite's default VFS */
};

static void exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err ? err : "?");
}

static long long one(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void text_is(sqlite3 *db, const char *sql, const char *want)
{
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), want);
	sqlite3_finalize(st);
}

static int setup(void **state)
{
	struct dbs *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	d->dir = tu_tmpdir();
	d->path = xasprintf("%s/t.db", d->dir);
	assert_non_null(walbuf_vfs());
	assert_int_equal(sqlite3_open_v2(d->path, &d->writer,
					 SQLITE_OPEN_READWRITE |
						 SQLITE_OPEN_CREATE,
					 walbuf_vfs()),
			 SQLITE_OK);
	/* A small cache: pages spill into the log mid-transaction and are
	 * written to it again, inside what is gathered and outside it. */
	exec(d->writer, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			"PRAGMA cache_size=20; PRAGMA wal_autocheckpoint=0;"
			"CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB);"
			"CREATE INDEX t_v ON t(v)");
	assert_int_equal(sqlite3_open_v2(d->path, &d->reader,
					 SQLITE_OPEN_READWRITE, NULL),
			 SQLITE_OK);
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	struct dbs *d = *state;

	sqlite3_close(d->reader);
	sqlite3_close(d->writer);
	tu_rmrf(d->dir);
	free(d->dir);
	free(d->path);
	free(d);
	return 0;
}

/* Each commit is read at once by the other connection: nothing it needs
 * was left gathered. Small commits, commits far over what is gathered at
 * most (64 KiB), rows changed twice in one transaction. */
static void test_commits_seen_at_once(void **state)
{
	struct dbs *d = *state;
	long long rows = 0;

	for (int i = 1; i <= 60; i++) {
		char sql[256];
		int n = i % 3 == 0 ? 200 : i % 3 == 1 ? 1 : 17;

		snprintf(sql, sizeof(sql),
			 "BEGIN; WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL"
			 " SELECT x + 1 FROM s WHERE x < %d)"
			 " INSERT INTO t (v) SELECT randomblob(%d) FROM s;"
			 " UPDATE t SET v = randomblob(900) WHERE k %% 7 = %d;"
			 " COMMIT",
			 n, 100 + 40 * i, i % 7);
		exec(d->writer, sql);
		rows += n;
		assert_int_equal(one(d->reader, "SELECT COUNT(*) FROM t"), rows);
		assert_int_equal(one(d->reader, "SELECT SUM(length(v) > 0)"
						" FROM t"), rows);
	}
	text_is(d->reader, "PRAGMA integrity_check", "ok");
	text_is(d->writer, "PRAGMA integrity_check", "ok");
}

/* A checkpoint copies the log into the database and the log starts
 * again from its header: the writes after it are read back as well. */
static void test_checkpoint_and_restart(void **state)
{
	struct dbs *d = *state;

	exec(d->writer, "BEGIN; INSERT INTO t (v) VALUES (randomblob(70000));"
			"COMMIT");
	exec(d->writer, "PRAGMA wal_checkpoint(TRUNCATE)");
	for (int i = 0; i < 5; i++)
		exec(d->writer, "INSERT INTO t (v) VALUES (randomblob(5000))");
	assert_int_equal(one(d->reader, "SELECT COUNT(*) FROM t"), 6);
	exec(d->writer, "PRAGMA wal_checkpoint(RESTART)");
	exec(d->writer, "INSERT INTO t (v) VALUES (x'00')");
	assert_int_equal(one(d->reader, "SELECT COUNT(*) FROM t"), 7);
	text_is(d->reader, "PRAGMA integrity_check", "ok");
}

/* Closed and opened again, on SQLite's own VFS: every commit is there. */
static void test_reopened(void **state)
{
	struct dbs *d = *state;
	sqlite3 *again;

	exec(d->writer, "BEGIN; INSERT INTO t (v) SELECT randomblob(3000)"
			" FROM (SELECT 1 UNION SELECT 2 UNION SELECT 3); COMMIT");
	sqlite3_close(d->reader);
	d->reader = NULL;
	sqlite3_close(d->writer);
	d->writer = NULL;
	assert_int_equal(sqlite3_open_v2(d->path, &again, SQLITE_OPEN_READWRITE,
					 NULL),
			 SQLITE_OK);
	assert_int_equal(one(again, "SELECT COUNT(*) FROM t"), 3);
	text_is(again, "PRAGMA integrity_check", "ok");
	sqlite3_close(again);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commits_seen_at_once,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_and_restart,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopened, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
