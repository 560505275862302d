/* SPDX-License-Identifier: Apache-2.0 */
/*
 * auth: who a request is from. Devices: the bearer token of an enrolled
 * device, with a cache of tokens verified lately. Admins: a session
 * cookie from the dashboard's sign-in (with its CSRF token for changes),
 * or HTTP Basic for scripts, with yescrypt verifications cached a minute
 * and failed sign-ins slowed per name and address (limits.c: memory,
 * never the database). The session routes
 * (/api/v1/session) are here; api.c routes to them.
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

#include "auth.h"
#include "limits.h"
#include "log.h"
#include "secret.h"
#include "server.h"
#include "util.h"

/* --- device tokens --- */

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
	char *public_key;	/* NULL: enrolled before keys */
};

static struct token_entry token_cache[TOKENS_CACHED];
static pthread_mutex_t token_lock = PTHREAD_MUTEX_INITIALIZER;

static bool token_cached(int64_t id, const char *hash, char **machine_id,
			 char **public_key)
{
	struct token_entry *e = &token_cache[(uint64_t)id % TOKENS_CACHED];
	bool hit;

	pthread_mutex_lock(&token_lock);
	hit = e->id == id && secret_hash_equal(e->hash, hash);
	if (hit) {
		*machine_id = xstrdup(e->machine_id);
		*public_key = e->public_key ? xstrdup(e->public_key) : NULL;
	}
	pthread_mutex_unlock(&token_lock);
	return hit;
}

static void token_remember(int64_t id, const char *hash,
			   const char *machine_id, const char *public_key)
{
	struct token_entry *e = &token_cache[(uint64_t)id % TOKENS_CACHED];

	pthread_mutex_lock(&token_lock);
	free(e->machine_id);
	free(e->public_key);
	e->id = id;
	memcpy(e->hash, hash, sizeof(e->hash));
	e->machine_id = xstrdup(machine_id);
	e->public_key = public_key ? xstrdup(public_key) : NULL;
	pthread_mutex_unlock(&token_lock);
}

/* The device a request's bearer token ("Bearer ID.SECRET") belongs to:
 * its id, machine id and the token's hash. With cached, a token verified
 * here lately is taken without reading the database: only for reports,
 * whose token the committer checks again; anything else reads the
 * device's row. */
int auth_device(struct MHD_Connection *c, struct store *s, bool cached,
		int64_t *id, char **machine_id, char **public_key,
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
	if (cached && token_cached(*id, hash, machine_id, public_key))
		return 0;
	r = store_device_auth(s, *id, &stored, machine_id, public_key);
	if (r == -ENOENT)
		return -EACCES;
	if (r < 0)
		return r;
	if (!secret_hash_equal(hash, stored)) {
		free(*machine_id);
		free(*public_key);
		*machine_id = *public_key = NULL;
		return -EACCES;
	}
	token_remember(*id, hash, *machine_id, *public_key);
	return 0;
}

/* --- admin passwords --- */

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

