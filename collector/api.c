/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api: collectord's API routes (docs/api.md), called by the server for
 * each request (api_dispatch, the server's dispatcher): enrolment and
 * reports from devices, which go to the group committer (committer.c);
 * the summary, devices, events, history, findings, groups and policies
 * for admins; /healthz and /metrics. Who a request is from is auth.c's
 * to say; the dashboard's pages are web.c's. Every string a device sends
 * is data: validated for type and length, stored as is, never
 * interpreted.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "auth.h"
#include "committer.h"
#include "devkey.h"
#include "jarena.h"
#include "jsonin.h"
#include "limits.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"
#include "reportcheck.h"
#include "secret.h"
#include "server.h"
#include "spool.h"
#include "utf8.h"
#include "util.h"
#include "web.h"

/* The key that signs each group's policy (the same for every instance:
 * it is kept in the database), and its public half, which enrolment
 * gives the laptop to pin. */
static struct devkey *policy_key;
static char policy_public[DEVKEY_PUBLIC_B64 + 1];

/* --- POST /api/v1/enrol --- */

/* The hash of the token a laptop enrolled before keys sends to prove it
 * is itself ("token": "ID.SECRET"), or NULL. */
static const char *token_proof(const json_t *req,
			       char hash[static SECRET_HASH_LEN + 1])
{
	const char *t = json_string_value(json_object_get(req, "token"));
	const char *dot = t ? strchr(t, '.') : NULL;

	if (!dot || strlen(dot + 1) != SECRET_HEX_LEN)
		return NULL;
	secret_hash(dot + 1, hash);
	return hash;
}

static enum MHD_Result enrol(struct MHD_Connection *c,
			     struct request *rq __attribute__((unused)),
			     const char *body, size_t len)
{
	_cleanup_free_ char *group = NULL, *token = NULL;
	char err[256], hash[SECRET_HASH_LEN + 1], secret[SECRET_HEX_LEN + 1],
		proof[SECRET_HASH_LEN + 1];
	struct store *s = server_store();
	const char *given, *enrol_secret, *problem, *public_key;
	enum MHD_Result answer;
	json_t *req, *device;
	int64_t id;
	int r;

	req = server_json_body(c, body, len, &answer);
	if (!req)
		return answer;
	enrol_secret = json_string_value(json_object_get(req, "enrol_secret"));
	given = json_string_value(json_object_get(req, "group"));
	device = json_object_get(req, "device");
	public_key = json_string_value(json_object_get(req, "public_key"));
	problem = reportcheck_device(device, err);
	if (json_object_get(req, "public_key") && !devkey_public_ok(public_key))
		problem = "public_key: an Ed25519 public key, base64";
	if (!enrol_secret || strlen(enrol_secret) > 256)
		problem = "enrol_secret: must be a string";
	else if (given && !store_group_ok(given))
		problem = "group: 1 to 64 letters, digits, spaces or ._-'";
	if (problem) {
		json_decref(req);
		metrics_count(M_ENROL_REFUSED);
		return server_error(c, MHD_HTTP_BAD_REQUEST, problem);
	}
	if (!s) {
		json_decref(req);
		return server_unavailable(c);
	}
	secret_hash(enrol_secret, hash);
	r = store_secret_group(s, hash, &group);
	if (r == 0 && !*group && given) {
		free(group);
		group = xstrdup(given);
	}
	if (r == 0 && !*group) {
		json_decref(req);
		metrics_count(M_ENROL_REFUSED);
		return server_error(c, MHD_HTTP_BAD_REQUEST,
				    "group: this enrolment secret has no group; "
				    "name the school");
	}
	if (r == -ENOENT || (r == 0 && given && strcmp(given, group) != 0)) {
		json_decref(req);
		metrics_count(M_ENROL_REFUSED);
		return server_error(c, r == -ENOENT ? MHD_HTTP_UNAUTHORIZED
						    : MHD_HTTP_FORBIDDEN,
				    r == -ENOENT ? "unknown or revoked enrolment "
						   "secret"
						 : "this enrolment secret is for "
						   "another group");
	}
	if (r < 0 || secret_new(secret) < 0) {
		json_decref(req);
		return server_unavailable(c);
	}
	secret_hash(secret, hash);
	r = store_device_enrol(s, device, group, hash, public_key,
			       token_proof(req, proof), &id);
	json_decref(req);
	if (r == -EEXIST) {
		metrics_count(M_ENROL_REFUSED);
		return server_error(c, MHD_HTTP_CONFLICT,
				    "this laptop is enrolled with another key: "
				    "if it was re-imaged, IT removes it first "
				    "(collectord --remove-device) and it enrols "
				    "again");
	}
	if (r < 0)
		return server_unavailable(c);
	metrics_count(M_ENROLLED);
	token = xasprintf("%" PRId64 ".%s", id, secret);
	explicit_bzero(secret, sizeof(secret));
	return server_reply(c, MHD_HTTP_CREATED,
			    json_pack("{s:I, s:s, s:s, s:s}", "device_id",
				      (json_int_t)id, "token", token, "group",
				      group, "policy_key", policy_public));
}

/* --- POST /api/v1/reports --- */

/* The two answers to a stored report, made once and queued on every
 * connection (libmicrohttpd counts a response's references): a report
 * costs no allocation to answer. */
static struct MHD_Response *answer_stored, *answer_duplicate;


static struct MHD_Response *answer_new(const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(text), (void *)(uintptr_t)text, MHD_RESPMEM_PERSISTENT);

	if (!r)
		abort();
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	server_secure_headers(r);
	return r;
}

