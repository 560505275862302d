/*
 * store: the estate's records, on either database (db.h). Every statement
 * has its values bound as parameters; a report and everything derived
 * from it are written in one transaction, committed before the API
 * answers 2xx.
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
#include "util.h"

#define SCHEMA_VERSION 6

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

int store_schema_version(void)
{
	return SCHEMA_VERSION;
}

static const char *num(char buf[static 24], int64_t v)
{
	snprintf(buf, 24, "%" PRId64, v);
	return buf;
}

static int current_version(struct store *s)
{
	_cleanup_(db_rows_freep) struct db_rows *r = NULL;

	if (db_run(s->db, "SELECT version FROM schema_version", 0, NULL, &r) < 1)
		return 0;
	return atoi(db_rows_get(r, 0, 0));
}

static int migrate(struct store *s)
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
	v = current_version(s);
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
	return db_commit(s->db);
failed:
	db_rollback(s->db);
	return -EIO;
}

struct store *store_open(const char *url, bool do_migrate, char **err)
{
	struct store *s;
	struct db *d = db_open(url, err);
	int v;

	if (!d)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->db = d;
	if (do_migrate && migrate(s) < 0) {
		*err = xasprintf("%s: cannot prepare the database", url);
		store_close(s);
		return NULL;
	}
	v = current_version(s);
	if (v != SCHEMA_VERSION) {
		*err = xasprintf("%s: schema version %d, this collectord needs "
				 "%d", url, v, SCHEMA_VERSION);
		store_close(s);
		return NULL;
	}
	return s;
}

static void known_forget(struct store *s);

void store_close(struct store *s)
{
	if (!s)
		return;
	known_forget(s);
	free(s->known);
	db_close(s->db);
	free(s);
}

/* The text of the first column of the first row, or -ENOENT. */
static int one(struct store *s, const char *sql, int n,
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

int store_admin_add(struct store *s, const char *name, const char *pwhash)
{
	char now[24];
	const char *p[] = { name, pwhash, num(now, time(NULL)) };
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

	return one(s, "SELECT pwhash FROM admins WHERE name = ?", 1, p, pwhash);
}

int store_secret_add(struct store *s, const char *hash, const char *group)
{
	char now[24];
	const char *p[] = { hash, group, num(now, time(NULL)) };
	int r = db_run(s->db, "INSERT INTO enrol_secrets (hash, grp, created_at)"
			      " VALUES (?, ?, ?)", 3, p, NULL);

	return r < 0 ? r : 0;
}

int store_secret_revoke(struct store *s, const char *hash)
{
	char now[24];
	const char *p[] = { num(now, time(NULL)), hash };
	int r = db_run(s->db, "UPDATE enrol_secrets SET revoked_at = ?"
			      " WHERE hash = ? AND revoked_at IS NULL",
		       2, p, NULL);

	return r < 0 ? r : r == 0 ? -ENOENT : 0;
}

int store_secret_group(struct store *s, const char *hash, char **group)
{
	const char *p[] = { hash };

	return one(s, "SELECT grp FROM enrol_secrets"
		      " WHERE hash = ? AND revoked_at IS NULL", 1, p, group);
}

/* Changes to the counts table, gathered over a transaction and applied
 * at its end in key order: instances sharing a database lock the same
 * rows in the same order, so they wait but never deadlock. */
static void delta(json_t *d, const char *grp, const char *check,
		  const char *status, int by)
{
	_cleanup_free_ char *key = NULL;

	if (!grp || !status)
		return;
	key = xasprintf("%s\x1f%s\x1f%s", grp, check, status);
	json_object_set_new(d, key, json_integer(
		json_integer_value(json_object_get(d, key)) + by));
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int apply_deltas(struct store *s, json_t *d)
{
	size_t n = json_object_size(d), k = 0;
	const char **keys = xcalloc(n ? n : 1, sizeof(*keys));
	const char *key;
	json_t *v;
	int r = 0;

	json_object_foreach(d, key, v)
		keys[k++] = key;
	qsort(keys, n, sizeof(*keys), cmp_keys);
	for (size_t i = 0; i < n && r == 0; i++) {
		_cleanup_free_ char *copy = xstrdup(keys[i]);
		char *check = strchr(copy, '\x1f'), *status, by[24];
		json_int_t m = json_integer_value(json_object_get(d, keys[i]));

		if (m == 0)
			continue;
		*check++ = '\0';
		status = strchr(check, '\x1f');
		*status++ = '\0';
		{
			const char *p[] = { copy, check, status, num(by, m) };

			if (db_run(s->db, "INSERT INTO counts (grp, check_id, status,"
					  " n) VALUES (?, ?, ?, ?)"
					  " ON CONFLICT (grp, check_id, status)"
					  " DO UPDATE SET n = counts.n + excluded.n",
				   4, p, NULL) < 0)
				r = -EIO;
		}
	}
	free(keys);
	json_object_clear(d);
	return r;
}

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

static void device_now_clear(struct device_now *n)
{
	if (!n->known)
		free(n->checks);
	db_rows_free(n->rows);
	memset(n, 0, sizeof(*n));
}

/* Read a device's state, by id or by machine id, from its row and
 * checks_latest (rows, never a report to parse: the committer does this
 * for every report). On PostgreSQL the device's row stays locked until
 * the transaction ends, so that instances changing one device's counts
 * take turns; SQLite's BEGIN IMMEDIATE already excludes other writers.
 * 1 when the device is there, 0 when not, -EIO. */
static int device_now(struct store *s, bool by_machine, const char *key,
		      struct device_now *out)
{
#define NOW_SQL(where) "SELECT d.grp, d.status, d.last_seq, d.token_hash," \
	" c.check_id," \
	" c.status, c.summary FROM devices d LEFT JOIN checks_latest c" \
	" ON c.device_id = d.id WHERE " where
	static const char *const sql[2][2] = {
		{ NOW_SQL("d.id = ?"), NOW_SQL("d.machine_id = ?") },
		{ NOW_SQL("d.id = ?") " FOR UPDATE OF d",
		  NOW_SQL("d.machine_id = ?") " FOR UPDATE OF d" },
	};
#undef NOW_SQL
	const char *p[] = { key };
	struct db_rows *r = NULL;
	int k = db_run(s->db, sql[db_kind(s->db) == DB_POSTGRES][by_machine],
		       1, p, &r);

	memset(out, 0, sizeof(*out));
	out->last_seq = -1;
	if (k <= 0) {
		db_rows_free(r);
		return k;
	}
	out->rows = r;
	out->grp = db_rows_get(r, 0, 0);
	out->status = db_rows_get(r, 0, 1);
	if (db_rows_get(r, 0, 2))
		out->last_seq = strtoll(db_rows_get(r, 0, 2), NULL, 10);
	out->token_hash = db_rows_get(r, 0, 3);
	out->checks = xcalloc((size_t)k, sizeof(*out->checks));
	for (size_t i = 0; i < (size_t)k; i++) {
		struct check_now *c = &out->checks[out->n];

		if (!db_rows_get(r, i, 4))
			continue;	/* no checks: the join's one empty row */
		c->id = db_rows_get(r, i, 4);
		c->status = db_rows_get(r, i, 5);
		c->summary = db_rows_get(r, i, 6);
		out->n++;
	}
	return 1;
}

static const struct check_now *check_now_find(const struct device_now *n,
					       const char *id)
{
	for (size_t i = 0; i < n->n; i++)
		if (strcmp(n->checks[i].id, id) == 0)
			return &n->checks[i];
	return NULL;
}

/* Count a device's state in (by +1) or out (by -1) of group grp. */
static void count_device(json_t *d, const char *grp,
			 const struct device_now *n, int by)
{
	delta(d, grp, "", n->status, by);
	for (size_t i = 0; i < n->n; i++)
		delta(d, grp, n->checks[i].id, n->checks[i].status, by);
}

/* Count one status changing from one value to another (either NULL for
 * none); nothing moves when it stays. */
static void count_change(json_t *d, const char *grp, const char *check,
			 const char *from, const char *to)
{
	if (from && to && strcmp(from, to) == 0)
		return;
	delta(d, grp, check, from, -1);
	delta(d, grp, check, to, +1);
}

/* The committer remembers each device's state (store_remember), so that
 * a report does not read the device's row and checks again: that query
 * was a sixth of the committer's time. What it remembers is only trusted
 * while no other connection has written: SQLite's data_version, read once
 * a batch inside its write transaction, changes when one has (an
 * enrolment, an admin, a retention purge, another process), and then all
 * is forgotten; so is all after a batch that failed. Bounded: devices
 * with ids past KNOWN_MAX_ID are not remembered, and past KNOWN_BYTES all
 * is forgotten and remembered again as reports come. */
#define KNOWN_MAX_ID (1 << 22)
#define KNOWN_BYTES (64u << 20)

static void known_free(struct known *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++) {
		free((void *)(uintptr_t)k->checks[i].id);
		free((void *)(uintptr_t)k->checks[i].status);
		free((void *)(uintptr_t)k->checks[i].summary);
	}
	free(k->checks);
	free(k->grp);
	free(k->status);
	free(k->token_hash);
	free(k);
}

static void known_forget(struct store *s)
{
	for (size_t i = 0; i < s->nknown; i++) {
		known_free(s->known[i]);
		s->known[i] = NULL;
	}
	s->known_bytes = 0;
}

static char *known_text(const char *t, size_t *bytes)
{
	if (!t)
		return NULL;
	*bytes += strlen(t) + 1;
	return xstrdup(t);
}

static size_t summary_kept(const char *summary);

/* Remember n as device id's state, in place of what was (n's strings
 * may be the old entry's). Summaries are kept as checks_latest keeps
 * them. */
static void known_keep(struct store *s, int64_t id, const struct device_now *n)
{
	struct known *k;
	size_t i;

	if (!s->remember || id < 0 || id >= KNOWN_MAX_ID)
		return;
	if ((size_t)id >= s->nknown) {
		size_t cap = s->nknown ? s->nknown : 1024;

		while (cap <= (size_t)id)
			cap *= 2;
		s->known = xrealloc(s->known, cap * sizeof(*s->known));
		memset(s->known + s->nknown, 0,
		       (cap - s->nknown) * sizeof(*s->known));
		s->nknown = cap;
	}
	k = xcalloc(1, sizeof(*k));
	k->bytes = sizeof(*k) + n->n * sizeof(*k->checks);
	k->grp = known_text(n->grp, &k->bytes);
	k->status = known_text(n->status, &k->bytes);
	k->token_hash = known_text(n->token_hash, &k->bytes);
	k->last_seq = n->last_seq;
	k->n = n->n;
	k->checks = xcalloc(n->n ? n->n : 1, sizeof(*k->checks));
	for (i = 0; i < n->n; i++) {
		const char *sum = n->checks[i].summary;

		k->checks[i].id = known_text(n->checks[i].id, &k->bytes);
		k->checks[i].status = known_text(n->checks[i].status, &k->bytes);
		if (sum) {
			k->checks[i].summary = xstrndup(sum, summary_kept(sum));
			k->bytes += strlen(k->checks[i].summary) + 1;
		}
	}
	if (s->known[id]) {
		s->known_bytes -= s->known[id]->bytes;
		known_free(s->known[id]);
		s->known[id] = NULL;
	}
	if (s->known_bytes + k->bytes > KNOWN_BYTES)
		known_forget(s);
	s->known[id] = k;
	s->known_bytes += k->bytes;
}

static void known_drop(struct store *s, int64_t id)
{
	if (id < 0 || (size_t)id >= s->nknown || !s->known[id])
		return;
	s->known_bytes -= s->known[id]->bytes;
	known_free(s->known[id]);
	s->known[id] = NULL;
}

/* At the start of a batch, in its write transaction: forget everything
 * if another connection has written since. */
static int known_check(struct store *s)
{
	_cleanup_(db_rows_freep) struct db_rows *r = NULL;
	int64_t v;

	if (!s->remember)
		return 0;
	if (db_run(s->db, "PRAGMA data_version", 0, NULL, &r) < 1)
		return -EIO;
	v = strtoll(db_rows_get(r, 0, 0), NULL, 10);
	if (v != s->data_version)
		known_forget(s);
	s->data_version = v;
	return 0;
}

void store_remember(struct store *s)
{
	if (db_kind(s->db) != DB_SQLITE)
		return;
	s->remember = true;
	s->data_version = -1;
}

/* device_now by id for the committer: what it remembers, or the
 * database's (then remembered). */
static int device_known(struct store *s, int64_t id, const char *ids,
			struct device_now *out)
{
	struct known *k = s->remember && id >= 0 && (size_t)id < s->nknown
				  ? s->known[id] : NULL;
	int r;

	if (k) {
		*out = (struct device_now){
			.grp = k->grp, .status = k->status,
			.token_hash = k->token_hash, .last_seq = k->last_seq,
			.n = k->n, .checks = k->checks, .known = true,
		};
		return 1;
	}
	r = device_now(s, false, ids, out);
	if (r == 1)
		known_keep(s, id, out);
	return r;
}

int store_device_enrol(struct store *s, const json_t *device,
		       const char *group, const char *token_hash,
		       int64_t *id)
{
	char now[24];
	const char *p[] = {
		json_string_value(json_object_get(device, "machine_id")),
		group, token_hash,
		json_string_value(json_object_get(device, "hostname")),
		json_string_value(json_object_get(device, "vendor")),
		json_string_value(json_object_get(device, "model")),
		json_string_value(json_object_get(device, "serial")),
		json_string_value(json_object_get(device, "os")),
		json_string_value(json_object_get(device, "agent_version")),
		num(now, time(NULL)),
	};
	_cleanup_free_ char *out = NULL;
	struct device_now before;
	json_t *deltas;
	int r;

	if (db_begin(s->db) < 0)
		return -EIO;
	if (device_now(s, true, p[0], &before) < 0) {
		db_rollback(s->db);
		return -EIO;
	}
	r = one(s, "INSERT INTO devices (machine_id, grp, token_hash,"
		       " hostname, vendor, model, serial, os, agent_version,"
		       " enrolled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
		       " ON CONFLICT (machine_id) DO UPDATE SET grp = excluded.grp,"
		       " token_hash = excluded.token_hash,"
		       " hostname = excluded.hostname, vendor = excluded.vendor,"
		       " model = excluded.model, serial = excluded.serial,"
		       " os = excluded.os, agent_version = excluded.agent_version"
		       " RETURNING id", ARRAY_SIZE(p), p, &out);
	if (r < 0) {
		device_now_clear(&before);
		db_rollback(s->db);
		return r == -ENOENT ? -EIO : r;
	}
	/* A new device joins its group's count; one that changes group
	 * takes its state along. */
	deltas = json_object();
	if (before.grp && strcmp(before.grp, group) != 0) {
		count_device(deltas, before.grp, &before, -1);
		delta(deltas, before.grp, "#", "enrolled", -1);
	}
	if (!before.grp || strcmp(before.grp, group) != 0) {
		count_device(deltas, group, &before, +1);
		delta(deltas, group, "#", "enrolled", +1);
	}
	device_now_clear(&before);
	r = apply_deltas(s, deltas);
	json_decref(deltas);
	if (r < 0 || db_commit(s->db) < 0) {
		db_rollback(s->db);
		return -EIO;
	}
	*id = strtoll(out, NULL, 10);
	return 0;
}

int store_device_auth(struct store *s, int64_t id, char **token_hash,
		      char **machine_id)
{
	_cleanup_(db_rows_freep) struct db_rows *r = NULL;
	char ids[24];
	const char *p[] = { num(ids, id) };
	int k = db_run(s->db, "SELECT token_hash, machine_id FROM devices"
			      " WHERE id = ?", 1, p, &r);

	if (k < 0)
		return k;
	if (k == 0)
		return -ENOENT;
	*token_hash = xstrdup(db_rows_get(r, 0, 0));
	*machine_id = xstrdup(db_rows_get(r, 0, 1));
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

static int put_events(struct store *s, const char *ids, const json_t *report,
		      const char *now)
{
	size_t i;
	json_t *e;

	json_array_foreach(json_object_get(report, "events"), i, e) {
		_cleanup_free_ char *body = json_dumps(e, JSON_COMPACT);
		const char *p[] = {
			ids, json_string_value(json_object_get(e, "at")),
			json_string_value(json_object_get(e, "type")),
			json_string_value(json_object_get(e, "check")), now, body,
		};

		if (db_run(s->db, "INSERT INTO events (device_id, at, type,"
				  " check_id, received_at, body)"
				  " VALUES (?, ?, ?, ?, ?, ?)",
			   6, p, NULL) < 0)
			return -EIO;
	}
	return 0;
}

/* The summary is indexed (the most common findings): kept to
 * SUMMARY_KEPT bytes, cut on a character boundary, well inside
 * PostgreSQL's limit for a b-tree entry. How many bytes are kept: */
#define SUMMARY_KEPT 512

static size_t summary_kept(const char *summary)
{
	size_t k = strlen(summary);

	if (k <= SUMMARY_KEPT)
		return k;
	k = SUMMARY_KEPT;
	while (k > 0 && ((unsigned char)summary[k] & 0xc0) == 0x80)
		k--;
	return k;
}

/* The latest status and summary of the checks given, in one statement (a
 * report has up to 64 checks; the committer runs this for each report
 * that changes one, so statements count). */
static int put_checks(struct store *s, const char *ids, json_t *checks)
{
	size_t n = json_array_size(checks), i;
	char **cut;
	const char **q;
	char *sql, *o;
	json_t *c;
	int r;

	if (n == 0)
		return 0;
	static const char head[] = "INSERT INTO checks_latest (device_id,"
				   " check_id, status, summary) VALUES ";
	static const char row[] = ", (?, ?, ?, ?)";
	static const char tail[] = " ON CONFLICT (device_id, check_id)"
				   " DO UPDATE SET status = excluded.status,"
				   " summary = excluded.summary";

	q = xcalloc(n * 4, sizeof(*q));
	sql = o = xmalloc(sizeof(head) + n * (sizeof(row) - 1) + sizeof(tail));
	o = stpcpy(o, head);
	cut = xcalloc(n, sizeof(*cut));
	json_array_foreach(checks, i, c) {
		const char *summary = json_string_value(json_object_get(c,
									"summary"));

		o = stpcpy(o, row + (i ? 0 : 2));
		q[4 * i] = ids;
		q[4 * i + 1] = json_string_value(json_object_get(c, "id"));
		q[4 * i + 2] = json_string_value(json_object_get(c, "status"));
		if (summary && summary_kept(summary) < strlen(summary))
			summary = cut[i] = xstrndup(summary,
						    summary_kept(summary));
		q[4 * i + 3] = summary;
	}
	strcpy(o, tail);
	r = db_run(s->db, sql, (int)(n * 4), q, NULL);
	for (i = 0; i < n; i++)
		free(cut[i]);
	free(cut);
	free(sql);
	free(q);
	return r < 0 ? -EIO : 0;
}

/* The desktop users a report names (the screen lock check's evidence),
 * space-separated, so that the dashboard finds a laptop by its user;
 * NULL when it names none. */
static char *report_users(const json_t *checks)
{
	char buf[256] = "", *o = buf;
	size_t i, k;
	json_t *c, *u;

	json_array_foreach(checks, i, c) {
		json_t *users = json_object_get(json_object_get(c, "evidence"),
						"users");

		if (!json_is_array(users))
			continue;
		json_array_foreach(users, k, u) {
			const char *name = json_string_value(
				json_object_get(u, "user"));
			size_t left = sizeof(buf) - (size_t)(o - buf);

			if (!name || !*name || strlen(name) + 2 > left)
				continue;
			o += snprintf(o, left, "%s%s", o == buf ? "" : " ", name);
		}
	}
	return *buf ? xstrdup(buf) : NULL;
}

/* Whether a check's status or kept summary differs from before. */
static bool check_changed(const struct check_now *old, const char *status,
			  const char *summary)
{
	size_t k = summary ? summary_kept(summary) : 0;

	if (!old || strcmp(old->status, status) != 0)
		return true;
	if (!old->summary || !summary)
		return old->summary != summary;
	return strlen(old->summary) != k || memcmp(old->summary, summary, k);
}

/* Only a newer report changes what the device looks like now. The counts
 * move by what changed, and only the checks that changed are written:
 * most reports say what the one before said. 1 when it did, 0 when the
 * report is not newer, -EIO. */
static int put_latest(struct store *s, const char *ids, const json_t *report,
		      const char *status, const char *now, json_t *deltas,
		      const struct device_now *before)
{
	json_t *checks = json_object_get(report, "checks");
	_cleanup_free_ char *users = NULL;
	json_int_t seqv = json_integer_value(json_object_get(report, "seq"));
	char seq[24];
	json_t *changed = NULL, *c;
	size_t i;
	int r;

	if (before->last_seq >= seqv)
		return 0;
	num(seq, seqv);
	users = report_users(checks);
	/* status_since: when the device's status last changed. A status
	 * that stays is not written, so its index is not either. */
	if (before->status && strcmp(before->status, status) == 0)
		r = db_run(s->db, "UPDATE devices SET last_seen = ?,"
				  " last_seq = ?, users = ? WHERE id = ?"
				  " AND (last_seq IS NULL OR last_seq < ?)", 5,
			   (const char *[]){ now, seq, users, ids, seq }, NULL);
	else
		r = db_run(s->db, "UPDATE devices SET last_seen = ?,"
				  " last_seq = ?, status_since = ?, status = ?,"
				  " users = ? WHERE id = ?"
				  " AND (last_seq IS NULL OR last_seq < ?)", 7,
			   (const char *[]){ now, seq, now, status, users, ids,
					     seq }, NULL);
	if (r <= 0)
		goto done;
	count_change(deltas, before->grp, "", before->status, status);
	changed = json_array();
	json_array_foreach(checks, i, c) {
		const char *id = json_string_value(json_object_get(c, "id"));
		const char *st = json_string_value(json_object_get(c, "status"));
		const struct check_now *old = check_now_find(before, id);

		count_change(deltas, before->grp, id, old ? old->status : NULL,
			     st);
		if (check_changed(old, st, json_string_value(
				json_object_get(c, "summary"))))
			json_array_append(changed, c);
	}
	/* A check the report no longer has leaves the counts. */
	for (size_t k = 0; k < before->n && r >= 0; k++) {
		const char *id = before->checks[k].id;
		const char *q[] = { ids, id };
		bool kept = false;

		json_array_foreach(checks, i, c)
			kept = kept || strcmp(json_string_value(json_object_get(
						      c, "id")), id) == 0;
		if (kept)
			continue;
		delta(deltas, before->grp, id, before->checks[k].status, -1);
		r = db_run(s->db, "DELETE FROM checks_latest WHERE device_id = ?"
				  " AND check_id = ?", 2, q, NULL);
	}
	if (r >= 0)
		r = put_checks(s, ids, changed);
	if (r >= 0)
		r = 1;
done:
	json_decref(changed);
	return r < 0 ? -EIO : r > 0;
}

/* Remember what a stored report made of the device. */
static void known_after(struct store *s, int64_t id,
			const struct device_now *before, const json_t *report,
			const char *status)
{
	json_t *checks = json_object_get(report, "checks"), *c;
	struct device_now after = {
		.grp = before->grp, .token_hash = before->token_hash,
		.status = status,
		.last_seq = json_integer_value(json_object_get(report, "seq")),
		.n = json_array_size(checks),
	};
	size_t i;

	after.checks = xcalloc(after.n ? after.n : 1, sizeof(*after.checks));
	json_array_foreach(checks, i, c)
		after.checks[i] = (struct check_now){
			json_string_value(json_object_get(c, "id")),
			json_string_value(json_object_get(c, "status")),
			json_string_value(json_object_get(c, "summary")),
		};
	known_keep(s, id, &after);
	free(after.checks);
}

/* One report inside the caller's transaction, if its token is still the
 * device's (the worker may have found it in its cache). */
static int put_one(struct store *s, const struct store_put *put,
		   json_t *deltas)
{
	const json_t *report = put->report;
	const char *status = overall(json_object_get(report, "checks"));
	char ids[24], seq[24], now[24];
	_cleanup_free_ char *text = xstrndup(put->body, put->len);
	const char *p[] = {
		num(ids, put->id),
		num(seq, json_integer_value(json_object_get(report, "seq"))),
		num(now, time(NULL)),
		json_string_value(json_object_get(report, "generated_at")),
		status, text,
	};
	struct device_now before;
	int r = s->remember ? device_known(s, put->id, ids, &before)
			    : device_now(s, false, ids, &before);

	if (r < 0)
		goto done;
	if (r == 0 || !secret_hash_equal(before.token_hash, put->token_hash)) {
		r = STORE_UNAUTHORIZED;
		goto done;
	}
	r = db_run(s->db, "INSERT INTO reports (device_id, seq, received_at,"
			  " generated_at, status, body) VALUES (?, ?, ?, ?, ?, ?)"
			  " ON CONFLICT (device_id, seq) DO NOTHING", 6, p, NULL);
	if (r <= 0) {
		r = r < 0 ? -EIO : STORE_DUPLICATE;
		goto done;
	}
	if (put_events(s, ids, report, now) < 0 ||
	    (r = put_latest(s, ids, report, status, now, deltas, &before)) < 0) {
		r = -EIO;
		goto done;
	}
	if (r == 1)
		known_after(s, put->id, &before, report, status);
	else if (before.known && before.last_seq <
			json_integer_value(json_object_get(report, "seq")))
		known_drop(s, put->id);	/* it was wrong: forget it */
	r = STORE_STORED;
done:
	device_now_clear(&before);
	return r < 0 ? -EIO : r;
}

int store_report_put(struct store *s, int64_t id, const char *token_hash,
		     const json_t *report, const char *body, size_t len)
{
	struct store_put one = { id, token_hash, report, body, len, 0 };

	return store_report_put_batch(s, &one, 1) < 0 ? -EIO : one.result;
}

static const struct store_put *sort_base;

static int cmp_put(const void *a, const void *b)
{
	const struct store_put *x = &sort_base[*(const size_t *)a];
	const struct store_put *y = &sort_base[*(const size_t *)b];

	return (x->id > y->id) - (x->id < y->id);
}

/* Devices in id order: two instances' batches lock device rows in the
 * same order, so they wait for each other but never deadlock. */
static size_t *in_device_order(const struct store_put *puts, size_t n)
{
	size_t *order = xcalloc(n ? n : 1, sizeof(*order));
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

	for (size_t i = 0; i < n; i++)
		order[i] = i;
	pthread_mutex_lock(&lock);
	sort_base = puts;
	qsort(order, n, sizeof(*order), cmp_put);
	pthread_mutex_unlock(&lock);
	return order;
}

int store_report_put_batch(struct store *s, struct store_put *puts, size_t n)
{
	_cleanup_free_ size_t *order = in_device_order(puts, n);
	json_t *deltas = json_object();

	if (db_begin(s->db) < 0)
		goto failed;
	if (known_check(s) < 0) {
		db_rollback(s->db);
		goto failed;
	}
	for (size_t k = 0; k < n; k++) {
		struct store_put *p = &puts[order[k]];

		p->result = put_one(s, p, deltas);
		if (p->result < 0) {
			db_rollback(s->db);
			goto failed;
		}
	}
	if (apply_deltas(s, deltas) < 0 || db_commit(s->db) < 0) {
		db_rollback(s->db);
		goto failed;
	}
	json_decref(deltas);
	return 0;
failed:
	known_forget(s);	/* it may hold what was rolled back */
	json_decref(deltas);
	for (size_t i = 0; i < n; i++)
		puts[i].result = -EIO;
	return -EIO;
}

static json_int_t int_at(const struct db_rows *r, size_t i, int col)
{
	const char *v = db_rows_get(r, i, col);

	return v ? strtoll(v, NULL, 10) : 0;
}

int store_summary(struct store *s, int stale_hours, json_t **out)
{
	_cleanup_(db_rows_freep) struct db_rows *cnt = NULL, *st1 = NULL,
					       *st2 = NULL;
	char since[24];
	const char *p[] = { num(since, time(NULL) - (int64_t)stale_hours * 3600) };
	json_int_t devices = 0, compliant = 0, failing = 0;
	json_t *by_check, *by_group;

	/* The counts table is small: a row per group, check and status. */
	if (db_run(s->db, "SELECT grp, check_id, status, n FROM counts"
			  " WHERE n <> 0", 0, NULL, &cnt) < 0 ||
	    db_run(s->db, "SELECT COUNT(*) FROM devices WHERE last_seen < ?",
		   1, p, &st1) < 1 ||
	    db_run(s->db, "SELECT COUNT(*) FROM devices WHERE last_seen IS NULL",
		   0, NULL, &st2) < 1)
		return -EIO;
	by_check = json_object();
	by_group = json_object();
	for (size_t i = 0; i < db_rows_count(cnt); i++) {
		const char *grp = db_rows_get(cnt, i, 0);
		const char *check = db_rows_get(cnt, i, 1);
		const char *status = db_rows_get(cnt, i, 2);
		json_int_t n = int_at(cnt, i, 3);
		json_t *g = json_object_get(by_group, grp), *c;

		if (!g)
			json_object_set_new(by_group, grp, g = json_pack(
				"{s:i, s:i}", "devices", 0, "compliant", 0));
		if (strcmp(check, "#") == 0) {
			devices += n;
			json_object_set_new(g, "devices", json_integer(
				json_integer_value(json_object_get(g, "devices")) + n));
		} else if (!*check) {
			if (strcmp(status, "pass") == 0) {
				compliant += n;
				json_object_set_new(g, "compliant", json_integer(
					json_integer_value(json_object_get(
						g, "compliant")) + n));
			} else if (strcmp(status, "fail") == 0) {
				failing += n;
			}
		} else {
			c = json_object_get(by_check, check);
			if (!c)
				json_object_set_new(by_check, check, c = json_object());
			json_object_set_new(c, status, json_integer(
				json_integer_value(json_object_get(c, status)) + n));
		}
	}
	*out = json_pack("{s:I, s:I, s:I, s:I, s:o, s:o}",
			 "devices", devices, "compliant", compliant,
			 "failing", failing,
			 "stale", int_at(st1, 0, 0) + int_at(st2, 0, 0),
			 "by_check", by_check, "by_group", by_group);
	return 0;
}

/* --- reading for the API --- */

/* A growing list of bound parameters. */
struct params {
	const char *v[16];
	char own[16][24];
	int n;
};

static void param(struct params *p, const char *v)
{
	p->v[p->n++] = v;
}

static void param_num(struct params *p, int64_t v)
{
	p->v[p->n] = num(p->own[p->n], v);
	p->n++;
}

/* LIKE pattern for a substring, its wildcards escaped. */
static char *like(const char *q)
{
	char *out = xmalloc(strlen(q) * 2 + 3), *o = out;

	*o++ = '%';
	for (; *q; q++) {
		if (*q == '%' || *q == '_' || *q == '\\')
			*o++ = '\\';
		*o++ = (char)(*q >= 'A' && *q <= 'Z' ? *q - 'A' + 'a' : *q);
	}
	*o++ = '%';
	*o = '\0';
	return out;
}

static const char *order_by(const char *sort)
{
	static const struct {
		const char *key, *sql;
	} keys[] = {
		{ "hostname", "hostname ASC, id" },
		{ "-hostname", "hostname DESC, id" },
		{ "group", "grp ASC, hostname, id" },
		{ "-group", "grp DESC, hostname, id" },
		{ "status", "status ASC, hostname, id" },
		{ "-status", "status DESC, hostname, id" },
		{ "last_seen", "last_seen ASC, id" },
		{ "-last_seen", "last_seen DESC, id" },
		{ "since", "status_since ASC, id" },
		{ "-since", "status_since DESC, id" },
	};

	if (!sort || !*sort)
		return "hostname ASC, id";
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (strcmp(sort, keys[i].key) == 0)
			return keys[i].sql;
	return NULL;
}

static char *where(const struct store_filter *f, int64_t stale_since,
		   struct params *p, char **pattern)
{
	char *sql = xstrdup(" WHERE 1 = 1");
	char *more;

#define ADD(clause)                                                  \
	do {                                                         \
		more = xasprintf("%s AND %s", sql, clause);          \
		free(sql);                                           \
		sql = more;                                          \
	} while (0)
	if (f->status) {
		ADD("status = ?");
		param(p, f->status);
	}
	if (f->group) {
		ADD("grp = ?");
		param(p, f->group);
	}
	if (f->q && *f->q) {
		*pattern = like(f->q);
		ADD("(lower(hostname) LIKE ? ESCAPE '\\' OR lower(serial) LIKE ?"
		    " ESCAPE '\\' OR machine_id LIKE ? ESCAPE '\\' OR"
		    " lower(users) LIKE ? ESCAPE '\\')");
		param(p, *pattern);
		param(p, *pattern);
		param(p, *pattern);
		param(p, *pattern);
	}
	if (f->stale) {
		ADD("(last_seen IS NULL OR last_seen < ?)");
		param_num(p, stale_since);
	}
	if (f->check) {
		ADD("id IN (SELECT device_id FROM checks_latest WHERE check_id = ?"
		    " AND status = ?)");
		param(p, f->check);
		param(p, f->check_status ? f->check_status : "fail");
	}
#undef ADD
	return sql;
}

static json_t *text_or_null(const char *v)
{
	return v ? json_string(v) : json_null();
}

static json_t *device_row(const struct db_rows *r, size_t i, int64_t since)
{
	const char *seen = db_rows_get(r, i, 8);
	const char *status_since = db_rows_get(r, i, 10);

	return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b,"
			 " s:o, s:o, s:o}",
			 "id", int_at(r, i, 0),
			 "machine_id", text_or_null(db_rows_get(r, i, 1)),
			 "hostname", text_or_null(db_rows_get(r, i, 2)),
			 "group", text_or_null(db_rows_get(r, i, 3)),
			 "serial", text_or_null(db_rows_get(r, i, 4)),
			 "model", text_or_null(db_rows_get(r, i, 5)),
			 "os", text_or_null(db_rows_get(r, i, 6)),
			 "status", text_or_null(db_rows_get(r, i, 7)),
			 "last_seen", seen ? json_integer(strtoll(seen, NULL, 10))
					   : json_null(),
			 "stale", !seen || strtoll(seen, NULL, 10) < since,
			 "users", text_or_null(db_rows_get(r, i, 9)),
			 "status_since", status_since
				 ? json_integer(strtoll(status_since, NULL, 10))
				 : json_null(),
			 "failing", json_array());
}

#define DEVICE_COLS "id, machine_id, hostname, grp, serial, model, os," \
		    " status, last_seen, users, status_since"

/* The failing checks of the devices listed, in one query. */
static int add_failing(struct store *s, json_t *devices)
{
	_cleanup_(db_rows_freep) struct db_rows *r = NULL;
	_cleanup_free_ char *sql = NULL;
	size_t i;
	json_t *d;

	if (!json_array_size(devices))
		return 0;
	sql = xstrdup("SELECT device_id, check_id FROM checks_latest WHERE"
		      " status = 'fail' AND device_id IN (");
	json_array_foreach(devices, i, d) {
		char *more = xasprintf("%s%s%" JSON_INTEGER_FORMAT, sql,
				       i ? ", " : "",
				       json_integer_value(json_object_get(d, "id")));

		free(sql);
		sql = more;
	}
	{
		char *more = xasprintf("%s) ORDER BY check_id", sql);

		free(sql);
		sql = more;
	}
	if (db_run(s->db, sql, 0, NULL, &r) < 0)
		return -EIO;
	for (size_t k = 0; k < db_rows_count(r); k++) {
		json_int_t id = int_at(r, k, 0);

		json_array_foreach(devices, i, d)
			if (json_integer_value(json_object_get(d, "id")) == id)
				json_array_append_new(json_object_get(d, "failing"),
						      json_string(db_rows_get(r, k, 1)));
	}
	return 0;
}

int store_devices(struct store *s, const struct store_filter *f,
		  int stale_hours, json_t **out)
{
	_cleanup_(db_rows_freep) struct db_rows *cnt = NULL, *rows = NULL;
	_cleanup_free_ char *cond = NULL, *pattern = NULL, *sql = NULL,
			    *csql = NULL;
	int64_t since = time(NULL) - (int64_t)stale_hours * 3600;
	const char *order = order_by(f->sort);
	struct params p = { 0 };
	json_t *devices;

	if (!order)
		return -EINVAL;
	cond = where(f, since, &p, &pattern);
	csql = xasprintf("SELECT COUNT(*) FROM devices%s", cond);
	if (db_run(s->db, csql, p.n, p.v, &cnt) < 1)
		return -EIO;
	if (f->per_page) {
		sql = xasprintf("SELECT " DEVICE_COLS " FROM devices%s ORDER BY %s"
				" LIMIT CAST(? AS BIGINT) OFFSET CAST(? AS BIGINT)",
				cond, order);
		param_num(&p, f->per_page);
		param_num(&p, (int64_t)(f->page - 1) * f->per_page);
	} else {
		sql = xasprintf("SELECT " DEVICE_COLS " FROM devices%s ORDER BY %s",
				cond, order);
	}
	if (db_run(s->db, sql, p.n, p.v, &rows) < 0)
		return -EIO;
	devices = json_array();
	for (size_t i = 0; i < db_rows_count(rows); i++)
		json_array_append_new(devices, device_row(rows, i, since));
	if (add_failing(s, devices) < 0) {
		json_decref(devices);
		return -EIO;
	}
	*out = json_pack("{s:I, s:i, s:i, s:o}", "total", int_at(cnt, 0, 0),
			 "page", (int)f->page, "per_page", (int)f->per_page,
			 "devices", devices);
	return 0;
}

static json_t *parsed(const char *text)
{
	json_t *v = text ? json_loads(text, 0, NULL) : NULL;

	return v ? v : json_null();
}

/* The checks of a report as stored, or null. */
static json_t *latest_checks(const char *body)
{
	json_t *report = body ? json_loads(body, 0, NULL) : NULL;
	json_t *checks = json_incref(json_object_get(report, "checks"));

	json_decref(report);
	return checks ? checks : json_null();
}

int store_device(struct store *s, int64_t id, int stale_hours, json_t **out)
{
	_cleanup_(db_rows_freep) struct db_rows *d = NULL, *h = NULL, *e = NULL;
	char ids[24];
	const char *p[] = { num(ids, id) };
	json_t *dev, *history, *events;
	int64_t since = time(NULL) - (int64_t)stale_hours * 3600;
	int k;

	k = db_run(s->db, "SELECT " DEVICE_COLS ", vendor, agent_version,"
			  " enrolled_at, (SELECT body FROM reports"
			  " WHERE device_id = devices.id AND seq = last_seq)"
			  " FROM devices WHERE id = ?", 1, p, &d);
	if (k < 0)
		return -EIO;
	if (k == 0)
		return -ENOENT;
	if (db_run(s->db, "SELECT seq, received_at, generated_at, status"
			  " FROM reports WHERE device_id = ?"
			  " ORDER BY seq DESC LIMIT 200", 1, p, &h) < 0 ||
	    db_run(s->db, "SELECT body FROM events WHERE device_id = ?"
			  " ORDER BY at DESC, id DESC LIMIT 500", 1, p, &e) < 0)
		return -EIO;
	dev = device_row(d, 0, since);
	json_object_del(dev, "failing");
	json_object_set_new(dev, "vendor", text_or_null(db_rows_get(d, 0, 11)));
	json_object_set_new(dev, "agent_version",
			    text_or_null(db_rows_get(d, 0, 12)));
	json_object_set_new(dev, "enrolled_at", json_integer(int_at(d, 0, 13)));
	json_object_set_new(dev, "checks", latest_checks(db_rows_get(d, 0, 14)));
	history = json_array();
	for (size_t i = 0; i < db_rows_count(h); i++)
		json_array_append_new(history, json_pack(
			"{s:I, s:I, s:o, s:o}", "seq", int_at(h, i, 0),
			"received_at", int_at(h, i, 1),
			"generated_at", text_or_null(db_rows_get(h, i, 2)),
			"status", text_or_null(db_rows_get(h, i, 3))));
	events = json_array();
	for (size_t i = 0; i < db_rows_count(e); i++)
		json_array_append_new(events, parsed(db_rows_get(e, i, 0)));
	json_object_set_new(dev, "history", history);
	json_object_set_new(dev, "events", events);
	*out = dev;
	return 0;
}

int store_events(struct store *s, const char *type, const char *group,
		 const char *since, unsigned limit, json_t **out)
{
	_cleanup_(db_rows_freep) struct db_rows *r = NULL;
	_cleanup_free_ char *sql = xstrdup(
		"SELECT e.body, d.id, d.hostname, d.grp FROM events e"
		" JOIN devices d ON d.id = e.device_id WHERE 1 = 1");
	struct params p = { 0 };
	json_t *list;

#define ADD(clause, value)                                           \
	do {                                                         \
		char *more = xasprintf("%s AND %s", sql, clause);    \
		free(sql);                                           \
		sql = more;                                          \
		param(&p, value);                                    \
	} while (0)
	if (type)
		ADD("e.type = ?", type);
	if (group)
		ADD("d.grp = ?", group);
	if (since)
		ADD("e.at >= ?", since);
#undef ADD
	{
		char *more = xasprintf("%s ORDER BY e.at DESC, e.id DESC"
				       " LIMIT CAST(? AS BIGINT)", sql);

		free(sql);
		sql = more;
		param_num(&p, limit);
	}
	if (db_run(s->db, sql, p.n, p.v, &r) < 0)
		return -EIO;
	list = json_array();
	for (size_t i = 0; i < db_rows_count(r); i++) {
		json_t *ev = parsed(db_rows_get(r, i, 0));

		json_array_append_new(list, json_pack(
			"{s:o, s:I, s:o, s:o}", "event", ev, "device_id",
			int_at(r, i, 1), "hostname",
			text_or_null(db_rows_get(r, i, 2)), "group",
			text_or_null(db_rows_get(r, i, 3))));
	}
	*out = list;
	return 0;
}

/* Five minutes of slack: a report committed a moment after this reads
 * the clock (by another worker or another instance) is not a clock set
 * back. */
#define CLOCK_SLACK_S 300

int store_seen_not_after_now(struct store *s)
{
	char now[24], later[24];
	const char *p[] = { num(now, time(NULL)),
			    num(later, time(NULL) + CLOCK_SLACK_S) };

	return db_run(s->db, "UPDATE devices SET last_seen = ?"
			     " WHERE last_seen > ?", 2, p, NULL);
}

int store_purge(struct store *s, unsigned days)
{
	char before[24];
	const char *p[] = { num(before, time(NULL) - (int64_t)days * 86400) };
	int a, b;

	/* The history goes; what each device looks like now stays. */
	if (db_begin(s->db) < 0)
		return -EIO;
	a = db_run(s->db, "DELETE FROM reports WHERE received_at < ? AND"
			  " seq < (SELECT last_seq FROM devices"
			  " WHERE devices.id = reports.device_id)", 1, p, NULL);
	b = a < 0 ? a : db_run(s->db, "DELETE FROM events WHERE received_at < ?",
			       1, p, NULL);
	if (b < 0 || db_commit(s->db) < 0) {
		db_rollback(s->db);
		return -EIO;
	}
	return a + b;
}

int store_device_remove(struct store *s, int64_t id)
{
	char ids[24];
	const char *p[] = { num(ids, id) };
	struct device_now gone;
	json_t *deltas;
	int r;

	/* Its last state (the row locked), then its history (it refers to
	 * the device), then the device. */
	if (db_begin(s->db) < 0)
		return -EIO;
	if ((r = device_now(s, false, ids, &gone)) < 0 ||
	    db_run(s->db, "DELETE FROM events WHERE device_id = ?", 1, p, NULL) < 0 ||
	    db_run(s->db, "DELETE FROM reports WHERE device_id = ?", 1, p, NULL) < 0 ||
	    db_run(s->db, "DELETE FROM checks_latest WHERE device_id = ?", 1, p,
		   NULL) < 0 ||
	    db_run(s->db, "DELETE FROM devices WHERE id = ?", 1, p, NULL) < 0) {
		device_now_clear(&gone);
		db_rollback(s->db);
		return -EIO;
	}
	if (r == 0) {
		db_rollback(s->db);
		return -ENOENT;
	}
	/* It leaves its group's counts. */
	deltas = json_object();
	count_device(deltas, gone.grp, &gone, -1);
	delta(deltas, gone.grp, "#", "enrolled", -1);
	device_now_clear(&gone);
	r = apply_deltas(s, deltas);
	json_decref(deltas);
	if (r < 0 || db_commit(s->db) < 0) {
		db_rollback(s->db);
		return -EIO;
	}
	return 0;
}

/* --- policies --- */

int store_policy_put(struct store *s, const char *group, const char *body,
		     const char *sha256)
{
	char now[24];
	const char *p[] = { group, body, sha256, num(now, time(NULL)) };
	int r = db_run(s->db, "INSERT INTO policies (grp, body, sha256,"
			      " updated_at) VALUES (?, ?, ?, ?)"
			      " ON CONFLICT (grp) DO UPDATE SET body = excluded.body,"
			      " sha256 = excluded.sha256,"
			      " updated_at = excluded.updated_at", 4, p, NULL);

	return r < 0 ? r : 0;
}

int store_policy_get(struct store *s, const char *group, char **body,
		     char **sha256)
{
	_cleanup_(db_rows_freep) struct db_rows *r = NULL;
	const char *p[] = { group };
	int k = db_run(s->db, "SELECT body, sha256 FROM policies WHERE grp = ?",
		       1, p, &r);

	if (k < 0)
		return k;
	if (k == 0)
		return -ENOENT;
	*body = xstrdup(db_rows_get(r, 0, 0));
	*sha256 = xstrdup(db_rows_get(r, 0, 1));
	return 0;
}

int store_device_group(struct store *s, int64_t id, char **group)
{
	char ids[24];
	const char *p[] = { num(ids, id) };

	return one(s, "SELECT grp FROM devices WHERE id = ?", 1, p, group);
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
			"created_at", int_at(r, i, 2), "revoked_at",
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
			"created_at", int_at(r, i, 1)));
	return 0;
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

