/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_query: reading the estate for the API and the dashboard: device
 * lists with filters, sorting and pages, one device, events, findings
 * and groups; and the groups' policies.
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
	p->v[p->n] = store_num(p->own[p->n], v);
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
			 "id", store_int_at(r, i, 0),
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
		json_int_t id = store_int_at(r, k, 0);

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
	*out = json_pack("{s:I, s:i, s:i, s:o}", "total", store_int_at(cnt, 0, 0),
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
	const char *p[] = { store_num(ids, id) };
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
	json_object_set_new(dev, "enrolled_at", json_integer(store_int_at(d, 0, 13)));
	json_object_set_new(dev, "checks", latest_checks(db_rows_get(d, 0, 14)));
	history = json_array();
	for (size_t i = 0; i < db_rows_count(h); i++)
		json_array_append_new(history, json_pack(
			"{s:I, s:I, s:o, s:o}", "seq", store_int_at(h, i, 0),
			"received_at", store_int_at(h, i, 1),
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
			store_int_at(r, i, 1), "hostname",
			text_or_null(db_rows_get(r, i, 2)), "group",
			text_or_null(db_rows_get(r, i, 3))));
	}
	*out = list;
	return 0;
}

/* --- policies --- */

int store_policy_put(struct store *s, const char *group, const char *body,
		     const char *sha256)
{
	char now[24];
	const char *p[] = { group, body, sha256, store_num(now, time(NULL)) };
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
	const char *p[] = { store_num(ids, id) };

	return store_one(s, "SELECT grp FROM devices WHERE id = ?", 1, p, group);
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
	const char *p[] = { group, store_num(lim, limit) };

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
			"devices", store_int_at(r, i, 3)));
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
			sha ? json_integer(store_int_at(r, i, 2)) : json_null()));
	}
	return 0;
}