/* The answer to a report once it is stored (or not): r is one of
 * store_report_put's results. */
static enum MHD_Result reply_put(struct MHD_Connection *c, int r)
{
	if (r < 0)
		return server_unavailable(c);
	if (r == STORE_UNAUTHORIZED) {
		metrics_count(M_REJECT_UNAUTHORIZED);
		return server_error(c, MHD_HTTP_UNAUTHORIZED,
				    "unknown or revoked device token");
	}
	metrics_count(r == STORE_STORED ? M_REPORTS_STORED
					: M_REPORTS_DUPLICATE);
	return r == STORE_STORED
		       ? MHD_queue_response(c, MHD_HTTP_CREATED, answer_stored)
		       : MHD_queue_response(c, MHD_HTTP_OK, answer_duplicate);
}

/* Whether the body is signed with the device's key, as endpointd signs
 * every report (the uploader carries it and can neither forge nor alter
 * it): NULL when it is, or when the device has no key (enrolled by an
 * agent from before keys); otherwise why not. */
static const char *signature_problem(struct MHD_Connection *c,
				     const char *public_key, const char *body,
				     size_t len)
{
	const char *sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						      SPOOL_SIG_HEADER);
	size_t pre = strlen(SPOOL_SIG_PREFIX);

	if (!public_key)
		return NULL;
	if (!sig || strncmp(sig, SPOOL_SIG_PREFIX, pre) != 0)
		return "the report is not signed with this laptop's key";
	if (devkey_verify(public_key, body, len, sig + pre) < 0)
		return "the report's signature does not verify against this "
		       "laptop's key";
	return NULL;
}