/* --- the dashboard's sessions --- */

int store_session_new(struct store *s, const char *id_hash, const char *admin,
		      const char *csrf, int64_t lifetime_s)
{
	char now[24], until[24];
	const char *p[] = { id_hash, admin, csrf, num(now, time(NULL)),
			    num(until, time(NULL) + lifetime_s) };

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
	const char *p[] = { id_hash, num(now, time(NULL)) };
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

int store_signin_failures(struct store *s, const char *who, int64_t since)
{
	_cleanup_(db_rows_freep) struct db_rows *r = NULL;
	char t[24];
	const char *p[] = { who, num(t, since) };

	if (db_run(s->db, "SELECT COUNT(*) FROM signin_failures"
			  " WHERE who = ? AND at >= ?", 2, p, &r) < 1)
		return -EIO;
	return (int)int_at(r, 0, 0);
}

int store_signin_failed(struct store *s, const char *who)
{
	char now[24], old[24];
	const char *p[] = { who, num(now, time(NULL)) };
	const char *q[] = { num(old, time(NULL) - 86400) };

	if (db_run(s->db, "DELETE FROM signin_failures WHERE at < ?", 1, q,
		   NULL) < 0 ||
	    db_run(s->db, "INSERT INTO signin_failures (who, at) VALUES (?, ?)",
		   2, p, NULL) < 0)
		return -EIO;
	return 0;
}

int store_signin_clear(struct store *s, const char *who)
{
	const char *p[] = { who };

	return db_run(s->db, "DELETE FROM signin_failures WHERE who = ?", 1, p,
		      NULL) < 0 ? -EIO : 0;
}

/* --- the estate over time --- */

/* "YYYY-MM-DD" in UTC, days ago. */
static const char *utc_day(char buf[static 16], int days_ago)
{
	time_t t = time(NULL) - (time_t)days_ago * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 16, "%Y-%m-%d", &tm);
	return buf;
}

