/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store: the handle on the estate's records (store.h), on either database
 * (db.h): opening one (with the schema brought up to date by
 * store_schema.c) and closing it; what the store's files share is in
 * store_private.h. What the store does is in its parts:
 * store_schema.c (the tables and their migrations), store_ingest.c
 * (enrolments, reports and the committer's device memory, removal,
 * retention), store_counts.c (the counts, the summary and the estate over
 * time), store_query.c (reading for the API, policies, findings, groups)
 * and store_accounts.c (admins, enrolment secrets, sessions, sign-in
 * limits). Every statement has its values bound as parameters.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "log.h"
#include "secret.h"
#include "store.h"
#include "store_private.h"
#include "util.h"

struct store *store_open(const char *url, bool do_migrate, char **err)
{
	struct store *s;
	struct db *d = db_open(url, err);
	int v;

	if (!d)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->db = d;
	if (do_migrate && store_migrate(s) < 0) {
		*err = xasprintf("%s: cannot prepare the database", url);
		store_close(s);
		return NULL;
	}
	v = store_schema_current(s);
	if (v != store_schema_version()) {
		*err = xasprintf("%s: schema version %d, this collectord needs "
				 "%d", url, v, store_schema_version());
		store_close(s);
		return NULL;
	}
	return s;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	store_known_forget(s);
	free(s->known);
	db_close(s->db);
	free(s);
}

bool store_ping(struct store *s)
{
	return db_run(s->db, "SELECT 1", 0, NULL, NULL) >= 0;
}

bool store_group_ok(const char *g)
{
	size_t n = g ? strlen(g) : 0;

	return n > 0 && n <= 64 &&
	       strspn(g, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789 ._-'") == n;
}