static enum MHD_Result reports(struct MHD_Connection *c, struct request *rq,
			       const char *body, size_t len)
{
	_cleanup_free_ char *machine_id = NULL, *public_key = NULL;
	struct store *s = server_store();
	char err[256], hash[SECRET_HASH_LEN + 1];
	const char *problem, *mid;
	struct committer_job *job;
	json_t *report;
	unsigned retry;
	int64_t id;
	int r;

	if (!s)
		return server_unavailable(c);
	r = auth_device(c, s, true, &id, &machine_id, &public_key, hash);
	if (r == -EACCES) {
		metrics_count(M_REJECT_UNAUTHORIZED);
		return server_error(c, MHD_HTTP_UNAUTHORIZED,
				    "unknown or revoked device token");
	}
	if (r < 0)
		return server_unavailable(c);
	problem = signature_problem(c, public_key, body, len);
	if (problem) {
		metrics_count(M_REJECT_FORBIDDEN);
		return server_error(c, MHD_HTTP_FORBIDDEN, problem);
	}
	if (!server_is_json(c)) {
		metrics_count(M_REJECT_MEDIA_TYPE);
		return server_error(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
				    "send application/json");
	}
	/* The report is only read from here on: its values are let go of
	 * together when the request ends. */
	jarena_open(server_arena(rq));
	report = jsonin_parse(body, len, err);
	problem = report ? reportcheck(report, err) : err;
	jarena_close();
	if (problem) {
		metrics_count(M_REJECT_INVALID);
		return server_error(c, MHD_HTTP_BAD_REQUEST, problem);
	}
	mid = json_string_value(json_object_get(json_object_get(report,
								"device"),
						"machine_id"));
	if (strcmp(mid, machine_id) != 0) {
		metrics_count(M_REJECT_FORBIDDEN);
		return server_error(c, MHD_HTTP_FORBIDDEN,
				    "the report names another device than "
				    "its token");
	}
	if (!limits_events_take(id, json_array_size(json_object_get(report,
								    "events")),
				&retry)) {
		metrics_count(M_REJECT_RATE);
		return server_too_many(c, retry, "this laptop has sent more "
				       "events today than the collector takes "
				       "in a day (UTC); send again tomorrow");
	}
	/* Answered by the committer's thread's resuming the connection
	 * (api_dispatch, again), or now. */
	r = committer_put(c, s, id, hash, report, body, len, &job);
	if (r != -EINPROGRESS)
		return reply_put(c, r);
	server_keep(rq, job, committer_job_free);
	return MHD_YES;
}

static int summary_of(struct store *s, json_t **out)
{
	return store_summary(s, (int)server_config()->stale_hours, out);
}

static enum MHD_Result listing(struct MHD_Connection *c,
			       int (*fn)(struct store *, json_t **));

static enum MHD_Result summary(struct MHD_Connection *c)
{
	return listing(c, summary_of);
}

/* A query argument, or NULL (one over 256 bytes is refused before the
 * request gets here: server.c). */
static const char *arg(struct MHD_Connection *c, const char *name)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
						    name);

	return v && *v && strlen(v) <= 256 ? v : NULL;
}

static bool arg_uint(struct MHD_Connection *c, const char *name,
		     unsigned def, unsigned min, unsigned max, unsigned *out)
{
	const char *v = arg(c, name);
	char *end;
	unsigned long n;

	*out = def;
	if (!v)
		return true;
	n = strtoul(v, &end, 10);
	if (*end || n < min || n > max)
		return false;
	*out = (unsigned)n;
	return true;
}

static bool filter_from(struct MHD_Connection *c, struct store_filter *f,
			bool paged)
{
	const char *stale = arg(c, "stale");

	memset(f, 0, sizeof(*f));
	f->status = arg(c, "status");
	f->check = arg(c, "check");
	f->check_status = arg(c, "check_status");
	f->group = arg(c, "group");
	f->q = arg(c, "q");
	f->sort = arg(c, "sort");
	f->stale = stale && (strcmp(stale, "1") == 0 || strcmp(stale, "true") == 0);
	if (!paged)
		return true;
	return arg_uint(c, "page", 1, 1, 1000000, &f->page) &&
	       arg_uint(c, "per_page", 50, 1, 500, &f->per_page);
}

/* The devices the query string asks for, or NULL with the answer to give
 * in *ret. The CSV export is not paged: it has every matching device. */
static json_t *devices_query(struct MHD_Connection *c, bool paged,
			     enum MHD_Result *ret)
{
	struct store_filter f;
	struct store *s;
	json_t *out;
	int r;

