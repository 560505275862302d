/*
 * server: collectord's HTTP side on libmicrohttpd. A pool of worker
 * threads, each with its own database connection; bodies bounded while
 * they arrive; connection limits and timeouts so a slow or hostile client
 * cannot starve the others.
 */
#ifndef COLLECTORD_SERVER_H
#define COLLECTORD_SERVER_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "store.h"

struct server_config {
	const char *listen;	/* "127.0.0.1:8080" */
	const char *db_url;
	size_t max_body;	/* bytes */
	unsigned stale_hours;
	unsigned retention_days;
	const char *access;	/* who sees the reports, in words staff read */
	unsigned threads;
	const char *tls_cert, *tls_key;	/* paths, or NULL */
};

/* Start serving. Returns 0 or -errno (with the reason logged). */
int server_start(const struct server_config *cfg);
/* Stop accepting, finish the requests under way, close the database. */
void server_stop(void);

/* --- for the handlers (api.c) --- */

struct request;

/* This worker thread's database connection, or NULL (logged). */
struct store *server_store(void);
const struct server_config *server_config(void);

/* Queue a JSON response (steals body). */
enum MHD_Result server_reply(struct MHD_Connection *c, unsigned status,
			     json_t *body);
/* {"error": msg} with status. */
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

/* The arena a report is built in (jarena.h): it is let go of when the
 * request ends. */
struct jarena *server_arena(struct request *rq);

/* Hand a validated report (built in server_arena(rq)) of device id, whose
 * token hashed to token_hash, to the group committer: the connection
 * answers 201, 200, 401 (the token is no longer the device's) or 503 once
 * its batch is committed. Returns what the access handler must return. */
enum MHD_Result server_commit(struct MHD_Connection *c, struct request *rq,
			      int64_t id, const char *token_hash,
			      json_t *report);

/* Counters for /metrics. */
enum metric {
	M_REPORTS_STORED, M_REPORTS_DUPLICATE, M_REJECT_INVALID,
	M_REJECT_UNAUTHORIZED, M_REJECT_FORBIDDEN, M_REJECT_TOO_LARGE,
	M_REJECT_MEDIA_TYPE, M_REJECT_STORAGE, M_ENROLLED, M_ENROL_REFUSED,
	M_COUNT,
};
void server_count(enum metric m);
/* The Prometheus text of the counters and the latency histogram. */
char *server_metrics_text(void);

#endif