int store_snapshot(struct store *s, int stale_hours, unsigned keep_days)
{
	char today[16], oldest[16], since[24];
	const char *p[] = { utc_day(today, 0) };
	const char *q[] = { today, num(since, time(NULL) -
					      (int64_t)stale_hours * 3600) };
	const char *o[] = { utc_day(oldest, (int)keep_days) };

	/* Today's row is rewritten until the day ends: each day keeps how
	 * the estate looked at its last snapshot. Check "!" counts the
	 * stale devices of a group. */
	if (db_begin(s->db) < 0)
		return -EIO;
	if (db_run(s->db, "DELETE FROM daily WHERE day = ? OR day < ?", 2,
		   (const char *[]){ today, o[0] }, NULL) < 0 ||
	    db_run(s->db, "INSERT INTO daily (day, grp, check_id, status, n)"
			  " SELECT CAST(? AS TEXT), grp, check_id, status, n FROM counts"
			  " WHERE n <> 0 ON CONFLICT (day, grp, check_id, status)"
			  " DO UPDATE SET n = excluded.n", 1, p, NULL) < 0 ||
	    db_run(s->db, "INSERT INTO daily (day, grp, check_id, status, n)"
			  " SELECT CAST(? AS TEXT), grp, '!', 'stale', COUNT(*) FROM devices"
			  " WHERE last_seen IS NULL OR last_seen < ? GROUP BY grp"
			  " ON CONFLICT (day, grp, check_id, status)"
			  " DO UPDATE SET n = excluded.n", 2, q, NULL) < 0) {
		db_rollback(s->db);
		return -EIO;
	}
	return db_commit(s->db);
}

