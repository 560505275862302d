/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db: choosing a driver, and the result type both drivers fill.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_private.h"
#include "util.h"

struct db_rows {
	int cols;
	size_t n, cap;
	char **cells;	/* n * cols, row by row */
};

struct db *db_open(const char *url, char **err)
{
	*err = NULL;
	if (strncmp(url, "sqlite:", 7) == 0)
		return db_sqlite_open(url + 7, err);
	if (strncmp(url, "postgresql://", 13) == 0 ||
	    strncmp(url, "postgres://", 11) == 0)
		return db_pg_open(url, err);
	*err = xasprintf("%s: not a database URL (sqlite:PATH or "
			 "postgresql://...)", url);
	return NULL;
}

void db_close(struct db *d)
{
	if (d)
		d->drv->close(d);
}

enum db_kind db_kind(const struct db *d)
{
	return d->drv->kind;
}

int db_run(struct db *d, const char *sql, int n, const char *const *params,
	   struct db_rows **rows)
{
	if (rows)
		*rows = NULL;
	return d->drv->run(d, sql, n, params, rows);
}

int db_script(struct db *d, const char *sql)
{
	return d->drv->script(d, sql);
}

int db_begin(struct db *d)
{
	return db_script(d, d->drv->begin_sql);
}

int db_commit(struct db *d)
{
	return db_script(d, "COMMIT");
}

void db_rollback(struct db *d)
{
	db_script(d, "ROLLBACK");
}

int db_lock_migration(struct db *d)
{
	return d->drv->lock_migration_sql ? db_script(d, d->drv->lock_migration_sql)
					  : 0;
}

struct db_rows *db_rows_new(int cols)
{
	struct db_rows *r = xcalloc(1, sizeof(*r));

	r->cols = cols;
	return r;
}

void db_rows_add(struct db_rows *r)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 8;
		r->cells = xrealloc(r->cells, r->cap * (size_t)r->cols *
						      sizeof(*r->cells));
	}
	memset(&r->cells[r->n * (size_t)r->cols], 0,
	       (size_t)r->cols * sizeof(*r->cells));
	r->n++;
}

void db_rows_set(struct db_rows *r, int col, const char *v)
{
	r->cells[(r->n - 1) * (size_t)r->cols + (size_t)col] =
		v ? xstrdup(v) : NULL;
}

size_t db_rows_count(const struct db_rows *r)
{
	return r ? r->n : 0;
}

const char *db_rows_get(const struct db_rows *r, size_t i, int col)
{
	if (!r || i >= r->n || col < 0 || col >= r->cols)
		return NULL;
	return r->cells[i * (size_t)r->cols + (size_t)col];
}

void db_rows_free(struct db_rows *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n * (size_t)r->cols; i++)
		free(r->cells[i]);
	free(r->cells);
	free(r);
}

void db_rows_freep(struct db_rows **r)
{
	db_rows_free(*r);
}
