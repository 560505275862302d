/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_accounts: who may use the collector: dashboard admins and their
 * password hashes, enrolment secrets, the dashboard's sessions and the
 * failed sign-ins the limits count.
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

int store_admin_add(struct store *s, const char *name, const char *pwhash)
{
	char now[24];
	const char *p[] = { name, pwhash, store_num(now, time(NULL)) };
	int r = db_run(s->db, "INSERT INTO admins (name, pwhash, created_at)"
			      " VALUES (?, ?, ?) ON CONFLICT (name)"
			      " DO UPDATE SET pwhash = excluded.pwhash",
		       3, p, NULL);

	/* A new password signs the admin out everywhere. */
	if (r >= 0)
		r = db_run(s->db, "DELETE FROM sessions WHERE admin = ?", 1, p,
			   NULL);
	return r < 0 ? r : 0;
}

int store_admin_get(struct store *s, const char *name, char **pwhash)
{
	const char *p[] = { name };

	return store_one(s, "SELECT pwhash FROM admins WHERE name = ?", 1, p, pwhash);
}

int store_secret_add(struct store *s, const char *hash, const char *group)
{
	char now[24];
	const char *p[] = { hash, group, store_num(now, time(NULL)) };
	int r = db_run(s->db, "INSERT INTO enrol_secrets (hash, grp, created_at)"
			      " VALUES (?, ?, ?)", 3, p, NULL);

	return r < 0 ? r : 0;
}

int store_secret_revoke(struct store *s, const char *hash)
{
	char now[24];
	const char *p[] = { store_num(now, time(NULL)), hash };
	int r = db_run(s->db, "UPDATE enrol_secrets SET revoked_at = ?"
			      " WHERE hash = ? AND revoked_at IS NULL",
		       2, p, NULL);

	return r < 0 ? r : r == 0 ? -ENOENT : 0;
}

int store_secret_group(struct store *s, const char *hash, char **group)
{
	const char *p[] = { hash };

	return store_one(s, "SELECT grp FROM enrol_secrets"
			    " WHERE hash = ? AND revoked_at IS NULL", 1, p, group);
}

int store_secrets(struct store *s, json_t **out)
{
	_cleanup_(db_rows_freep) struct db_rows *r = NULL;

	if (db_run(s->db, "SELECT hash, grp, created_at, revoked_at"
			  " FROM enrol_secrets ORDER BY created_at, hash",
		   0, NULL, &r) < 0)
		return -EIO;
	*out = json_array();
	for (size_t i = 0; i < db_rows_count(r); i++) {
		const char *revoked = db_rows_get(r, i, 3);

		json_array_append_new(*out, json_pack(
			"{s:s%, s:s, s:I, s:o}", "id", db_rows_get(r, i, 0),
			(size_t)12, "group", db_rows_get(r, i, 1),
			"created_at", store_int_at(r, i, 2), "revoked_at",
			revoked ? json_integer(strtoll(revoked, NULL, 10))
				: json_null()));
	}
	return 0;
}

int store_admins(struct store *s, json_t **out)
{
	_cleanup_(db_rows_freep) struct db_rows *r = NULL;

	if (db_run(s->db, "SELECT name, created_at FROM admins ORDER BY name",
		   0, NULL, &r) < 0)
		return -EIO;
	*out = json_array();
	for (size_t i = 0; i < db_rows_count(r); i++)
		json_array_append_new(*out, json_pack(
			"{s:s, s:I}", "name", db_rows_get(r, i, 0),
			"created_at", store_int_at(r, i, 1)));
	return 0;
}

/* --- the dashboard's sessions --- */

int store_session_new(struct store *s, const char *id_hash, const char *admin,
		      const char *csrf, int64_t lifetime_s)
{
	char now[24], until[24];
	const char *p[] = { id_hash, admin, csrf, store_num(now, time(NULL)),
			    store_num(until, time(NULL) + lifetime_s) };

	/* Ended sessions are dropped as new ones start. */
	if (db_run(s->db, "DELETE FROM sessions WHERE expires_at <= ?", 1,
		   p + 3, NULL) < 0 ||
	    db_run(s->db, "INSERT INTO sessions (id_hash, admin, csrf,"
			  " created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
		   5, p, NULL) < 0)
		return -EIO;
	return 0;
}

int store_session_get(struct store *s, const char *id_hash, char **admin,
		      char **csrf)
{
	_cleanup_(db_rows_freep) struct db_rows *r = NULL;
	char now[24];
	const char *p[] = { id_hash, store_num(now, time(NULL)) };
	int k;

	/* An admin who is no longer there has no session. */
	k = db_run(s->db, "SELECT s.admin, s.csrf FROM sessions s JOIN admins a"
			  " ON a.name = s.admin WHERE s.id_hash = ?"
			  " AND s.expires_at > ?", 2, p, &r);
	if (k < 0)
		return -EIO;
	if (k == 0)
		return -ENOENT;
	*admin = xstrdup(db_rows_get(r, 0, 0));
	*csrf = xstrdup(db_rows_get(r, 0, 1));
	return 0;
}

int store_session_end(struct store *s, const char *id_hash)
{
	const char *p[] = { id_hash };

	return db_run(s->db, "DELETE FROM sessions WHERE id_hash = ?", 1, p,
		      NULL) < 0 ? -EIO : 0;
}