/* One row of counts into the day it belongs to. */
static void history_add(json_t *day, const char *check, const char *status,
			json_int_t n)
{
	const char *key = NULL;
	json_t *c;

	if (strcmp(check, "#") == 0)
		key = "devices";
	else if (strcmp(check, "!") == 0)
		key = "stale";
	else if (!*check && strcmp(status, "pass") == 0)
		key = "compliant";
	else if (!*check && strcmp(status, "fail") == 0)
		key = "failing";
	if (key) {
		json_object_set_new(day, key, json_integer(
			json_integer_value(json_object_get(day, key)) + n));
		return;
	}
	if (!*check)
		return;
	c = json_object_get(json_object_get(day, "by_check"), check);
	if (!c)
		json_object_set_new(json_object_get(day, "by_check"), check,
				    c = json_object());
	json_object_set_new(c, status, json_integer(
		json_integer_value(json_object_get(c, status)) + n));
}

static json_t *history_day(json_t *days, const char *day)
{
	json_t *d = json_object_get(days, day);

	if (!d)
		json_object_set_new(days, day, d = json_pack(
			"{s:s, s:i, s:i, s:i, s:i, s:o}", "day", day, "devices",
			0, "compliant", 0, "failing", 0, "stale", 0, "by_check",
			json_object()));
	return d;
}

