/*
 * api: the handlers. Every string a device sends is data: validated for
 * type and length, stored as is, never interpreted.
 */
#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api.h"
#include "check.h"
#include "log.h"
#include "policy.h"
#include "reportcheck.h"
#include "secret.h"
#include "server.h"
#include "util.h"

static bool is_json(struct MHD_Connection *c)
{
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     "Content-Type");

	return ct && strncasecmp(ct, "application/json", 16) == 0 &&
	       (ct[16] == '\0' || ct[16] == ';');
}

static json_t *parse(const char *body, size_t len, char err[static 256])
{
	json_error_t je;
	json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);

	if (!v)
		snprintf(err, 256, "not valid JSON: %s (at byte %d)", je.text,
			 je.position);
	return v;
}

static enum MHD_Result unavailable(struct MHD_Connection *c)
{
	server_count(M_REJECT_STORAGE);
	return server_error(c, MHD_HTTP_SERVICE_UNAVAILABLE,
			    "storage unavailable; try again later");
}

/* --- POST /api/v1/enrol --- */

static enum MHD_Result enrol(struct MHD_Connection *c,
			     struct request *rq __attribute__((unused)),
			     const char *body, size_t len)
{
	_cleanup_free_ char *group = NULL, *token = NULL;
	char err[256], hash[SECRET_HASH_LEN + 1], secret[SECRET_HEX_LEN + 1];
	struct store *s = server_store();
	const char *given, *enrol_secret, *problem;
	json_t *req, *device;
	int64_t id;
	int r;

	if (!is_json(c))
		return server_error(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
				    "send application/json");
	req = parse(body, len, err);
	if (!req)
		return server_error(c, MHD_HTTP_BAD_REQUEST, err);
	enrol_secret = json_string_value(json_object_get(req, "enrol_secret"));
	given = json_string_value(json_object_get(req, "group"));
	device = json_object_get(req, "device");
	problem = reportcheck_device(device, err);
	if (!enrol_secret || strlen(enrol_secret) > 256)
		problem = "enrol_secret: must be a string";
	else if (given && !store_group_ok(given))
		problem = "group: 1 to 64 letters, digits, spaces or ._-'";
	if (problem) {
		json_decref(req);
		server_count(M_ENROL_REFUSED);
		return server_error(c, MHD_HTTP_BAD_REQUEST, problem);
	}
	if (!s) {
		json_decref(req);
		return unavailable(c);
	}
	secret_hash(enrol_secret, hash);
	r = store_secret_group(s, hash, &group);
	if (r == 0 && !*group && given) {
		free(group);
		group = xstrdup(given);
	}
	if (r == 0 && !*group) {
		json_decref(req);
		server_count(M_ENROL_REFUSED);
		return server_error(c, MHD_HTTP_BAD_REQUEST,
				    "group: this enrolment secret has no group; "
				    "name the school");
	}
	if (r == -ENOENT || (r == 0 && given && strcmp(given, group) != 0)) {
		json_decref(req);
		server_count(M_ENROL_REFUSED);
		return server_error(c, r == -ENOENT ? MHD_HTTP_UNAUTHORIZED
						    : MHD_HTTP_FORBIDDEN,
				    r == -ENOENT ? "unknown or revoked enrolment "
						   "secret"
						 : "this enrolment secret is for "
						   "another group");
	}
	if (r < 0 || secret_new(secret) < 0) {
		json_decref(req);
		return unavailable(c);
	}
	secret_hash(secret, hash);
	r = store_device_enrol(s, device, group, hash, &id);
	json_decref(req);
	if (r < 0)
		return unavailable(c);
	server_count(M_ENROLLED);
	token = xasprintf("%" PRId64 ".%s", id, secret);
	explicit_bzero(secret, sizeof(secret));
	return server_reply(c, MHD_HTTP_CREATED,
			    json_pack("{s:I, s:s, s:s}", "device_id",
				      (json_int_t)id, "token", token, "group",
				      group));
}

/* --- POST /api/v1/reports --- */

/* "Bearer ID.SECRET": the device id, once the secret matches. */
static int device_of(struct MHD_Connection *c, struct store *s, int64_t *id,
		     char **machine_id)
{
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						       "Authorization");
	_cleanup_free_ char *stored = NULL;
	const char *dot;
	char *end;
	int r;

	if (!auth || strncmp(auth, "Bearer ", 7) != 0)
		return -EACCES;
	auth += 7;
	*id = strtoll(auth, &end, 10);
	dot = end;
	if (end == auth || *dot != '.' || *id <= 0 ||
	    strlen(dot + 1) != SECRET_HEX_LEN)
		return -EACCES;
	r = store_device_auth(s, *id, &stored, machine_id);
	if (r == -ENOENT)
		return -EACCES;
	if (r < 0)
		return r;
	if (!secret_matches(dot + 1, stored)) {
		free(*machine_id);
		*machine_id = NULL;
		return -EACCES;
	}
	return 0;
}

