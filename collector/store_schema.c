/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_schema: the tables the store keeps, and the migrations from each
 * earlier schema version to this build's (SCHEMA_VERSION, which the
 * Makefile reads for the manual pages).
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
#include "devkey.h"
#include "log.h"
#include "secret.h"
#include "store.h"
#include "store_private.h"
#include "util.h"

#define SCHEMA_VERSION 7

/* %s: how each database spells an id that numbers itself. */
static const char schema_v1[] =
	"CREATE TABLE admins (name TEXT PRIMARY KEY, pwhash TEXT NOT NULL,"
	" created_at BIGINT NOT NULL);"
	"CREATE TABLE enrol_secrets (hash TEXT PRIMARY KEY, grp TEXT NOT NULL,"
	" created_at BIGINT NOT NULL, revoked_at BIGINT);"
	"CREATE TABLE devices (id %s, machine_id TEXT UNIQUE NOT NULL,"
	" grp TEXT NOT NULL, token_hash TEXT NOT NULL, hostname TEXT,"
	" vendor TEXT, model TEXT, serial TEXT, os TEXT, agent_version TEXT,"
	" enrolled_at BIGINT NOT NULL, last_seen BIGINT, last_seq BIGINT,"
	" status TEXT, latest TEXT);"
	"CREATE TABLE reports (device_id BIGINT NOT NULL REFERENCES devices(id),"
	" seq BIGINT NOT NULL, received_at BIGINT NOT NULL,"
	" generated_at TEXT NOT NULL, status TEXT NOT NULL, body TEXT NOT NULL,"
	" PRIMARY KEY (device_id, seq));"
	"CREATE TABLE events (id %s,"
	" device_id BIGINT NOT NULL REFERENCES devices(id),"
	" at TEXT NOT NULL, type TEXT NOT NULL, check_id TEXT,"
	" received_at BIGINT NOT NULL, body TEXT NOT NULL);"
	"CREATE INDEX events_device ON events(device_id, at);"
	"CREATE INDEX events_type ON events(type, at);"
	"CREATE TABLE checks_latest (device_id BIGINT NOT NULL"
	" REFERENCES devices(id), check_id TEXT NOT NULL, status TEXT NOT NULL,"
	" PRIMARY KEY (device_id, check_id));"
	"CREATE INDEX devices_group ON devices(grp, status);"
	"INSERT INTO schema_version VALUES (1);";

/* Version 2: each group's policy, served to its agents. */
static const char schema_v2[] =
	"CREATE TABLE policies (grp TEXT PRIMARY KEY, body TEXT NOT NULL,"
	" sha256 TEXT NOT NULL, updated_at BIGINT NOT NULL);"
	"UPDATE schema_version SET version = 2;";

/* Version 3: the summary's per-check counts read an index in order
 * instead of sorting every device's checks (253 to 49 ms at 100,000
 * devices); stale devices are found by an index. */
static const char schema_v3[] =
	"CREATE INDEX IF NOT EXISTS checks_status"
	" ON checks_latest(check_id, status);"
	"CREATE INDEX IF NOT EXISTS devices_seen ON devices(last_seen);"
	"UPDATE schema_version SET version = 3;";

/* Version 4: counts kept as reports arrive, so the summary reads a few
 * hundred rows instead of counting the estate. check_id "#" counts the
 * devices of a group, "" their overall status, others each check. */
static const char schema_v4[] =
	"CREATE TABLE IF NOT EXISTS counts (grp TEXT NOT NULL,"
	" check_id TEXT NOT NULL, status TEXT NOT NULL, n BIGINT NOT NULL,"
	" PRIMARY KEY (grp, check_id, status));"
	"DELETE FROM counts;"
	"INSERT INTO counts SELECT grp, '#', 'enrolled', COUNT(*) FROM devices"
	" GROUP BY grp;"
	"INSERT INTO counts SELECT grp, '', status, COUNT(*) FROM devices"
	" WHERE status IS NOT NULL GROUP BY grp, status;"
	"INSERT INTO counts SELECT d.grp, c.check_id, c.status, COUNT(*)"
	" FROM checks_latest c JOIN devices d ON d.id = c.device_id"
	" GROUP BY d.grp, c.check_id, c.status;"
	"UPDATE schema_version SET version = 4;";

/* Version 5, for the dashboard: who uses a laptop (the desktop users of
 * its latest report, searchable) and since when its status holds; each
 * check's plain-language summary (the most common findings); signed-in
 * sessions and failed sign-ins, in the database so that every instance
 * knows them; a snapshot of the counts per day (the 30-day chart). */
