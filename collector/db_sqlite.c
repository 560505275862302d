/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_sqlite: the embedded database. Rows are copied out as text.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_private.h"
#include "log.h"
#include "util.h"
#include "walbuf.h"

#define BUSY_TIMEOUT_MS 5000
#define CACHED 32	/* the store runs a few dozen distinct statements */

struct cached {
	char *sql;
	sqlite3_stmt *st;
};

struct sqlite_db {
	struct db base;
	sqlite3 *h;
	struct cached cache[CACHED];
	unsigned next;	/* the slot to reuse when the cache is full */
};

/* A prepared statement for sql, kept for the next run of the same text:
 * preparing costs more than running the store's small statements. */
static sqlite3_stmt *prepared(struct sqlite_db *s, const char *sql)
{
	struct cached *c;
	sqlite3_stmt *st;

	for (unsigned i = 0; i < CACHED; i++)
		if (s->cache[i].sql && strcmp(s->cache[i].sql, sql) == 0)
			return s->cache[i].st;
	if (sqlite3_prepare_v3(s->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
			       NULL) != SQLITE_OK)
		return NULL;
	c = &s->cache[s->next];
	s->next = (s->next + 1) % CACHED;
	sqlite3_finalize(c->st);
	free(c->sql);
	c->sql = xstrdup(sql);
	c->st = st;
	return st;
}

static int sq_fail(struct sqlite_db *s, const char *what)
{
	log_errx("sqlite: %s: %s", what, sqlite3_errmsg(s->h));
	return -EIO;
}

static int sq_run(struct db *d, const char *sql, int n,
		  const char *const *params, struct db_rows **rows)
{
	struct sqlite_db *s = (struct sqlite_db *)d;
	sqlite3_stmt *st = prepared(s, sql);
	struct db_rows *out = NULL;
	int r, cols;

	if (!st)
		return sq_fail(s, sql);
	/* SQLITE_STATIC: the values are not copied; they outlive the
	 * statement's run, which ends (reset, bindings cleared) below. */
	for (int i = 0; i < n; i++) {
		if (params[i])
			sqlite3_bind_text(st, i + 1, params[i], -1,
					  SQLITE_STATIC);
		else
			sqlite3_bind_null(st, i + 1);
	}
	cols = sqlite3_column_count(st);
	if (rows)
		out = db_rows_new(cols);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (!out)
			continue;
		db_rows_add(out);
		for (int c = 0; c < cols; c++)
			db_rows_set(out, c, (const char *)sqlite3_column_text(st, c));
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (r == SQLITE_CONSTRAINT) {
		db_rows_free(out);
		return -EEXIST;
	}
	if (r != SQLITE_DONE) {
		db_rows_free(out);
		return sq_fail(s, sql);
	}
	if (rows)
		*rows = out;
	return out ? (int)db_rows_count(out) : sqlite3_changes(s->h);
}

static int sq_script(struct db *d, const char *sql)
{
	struct sqlite_db *s = (struct sqlite_db *)d;
	char *msg = NULL;

	if (sqlite3_exec(s->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_errx("sqlite: %s", msg ? msg : "error");
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

static void sq_close(struct db *d)
{
	struct sqlite_db *s = (struct sqlite_db *)d;

	for (unsigned i = 0; i < CACHED; i++) {
		sqlite3_finalize(s->cache[i].st);
		free(s->cache[i].sql);
	}
	sqlite3_close(s->h);
	free(s);
}

static const struct db_driver sqlite_driver = {
	.kind = DB_SQLITE,
	.run = sq_run,
	.script = sq_script,
	.close = sq_close,
	/* IMMEDIATE: the write lock now, so two writers do not deadlock. */
	.begin_sql = "BEGIN IMMEDIATE",
	/* BEGIN IMMEDIATE already excludes every other writer. */
	.lock_migration_sql = NULL,
};

struct db *db_sqlite_open(const char *path, char **err)
{
	struct sqlite_db *s = xcalloc(1, sizeof(*s));

	s->base.drv = &sqlite_driver;
	if (sqlite3_open_v2(path, &s->h, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    walbuf_vfs()) != SQLITE_OK) {
		*err = xasprintf("%s: %s", path, sqlite3_errmsg(s->h));
		sq_close(&s->base);
		return NULL;
	}
	sqlite3_busy_timeout(s->h, BUSY_TIMEOUT_MS);
	/* WAL with synchronous=FULL: a commit is on disk before 2xx (and
	 * the log's writes, gathered by walbuf, are all made by then).
	 *
	 * The page cache stays at SQLite's default (2 MB). A larger one cost
	 * the committer more than it saved: when a b-tree split puts its new
	 * pages in order, SQLite numbers one for a moment as the locking page
	 * (1 GiB in), and the commit then scans the whole cache for pages
	 * past the end of the file (pcache1TruncateUnsafe in SQLite 3.40).
	 * At 32 MB that was 3 to 4 us a report, with 1,000 devices as with
	 * 20,000.
	 *
	 * A checkpoint every 10,000 pages (40 MB of log) instead of 1,000:
	 * the committer copies a page the reports touch again and again
	 * once, not ten times (about 15,300 to 18,300 reports/s). The price:
	 * the committer stops longer at each checkpoint (p99 10 to about
	 * 41-45 ms under that load). The log is cut back to 64 MB. */
	if (sq_script(&s->base, "PRAGMA journal_mode=WAL;"
				"PRAGMA synchronous=FULL;"
				"PRAGMA wal_autocheckpoint=10000;"
				"PRAGMA journal_size_limit=67108864;"
				"PRAGMA foreign_keys=ON") < 0) {
		*err = xasprintf("%s: cannot set the journal up", path);
		sq_close(&s->base);
		return NULL;
	}
	return &s->base;
}
