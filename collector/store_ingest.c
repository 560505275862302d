/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_ingest: what devices send and what becomes of it: enrolment,
 * token checks, reports stored one at a time or in a group commit (a
 * report and everything derived from it in one transaction, committed
 * before the API answers 2xx), the committer's memory of each device
 * between reports (store_remember), and a device's removal, the
 * retention purge and the clock set back.
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

void store_known_forget(struct store *s)
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
		store_known_forget(s);
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
		store_known_forget(s);
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

/* Whether enrolling machine_id with public_key would take it from the
 * key it is enrolled with. A laptop enrolled before keys gets one only
 * with proof that it is itself: the hash of the token it holds. */
static int key_taken(struct store *s, const char *machine_id,
		     const char *public_key, const char *proof)
{
	_cleanup_(db_rows_freep) struct db_rows *r = NULL;
	const char *p[] = { machine_id };
	const char *had;
	int k = db_run(s->db, "SELECT public_key, token_hash FROM devices"
			      " WHERE machine_id = ?", 1, p, &r);

	if (k <= 0)
		return k;
	had = db_rows_get(r, 0, 0);
	if (had && public_key)
		return strcmp(had, public_key) != 0;
	if (!had && public_key)
		return !proof || !secret_hash_equal(proof, db_rows_get(r, 0, 1));
	return had != NULL;
}

int store_device_enrol(struct store *s, const json_t *device,
		       const char *group, const char *token_hash,
		       const char *public_key, const char *proof, int64_t *id)
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
		store_num(now, time(NULL)), public_key,
	};
	_cleanup_free_ char *out = NULL;
	struct device_now before;
	json_t *deltas;
	int r;

	if (db_begin(s->db) < 0)
		return -EIO;
	/* Its row is locked (FOR UPDATE) before its key is compared. */
	if (device_now(s, true, p[0], &before) < 0 ||
	    (r = key_taken(s, p[0], public_key, proof)) < 0) {
		device_now_clear(&before);
		db_rollback(s->db);
		return -EIO;
	}
	if (r > 0) {
		device_now_clear(&before);
		db_rollback(s->db);
		return -EEXIST;
	}
	r = store_one(s, "INSERT INTO devices (machine_id, grp, token_hash,"
			     " hostname, vendor, model, serial, os, agent_version,"
			     " enrolled_at, public_key)"
			     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
			     " ON CONFLICT (machine_id) DO UPDATE SET grp = excluded.grp,"
			     " token_hash = excluded.token_hash,"
			     " hostname = excluded.hostname, vendor = excluded.vendor,"
			     " model = excluded.model, serial = excluded.serial,"
			     " os = excluded.os, agent_version = excluded.agent_version,"
			     " public_key = excluded.public_key"
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
		store_count_device(deltas, before.grp, &before, -1);
		store_count_delta(deltas, before.grp, "#", "enrolled", -1);
	}
	if (!before.grp || strcmp(before.grp, group) != 0) {
		store_count_device(deltas, group, &before, +1);
		store_count_delta(deltas, group, "#", "enrolled", +1);
	}
	device_now_clear(&before);
	r = store_count_apply(s, deltas);
	json_decref(deltas);
	if (r < 0 || db_commit(s->db) < 0) {
		db_rollback(s->db);
		return -EIO;
	}
	*id = strtoll(out, NULL, 10);
	return 0;
}

int store_device_auth(struct store *s, int64_t id, char **token_hash,
		      char **machine_id, char **public_key)
{
	_cleanup_(db_rows_freep) struct db_rows *r = NULL;
	char ids[24];
	const char *p[] = { store_num(ids, id) };
	int k = db_run(s->db, "SELECT token_hash, machine_id, public_key"
			      " FROM devices WHERE id = ?", 1, p, &r);
	const char *key;

	if (k < 0)
		return k;
	if (k == 0)
		return -ENOENT;
	*token_hash = xstrdup(db_rows_get(r, 0, 0));
	*machine_id = xstrdup(db_rows_get(r, 0, 1));
	key = db_rows_get(r, 0, 2);
	*public_key = key ? xstrdup(key) : NULL;
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
	store_num(seq, seqv);
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
	store_count_change(deltas, before->grp, "", before->status, status);
	changed = json_array();
	json_array_foreach(checks, i, c) {
		const char *id = json_string_value(json_object_get(c, "id"));
		const char *st = json_string_value(json_object_get(c, "status"));
		const struct check_now *old = check_now_find(before, id);

		store_count_change(deltas, before->grp, id, old ? old->status : NULL,
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
		store_count_delta(deltas, before->grp, id, before->checks[k].status, -1);
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
		store_num(ids, put->id),
		store_num(seq, json_integer_value(json_object_get(report, "seq"))),
		store_num(now, time(NULL)),
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
	if (store_count_apply(s, deltas) < 0 || db_commit(s->db) < 0) {
		db_rollback(s->db);
		goto failed;
	}
	json_decref(deltas);
	return 0;
failed:
	store_known_forget(s);	/* it may hold what was rolled back */
	json_decref(deltas);
	for (size_t i = 0; i < n; i++)
		puts[i].result = -EIO;
	return -EIO;
}

/* Five minutes of slack: a report committed a moment after this reads
 * the clock (by another worker or another instance) is not a clock set
 * back. */
#define CLOCK_SLACK_S 300

int store_seen_not_after_now(struct store *s)
{
	char now[24], later[24];
	const char *p[] = { store_num(now, time(NULL)),
			    store_num(later, time(NULL) + CLOCK_SLACK_S) };

	return db_run(s->db, "UPDATE devices SET last_seen = ?"
			     " WHERE last_seen > ?", 2, p, NULL);
}

int store_purge(struct store *s, unsigned days)
{
	char before[24];
	const char *p[] = { store_num(before, time(NULL) - (int64_t)days * 86400) };
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
	const char *p[] = { store_num(ids, id) };
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
	store_count_device(deltas, gone.grp, &gone, -1);
	store_count_delta(deltas, gone.grp, "#", "enrolled", -1);
	device_now_clear(&gone);
	r = store_count_apply(s, deltas);
	json_decref(deltas);
	if (r < 0 || db_commit(s->db) < 0) {
		db_rollback(s->db);
		return -EIO;
	}
	return 0;
}