void auth_exit(void)
{
	for (unsigned i = 0; i < TOKENS_CACHED; i++) {
		free(token_cache[i].machine_id);
		free(token_cache[i].public_key);
		token_cache[i].machine_id = token_cache[i].public_key = NULL;
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

/* The method of the request this thread handles (for the CSRF rule). */
static __thread const char *current_method;

void auth_begin(const char *method)
{
	current_method = method;
}

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
int auth_session_of(struct MHD_Connection *c, struct store *s, char **name,
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

/* An admin's password, checked with the limits of limits.c, kept in
 * this instance's memory: past LIMITS_SIGNIN_FREE failures for a name
 * from one address, each try must
 * wait longer, up to LIMITS_SIGNIN_CAP_S. Each try counts before the
 * (slow) check, so parallel guesses count too; a try that must wait is
 * refused before anything is read, hashed or written. A Basic sign-in
 * seen in the last minute is answered from memory. *wait: the seconds
 * to wait, when PW_LIMITED. */
static int password_check(struct MHD_Connection *c, struct store *s,
			  const char *name, const char *password,
			  bool remember, unsigned *wait)
{
	_cleanup_free_ char *stored = NULL;
	char addr[64], pw[SECRET_HASH_LEN + 1];
	int r;
	bool ok;

	server_client_address(c, addr);
	*wait = limits_signin_try(name, addr);
	if (*wait)
		return PW_LIMITED;
	r = store_admin_get(s, name, &stored);
	if (r < 0 && r != -ENOENT)
		return PW_DB_DOWN;
	secret_hash(password, pw);
	if (r == 0 && remember && auth_cached(name, stored, pw)) {
		explicit_bzero(pw, sizeof(pw));
		limits_signin_ok(name, addr);
		return PW_OK;
	}
	ok = password_matches(password, r == 0 ? stored : decoy_hash()) &&
	     r == 0;
	if (ok && remember)
		auth_remember(name, stored, pw);
	explicit_bzero(pw, sizeof(pw));
	if (ok)
		limits_signin_ok(name, addr);
	return ok ? PW_OK : PW_WRONG;
}

static int basic_admin(struct MHD_Connection *c, struct store *s,
		       unsigned *wait)
{
	char *pass = NULL, *user = MHD_basic_auth_get_username_password(c, &pass);
	int r = PW_WRONG;

	if (user && pass && *user && strlen(user) <= 64 && strlen(pass) <= 1024)
		r = password_check(c, s, user, pass, true, wait);
	if (pass)
		explicit_bzero(pass, strlen(pass));
	MHD_free(user);
	MHD_free(pass);
	return r;
}

enum { ADMIN_NO, ADMIN_YES, ADMIN_NO_CSRF, ADMIN_DB_DOWN, ADMIN_LIMITED };

static int admin(struct MHD_Connection *c, struct store *s, unsigned *wait)
{
	_cleanup_free_ char *name = NULL, *csrf = NULL;
	int r = auth_session_of(c, s, &name, &csrf);

	if (r == 0)
		return is_change() && !csrf_ok(c, csrf) ? ADMIN_NO_CSRF
							 : ADMIN_YES;
	if (r != -ENOENT)
		return ADMIN_DB_DOWN;
	switch (basic_admin(c, s, wait)) {
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

/* 429 with the seconds to wait in Retry-After and in words. */
static enum MHD_Result too_many(struct MHD_Connection *c, unsigned wait)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "Too many failed sign-ins. Wait %u "
		 "second%s and try again.", wait, wait == 1 ? "" : "s");
	return server_too_many(c, wait, msg);
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
struct store *auth_admin(struct MHD_Connection *c, enum MHD_Result *ret)
{
	struct store *s = server_store();
	unsigned wait = 0;

	if (!s) {
		*ret = server_unavailable(c);
		return NULL;
	}
	switch (admin(c, s, &wait)) {
	case ADMIN_YES:
		return s;
	case ADMIN_NO_CSRF:
		*ret = server_error(c, MHD_HTTP_FORBIDDEN,
				    "missing or wrong X-CSRF-Token: reload the "
				    "page and try again");
		return NULL;
	case ADMIN_DB_DOWN:
		*ret = server_unavailable(c);
		return NULL;
	case ADMIN_LIMITED:
		*ret = too_many(c, wait);
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
enum MHD_Result auth_signin(struct MHD_Connection *c,
			    struct request *rq __attribute__((unused)),
			    const char *body, size_t len)
{
	_cleanup_free_ char *name = NULL, *cookie = NULL;
	char sid[SECRET_HEX_LEN + 1], hash[SECRET_HASH_LEN + 1],
		csrf[SECRET_HEX_LEN + 1];
	enum MHD_Result answer;
	struct store *s = server_store();
	const char *password;
	unsigned wait = 0;
	json_t *req;
	int r;

	req = server_json_body(c, body, len, &answer);
	if (!req)
		return answer;
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
	r = s ? password_check(c, s, name, password, false, &wait)
	      : PW_DB_DOWN;
	json_decref(req);
	if (r == PW_LIMITED)
		return too_many(c, wait);
	if (r == PW_WRONG)
		return server_error(c, MHD_HTTP_UNAUTHORIZED,
				    "Wrong name or password.");
	if (r != PW_OK || secret_new(sid) < 0 || secret_new(csrf) < 0)
		return server_unavailable(c);
	secret_hash(sid, hash);
	if (store_session_new(s, hash, name, csrf, SESSION_LIFETIME_S) < 0) {
		explicit_bzero(sid, sizeof(sid));
		return server_unavailable(c);
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
		*ret = server_unavailable(c);
		return false;
	}
	r = auth_session_of(c, *s, name, csrf);
	if (r == 0)
		return true;
	*ret = r == -ENOENT ? server_error(c, MHD_HTTP_UNAUTHORIZED,
					   "not signed in")
			    : server_unavailable(c);
	return false;
}

/* GET /api/v1/session: who is signed in, and the CSRF token. */
enum MHD_Result auth_session_get(struct MHD_Connection *c)
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
enum MHD_Result auth_signout(struct MHD_Connection *c)
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
		return server_unavailable(c);
	cookie = session_cookie(c, "", 0);
	{
		const char *const h[] = { "Set-Cookie", cookie, NULL };

		return server_reply_json(c, MHD_HTTP_OK,
					 json_pack("{s:b}", "signed_in", 0), h);
	}
}
