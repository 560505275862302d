/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db: the two databases behind one small interface, so the store's logic
 * is written once. A connection runs parameterised statements ("?" marks a
 * parameter; every value travels as text, bound, never spliced into SQL)
 * and returns rows of text. "sqlite:PATH" is the embedded default (WAL,
 * synchronous=FULL); "postgresql://..." or "postgres://..." is libpq.
 */
#ifndef COLLECTORD_DB_H
#define COLLECTORD_DB_H

#include <stdbool.h>
#include <stddef.h>

struct db;
struct db_rows;

enum db_kind { DB_SQLITE, DB_POSTGRES };

/* Connect. Returns NULL with a message in *err (caller frees). */
struct db *db_open(const char *url, char **err);
void db_close(struct db *d);
enum db_kind db_kind(const struct db *d);

/* Run sql with n parameters (NULL is SQL NULL). For a statement that
 * returns rows, *rows gets them (caller frees; may be NULL when not
 * wanted). Returns the number of rows changed (or returned), -EEXIST on a
 * uniqueness violation, -EIO when the database failed. */
int db_run(struct db *d, const char *sql, int n, const char *const *params,
	   struct db_rows **rows);

size_t db_rows_count(const struct db_rows *r);
/* Column col of row i as text, or NULL for SQL NULL. */
const char *db_rows_get(const struct db_rows *r, size_t i, int col);
void db_rows_free(struct db_rows *r);
void db_rows_freep(struct db_rows **r);

/* A transaction that takes the database's write lock at once (SQLite
 * BEGIN IMMEDIATE). Returns 0 or -EIO. */
int db_begin(struct db *d);
int db_commit(struct db *d);
void db_rollback(struct db *d);

/* Run a script of statements with no parameters (schema). 0 or -EIO. */
int db_script(struct db *d, const char *sql);

/* Serialise schema migration across processes sharing the database, for
 * the current transaction. 0 or -EIO. */
int db_lock_migration(struct db *d);

#endif
