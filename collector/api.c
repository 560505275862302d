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
#include <arpa/inet.h>

#include "api.h"
#include "jarena.h"
#include "jsonin.h"
#include "log.h"
#include "policy.h"
#include "reportcheck.h"
#include "secret.h"
#include "server.h"
#include "utf8.h"
#include "util.h"
#include "web.h"

static bool is_json(struct MHD_Connection *c)
{
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     "Content-Type");

	return ct && strncasecmp(ct, "application/json", 16) == 0 &&
	       (ct[16] == '\0' || ct[16] == ';');
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
	req = jsonin_parse(body, len, err);
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

/* Device tokens this process verified lately: a device's id, its token's
 * hash and its machine id (which an id keeps for life). A hit spares
 * each report a database read before it is parsed; it is not the
 * authority: the committer compares the hash with the device's row in
 * the transaction that stores the report, so a token rotated by
 * re-enrolment or a device removed, by any instance, is refused from
 * then on. One slot per id modulo the size; a miss reads the database. */
#define TOKENS_CACHED 16384

struct token_entry {
	int64_t id;
	char hash[SECRET_HASH_LEN + 1];
	char *machine_id;
};

static struct token_entry token_cache[TOKENS_CACHED];
static pthread_mutex_t token_lock = PTHREAD_MUTEX_INITIALIZER;

static bool token_cached(int64_t id, const char *hash, char **machine_id)
{
	struct token_entry *e = &token_cache[(uint64_t)id % TOKENS_CACHED];
	bool hit;

	pthread_mutex_lock(&token_lock);
	hit = e->id == id && secret_hash_equal(e->hash, hash);
	if (hit)
		*machine_id = xstrdup(e->machine_id);
	pthread_mutex_unlock(&token_lock);
	return hit;
}

static void token_remember(int64_t id, const char *hash,
			   const char *machine_id)
{
	struct token_entry *e = &token_cache[(uint64_t)id % TOKENS_CACHED];

	pthread_mutex_lock(&token_lock);
	free(e->machine_id);
	e->id = id;
	memcpy(e->hash, hash, sizeof(e->hash));
	e->machine_id = xstrdup(machine_id);
	pthread_mutex_unlock(&token_lock);
}

/* The device a request's bearer token ("Bearer ID.SECRET") belongs to:
 * its id, machine id and the token's hash. With cached, a token verified
 * here lately is taken without reading the database: only for reports,
 * whose token the committer checks again; anything else reads the
 * device's row. */
static int device_of(struct MHD_Connection *c, struct store *s, bool cached,
		     int64_t *id, char **machine_id,
		     char hash[static SECRET_HASH_LEN + 1])
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
	secret_hash(dot + 1, hash);
	if (cached && token_cached(*id, hash, machine_id))
		return 0;
	r = store_device_auth(s, *id, &stored, machine_id);
	if (r == -ENOENT)
		return -EACCES;
	if (r < 0)
		return r;
	if (!secret_hash_equal(hash, stored)) {
		free(*machine_id);
		*machine_id = NULL;
		return -EACCES;
	}
	token_remember(*id, hash, *machine_id);
	return 0;
}