	s = auth_admin(c, ret);
	if (!s)
		return NULL;
	if (!filter_from(c, &f, paged)) {
		*ret = server_error(c, MHD_HTTP_BAD_REQUEST,
				    "page from 1, per_page from 1 to 500");
		return NULL;
	}
	r = store_devices(s, &f, (int)server_config()->stale_hours, &out);
	if (r == -EINVAL)
		*ret = server_error(c, MHD_HTTP_BAD_REQUEST,
				    "sort by hostname, group, status or "
				    "last_seen, with '-' for descending");
	else if (r < 0)
		*ret = server_unavailable(c);
	return r < 0 ? NULL : out;
}

static enum MHD_Result devices(struct MHD_Connection *c)
{
	enum MHD_Result ret;
	json_t *out = devices_query(c, true, &ret);

	if (!out)
		return ret;
	return server_reply(c, MHD_HTTP_OK, out);
}

static enum MHD_Result device(struct MHD_Connection *c, const char *idtext)
{
	enum MHD_Result ret;
	struct store *s;
	json_t *out;
	char *end;
	long long id = strtoll(idtext, &end, 10);
	int r;

	s = auth_admin(c, &ret);
	if (!s)
		return ret;
	if (*end || id <= 0)
		return server_error(c, MHD_HTTP_NOT_FOUND, "no such device");
	r = store_device(s, id, (int)server_config()->stale_hours, &out);
	if (r == -ENOENT)
		return server_error(c, MHD_HTTP_NOT_FOUND, "no such device");
	if (r < 0)
		return server_unavailable(c);
	return server_reply(c, MHD_HTTP_OK, out);
}

/* An admin's GET answered by fn, given the query argument name as a
 * number from 1 to max (def when absent). */
typedef int counted_fn(struct MHD_Connection *c, struct store *s, unsigned n,
		       json_t **out);

static enum MHD_Result admin_counted(struct MHD_Connection *c,
				     const char *name, unsigned def,
				     unsigned max, counted_fn *fn)
{
	enum MHD_Result ret;
	struct store *s;
	unsigned n;
	json_t *out;

	s = auth_admin(c, &ret);
	if (!s)
		return ret;
	if (!arg_uint(c, name, def, 1, max, &n)) {
		_cleanup_free_ char *msg = xasprintf("%s from 1 to %u", name, max);

		return server_error(c, MHD_HTTP_BAD_REQUEST, msg);
	}
	if (fn(c, s, n, &out) < 0)
		return server_unavailable(c);
	return server_reply(c, MHD_HTTP_OK, out);
}

static int events_of(struct MHD_Connection *c, struct store *s, unsigned n,
		     json_t **out)
{
	return store_events(s, arg(c, "type"), arg(c, "group"), arg(c, "since"),
			    n, out);
}

static enum MHD_Result events(struct MHD_Connection *c)
{
	return admin_counted(c, "limit", 200, 5000, events_of);
}

/* Whether a spreadsheet could run a cell as a formula: = + - @ first
 * (after any spaces or line breaks, which it skips), or a tab or CR. */
static bool csv_formula(const char *v)
{
	size_t ws = v ? strspn(v, " \t\r\n") : 0;

	return v && (v[0] == '\t' || v[0] == '\r' ||
		     (v[ws] && strchr("=+-@", v[ws])));
}

/* One CSV cell: quoted, quotes doubled, and a cell that could be a
 * formula neutralised with a leading apostrophe. */
static void csv_cell(FILE *f, const char *v, bool last)
{
	fputc('"', f);
	if (csv_formula(v))
		fputc('\'', f);
	for (; v && *v; v++) {
		if (*v == '"')
			fputc('"', f);
		fputc(*v, f);
	}
	fputs(last ? "\"\r\n" : "\",", f);
}

static enum MHD_Result devices_csv(struct MHD_Connection *c)
{
	static const char *const cols[] = { "id", "machine_id", "hostname",
					    "group", "serial", "model", "os",
					    "status", "last_seen", "failing" };
	enum MHD_Result ret;
	_cleanup_free_ char *text = NULL;
	size_t len = 0, i;
	json_t *out, *d;
	FILE *csv;