static const char schema_v5[] =
	"ALTER TABLE devices ADD COLUMN users TEXT;"
	"ALTER TABLE devices ADD COLUMN status_since BIGINT;"
	"ALTER TABLE checks_latest ADD COLUMN summary TEXT;"
	"CREATE INDEX checks_finding ON checks_latest(status, check_id, summary);"
	"CREATE TABLE sessions (id_hash TEXT PRIMARY KEY, admin TEXT NOT NULL,"
	" csrf TEXT NOT NULL, created_at BIGINT NOT NULL,"
	" expires_at BIGINT NOT NULL);"
	"CREATE TABLE signin_failures (who TEXT NOT NULL, at BIGINT NOT NULL);"
	"CREATE INDEX signin_failures_who ON signin_failures(who, at);"
	"CREATE INDEX signin_failures_at ON signin_failures(at);"
	"CREATE TABLE daily (day TEXT NOT NULL, grp TEXT NOT NULL,"
	" check_id TEXT NOT NULL, status TEXT NOT NULL, n BIGINT NOT NULL,"
	" PRIMARY KEY (day, grp, check_id, status));"
	"UPDATE schema_version SET version = 5;";

/* Version 6: a device's latest checks are read from its latest report
 * (which retention keeps) and from checks_latest, not from a second copy
 * in devices: the committer no longer writes each report twice and parses
 * the one before (issue 7's ingest goal). */
static const char schema_v6[] =
	"ALTER TABLE devices DROP COLUMN latest;"
	"UPDATE schema_version SET version = 6;";

/* Version 7: failed sign-ins are no longer written (limits.c keeps them
 * in memory), so their table goes. And each laptop's Ed25519 public key
 * (base64), registered at
 * enrolment: its reports are verified against it, and enrolling its
 * machine id with another key takes nothing over. NULL for a laptop
 * enrolled before, until it enrols again. And the collector's own keys
 * (the policy key, which signs each group's policy), one for every
 * instance on the database. */
static const char schema_v7[] =
	"ALTER TABLE devices ADD COLUMN public_key TEXT;"
	"CREATE TABLE signing_keys (name TEXT PRIMARY KEY, pem TEXT NOT NULL,"
	" created_at BIGINT NOT NULL);"
	"DROP TABLE IF EXISTS signin_failures;"
	"UPDATE schema_version SET version = 7;";

int store_signing_key(struct store *s, const char *name, char **pem)
{
	_cleanup_(db_rows_freep) struct db_rows *r = NULL;
	_cleanup_free_ char *made = NULL;
	char now[24];
	const char *p[] = { name, NULL, store_num(now, time(NULL)) };

	if (db_run(s->db, "SELECT pem FROM signing_keys WHERE name = ?", 1, p,
		   &r) > 0) {
		*pem = xstrdup(db_rows_get(r, 0, 0));
		return 0;
	}
	if (devkey_new_pem(&made) < 0)
		return -EIO;
	p[1] = made;
	/* Two instances starting at once keep the first key written. */
	if (db_run(s->db, "INSERT INTO signing_keys (name, pem, created_at)"
			  " VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING", 3,
		   p, NULL) < 0)
		return -EIO;
	db_rows_free(r);
	r = NULL;
	if (db_run(s->db, "SELECT pem FROM signing_keys WHERE name = ?", 1, p,
		   &r) < 1)
		return -EIO;
	*pem = xstrdup(db_rows_get(r, 0, 0));
	return 0;
}

int store_schema_version(void)
{
	return SCHEMA_VERSION;
}

int store_schema_current(struct store *s)
{
	_cleanup_(db_rows_freep) struct db_rows *r = NULL;

	if (db_run(s->db, "SELECT version FROM schema_version", 0, NULL, &r) < 1)
		return 0;
	return atoi(db_rows_get(r, 0, 0));
}

int store_migrate(struct store *s)
{
	const char *id = db_kind(s->db) == DB_SQLITE
				 ? "INTEGER PRIMARY KEY"
				 : "BIGINT GENERATED BY DEFAULT AS IDENTITY "
				   "PRIMARY KEY";
	_cleanup_free_ char *v1 = xasprintf(schema_v1, id, id);
	int v;

	if (db_begin(s->db) < 0)
		return -EIO;
	if (db_lock_migration(s->db) < 0 ||
	    db_script(s->db, "CREATE TABLE IF NOT EXISTS schema_version "
			     "(version INTEGER NOT NULL)") < 0)
		goto failed;
	v = store_schema_current(s);
	if (v > SCHEMA_VERSION) {
		log_errx("the database has schema %d, newer than this "
			 "collectord (%d)", v, SCHEMA_VERSION);
		goto failed;
	}
	if (v < 1 && db_script(s->db, v1) < 0)
		goto failed;
	if (v < 2 && db_script(s->db, schema_v2) < 0)
		goto failed;
	if (v < 3 && db_script(s->db, schema_v3) < 0)
		goto failed;
	if (v < 4 && db_script(s->db, schema_v4) < 0)
		goto failed;
	if (v < 5 && db_script(s->db, schema_v5) < 0)
		goto failed;
	if (v < 6 && db_script(s->db, schema_v6) < 0)
		goto failed;
	if (v < 7 && db_script(s->db, schema_v7) < 0)
		goto failed;
	return db_commit(s->db);
failed:
	db_rollback(s->db);
	return -EIO;
}