static enum MHD_Result reports(struct MHD_Connection *c, struct request *rq,
			       const char *body, size_t len)
{
	_cleanup_free_ char *machine_id = NULL;
	struct store *s = server_store();
	char err[256], hash[SECRET_HASH_LEN + 1];
	const char *problem, *mid;
	json_t *report;
	int64_t id;
	int r;

	if (!s)
		return unavailable(c);
	r = device_of(c, s, true, &id, &machine_id, hash);
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
	/* The report is only read from here on: its values are let go of
	 * together when the request ends. */
	jarena_open(server_arena(rq));
	report = jsonin_parse(body, len, err);
	problem = report ? reportcheck(report, err) : err;
	jarena_close();
	if (problem) {
		server_count(M_REJECT_INVALID);
		return server_error(c, MHD_HTTP_BAD_REQUEST, problem);
	}
	mid = json_string_value(json_object_get(json_object_get(report,
								"device"),
						"machine_id"));
	if (strcmp(mid, machine_id) != 0) {
		server_count(M_REJECT_FORBIDDEN);
		return server_error(c, MHD_HTTP_FORBIDDEN,
				    "the report names another device than "
				    "its token");
	}
	return server_commit(c, rq, id, hash, report);
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
	for (unsigned i = 0; i < TOKENS_CACHED; i++) {
		free(token_cache[i].machine_id);
		token_cache[i].machine_id = NULL;
	}
	for (unsigned i = 0; i < AUTH_CACHED; i++) {
		free(auth_cache[i].name);
		free(auth_cache[i].stored);
		explicit_bzero(&auth_cache[i], sizeof(auth_cache[i]));
	}
}

/* --- the dashboard's sessions --- */

#define SESSION_COOKIE "collectord_session"
#define SESSION_LIFETIME_S (12 * 3600)
/* Failed sign-ins in the window that stop more tries: for one name from
 * one address (a hard limit per name alone would let anyone lock the
 * admins out), and from one address for any names. */
#define SIGNIN_WINDOW_S (15 * 60)
#define SIGNIN_MAX_PER_NAME 5
#define SIGNIN_MAX_PER_ADDRESS 30

/* The method of the request this thread handles (for the CSRF rule). */
static __thread const char *current_method;

static bool is_change(void)
{
	return current_method && strcmp(current_method, "GET") != 0 &&
	       strcmp(current_method, "HEAD") != 0;
}

/* The hash of the session cookie the request carries, or false. */
static bool session_hash(struct MHD_Connection *c,
			 char out[static SECRET_HASH_LEN + 1])
{
	const char *v = MHD_lookup_connection_value(c, MHD_COOKIE_KIND,
						    SESSION_COOKIE);

	if (!v || strlen(v) != SECRET_HEX_LEN ||
	    strspn(v, "0123456789abcdef") != SECRET_HEX_LEN)
		return false;
	secret_hash(v, out);
	return true;
}

/* The signed-in admin of the session cookie (caller frees), and the
 * session's CSRF token; -ENOENT without a live session. */
static int session_of(struct MHD_Connection *c, struct store *s, char **name,
		      char **csrf)
{
	char hash[SECRET_HASH_LEN + 1];

	if (!session_hash(c, hash))
		return -ENOENT;
	return store_session_get(s, hash, name, csrf);
}

/* A change made with a session must carry the session's CSRF token in
 * X-CSRF-Token: another site can make a browser send the cookie (were
 * SameSite ever missing), never this header. */
static bool csrf_ok(struct MHD_Connection *c, const char *csrf)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    "X-CSRF-Token");

	return v && strlen(v) == strlen(csrf) &&
	       CRYPTO_memcmp(v, csrf, strlen(csrf)) == 0;
}

/* The client's address, for the sign-in limits. Behind a proxy on this
 * host (the peer is loopback), the address the proxy names last in
 * X-Forwarded-For, when it is one. */
static void client_address(struct MHD_Connection *c, char out[static 64])
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	const char *xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						      "X-Forwarded-For");
	unsigned char bin[16];

	strcpy(out, "unknown");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)
					   ->sin_addr, out, 64);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)(const void *)sa)
				   ->sin6_addr, out, 64);
	if (xff && (strcmp(out, "127.0.0.1") == 0 || strcmp(out, "::1") == 0)) {
		const char *last = strrchr(xff, ',');
		char cand[64];

		last = last ? last + 1 : xff;
		last += strspn(last, " \t");
		snprintf(cand, sizeof(cand), "%.*s", (int)strcspn(last, " \t"),
			 last);
		if (inet_pton(AF_INET, cand, bin) == 1 ||
		    inet_pton(AF_INET6, cand, bin) == 1)
			strcpy(out, cand);
	}
}