	out = devices_query(c, false, &ret);
	if (!out)
		return ret;
	csv = open_memstream(&text, &len);
	if (!csv)
		abort();
	for (size_t k = 0; k < ARRAY_SIZE(cols); k++)
		csv_cell(csv, cols[k], k + 1 == ARRAY_SIZE(cols));
	json_array_foreach(json_object_get(out, "devices"), i, d) {
		for (size_t k = 0; k < ARRAY_SIZE(cols); k++) {
			json_t *v = json_object_get(d, cols[k]);
			_cleanup_free_ char *cell = NULL;

			if (json_is_array(v)) {
				size_t j;
				json_t *x;

				cell = xstrdup("");
				json_array_foreach(v, j, x) {
					char *more = xasprintf("%s%s%s", cell,
							       j ? " " : "",
							       json_string_value(x));
					free(cell);
					cell = more;
				}
			} else if (json_is_integer(v)) {
				cell = xasprintf("%" JSON_INTEGER_FORMAT,
						 json_integer_value(v));
			} else if (json_is_string(v)) {
				cell = xstrdup(json_string_value(v));
			}
			csv_cell(csv, cell, k + 1 == ARRAY_SIZE(cols));
		}
	}
	fclose(csv);
	json_decref(out);
	ret = server_reply_text(c, MHD_HTTP_OK, "text/csv; charset=utf-8", text,
				len);
	return ret;
}

static enum MHD_Result events_csv(struct MHD_Connection *c)
{
	static const char *const cols[] = { "at", "type", "check", "action",
					    "device_id", "hostname", "group",
					    "details" };
	_cleanup_free_ char *text = NULL;
	enum MHD_Result ret;
	struct store *s;
	size_t len = 0, i;
	json_t *out, *row;
	FILE *csv;

	s = auth_admin(c, &ret);
	if (!s)
		return ret;
	if (store_events(s, arg(c, "type"), arg(c, "group"), arg(c, "since"),
			 100000, &out) < 0)
		return server_unavailable(c);
	csv = open_memstream(&text, &len);
	if (!csv)
		abort();
	for (size_t k = 0; k < ARRAY_SIZE(cols); k++)
		csv_cell(csv, cols[k], k + 1 == ARRAY_SIZE(cols));
	json_array_foreach(out, i, row) {
		json_t *ev = json_deep_copy(json_object_get(row, "event"));
		_cleanup_free_ char *id = xasprintf(
			"%" JSON_INTEGER_FORMAT,
			json_integer_value(json_object_get(row, "device_id")));
		_cleanup_free_ char *details = NULL;
		const char *v[ARRAY_SIZE(cols)];

		v[0] = json_string_value(json_object_get(ev, "at"));
		v[1] = json_string_value(json_object_get(ev, "type"));
		v[2] = json_string_value(json_object_get(ev, "check"));
		v[3] = json_string_value(json_object_get(ev, "action"));
		v[4] = id;
		v[5] = json_string_value(json_object_get(row, "hostname"));
		v[6] = json_string_value(json_object_get(row, "group"));
		/* The rest of the event as JSON: the USB device, the camera
		 * application, the session. */
		details = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
		v[7] = details;
		for (size_t k = 0; k < ARRAY_SIZE(cols); k++)
			csv_cell(csv, v[k], k + 1 == ARRAY_SIZE(cols));
		json_decref(ev);
	}
	fclose(csv);
	json_decref(out);
	return server_reply_text(c, MHD_HTTP_OK, "text/csv; charset=utf-8", text,
				 len);
}

/* GET /api/v1/history?days=&group=: the estate day by day. */
static int history_of(struct MHD_Connection *c, struct store *s, unsigned n,
		      json_t **out)
{
	return store_history(s, arg(c, "group"), n,
			     (int)server_config()->stale_hours, out);
}

static enum MHD_Result history(struct MHD_Connection *c)
{
	return admin_counted(c, "days", 30, 366, history_of);
}

/* GET /api/v1/findings?group=&limit=: the most common failing findings. */
static int findings_of(struct MHD_Connection *c, struct store *s, unsigned n,
		       json_t **out)
{
	return store_findings(s, arg(c, "group"), n, out);
}