static enum MHD_Result reports(struct MHD_Connection *c, struct request *rq,
			       const char *body, size_t len)
{
	_cleanup_free_ char *machine_id = NULL;
	struct store *s = server_store();
	char err[256];
	const char *problem, *mid;
	json_t *report;
	int64_t id;
	int r;

	if (!s)
		return unavailable(c);
	r = device_of(c, s, &id, &machine_id);
	if (r == -EACCES) {
		server_count(M_REJECT_UNAUTHORIZED);
		return server_error(c, MHD_HTTP_UNAUTHORIZED,
				    "unknown or revoked device token");
	}
	if (r < 0)
		return unavailable(c);
	if (!is_json(c)) {
		server_count(M_REJECT_MEDIA_TYPE);
		return server_error(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
				    "send application/json");
	}
	report = parse(body, len, err);
	problem = report ? reportcheck(report, err) : err;
	if (problem) {
		json_decref(report);
		server_count(M_REJECT_INVALID);
		return server_error(c, MHD_HTTP_BAD_REQUEST, problem);
	}
	mid = json_string_value(json_object_get(json_object_get(report,
								"device"),
						"machine_id"));
	if (strcmp(mid, machine_id) != 0) {
		json_decref(report);
		server_count(M_REJECT_FORBIDDEN);
		return server_error(c, MHD_HTTP_FORBIDDEN,
				    "the report names another device than "
				    "its token");
	}
	(void)len;
	return server_commit(c, rq, id, report);
}

/* --- admin --- */

/* yescrypt costs ~30 ms by design; a dashboard or script asking several
 * times a minute pays it once a minute. An entry holds the admin's name,
 * the password hash stored when it was verified (a new password changes
 * it, so the entry stops matching at once) and the SHA-256 of the
 * password, compared in constant time. */
#define AUTH_CACHED 32
#define AUTH_TTL_S 60

struct auth_entry {
	char *name, *stored;
	char pw[SECRET_HASH_LEN + 1];
	time_t until;
};

static struct auth_entry auth_cache[AUTH_CACHED];
static unsigned auth_next;
static pthread_mutex_t auth_lock = PTHREAD_MUTEX_INITIALIZER;

static bool auth_cached(const char *user, const char *stored, const char *pw)
{
	time_t now = time(NULL);
	bool ok = false;

	pthread_mutex_lock(&auth_lock);
	for (unsigned i = 0; i < AUTH_CACHED && !ok; i++) {
		const struct auth_entry *e = &auth_cache[i];

		ok = e->name && e->until > now && strcmp(e->name, user) == 0 &&
		     strcmp(e->stored, stored) == 0 &&
		     CRYPTO_memcmp(e->pw, pw, SECRET_HASH_LEN) == 0;
	}
	pthread_mutex_unlock(&auth_lock);
	return ok;
}

static void auth_remember(const char *user, const char *stored, const char *pw)
{
	struct auth_entry *e;

	pthread_mutex_lock(&auth_lock);
	e = &auth_cache[auth_next];
	auth_next = (auth_next + 1) % AUTH_CACHED;
	free(e->name);
	free(e->stored);
	e->name = xstrdup(user);
	e->stored = xstrdup(stored);
	memcpy(e->pw, pw, sizeof(e->pw));
	e->until = time(NULL) + AUTH_TTL_S;
	pthread_mutex_unlock(&auth_lock);
}

void api_exit(void)
{
	for (unsigned i = 0; i < AUTH_CACHED; i++) {
		free(auth_cache[i].name);
		free(auth_cache[i].stored);
		explicit_bzero(&auth_cache[i], sizeof(auth_cache[i]));
	}
}

static bool admin(struct MHD_Connection *c, struct store *s)
{
	char *pass = NULL, *user = MHD_basic_auth_get_username_password(c, &pass);
	_cleanup_free_ char *stored = NULL;
	char pw[SECRET_HASH_LEN + 1];
	bool ok = false;

	if (user && pass && store_admin_get(s, user, &stored) == 0) {
		secret_hash(pass, pw);
		ok = auth_cached(user, stored, pw);
		if (!ok && password_matches(pass, stored)) {
			ok = true;
			auth_remember(user, stored, pw);
		}
		explicit_bzero(pw, sizeof(pw));
	}
	if (pass)
		explicit_bzero(pass, strlen(pass));
	MHD_free(user);
	MHD_free(pass);
	return ok;
}

static enum MHD_Result refuse_admin(struct MHD_Connection *c)
{
	static const char msg[] = "{\"error\":\"sign in as an administrator\"}";
	struct MHD_Response *r = MHD_create_response_from_buffer(
		sizeof(msg) - 1, (void *)(uintptr_t)msg, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_basic_auth_fail_response(c, "collectord", r);
	MHD_destroy_response(r);
	return ret;
}

/* This thread's database connection, once the request is from an
 * admin; NULL with the refusal (or 503) already queued in *ret. */
static struct store *as_admin(struct MHD_Connection *c, enum MHD_Result *ret)
{
	struct store *s = server_store();