int store_history(struct store *s, const char *group, unsigned days,
		  int stale_hours, json_t **out)
{
	_cleanup_(db_rows_freep) struct db_rows *r = NULL, *now = NULL,
					       *st = NULL;
	char first[16], today[16], since[24];
	const char *p[] = { utc_day(first, (int)days - 1), utc_day(today, 0),
			    group };
	const char *q[] = { group };
	const char *t[] = { num(since, time(NULL) - (int64_t)stale_hours * 3600),
			    group };
	json_t *map, *list, *d;
	const char *key;

	/* The past from the snapshots; today from the counts as they are. */
	if (db_run(s->db, group
		   ? "SELECT day, check_id, status, SUM(n) FROM daily"
		     " WHERE day >= ? AND day < ? AND grp = ?"
		     " GROUP BY day, check_id, status"
		   : "SELECT day, check_id, status, SUM(n) FROM daily"
		     " WHERE day >= ? AND day < ? GROUP BY day, check_id, status",
		   group ? 3 : 2, p, &r) < 0 ||
	    db_run(s->db, group
		   ? "SELECT check_id, status, SUM(n) FROM counts WHERE grp = ?"
		     " AND n <> 0 GROUP BY check_id, status"
		   : "SELECT check_id, status, SUM(n) FROM counts"
		     " WHERE n <> 0 GROUP BY check_id, status", group ? 1 : 0, q,
		   &now) < 0 ||
	    db_run(s->db, group
		   ? "SELECT COUNT(*) FROM devices WHERE (last_seen IS NULL OR"
		     " last_seen < ?) AND grp = ?"
		   : "SELECT COUNT(*) FROM devices WHERE last_seen IS NULL OR"
		     " last_seen < ?", group ? 2 : 1, t, &st) < 1)
		return -EIO;
	map = json_object();
	for (size_t i = 0; i < db_rows_count(r); i++)
		history_add(history_day(map, db_rows_get(r, i, 0)),
			    db_rows_get(r, i, 1), db_rows_get(r, i, 2),
			    int_at(r, i, 3));
	d = history_day(map, today);
	for (size_t i = 0; i < db_rows_count(now); i++)
		history_add(d, db_rows_get(now, i, 0), db_rows_get(now, i, 1),
			    int_at(now, i, 2));
	json_object_set_new(d, "stale", json_integer(int_at(st, 0, 0)));
	/* Days as a list, oldest first ("YYYY-MM-DD" sorts as text). */
	list = json_array();
	{
		size_t n = json_object_size(map), k = 0;
		const char **keys = xcalloc(n, sizeof(*keys));

		json_object_foreach(map, key, d)
			keys[k++] = key;
		qsort(keys, n, sizeof(*keys), cmp_keys);
		for (k = 0; k < n; k++)
			json_array_append(list, json_object_get(map, keys[k]));
		free(keys);
	}
	json_decref(map);
	*out = json_pack("{s:o, s:o}", "group", group ? json_string(group)
						      : json_null(),
			 "days", list);
	return 0;
}