static enum MHD_Result findings(struct MHD_Connection *c)
{
	return admin_counted(c, "limit", 10, 100, findings_of);
}

static enum MHD_Result groups(struct MHD_Connection *c)
{
	return listing(c, store_groups);
}

/* --- policies --- */

/* What staff are told of the collector's side (endpointctl privacy): how
 * long it keeps the history, and who can see it. One header of ASCII
 * JSON, sent with every answer to a device asking for its policy. */
static char *terms_header(struct store *s)
{
	const struct server_config *cfg = server_config();
	json_t *admins = NULL, *t;
	char *text;

	if (store_admins(s, &admins) < 0)
		admins = NULL;
	t = json_pack("{s:i, s:s, s:o}",
		      "retention_days", (json_int_t)cfg->retention_days,
		      "access", cfg->access,
		      "dashboard_accounts",
		      admins ? json_integer((json_int_t)json_array_size(admins))
			     : json_null());
	json_decref(admins);
	text = json_dumps(t, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(t);
	if (!text)
		abort();
	return text;
}

static enum MHD_Result policy_text(struct MHD_Connection *c, const char *body,
				   const char *sha, const char *terms)
{
	_cleanup_free_ char *etag = xasprintf("\"%s\"", sha);
	const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						      "If-None-Match");
	char sig[DEVKEY_SIG_B64 + 1];
	struct MHD_Response *r;
	enum MHD_Result ret;
	bool same = inm && strcmp(inm, etag) == 0;

	r = same ? MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT)
		 : MHD_create_response_from_buffer(strlen(body),
						   (void *)(uintptr_t)body,
						   MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "ETag", etag);
	MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	if (terms)
		MHD_add_response_header(r, "Endpointd-Terms", terms);
	/* Signed with the policy key the laptop pinned at enrolment, so the
	 * uploader that carries it cannot write one of its own. */
	if (!same && devkey_sign(policy_key, body, strlen(body), sig) == 0) {
		_cleanup_free_ char *h = xasprintf(SPOOL_SIG_PREFIX "%s", sig);

		MHD_add_response_header(r, SPOOL_SIG_HEADER, h);
	}
	ret = MHD_queue_response(c, same ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK,
				 r);
	MHD_destroy_response(r);
	return ret;
}

/* GET /api/v1/agent/policy: the policy of the device's group. */
static enum MHD_Result agent_policy(struct MHD_Connection *c)
{
	_cleanup_free_ char *machine_id = NULL, *group = NULL, *body = NULL,
			    *sha = NULL, *terms = NULL, *public_key = NULL;
	struct store *s = server_store();
	char hash[SECRET_HASH_LEN + 1];
	int64_t id;
	int r;

	if (!s)
		return server_unavailable(c);
	r = auth_device(c, s, false, &id, &machine_id, &public_key, hash);
	if (r == -EACCES)
		return server_error(c, MHD_HTTP_UNAUTHORIZED,
				    "unknown or revoked device token");
	if (r < 0 || store_device_group(s, id, &group) < 0)
		return server_unavailable(c);
	r = store_policy_get(s, group, &body, &sha);
	if (r < 0 && r != -ENOENT)
		return server_unavailable(c);
	terms = terms_header(s);
	if (r == -ENOENT) {
		const char *const h[] = { "Endpointd-Terms", terms, NULL };

		return server_reply_json(c, MHD_HTTP_NOT_FOUND, json_pack(
			"{s:s}", "error",
			"no policy is set for this device's group"), h);
	}
	return policy_text(c, body, sha, terms);
}

/* GET /api/v1/policy?group=: an admin reads a group's policy. */
static enum MHD_Result policy_get(struct MHD_Connection *c)
{
	_cleanup_free_ char *body = NULL, *sha = NULL;
	enum MHD_Result ret;
	struct store *s;
	const char *group = arg(c, "group");
	int r;