	if (!s) {
		*ret = unavailable(c);
		return NULL;
	}
	if (!admin(c, s)) {
		*ret = refuse_admin(c);
		return NULL;
	}
	return s;
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

/* A query argument, or NULL; over 256 bytes is refused as absent. */
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

	s = as_admin(c, ret);
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
		*ret = unavailable(c);
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

	s = as_admin(c, &ret);
	if (!s)
		return ret;
	if (*end || id <= 0)
		return server_error(c, MHD_HTTP_NOT_FOUND, "no such device");
	r = store_device(s, id, (int)server_config()->stale_hours, &out);
	if (r == -ENOENT)
		return server_error(c, MHD_HTTP_NOT_FOUND, "no such device");
	if (r < 0)
		return unavailable(c);
	return server_reply(c, MHD_HTTP_OK, out);
}

static enum MHD_Result events(struct MHD_Connection *c)
{
	enum MHD_Result ret;
	struct store *s;
	unsigned limit;
	json_t *out;

	s = as_admin(c, &ret);
	if (!s)
		return ret;
	if (!arg_uint(c, "limit", 200, 1, 5000, &limit))
		return server_error(c, MHD_HTTP_BAD_REQUEST,
				    "limit from 1 to 5000");
	if (store_events(s, arg(c, "type"), arg(c, "group"), arg(c, "since"),
			 limit, &out) < 0)
		return unavailable(c);
	return server_reply(c, MHD_HTTP_OK, out);
}

/* One CSV cell: quoted, quotes doubled, and a leading character a
 * spreadsheet would run as a formula neutralised with an apostrophe. */
static void csv_cell(FILE *f, const char *v, bool last)
{
	fputc('"', f);
	if (v && strchr("=+-@\t\r", v[0]) && v[0])
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

/* --- policies --- */

static enum MHD_Result policy_text(struct MHD_Connection *c, const char *body,
				   const char *sha)
{
	_cleanup_free_ char *etag = xasprintf("\"%s\"", sha);
	const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						      "If-None-Match");
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
	ret = MHD_queue_response(c, same ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK,
				 r);
	MHD_destroy_response(r);
	return ret;
}

/* GET /api/v1/agent/policy: the policy of the device's group. */
static enum MHD_Result agent_policy(struct MHD_Connection *c)
{
	_cleanup_free_ char *machine_id = NULL, *group = NULL, *body = NULL,
			    *sha = NULL;
	struct store *s = server_store();
	int64_t id;
	int r;

	if (!s)
		return unavailable(c);
	r = device_of(c, s, &id, &machine_id);
	if (r == -EACCES)
		return server_error(c, MHD_HTTP_UNAUTHORIZED,
				    "unknown or revoked device token");
	if (r < 0 || store_device_group(s, id, &group) < 0)
		return unavailable(c);
	r = store_policy_get(s, group, &body, &sha);
	if (r == -ENOENT)
		return server_error(c, MHD_HTTP_NOT_FOUND,
				    "no policy is set for this device's group");
	if (r < 0)
		return unavailable(c);
	return policy_text(c, body, sha);
}

/* GET /api/v1/policy?group=: an admin reads a group's policy. */
static enum MHD_Result policy_get(struct MHD_Connection *c)
{
	_cleanup_free_ char *body = NULL, *sha = NULL;
	enum MHD_Result ret;
	struct store *s;
	const char *group = arg(c, "group");
	int r;

	s = as_admin(c, &ret);
	if (!s)
		return ret;
	r = store_policy_get(s, group ? group : "", &body, &sha);
	if (r == -ENOENT)
		return server_error(c, MHD_HTTP_NOT_FOUND,
				    "no policy is set for that group");
	if (r < 0)
		return unavailable(c);
	return policy_text(c, body, sha);
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

	s = as_admin(c, &ret);
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
		return unavailable(c);
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

	s = as_admin(c, &ret);
	if (!s)
		return ret;
	if (fn(s, &out) < 0)
		return unavailable(c);
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
	_cleanup_free_ char *counters = server_metrics_text();
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
		{ "GET", "/api/v1/agent/policy", H_PLAIN,
		  { .plain_fn = agent_policy } },
		{ "GET", "/api/v1/policy", H_PLAIN, { .plain_fn = policy_get } },
		{ "GET", "/api/v1/enrol-secrets", H_PLAIN, { .plain_fn = secrets } },
		{ "GET", "/api/v1/admins", H_PLAIN, { .plain_fn = admins } },
		{ "PUT", "/api/v1/policy", H_BODY, { .body_fn = policy_put } },
		{ "GET", "/healthz", H_PLAIN, { .plain_fn = healthz } },
		{ "GET", "/metrics", H_PLAIN, { .plain_fn = metrics } },
	};
	bool path_known = false;

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
