/*
 * store_sqlite: the embedded backend. WAL journal with synchronous=FULL,
 * so a commit is on disk before the API answers 2xx; every statement
 * prepared with bound parameters; a report and everything derived from it
 * written in one transaction.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store.h"
#include "util.h"

#define SCHEMA_VERSION 1
#define BUSY_TIMEOUT_MS 5000

struct store {
	sqlite3 *db;
};

static const char schema_v1[] =
	"CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);"
	"CREATE TABLE admins (name TEXT PRIMARY KEY, pwhash TEXT NOT NULL,"
	" created_at INTEGER NOT NULL);"
	"CREATE TABLE enrol_secrets (hash TEXT PRIMARY KEY, grp TEXT NOT NULL,"
	" created_at INTEGER NOT NULL, revoked_at INTEGER);"
	"CREATE TABLE devices (id INTEGER PRIMARY KEY,"
	" machine_id TEXT UNIQUE NOT NULL, grp TEXT NOT NULL,"
	" token_hash TEXT NOT NULL, hostname TEXT, vendor TEXT, model TEXT,"
	" serial TEXT, os TEXT, agent_version TEXT,"
	" enrolled_at INTEGER NOT NULL, last_seen INTEGER, last_seq INTEGER,"
	" status TEXT, latest TEXT);"
	"CREATE TABLE reports (device_id INTEGER NOT NULL REFERENCES devices(id),"
	" seq INTEGER NOT NULL, received_at INTEGER NOT NULL,"
	" generated_at TEXT NOT NULL, status TEXT NOT NULL, body TEXT NOT NULL,"
	" PRIMARY KEY (device_id, seq));"
	"CREATE TABLE events (id INTEGER PRIMARY KEY,"
	" device_id INTEGER NOT NULL REFERENCES devices(id),"
	" at TEXT NOT NULL, type TEXT NOT NULL, check_id TEXT,"
	" received_at INTEGER NOT NULL, body TEXT NOT NULL);"
	"CREATE INDEX events_device ON events(device_id, at);"
	"CREATE INDEX events_type ON events(type, at);"
	"CREATE TABLE checks_latest (device_id INTEGER NOT NULL"
	" REFERENCES devices(id), check_id TEXT NOT NULL, status TEXT NOT NULL,"
	" PRIMARY KEY (device_id, check_id));"
	"INSERT INTO schema_version VALUES (1);";

int store_schema_version(void)
{
	return SCHEMA_VERSION;
}

static int fail(struct store *s, const char *what)
{
	log_errx("sqlite: %s: %s", what, sqlite3_errmsg(s->db));
	return -EIO;
}

static int exec(struct store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_errx("sqlite: %s", msg ? msg : "error");
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

static void finalizep(sqlite3_stmt **st)
{
	sqlite3_finalize(*st);
}

/* Prepare sql and bind text parameters (NULL binds NULL). */
static sqlite3_stmt *prep(struct store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		fail(s, sql);
		return NULL;
	}
	return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static int current_version(struct store *s)
{
	_cleanup_(finalizep) sqlite3_stmt *st = prep(
		s, "SELECT version FROM schema_version");

	if (!st || sqlite3_step(st) != SQLITE_ROW)
		return 0;
	return sqlite3_column_int(st, 0);
}

static int migrate(struct store *s)
{
	int v, r;

	/* IMMEDIATE: two instances starting at once migrate one by one. */
	if (exec(s, "BEGIN IMMEDIATE") < 0)
		return -EIO;
	if (exec(s, "CREATE TABLE IF NOT EXISTS schema_version "
		    "(version INTEGER NOT NULL)") < 0)
		goto failed;
	v = current_version(s);
	if (v > SCHEMA_VERSION) {
		log_errx("sqlite: the database has schema %d, newer than this "
			 "collectord (%d)", v, SCHEMA_VERSION);
		goto failed;
	}
	if (v < 1 && exec(s, schema_v1) < 0)
		goto failed;
	r = exec(s, "COMMIT");
	return r;
failed:
	exec(s, "ROLLBACK");
	return -EIO;
}

struct store *store_open(const char *url, bool do_migrate, char **err)
{
	struct store *s;
	const char *path;