/* A yescrypt hash of a password nobody has: an unknown name costs as
 * much as a wrong password, so timing does not tell names apart. */
static char *decoy;
static pthread_once_t decoy_once = PTHREAD_ONCE_INIT;

static void make_decoy(void)
{
	char pw[SECRET_HEX_LEN + 1];

	if (secret_new(pw) == 0)
		decoy = password_hash(pw);
	explicit_bzero(pw, sizeof(pw));
}

static const char *decoy_hash(void)
{
	pthread_once(&decoy_once, make_decoy);
	/* "*" is no hash: nothing matches it. */
	return decoy ? decoy : "*";
}

enum { PW_OK, PW_WRONG, PW_LIMITED, PW_DB_DOWN };

/* An admin's password, checked with limits kept in the database (so
 * that every instance sees them): after SIGNIN_MAX_PER_NAME failures for
 * a name from one address, or SIGNIN_MAX_PER_ADDRESS from one address,
 * within SIGNIN_WINDOW_S, no more tries. The attempt is recorded before
 * the (slow) check, so parallel guesses count too. A Basic sign-in seen
 * in the last minute is answered from memory. */
static int password_check(struct MHD_Connection *c, struct store *s,
			  const char *name, const char *password,
			  bool remember)
{
	_cleanup_free_ char *stored = NULL, *pair = NULL, *by_addr = NULL;
	char addr[64], pw[SECRET_HASH_LEN + 1];
	time_t since = time(NULL) - SIGNIN_WINDOW_S;
	int r = store_admin_get(s, name, &stored), n, m;
	bool ok;

	if (r < 0 && r != -ENOENT)
		return PW_DB_DOWN;
	secret_hash(password, pw);
	if (r == 0 && remember && auth_cached(name, stored, pw)) {
		explicit_bzero(pw, sizeof(pw));
		return PW_OK;
	}
	client_address(c, addr);
	pair = xasprintf("name:%s@%s", name, addr);
	by_addr = xasprintf("ip:%s", addr);
	if (store_signin_failed(s, pair) < 0 ||
	    (n = store_signin_failures(s, pair, since)) < 0 ||
	    (m = store_signin_failures(s, by_addr, since)) < 0) {
		explicit_bzero(pw, sizeof(pw));
		return PW_DB_DOWN;
	}
	if (n > SIGNIN_MAX_PER_NAME || m >= SIGNIN_MAX_PER_ADDRESS) {
		explicit_bzero(pw, sizeof(pw));
		log_warnx("sign-in refused for a while: too many failures from "
			  "%s", addr);
		return PW_LIMITED;
	}
	ok = password_matches(password, r == 0 ? stored : decoy_hash()) &&
	     r == 0;
	if (ok && remember)
		auth_remember(name, stored, pw);
	explicit_bzero(pw, sizeof(pw));
	if (ok ? store_signin_clear(s, pair) < 0
	       : store_signin_failed(s, by_addr) < 0)
		return PW_DB_DOWN;
	return ok ? PW_OK : PW_WRONG;
}

static int basic_admin(struct MHD_Connection *c, struct store *s)
{
	char *pass = NULL, *user = MHD_basic_auth_get_username_password(c, &pass);
	int r = PW_WRONG;

	if (user && pass && *user && strlen(user) <= 64 && strlen(pass) <= 1024)
		r = password_check(c, s, user, pass, true);
	if (pass)
		explicit_bzero(pass, strlen(pass));
	MHD_free(user);
	MHD_free(pass);
	return r;
}

enum { ADMIN_NO, ADMIN_YES, ADMIN_NO_CSRF, ADMIN_DB_DOWN, ADMIN_LIMITED };