	s = auth_admin(c, &ret);
	if (!s)
		return ret;
	r = store_policy_get(s, group ? group : "", &body, &sha);
	if (r == -ENOENT)
		return server_error(c, MHD_HTTP_NOT_FOUND,
				    "no policy is set for that group");
	if (r < 0)
		return server_unavailable(c);
	return policy_text(c, body, sha, NULL);
}

/* PUT /api/v1/policy?group=: validated by the agent's own loader. */
static enum MHD_Result policy_put(struct MHD_Connection *c,
				  struct request *rq __attribute__((unused)),
				  const char *body, size_t len)
{
	_cleanup_free_ char *errors = NULL;
	enum MHD_Result ret;
	struct store *s;
	const char *group = arg(c, "group");
	struct policy *p = NULL;
	json_t *list;
	char *line, *save = NULL;

	s = auth_admin(c, &ret);
	if (!s)
		return ret;
	if (!group || !store_group_ok(group))
		return server_error(c, MHD_HTTP_BAD_REQUEST,
				    "group: the school the policy is for");
	if (policy_parse("policy.ini", body, len, &p, &errors) < 0) {
		list = json_array();
		for (line = strtok_r(errors, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			json_array_append_new(list, json_string_lossy(line));
		return server_reply(c, MHD_HTTP_BAD_REQUEST,
				    json_pack("{s:s, s:o}", "error",
					      "the policy has errors", "errors",
					      list));
	}
	if (store_policy_put(s, group, body, p->sha256) < 0) {
		policy_free(p);
		return server_unavailable(c);
	}
	list = json_pack("{s:s, s:s, s:o, s:o}", "group", group, "sha256",
			 p->sha256, "name", json_string_lossy(p->name),
			 "version", json_string_lossy(p->version));
	policy_free(p);
	return server_reply(c, MHD_HTTP_OK, list);
}

static enum MHD_Result listing(struct MHD_Connection *c,
			       int (*fn)(struct store *, json_t **))
{
	enum MHD_Result ret;
	struct store *s;
	json_t *out;

	s = auth_admin(c, &ret);
	if (!s)
		return ret;
	if (fn(s, &out) < 0)
		return server_unavailable(c);
	return server_reply(c, MHD_HTTP_OK, out);
}

static enum MHD_Result secrets(struct MHD_Connection *c)
{
	return listing(c, store_secrets);
}

static enum MHD_Result admins(struct MHD_Connection *c)
{
	return listing(c, store_admins);
}

static enum MHD_Result healthz(struct MHD_Connection *c)
{
	struct store *s = server_store();

	if (!s || !store_ping(s))
		return server_error(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				    "database unavailable");
	return server_reply(c, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"));
}

static enum MHD_Result metrics(struct MHD_Connection *c)
{
	_cleanup_free_ char *counters = metrics_text();
	_cleanup_free_ char *text = NULL;
	struct store *s = server_store();
	json_t *sum = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		abort();
	fputs(counters, f);
	/* The estate now, from the database every instance shares. */
	if (s && store_summary(s, (int)server_config()->stale_hours, &sum) == 0) {
		fprintf(f, "# HELP collectord_devices Enrolled devices, by "
			   "status.\n# TYPE collectord_devices gauge\n"
			   "collectord_devices{status=\"compliant\"} %" JSON_INTEGER_FORMAT
			   "\ncollectord_devices{status=\"failing\"} %" JSON_INTEGER_FORMAT
			   "\ncollectord_devices{status=\"stale\"} %" JSON_INTEGER_FORMAT
			   "\ncollectord_devices{status=\"all\"} %" JSON_INTEGER_FORMAT "\n",
			json_integer_value(json_object_get(sum, "compliant")),
			json_integer_value(json_object_get(sum, "failing")),
			json_integer_value(json_object_get(sum, "stale")),
			json_integer_value(json_object_get(sum, "devices")));
		json_decref(sum);
	}
	fclose(f);
	return server_reply_text(c, MHD_HTTP_OK,
				 "text/plain; version=0.0.4", text, len);
}

enum MHD_Result api_dispatch(struct MHD_Connection *c, struct request *rq,
			     const char *url, const char *method,
			     const char *body, size_t len)
{
	static const struct {
		const char *method, *path;
		enum { H_BODY, H_PLAIN } kind;
		union {
			enum MHD_Result (*body_fn)(struct MHD_Connection *,
						   struct request *,
						   const char *, size_t);
			enum MHD_Result (*plain_fn)(struct MHD_Connection *);
		};
	} routes[] = {
		{ "POST", "/api/v1/enrol", H_BODY, { .body_fn = enrol } },
		{ "POST", "/api/v1/reports", H_BODY, { .body_fn = reports } },
		{ "GET", "/api/v1/summary", H_PLAIN, { .plain_fn = summary } },
		{ "GET", "/api/v1/devices", H_PLAIN, { .plain_fn = devices } },
		{ "GET", "/api/v1/devices.csv", H_PLAIN,
		  { .plain_fn = devices_csv } },
		{ "GET", "/api/v1/events", H_PLAIN, { .plain_fn = events } },
		{ "GET", "/api/v1/events.csv", H_PLAIN,
		  { .plain_fn = events_csv } },
		{ "GET", "/api/v1/history", H_PLAIN, { .plain_fn = history } },
		{ "GET", "/api/v1/findings", H_PLAIN, { .plain_fn = findings } },
		{ "GET", "/api/v1/groups", H_PLAIN, { .plain_fn = groups } },
		{ "POST", "/api/v1/session", H_BODY, { .body_fn = auth_signin } },
		{ "GET", "/api/v1/session", H_PLAIN, { .plain_fn = auth_session_get } },
		{ "DELETE", "/api/v1/session", H_PLAIN, { .plain_fn = auth_signout } },
		{ "GET", "/api/v1/agent/policy", H_PLAIN,
		  { .plain_fn = agent_policy } },
		{ "GET", "/api/v1/policy", H_PLAIN, { .plain_fn = policy_get } },
		{ "GET", "/api/v1/enrol-secrets", H_PLAIN, { .plain_fn = secrets } },
		{ "GET", "/api/v1/admins", H_PLAIN, { .plain_fn = admins } },
		{ "PUT", "/api/v1/policy", H_BODY, { .body_fn = policy_put } },
		{ "GET", "/healthz", H_PLAIN, { .plain_fn = healthz } },
		{ "GET", "/metrics", H_PLAIN, { .plain_fn = metrics } },
	};
	struct committer_job *job = server_kept(rq);
	bool path_known = false;

	/* A report back from the committer: on disk, or not. */
	if (job)
		return reply_put(c, committer_result(job));
	auth_begin(method);
	if ((strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) &&
	    web_serves(url))
		return web_answer(c, url);
	if (strncmp(url, "/api/v1/devices/", 16) == 0 && url[16])
		return strcmp(method, "GET") == 0
			       ? device(c, url + 16)
			       : server_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
					      "method not allowed");

	for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
		if (strcmp(url, routes[i].path) != 0)
			continue;
		path_known = true;
		if (strcmp(method, routes[i].method) != 0)
			continue;
		return routes[i].kind == H_BODY
			       ? routes[i].body_fn(c, rq, body, len)
			       : routes[i].plain_fn(c);
	}
	return server_error(c, path_known ? MHD_HTTP_METHOD_NOT_ALLOWED
					  : MHD_HTTP_NOT_FOUND,
			    path_known ? "method not allowed" : "not found");
}

int api_init(const char *policy_pem)
{
	if (devkey_from_pem(policy_pem, &policy_key) < 0)
		return -EINVAL;
	devkey_public(policy_key, policy_public);
	answer_stored = answer_new("{\"stored\":true}");
	answer_duplicate = answer_new("{\"stored\":false}");
	return 0;
}

void api_exit(void)
{
	devkey_free(policy_key);
	policy_key = NULL;
	MHD_destroy_response(answer_stored);
	MHD_destroy_response(answer_duplicate);
	answer_stored = answer_duplicate = NULL;
}