	*err = NULL;
	if (strncmp(url, "sqlite:", 7) != 0) {
		*err = xasprintf("%s: not a database URL this collectord "
				 "supports (sqlite:PATH)", url);
		return NULL;
	}
	path = url + 7;
	s = xcalloc(1, sizeof(*s));
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		*err = xasprintf("%s: %s", path, sqlite3_errmsg(s->db));
		store_close(s);
		return NULL;
	}
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	if (exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
		    "PRAGMA foreign_keys=ON") < 0 ||
	    (do_migrate && migrate(s) < 0)) {
		*err = xasprintf("%s: cannot prepare the database", path);
		store_close(s);
		return NULL;
	}
	if (!do_migrate && current_version(s) != SCHEMA_VERSION) {
		*err = xasprintf("%s: schema version %d, this collectord needs "
				 "%d", path, current_version(s), SCHEMA_VERSION);
		store_close(s);
		return NULL;
	}
	return s;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	sqlite3_close(s->db);
	free(s);
}

/* Run a prepared statement to its end; 0, -EEXIST on a constraint. */
static int run(struct store *s, sqlite3_stmt *st, const char *what)
{
	int r = sqlite3_step(st);

	if (r == SQLITE_DONE || r == SQLITE_ROW)
		return 0;
	if (r == SQLITE_CONSTRAINT)
		return -EEXIST;
	return fail(s, what);
}

int store_admin_add(struct store *s, const char *name, const char *pwhash)
{
	_cleanup_(finalizep) sqlite3_stmt *st = prep(
		s, "INSERT INTO admins (name, pwhash, created_at) VALUES (?, ?, ?)"
		   " ON CONFLICT(name) DO UPDATE SET pwhash = excluded.pwhash");

	if (!st)
		return -EIO;
	bind_text(st, 1, name);
	bind_text(st, 2, pwhash);
	sqlite3_bind_int64(st, 3, time(NULL));
	return run(s, st, "add admin");
}

/* A single text column of the first row, or -ENOENT. */
static int one_text(struct store *s, sqlite3_stmt *st, char **out)
{
	int r = sqlite3_step(st);

	if (r == SQLITE_DONE)
		return -ENOENT;
	if (r != SQLITE_ROW)
		return fail(s, "select");
	*out = xstrdup((const char *)sqlite3_column_text(st, 0));
	return 0;
}

int store_admin_get(struct store *s, const char *name, char **pwhash)
{
	_cleanup_(finalizep) sqlite3_stmt *st = prep(
		s, "SELECT pwhash FROM admins WHERE name = ?");

	if (!st)
		return -EIO;
	bind_text(st, 1, name);
	return one_text(s, st, pwhash);
}

int store_secret_add(struct store *s, const char *hash, const char *group)
{
	_cleanup_(finalizep) sqlite3_stmt *st = prep(
		s, "INSERT INTO enrol_secrets (hash, grp, created_at) "
		   "VALUES (?, ?, ?)");

	if (!st)
		return -EIO;
	bind_text(st, 1, hash);
	bind_text(st, 2, group);
	sqlite3_bind_int64(st, 3, time(NULL));
	return run(s, st, "add enrolment secret");
}

int store_secret_revoke(struct store *s, const char *hash)
{
	_cleanup_(finalizep) sqlite3_stmt *st = prep(
		s, "UPDATE enrol_secrets SET revoked_at = ? "
		   "WHERE hash = ? AND revoked_at IS NULL");
	int r;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, time(NULL));
	bind_text(st, 2, hash);
	r = run(s, st, "revoke enrolment secret");
	if (r == 0 && sqlite3_changes(s->db) == 0)
		return -ENOENT;
	return r;
}

int store_secret_group(struct store *s, const char *hash, char **group)
{
	_cleanup_(finalizep) sqlite3_stmt *st = prep(
		s, "SELECT grp FROM enrol_secrets "
		   "WHERE hash = ? AND revoked_at IS NULL");

	if (!st)
		return -EIO;
	bind_text(st, 1, hash);
	return one_text(s, st, group);
}

static const char *dev_str(const json_t *device, const char *key)
{
	return json_string_value(json_object_get(device, key));
}