static int admin(struct MHD_Connection *c, struct store *s)
{
	_cleanup_free_ char *name = NULL, *csrf = NULL;
	int r = session_of(c, s, &name, &csrf);

	if (r == 0)
		return is_change() && !csrf_ok(c, csrf) ? ADMIN_NO_CSRF
							 : ADMIN_YES;
	if (r != -ENOENT)
		return ADMIN_DB_DOWN;
	switch (basic_admin(c, s)) {
	case PW_OK:
		return ADMIN_YES;
	case PW_LIMITED:
		return ADMIN_LIMITED;
	case PW_DB_DOWN:
		return ADMIN_DB_DOWN;
	default:
		return ADMIN_NO;
	}
}

static enum MHD_Result too_many(struct MHD_Connection *c)
{
	static const char *const h[] = { "Retry-After", "900", NULL };

	return server_reply_json(c, MHD_HTTP_TOO_MANY_REQUESTS,
				 json_pack("{s:s}", "error",
					   "Too many failed sign-ins. Wait 15 "
					   "minutes and try again."), h);
}

static enum MHD_Result refuse_admin(struct MHD_Connection *c)
{
	static const char msg[] = "{\"error\":\"sign in as an administrator\"}";
	struct MHD_Response *r;
	enum MHD_Result ret;

	/* The dashboard's own requests get a plain 401: a Basic challenge
	 * would make the browser put up its own password box. */
	if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Dashboard"))
		return server_error(c, MHD_HTTP_UNAUTHORIZED,
				    "sign in as an administrator");
	r = MHD_create_response_from_buffer(sizeof(msg) - 1,
					    (void *)(uintptr_t)msg,
					    MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json");
	server_secure_headers(r);
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
	switch (admin(c, s)) {
	case ADMIN_YES:
		return s;
	case ADMIN_NO_CSRF:
		*ret = server_error(c, MHD_HTTP_FORBIDDEN,
				    "missing or wrong X-CSRF-Token: reload the "
				    "page and try again");
		return NULL;
	case ADMIN_DB_DOWN:
		*ret = unavailable(c);
		return NULL;
	case ADMIN_LIMITED:
		*ret = too_many(c);
		return NULL;
	default:
		*ret = refuse_admin(c);
		return NULL;
	}
}

/* Whether the browser reached us over HTTPS (directly, or through a TLS
 * proxy that says so): the cookie is then Secure. */
static bool over_tls(struct MHD_Connection *c)
{
	const char *p = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    "X-Forwarded-Proto");

	return server_config()->tls_cert || (p && strcasecmp(p, "https") == 0);
}

static char *session_cookie(struct MHD_Connection *c, const char *value,
			    long max_age)
{
	return xasprintf(SESSION_COOKIE "=%s; Path=/; Max-Age=%ld; HttpOnly;"
			 " SameSite=Strict%s", value, max_age,
			 over_tls(c) ? "; Secure" : "");
}

