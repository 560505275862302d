/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_private: what the two drivers share with db.c.
 */
#ifndef COLLECTORD_DB_PRIVATE_H
#define COLLECTORD_DB_PRIVATE_H

#include "db.h"

struct db_driver {
	enum db_kind kind;
	int (*run)(struct db *d, const char *sql, int n,
		   const char *const *params, struct db_rows **rows);
	int (*script)(struct db *d, const char *sql);
	void (*close)(struct db *d);
	const char *begin_sql;
	const char *lock_migration_sql;	/* NULL: begin_sql suffices */
};

struct db {
	const struct db_driver *drv;
};

struct db *db_sqlite_open(const char *path, char **err);
struct db *db_pg_open(const char *url, char **err);

/* Building a result: a new row, then its columns. */
struct db_rows *db_rows_new(int cols);
void db_rows_add(struct db_rows *r);
void db_rows_set(struct db_rows *r, int col, const char *v);

#endif