/* The clause a failing check breaches, from a device's latest report. */
static json_t *clause_of(struct store *s, const char *group,
			 const char *check, const char *status,
			 const char *summary)
{
	_cleanup_(db_rows_freep) struct db_rows *r = NULL;
	const char *p[] = { check, status, summary, group };
	json_t *checks, *c, *clause = NULL;
	size_t i;

	/* From a device of the same school: its policy's words. */
	if (db_run(s->db, group
		   ? "SELECT r.body FROM checks_latest c JOIN devices d"
		     " ON d.id = c.device_id JOIN reports r ON r.device_id = d.id"
		     " AND r.seq = d.last_seq WHERE c.check_id = ?"
		     " AND c.status = ? AND c.summary = ? AND d.grp = ? LIMIT 1"
		   : "SELECT r.body FROM checks_latest c JOIN devices d"
		     " ON d.id = c.device_id JOIN reports r ON r.device_id = d.id"
		     " AND r.seq = d.last_seq WHERE c.check_id = ?"
		     " AND c.status = ? AND c.summary = ? LIMIT 1",
		   group ? 4 : 3, p, &r) < 1 || !db_rows_get(r, 0, 0))
		return json_null();
	checks = latest_checks(db_rows_get(r, 0, 0));
	json_array_foreach(checks, i, c) {
		const char *id = json_string_value(json_object_get(c, "id"));

		if (!clause && id && strcmp(id, check) == 0)
			clause = json_incref(json_object_get(c, "clause"));
	}
	json_decref(checks);
	return clause ? clause : json_null();
}

