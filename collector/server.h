/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server: collectord's HTTP side on libmicrohttpd. A pool of worker
 * threads, each with its own database connection; bodies bounded while
 * they arrive; connection limits and timeouts so a slow or hostile client
 * cannot starve the others. What a request gets is the dispatcher's
 * (struct server_config), which answers with the helpers below.
 */
#ifndef COLLECTORD_SERVER_H
#define COLLECTORD_SERVER_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "store.h"

struct request;

/* The longest query argument, name or value: a longer one is answered
 * 400 before the dispatcher is called. */
#define SERVER_ARG_MAX 256

/* Answer one complete request. body is NUL-terminated at len. Called
 * again for a request it suspended, once that is resumed. */
typedef enum MHD_Result server_dispatch_fn(struct MHD_Connection *c,
					   struct request *rq,
					   const char *url,
					   const char *method,
					   const char *body, size_t len);

struct server_config {
	const char *listen;	/* "127.0.0.1:8080" */
	const char *db_url;
	size_t max_body;	/* bytes */
	unsigned stale_hours;
	unsigned retention_days;
	const char *access;	/* who sees the reports, in words staff read */
	unsigned threads;
	const char *tls_cert, *tls_key;	/* paths, or NULL */
	unsigned per_address;	/* connections from one address; 0: any */
	/* Proxies whose X-Forwarded-For is believed: addresses and CIDRs
	 * separated by commas or spaces, or NULL for none. */
	const char *trusted_proxies;
	server_dispatch_fn *dispatch;	/* what answers each request */
};

/* Whether text is a list of trusted proxies (addresses or CIDRs such as
 * 10.0.0.0/8 or ::1, separated by commas or spaces); false with the
 * first that is not in *bad (caller frees). */
bool server_proxies_valid(const char *text, char **bad);

/* Start serving. Returns 0 or -errno (with the reason logged). */
int server_init(const struct server_config *cfg);
/* Stop accepting, finish the requests under way, close the workers'
 * database connections. Suspended requests must have been resumed
 * (committer_exit) first. */
void server_exit(void);

/* --- for the dispatcher and its handlers --- */

/* This worker thread's database connection, or NULL (logged). */
struct store *server_store(void);
const struct server_config *server_config(void);

/* Queue a JSON response (steals body). */
enum MHD_Result server_reply(struct MHD_Connection *c, unsigned status,
			     json_t *body);
/* {"error": msg} with status; control characters in msg (which may
 * quote what a client sent) become spaces. */
enum MHD_Result server_error(struct MHD_Connection *c, unsigned status,
			     const char *msg);
/* A plain-text or CSV response (copied). */
enum MHD_Result server_reply_text(struct MHD_Connection *c, unsigned status,
				  const char *type, const char *text,
				  size_t len);

/* The same with extra headers: name, value, ..., NULL. */
enum MHD_Result server_reply_json(struct MHD_Connection *c, unsigned status,
				  json_t *body, const char *const *headers);
enum MHD_Result server_reply_headers(struct MHD_Connection *c, unsigned status,
				     const char *type, const char *text,
				     size_t len, const char *const *headers);
/* Content-Security-Policy and the other headers every answer carries. */
void server_secure_headers(struct MHD_Response *r);
/* 429 {"error": msg} with Retry-After: seconds. */
enum MHD_Result server_too_many(struct MHD_Connection *c, unsigned seconds,
				const char *msg);
/* 503 "storage unavailable", counted. */
enum MHD_Result server_unavailable(struct MHD_Connection *c);

/* The client's address, for limits and logs: the peer's, or when the
 * peer is a trusted proxy, the nearest address in X-Forwarded-For that
 * is not one. */
void server_client_address(struct MHD_Connection *c, char out[static 64]);

/* Whether the request's Content-Type is application/json. */
bool server_is_json(struct MHD_Connection *c);
/* A request body that must be one JSON value: the value, or NULL with the
 * answer made in *answer (415 when not sent as application/json, 400 with
 * the parser's words). */
json_t *server_json_body(struct MHD_Connection *c, const char *body,
			 size_t len, enum MHD_Result *answer);

/* The arena a report is built in (jarena.h): it is let go of when the
 * request ends. */
struct jarena *server_arena(struct request *rq);

/* Keep kept with the request until it ends, then release(kept) (a
 * report waiting for the committer). */
void server_keep(struct request *rq, void *kept, void (*release)(void *));
/* What the request keeps, or NULL. */
void *server_kept(struct request *rq);

#endif