int store_device_enrol(struct store *s, const json_t *device,
		       const char *group, const char *token_hash,
		       int64_t *id)
{
	_cleanup_(finalizep) sqlite3_stmt *st = prep(
		s, "INSERT INTO devices (machine_id, grp, token_hash, hostname,"
		   " vendor, model, serial, os, agent_version, enrolled_at)"
		   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
		   " ON CONFLICT(machine_id) DO UPDATE SET grp = excluded.grp,"
		   " token_hash = excluded.token_hash,"
		   " hostname = excluded.hostname, vendor = excluded.vendor,"
		   " model = excluded.model, serial = excluded.serial,"
		   " os = excluded.os, agent_version = excluded.agent_version"
		   " RETURNING id");
	static const char *const cols[] = { "hostname", "vendor", "model",
					    "serial", "os", "agent_version" };
	int r;

	if (!st)
		return -EIO;
	bind_text(st, 1, dev_str(device, "machine_id"));
	bind_text(st, 2, group);
	bind_text(st, 3, token_hash);
	for (size_t i = 0; i < ARRAY_SIZE(cols); i++)
		bind_text(st, 4 + (int)i, dev_str(device, cols[i]));
	sqlite3_bind_int64(st, 10, time(NULL));
	r = sqlite3_step(st);
	if (r != SQLITE_ROW)
		return fail(s, "enrol device");
	*id = sqlite3_column_int64(st, 0);
	return 0;
}

int store_device_auth(struct store *s, int64_t id, char **token_hash,
		      char **machine_id)
{
	_cleanup_(finalizep) sqlite3_stmt *st = prep(
		s, "SELECT token_hash, machine_id FROM devices WHERE id = ?");
	int r;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	r = sqlite3_step(st);
	if (r == SQLITE_DONE)
		return -ENOENT;
	if (r != SQLITE_ROW)
		return fail(s, "device");
	*token_hash = xstrdup((const char *)sqlite3_column_text(st, 0));
	*machine_id = xstrdup((const char *)sqlite3_column_text(st, 1));
	return 0;
}

/* A device's overall status: the worst of its checks. */
static const char *overall(const json_t *checks)
{
	static const char *const order[] = { "pass", "unknown", "warn", "fail" };
	int worst = 0;
	size_t i;
	json_t *c;

	json_array_foreach(checks, i, c) {
		const char *st = json_string_value(json_object_get(c, "status"));

		for (int k = 0; k < 4; k++)
			if (strcmp(st, order[k]) == 0 && k > worst)
				worst = k;
	}
	return json_array_size(checks) ? order[worst] : "unknown";
}

static int put_derived(struct store *s, int64_t id, const json_t *report,
		       const char *status, int64_t now)
{
	_cleanup_(finalizep) sqlite3_stmt *ev = prep(
		s, "INSERT INTO events (device_id, at, type, check_id,"
		   " received_at, body) VALUES (?, ?, ?, ?, ?, ?)");
	_cleanup_(finalizep) sqlite3_stmt *ck = prep(
		s, "INSERT INTO checks_latest (device_id, check_id, status)"
		   " VALUES (?, ?, ?) ON CONFLICT(device_id, check_id)"
		   " DO UPDATE SET status = excluded.status");
	_cleanup_(finalizep) sqlite3_stmt *dev = prep(
		s, "UPDATE devices SET last_seen = ?, last_seq = ?, status = ?,"
		   " latest = ? WHERE id = ? AND (last_seq IS NULL OR last_seq < ?)");
	json_int_t seq = json_integer_value(json_object_get(report, "seq"));
	_cleanup_free_ char *latest = NULL;
	size_t i;
	json_t *e;

	if (!ev || !ck || !dev)
		return -EIO;
	json_array_foreach(json_object_get(report, "events"), i, e) {
		_cleanup_free_ char *body = json_dumps(e, JSON_COMPACT);

		sqlite3_reset(ev);
		sqlite3_bind_int64(ev, 1, id);
		bind_text(ev, 2, json_string_value(json_object_get(e, "at")));
		bind_text(ev, 3, json_string_value(json_object_get(e, "type")));
		bind_text(ev, 4, json_string_value(json_object_get(e, "check")));
		sqlite3_bind_int64(ev, 5, now);
		bind_text(ev, 6, body);
		if (run(s, ev, "event") < 0)
			return -EIO;
	}
	/* Only a newer report changes what the device looks like now. */
	sqlite3_bind_int64(dev, 1, now);
	sqlite3_bind_int64(dev, 2, seq);
	bind_text(dev, 3, status);
	latest = json_dumps(json_object_get(report, "checks"), JSON_COMPACT);
	bind_text(dev, 4, latest);
	sqlite3_bind_int64(dev, 5, id);
	sqlite3_bind_int64(dev, 6, seq);
	if (run(s, dev, "device") < 0)
		return -EIO;
	if (sqlite3_changes(s->db) == 0)
		return 0;
	json_array_foreach(json_object_get(report, "checks"), i, e) {
		sqlite3_reset(ck);
		sqlite3_bind_int64(ck, 1, id);
		bind_text(ck, 2, json_string_value(json_object_get(e, "id")));
		bind_text(ck, 3, json_string_value(json_object_get(e, "status")));
		if (run(s, ck, "check") < 0)
			return -EIO;
	}
	return 0;
}