/* POST /api/v1/session {"name", "password"}: sign in. */
static enum MHD_Result signin(struct MHD_Connection *c,
			      struct request *rq __attribute__((unused)),
			      const char *body, size_t len)
{
	_cleanup_free_ char *name = NULL, *cookie = NULL;
	char err[256], sid[SECRET_HEX_LEN + 1], hash[SECRET_HASH_LEN + 1],
		csrf[SECRET_HEX_LEN + 1];
	struct store *s = server_store();
	const char *password;
	json_t *req;
	int r;

	if (!is_json(c))
		return server_error(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
				    "send application/json");
	req = jsonin_parse(body, len, err);
	if (!req)
		return server_error(c, MHD_HTTP_BAD_REQUEST, err);
	name = json_is_string(json_object_get(req, "name"))
		       ? xstrdup(json_string_value(json_object_get(req, "name")))
		       : NULL;
	password = json_string_value(json_object_get(req, "password"));
	if (!name || !*name || strlen(name) > 64 || !password ||
	    strlen(password) > 1024) {
		json_decref(req);
		return server_error(c, MHD_HTTP_BAD_REQUEST,
				    "name and password: strings");
	}
	r = s ? password_check(c, s, name, password, false) : PW_DB_DOWN;
	json_decref(req);
	if (r == PW_LIMITED)
		return too_many(c);
	if (r == PW_WRONG)
		return server_error(c, MHD_HTTP_UNAUTHORIZED,
				    "Wrong name or password.");
	if (r != PW_OK || secret_new(sid) < 0 || secret_new(csrf) < 0)
		return unavailable(c);
	secret_hash(sid, hash);
	if (store_session_new(s, hash, name, csrf, SESSION_LIFETIME_S) < 0) {
		explicit_bzero(sid, sizeof(sid));
		return unavailable(c);
	}
	cookie = session_cookie(c, sid, SESSION_LIFETIME_S);
	explicit_bzero(sid, sizeof(sid));
	{
		const char *const h[] = { "Set-Cookie", cookie, NULL };

		return server_reply_json(c, MHD_HTTP_OK,
					 json_pack("{s:s, s:s}", "name", name,
						   "csrf", csrf), h);
	}
}

/* The request's live session: its admin and CSRF token (caller frees
 * both), and this thread's database in *s; false with the answer (401,
 * or 503) queued in *ret. */
static bool need_session(struct MHD_Connection *c, struct store **s,
			 char **name, char **csrf, enum MHD_Result *ret)
{
	int r;

	*s = server_store();
	if (!*s) {
		*ret = unavailable(c);
		return false;
	}
	r = session_of(c, *s, name, csrf);
	if (r == 0)
		return true;
	*ret = r == -ENOENT ? server_error(c, MHD_HTTP_UNAUTHORIZED,
					   "not signed in")
			    : unavailable(c);
	return false;
}

/* GET /api/v1/session: who is signed in, and the CSRF token. */
static enum MHD_Result session_get(struct MHD_Connection *c)
{
	_cleanup_free_ char *name = NULL, *csrf = NULL;
	enum MHD_Result ret;
	struct store *s;

	if (!need_session(c, &s, &name, &csrf, &ret))
		return ret;
	return server_reply(c, MHD_HTTP_OK,
			    json_pack("{s:s, s:s}", "name", name, "csrf", csrf));
}

/* DELETE /api/v1/session: sign out (with the CSRF token). */
static enum MHD_Result signout(struct MHD_Connection *c)
{
	_cleanup_free_ char *name = NULL, *csrf = NULL, *cookie = NULL;
	char hash[SECRET_HASH_LEN + 1];
	enum MHD_Result ret;
	struct store *s;

	if (!need_session(c, &s, &name, &csrf, &ret))
		return ret;
	if (!csrf_ok(c, csrf))
		return server_error(c, MHD_HTTP_FORBIDDEN,
				    "missing or wrong X-CSRF-Token");
	session_hash(c, hash);
	if (store_session_end(s, hash) < 0)
		return unavailable(c);
	cookie = session_cookie(c, "", 0);
	{
		const char *const h[] = { "Set-Cookie", cookie, NULL };

		return server_reply_json(c, MHD_HTTP_OK,
					 json_pack("{s:b}", "signed_in", 0), h);
	}
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

	s = as_admin(c, &ret);
	if (!s)
		return ret;
	if (!arg_uint(c, name, def, 1, max, &n)) {
		_cleanup_free_ char *msg = xasprintf("%s from 1 to %u", name, max);

		return server_error(c, MHD_HTTP_BAD_REQUEST, msg);
	}
	if (fn(c, s, n, &out) < 0)
		return unavailable(c);
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

