/* SPDX-License-Identifier: Apache-2.0 */
/*
 * auth: who a request is from: an enrolled device (its bearer token), or
 * an admin (a dashboard session with its CSRF token for changes, or HTTP
 * Basic), with sign-in limits kept in memory (limits.c); and the dashboard's
 * session routes.
 */
#ifndef COLLECTORD_AUTH_H
#define COLLECTORD_AUTH_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "secret.h"
#include "store.h"

struct request;

/* Forget the cached token and password verifications (at exit). */
void auth_exit(void);

/* The method of the request this thread handles from now on (a change,
 * not GET or HEAD, made with a session must carry its CSRF token). */
void auth_begin(const char *method);

/* The device a request's bearer token ("Bearer ID.SECRET") belongs to:
 * its id, machine id and public key (NULL when it has none; the caller
 * frees both) and the token's hash. With cached, a
 * token verified here lately is taken without reading the database: only
 * for reports, whose token the committer checks again. 0, -EACCES for a
 * missing, malformed, unknown or revoked token, or -EIO. */
int auth_device(struct MHD_Connection *c, struct store *s, bool cached,
		int64_t *id, char **machine_id, char **public_key,
		char hash[static SECRET_HASH_LEN + 1]);

/* The signed-in admin of the session cookie (caller frees), and the
 * session's CSRF token; -ENOENT without a live session. */
int auth_session_of(struct MHD_Connection *c, struct store *s, char **name,
		    char **csrf);

/* This thread's database connection, once the request is from an
 * admin; NULL with the refusal (401, 403, 429 or 503) queued in *ret. */
struct store *auth_admin(struct MHD_Connection *c, enum MHD_Result *ret);

/* POST /api/v1/session {"name", "password"}: sign in. */
enum MHD_Result auth_signin(struct MHD_Connection *c, struct request *rq,
			    const char *body, size_t len);
/* GET /api/v1/session: who is signed in, and the CSRF token. */
enum MHD_Result auth_session_get(struct MHD_Connection *c);
/* DELETE /api/v1/session: sign out (with the CSRF token). */
enum MHD_Result auth_signout(struct MHD_Connection *c);

#endif