int store_report_put(struct store *s, int64_t id, const json_t *report,
		     const char *body, size_t len)
{
	_cleanup_(finalizep) sqlite3_stmt *st = NULL;
	const char *status = overall(json_object_get(report, "checks"));
	int64_t now = time(NULL);

	if (exec(s, "BEGIN IMMEDIATE") < 0)
		return -EIO;
	st = prep(s, "INSERT INTO reports (device_id, seq, received_at,"
		     " generated_at, status, body) VALUES (?, ?, ?, ?, ?, ?)"
		     " ON CONFLICT(device_id, seq) DO NOTHING");
	if (!st)
		goto failed;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, json_integer_value(json_object_get(report,
								     "seq")));
	sqlite3_bind_int64(st, 3, now);
	bind_text(st, 4, json_string_value(json_object_get(report,
							   "generated_at")));
	bind_text(st, 5, status);
	sqlite3_bind_text(st, 6, body, (int)len, SQLITE_TRANSIENT);
	if (run(s, st, "report") < 0)
		goto failed;
	if (sqlite3_changes(s->db) == 0) {
		exec(s, "ROLLBACK");
		return STORE_DUPLICATE;
	}
	if (put_derived(s, id, report, status, now) < 0 ||
	    exec(s, "COMMIT") < 0)
		goto failed;
	return STORE_STORED;
failed:
	exec(s, "ROLLBACK");
	return -EIO;
}

static void count_into(json_t *obj, const char *key, json_int_t n)
{
	json_object_set_new(obj, key, json_integer(n));
}

int store_summary(struct store *s, int stale_hours, json_t **out)
{
	_cleanup_(finalizep) sqlite3_stmt *tot = prep(
		s, "SELECT COUNT(*), SUM(status = 'pass'), SUM(status = 'fail'),"
		   " SUM(last_seen IS NULL OR last_seen < ?) FROM devices");
	_cleanup_(finalizep) sqlite3_stmt *bc = prep(
		s, "SELECT check_id, status, COUNT(*) FROM checks_latest"
		   " GROUP BY check_id, status");
	_cleanup_(finalizep) sqlite3_stmt *bg = prep(
		s, "SELECT grp, COUNT(*), SUM(status = 'pass') FROM devices"
		   " GROUP BY grp");
	json_t *by_check = json_object(), *by_group = json_object();

	if (!tot || !bc || !bg) {
		json_decref(by_check);
		json_decref(by_group);
		return -EIO;
	}
	sqlite3_bind_int64(tot, 1, time(NULL) - (int64_t)stale_hours * 3600);
	if (sqlite3_step(tot) != SQLITE_ROW)
		goto failed;
	while (sqlite3_step(bc) == SQLITE_ROW) {
		const char *check = (const char *)sqlite3_column_text(bc, 0);
		json_t *c = json_object_get(by_check, check);

		if (!c)
			json_object_set_new(by_check, check, c = json_object());
		count_into(c, (const char *)sqlite3_column_text(bc, 1),
			   sqlite3_column_int64(bc, 2));
	}
	while (sqlite3_step(bg) == SQLITE_ROW)
		json_object_set_new(by_group,
				    (const char *)sqlite3_column_text(bg, 0),
				    json_pack("{s:I, s:I}", "devices",
					      (json_int_t)sqlite3_column_int64(bg, 1),
					      "compliant",
					      (json_int_t)sqlite3_column_int64(bg, 2)));
	*out = json_pack("{s:I, s:I, s:I, s:I, s:o, s:o}",
			 "devices", (json_int_t)sqlite3_column_int64(tot, 0),
			 "compliant", (json_int_t)sqlite3_column_int64(tot, 1),
			 "failing", (json_int_t)sqlite3_column_int64(tot, 2),
			 "stale", (json_int_t)sqlite3_column_int64(tot, 3),
			 "by_check", by_check, "by_group", by_group);
	return 0;
failed:
	json_decref(by_check);
	json_decref(by_group);
	return fail(s, "summary");
}