	s = as_admin(c, &ret);
	if (!s)
		return ret;
	if (store_events(s, arg(c, "type"), arg(c, "group"), arg(c, "since"),
			 100000, &out) < 0)
		return unavailable(c);
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

/* --- the dashboard's pages --- */

static enum MHD_Result send_file(struct MHD_Connection *c,
				 const struct web_file *f)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		(size_t)(f->end - f->data), (void *)(uintptr_t)f->data,
		MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", f->type);
	/* Small, and new with every collectord: always revalidated. */
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	server_secure_headers(r);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result redirect(struct MHD_Connection *c, const char *to)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		0, NULL, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Location", to);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	server_secure_headers(r);
	ret = MHD_queue_response(c, MHD_HTTP_SEE_OTHER, r);
	MHD_destroy_response(r);
	return ret;
}

/* A page of the dashboard: the page for a signed-in admin, the sign-in
 * page for anyone else. The data come from the API, which checks the
 * session again on every request. */
static enum MHD_Result page(struct MHD_Connection *c, const char *url)
{
	_cleanup_free_ char *name = NULL, *csrf = NULL;
	struct store *s = server_store();
	int r;

	if (strcmp(url, "/login") == 0)
		return send_file(c, web_page());
	if (!s)
		return unavailable(c);
	r = session_of(c, s, &name, &csrf);
	/* url is one of the pages (web_is_page): letters, digits, '/'. */
	if (r == -ENOENT && strcmp(url, "/") == 0)
		return redirect(c, "/login");
	if (r == -ENOENT) {
		_cleanup_free_ char *to = xasprintf("/login?next=%s", url);

		return redirect(c, to);
	}
	if (r < 0)
		return unavailable(c);
	return send_file(c, web_page());
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
	ret = MHD_queue_response(c, same ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK,
				 r);
	MHD_destroy_response(r);
	return ret;
}

/* GET /api/v1/agent/policy: the policy of the device's group. */
static enum MHD_Result agent_policy(struct MHD_Connection *c)
{
	_cleanup_free_ char *machine_id = NULL, *group = NULL, *body = NULL,
			    *sha = NULL, *terms = NULL;
	struct store *s = server_store();
	char hash[SECRET_HASH_LEN + 1];
	int64_t id;
	int r;

	if (!s)
		return unavailable(c);
	r = device_of(c, s, false, &id, &machine_id, hash);
	if (r == -EACCES)
		return server_error(c, MHD_HTTP_UNAUTHORIZED,
				    "unknown or revoked device token");
	if (r < 0 || store_device_group(s, id, &group) < 0)
		return unavailable(c);
	r = store_policy_get(s, group, &body, &sha);
	if (r < 0 && r != -ENOENT)
		return unavailable(c);
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

	s = as_admin(c, &ret);
	if (!s)
		return ret;
	r = store_policy_get(s, group ? group : "", &body, &sha);
	if (r == -ENOENT)
		return server_error(c, MHD_HTTP_NOT_FOUND,
				    "no policy is set for that group");
	if (r < 0)
		return unavailable(c);
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
		{ "GET", "/api/v1/events.csv", H_PLAIN,
		  { .plain_fn = events_csv } },
		{ "GET", "/api/v1/history", H_PLAIN, { .plain_fn = history } },
		{ "GET", "/api/v1/findings", H_PLAIN, { .plain_fn = findings } },
		{ "GET", "/api/v1/groups", H_PLAIN, { .plain_fn = groups } },
		{ "POST", "/api/v1/session", H_BODY, { .body_fn = signin } },
		{ "GET", "/api/v1/session", H_PLAIN, { .plain_fn = session_get } },
		{ "DELETE", "/api/v1/session", H_PLAIN, { .plain_fn = signout } },
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
	const struct web_file *f;

	current_method = method;
	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
		if (web_is_page(url) || strcmp(url, "/login") == 0)
			return page(c, url);
		f = web_file(url);
		if (f && strcmp(url, "/static/index.html") != 0)
			return send_file(c, f);
		if (strcmp(url, "/favicon.ico") == 0)
			return send_file(c, web_file("/static/icon.svg"));
	}
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