int store_findings(struct store *s, const char *group, unsigned limit,
		   json_t **out)
{
	_cleanup_(db_rows_freep) struct db_rows *r = NULL;
	char lim[24];
	const char *p[] = { group, num(lim, limit) };

	if (db_run(s->db, group
		   ? "SELECT c.check_id, c.status, c.summary, COUNT(*) AS n"
		     " FROM checks_latest c JOIN devices d ON d.id = c.device_id"
		     " WHERE c.status IN ('fail', 'warn') AND d.grp = ?"
		     " GROUP BY c.check_id, c.status, c.summary"
		     " ORDER BY n DESC, c.check_id, c.summary"
		     " LIMIT CAST(? AS BIGINT)"
		   : "SELECT check_id, status, summary, COUNT(*) AS n"
		     " FROM checks_latest WHERE status IN ('fail', 'warn')"
		     " GROUP BY check_id, status, summary"
		     " ORDER BY n DESC, check_id, summary"
		     " LIMIT CAST(? AS BIGINT)",
		   group ? 2 : 1, group ? p : p + 1, &r) < 0)
		return -EIO;
	*out = json_array();
	for (size_t i = 0; i < db_rows_count(r); i++) {
		const char *check = db_rows_get(r, i, 0);
		const char *status = db_rows_get(r, i, 1);
		const char *summary = db_rows_get(r, i, 2);

		json_array_append_new(*out, json_pack(
			"{s:s, s:s, s:o, s:o, s:I}", "check", check, "status",
			status, "summary", text_or_null(summary), "clause",
			summary ? clause_of(s, group, check, status, summary)
				: json_null(),
			"devices", int_at(r, i, 3)));
	}
	return 0;
}

int store_groups(struct store *s, json_t **out)
{
	_cleanup_(db_rows_freep) struct db_rows *r = NULL;

	if (db_run(s->db, "SELECT g.grp, p.sha256, p.updated_at FROM"
			  " (SELECT grp FROM counts UNION SELECT grp FROM policies"
			  " UNION SELECT grp FROM enrol_secrets WHERE grp <> '') g"
			  " LEFT JOIN policies p ON p.grp = g.grp ORDER BY g.grp",
		   0, NULL, &r) < 0)
		return -EIO;
	*out = json_array();
	for (size_t i = 0; i < db_rows_count(r); i++) {
		const char *sha = db_rows_get(r, i, 1);

		json_array_append_new(*out, json_pack(
			"{s:s, s:o, s:o}", "group", db_rows_get(r, i, 0),
			"policy_sha256", text_or_null(sha), "policy_updated_at",
			sha ? json_integer(int_at(r, i, 2)) : json_null()));
	}
	return 0;
}
