/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_private: what the store's files (store*.c) share and nobody
 * else sees: the handle's layout, a device's state as the ingest and the
 * counts read it, and small helpers for reading rows. store.h is the
 * interface.
 */
#ifndef COLLECTORD_STORE_PRIVATE_H
#define COLLECTORD_STORE_PRIVATE_H

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "util.h"

/* A device's state as the committer last stored it (store_remember). */
struct known {
	char *grp, *status, *token_hash;
	int64_t last_seq;
	size_t n, bytes;
	struct check_now *checks;	/* the strings are the entry's own */
};

struct store {
	struct db *db;
	bool remember;
	struct known **known;	/* by device id */
	size_t nknown, known_bytes;
	int64_t data_version;
};

/* A check as a device's latest report left it. */
struct check_now {
	const char *id, *status, *summary;
};

/* What a device looks like now: group, overall status, the sequence
 * number of its latest report (-1: none yet) and its checks. The strings
 * are the rows' own, read once (the committer does this for every
 * report). */
struct device_now {
	const char *grp, *status, *token_hash;
	int64_t last_seq;
	size_t n;
	struct check_now *checks;
	struct db_rows *rows;
	bool known;		/* checks and strings are a struct known's */
};

/* --- helpers --- */

/* v as decimal text in buf. */
static inline const char *store_num(char buf[static 24], int64_t v)
{
	snprintf(buf, 24, "%" PRId64, v);
	return buf;
}

/* The text of the first column of the first row (caller frees), or
 * -ENOENT. */
static inline int store_one(struct store *s, const char *sql, int n,
			    const char *const *params, char **out)
{
	_cleanup_(db_rows_freep) struct db_rows *r = NULL;
	int k = db_run(s->db, sql, n, params, &r);

	if (k < 0)
		return k;
	if (k == 0 || !db_rows_get(r, 0, 0))
		return -ENOENT;
	*out = xstrdup(db_rows_get(r, 0, 0));
	return 0;
}

/* Column col of row i as an integer (0 for SQL NULL). */
static inline json_int_t store_int_at(const struct db_rows *r, size_t i,
				      int col)
{
	const char *v = db_rows_get(r, i, col);

	return v ? strtoll(v, NULL, 10) : 0;
}

/* --- store_schema.c --- */

/* The schema version the database has (0: none yet). */
int store_schema_current(struct store *s);
/* Create or upgrade the schema to this build's, in one transaction that
 * other processes' migrations wait for. 0 or -EIO. */
int store_migrate(struct store *s);

/* --- store_ingest.c --- */

/* Forget every device the committer remembers. */
void store_known_forget(struct store *s);

/* --- store_counts.c --- */

/* Add by to the count of (grp, check, status) in the pending changes d;
 * nothing when grp or status is NULL. */
void store_count_delta(json_t *d, const char *grp, const char *check,
		       const char *status, int by);
/* Apply the pending changes d in key order, and empty d. 0 or -EIO. */
int store_count_apply(struct store *s, json_t *d);
/* Count a device's state in (by +1) or out (by -1) of group grp. */
void store_count_device(json_t *d, const char *grp,
			const struct device_now *n, int by);
/* Count one status changing from one value to another (either NULL for
 * none); nothing moves when it stays. */
void store_count_change(json_t *d, const char *grp, const char *check,
			const char *from, const char *to);

#endif
