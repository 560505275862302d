/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_pg: PostgreSQL through libpq. Statements are prepared once a
 * connection and run with their parameters apart (PQexecPrepared), never
 * spliced into the SQL text.
 * Several collectord instances share one server: schema migration takes
 * an advisory lock, and nothing else lives in a process.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_private.h"
#include "log.h"
#include "util.h"

#define CACHED 32	/* the store runs a few dozen distinct statements */

struct cached {
	char *sql;
	char name[24];
};

struct pg_db {
	struct db base;
	PGconn *conn;
	struct cached cache[CACHED];
	unsigned next;		/* the slot to reuse when the cache is full */
	unsigned long named;	/* statements named so far */
};

/* "?" to "$1", "$2"... (the store's SQL has no "?" in a literal). */
static char *numbered(const char *sql)
{
	size_t n = strlen(sql), q = 0;
	char *out, *o;
	int k = 0;

	for (const char *p = sql; *p; p++)
		q += *p == '?';
	out = o = xmalloc(n + q * 6 + 1);
	for (const char *p = sql; *p; p++) {
		if (*p == '?')
			o += sprintf(o, "$%d", ++k);
		else
			*o++ = *p;
	}
	*o = '\0';
	return out;
}

static void forget_prepared(struct pg_db *p)
{
	for (unsigned i = 0; i < CACHED; i++) {
		free(p->cache[i].sql);
		p->cache[i].sql = NULL;
	}
}

static int pg_fail(struct pg_db *p, PGresult *res, const char *sql)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE)
				: NULL;

	if (state && strcmp(state, "23505") == 0)
		return -EEXIST;
	log_errx("postgresql: %s: %s", sql, PQerrorMessage(p->conn));
	/* A lost connection is made again for the next request, without
	 * the statements the old one had prepared. */
	if (PQstatus(p->conn) == CONNECTION_BAD) {
		forget_prepared(p);
		PQreset(p->conn);
	}
	return -EIO;
}

static void clearp(PGresult **r)
{
	PQclear(*r);
}

/* The name of a statement prepared on this connection for sql (n
 * parameters), or NULL (the reason in the connection's error). As on
 * SQLite, preparing costs more than running the store's small
 * statements: PQexecParams parsed and planned each one again. */
static const char *prepared(struct pg_db *p, const char *sql, int n)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_(clearp) PGresult *res = NULL;
	struct cached *c;

	for (unsigned i = 0; i < CACHED; i++)
		if (p->cache[i].sql && strcmp(p->cache[i].sql, sql) == 0)
			return p->cache[i].name;
	c = &p->cache[p->next];
	if (c->sql) {
		char drop[48];

		snprintf(drop, sizeof(drop), "DEALLOCATE %s", c->name);
		PQclear(PQexec(p->conn, drop));
		free(c->sql);
		c->sql = NULL;
	}
	snprintf(c->name, sizeof(c->name), "s%lu", ++p->named);
	text = numbered(sql);
	res = PQprepare(p->conn, c->name, text, n, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return NULL;
	c->sql = xstrdup(sql);
	p->next = (p->next + 1) % CACHED;
	return c->name;
}

static int pg_run(struct db *d, const char *sql, int n,
		  const char *const *params, struct db_rows **rows)
{
	struct pg_db *p = (struct pg_db *)d;
	const char *name = prepared(p, sql, n);
	_cleanup_(clearp) PGresult *res = NULL;
	ExecStatusType st;
	struct db_rows *out;
	int cols, nrows;

	if (!name)
		return pg_fail(p, NULL, sql);
	res = PQexecPrepared(p->conn, name, n, params, NULL, NULL, 0);
	st = PQresultStatus(res);

	if (st == PGRES_COMMAND_OK)
		return atoi(PQcmdTuples(res));
	if (st != PGRES_TUPLES_OK)
		return pg_fail(p, res, sql);
	nrows = PQntuples(res);
	if (!rows)
		return nrows;
	cols = PQnfields(res);
	out = db_rows_new(cols);
	for (int i = 0; i < nrows; i++) {
		db_rows_add(out);
		for (int c = 0; c < cols; c++)
			db_rows_set(out, c, PQgetisnull(res, i, c)
						    ? NULL
						    : PQgetvalue(res, i, c));
	}
	*rows = out;
	return nrows;
}

static int pg_script(struct db *d, const char *sql)
{
	struct pg_db *p = (struct pg_db *)d;
	_cleanup_(clearp) PGresult *res = PQexec(p->conn, sql);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		return pg_fail(p, res, sql);
	return 0;
}

static void pg_close(struct db *d)
{
	struct pg_db *p = (struct pg_db *)d;

	forget_prepared(p);
	PQfinish(p->conn);
	free(p);
}

static const struct db_driver pg_driver = {
	.kind = DB_POSTGRES,
	.run = pg_run,
	.script = pg_script,
	.close = pg_close,
	.begin_sql = "BEGIN",
	/* One instance migrates at a time; the others wait, then see the
	 * new version. */
	.lock_migration_sql = "SELECT pg_advisory_xact_lock(727473)",
};

struct db *db_pg_open(const char *url, char **err)
{
	struct pg_db *p = xcalloc(1, sizeof(*p));

	p->base.drv = &pg_driver;
	p->conn = PQconnectdb(url);
	if (PQstatus(p->conn) != CONNECTION_OK) {
		*err = xasprintf("PostgreSQL: %s", PQerrorMessage(p->conn));
		strrstrip(*err);
		pg_close(&p->base);
		return NULL;
	}
	/* Quiet NOTICEs (CREATE ... IF NOT EXISTS) stay out of the log. */
	pg_script(&p->base, "SET client_min_messages = warning");
	return &p->base;
}
