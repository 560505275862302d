/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_counts: the counts table (a row per group, check and status),
 * changed in key order at the end of each transaction that moves a
 * device; the summary read from it; and the estate over time: the daily
 * snapshots of the counts and the history made from them.
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

/* Changes to the counts table, gathered over a transaction and applied
 * at its end in key order: instances sharing a database lock the same
 * rows in the same order, so they wait but never deadlock. */
void store_count_delta(json_t *d, const char *grp, const char *check,
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

int store_count_apply(struct store *s, json_t *d)
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
			const char *p[] = { copy, check, status, store_num(by, m) };

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

/* Count a device's state in (by +1) or out (by -1) of group grp. */
void store_count_device(json_t *d, const char *grp,
			const struct device_now *n, int by)
{
	store_count_delta(d, grp, "", n->status, by);
	for (size_t i = 0; i < n->n; i++)
		store_count_delta(d, grp, n->checks[i].id, n->checks[i].status, by);
}

/* Count one status changing from one value to another (either NULL for
 * none); nothing moves when it stays. */
void store_count_change(json_t *d, const char *grp, const char *check,
			const char *from, const char *to)
{
	if (from && to && strcmp(from, to) == 0)
		return;
	store_count_delta(d, grp, check, from, -1);
	store_count_delta(d, grp, check, to, +1);
}

int store_summary(struct store *s, int stale_hours, json_t **out)
{
	_cleanup_(db_rows_freep) struct db_rows *cnt = NULL, *st1 = NULL,
					       *st2 = NULL;
	char since[24];
	const char *p[] = { store_num(since, time(NULL) - (int64_t)stale_hours * 3600) };
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
		json_int_t n = store_int_at(cnt, i, 3);
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
			 "stale", store_int_at(st1, 0, 0) + store_int_at(st2, 0, 0),
			 "by_check", by_check, "by_group", by_group);
	return 0;
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
	const char *q[] = { today, store_num(since, time(NULL) -
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
	const char *t[] = { store_num(since, time(NULL) - (int64_t)stale_hours * 3600),
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
			    store_int_at(r, i, 3));
	d = history_day(map, today);
	for (size_t i = 0; i < db_rows_count(now); i++)
		history_add(d, db_rows_get(now, i, 0), db_rows_get(now, i, 1),
			    store_int_at(now, i, 2));
	json_object_set_new(d, "stale", json_integer(store_int_at(st, 0, 0)));
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
