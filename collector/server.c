/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server: libmicrohttpd with an internal thread pool (epoll). It reads
 * each request's body within bounds, then hands the request to the
 * dispatcher its configuration names (api.c's api_dispatch), which
 * answers with the helpers here; it counts and times requests
 * (metrics.c), and keeps each worker thread's database connection.
 */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "jarena.h"
#include "jsonin.h"
#include "log.h"
#include "metrics.h"
#include "server.h"
#include "utf8.h"
#include "util.h"

#define CONNECTION_LIMIT 1024
#define PER_IP_LIMIT 256
#define CONNECTION_TIMEOUT_S 30

struct request {
	char *body;
	size_t len, cap;
	bool too_big;
	struct timespec t0;
	struct jarena arena;	/* where the report was built */
	/* What the dispatcher keeps until the request ends. */
	void *kept;
	void (*release)(void *kept);
};

static struct MHD_Daemon *daemon_;
static struct server_config cfg;
static char *tls_cert_pem, *tls_key_pem;

/* Every connection a worker opened, closed at stop. */
static pthread_mutex_t stores_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store **stores;
static size_t nstores;
static __thread struct store *thread_store;

const struct server_config *server_config(void)
{
	return &cfg;
}

struct store *server_store(void)
{
	_cleanup_free_ char *err = NULL;

	if (thread_store)
		return thread_store;
	thread_store = store_open(cfg.db_url, false, &err);
	if (!thread_store) {
		log_errx("%s", err);
		return NULL;
	}
	pthread_mutex_lock(&stores_lock);
	stores = xrealloc(stores, (nstores + 1) * sizeof(*stores));
	stores[nstores++] = thread_store;
	pthread_mutex_unlock(&stores_lock);
	return thread_store;
}

void server_secure_headers(struct MHD_Response *r)
{
	/* The dashboard's own files only: no inline script or style, no
	 * framing, nothing sent elsewhere. Harmless on JSON. */
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'none'; script-src 'self'; "
				"style-src 'self'; img-src 'self' data:; "
				"connect-src 'self'; base-uri 'none'; "
				"form-action 'self'; frame-ancestors 'none'");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
}

enum MHD_Result server_reply_headers(struct MHD_Connection *c, unsigned status,
				     const char *type, const char *text,
				     size_t len, const char *const *headers)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, (void *)(uintptr_t)text, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	server_secure_headers(r);
	for (; headers && headers[0]; headers += 2)
		MHD_add_response_header(r, headers[0], headers[1]);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result server_reply_text(struct MHD_Connection *c, unsigned status,
				  const char *type, const char *text,
				  size_t len)
{
	return server_reply_headers(c, status, type, text, len, NULL);
}

enum MHD_Result server_reply_json(struct MHD_Connection *c, unsigned status,
				  json_t *body, const char *const *headers)
{
	char *text = json_dumps(body, JSON_COMPACT);
	enum MHD_Result ret;

	json_decref(body);
	if (!text)
		return MHD_NO;
	ret = server_reply_headers(c, status, "application/json", text,
				   strlen(text), headers);
	free(text);
	return ret;
}

enum MHD_Result server_reply(struct MHD_Connection *c, unsigned status,
			     json_t *body)
{
	return server_reply_json(c, status, body, NULL);
}

enum MHD_Result server_error(struct MHD_Connection *c, unsigned status,
			     const char *msg)
{
	json_t *body = json_pack("{s:s}", "error", msg);

	/* A message quoting what a client sent (a key, a field) may have
	 * cut a character in two: mended, it is still answered. */
	if (!body) {
		_cleanup_free_ char *mended = utf8_repair(msg, strlen(msg));

		body = json_pack("{s:s}", "error", mended);
	}
	return server_reply(c, status, body);
}

bool server_is_json(struct MHD_Connection *c)
{
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     "Content-Type");

	return ct && strncasecmp(ct, "application/json", 16) == 0 &&
	       (ct[16] == '\0' || ct[16] == ';');
}

json_t *server_json_body(struct MHD_Connection *c, const char *body,
			 size_t len, enum MHD_Result *answer)
{
	char err[256];
	json_t *v;

	if (!server_is_json(c)) {
		*answer = server_error(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
				       "send application/json");
		return NULL;
	}
	v = jsonin_parse(body, len, err);
	if (!v)
		*answer = server_error(c, MHD_HTTP_BAD_REQUEST, err);
	return v;
}

enum MHD_Result server_unavailable(struct MHD_Connection *c)
{
	metrics_count(M_REJECT_STORAGE);
	return server_error(c, MHD_HTTP_SERVICE_UNAVAILABLE,
			    "storage unavailable; try again later");
}

struct jarena *server_arena(struct request *rq)
{
	return &rq->arena;
}

void server_keep(struct request *rq, void *kept, void (*release)(void *))
{
	rq->kept = kept;
	rq->release = release;
}

void *server_kept(struct request *rq)
{
	return rq->kept;
}

static double elapsed(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (!rq)
		return;
	metrics_latency(elapsed(&rq->t0));
	if (rq->release)
		rq->release(rq->kept);
	jarena_free(&rq->arena);
	free(rq->body);
	free(rq);
	*con_cls = NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct request *rq = *con_cls;

	(void)cls;
	(void)version;
	if (!rq) {
		const char *cl = MHD_lookup_connection_value(
			c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

		rq = xcalloc(1, sizeof(*rq));
		clock_gettime(CLOCK_MONOTONIC, &rq->t0);
		*con_cls = rq;
		/* Refuse a declared oversize body before reading it. */
		if (cl && strtoull(cl, NULL, 10) > cfg.max_body) {
			metrics_count(M_REJECT_TOO_LARGE);
			return server_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
					    "the body is larger than this "
					    "server accepts");
		}
		return MHD_YES;
	}
	if (*upload_size) {
		if (!rq->too_big && rq->len + *upload_size > cfg.max_body) {
			rq->too_big = true;
			free(rq->body);
			rq->body = NULL;
			rq->len = 0;
		}
		if (!rq->too_big) {
			if (rq->len + *upload_size + 1 > rq->cap) {
				rq->cap = (rq->len + *upload_size + 1) * 2;
				if (rq->cap > cfg.max_body + 1)
					rq->cap = cfg.max_body + 1;
				rq->body = xrealloc(rq->body, rq->cap);
			}
			memcpy(rq->body + rq->len, upload, *upload_size);
			rq->len += *upload_size;
			/* Handlers get a string as well as a length. */
			rq->body[rq->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->too_big) {
		metrics_count(M_REJECT_TOO_LARGE);
		return server_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
				    "the body is larger than this server accepts");
	}
	/* The dispatcher is called again for a request it suspended, once
	 * it is resumed (server_kept). */
	return cfg.dispatch(c, rq, url, method, rq->body ? rq->body : "",
			    rq->len);
}

/* "HOST:PORT" into an IPv4 or IPv6 socket address. */
static int parse_listen(const char *s, struct sockaddr_storage *ss,
			socklen_t *len)
{
	_cleanup_free_ char *host = NULL;
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon)
		return -EINVAL;
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return -EINVAL;
	host = xstrndup(s, (size_t)(colon - s));
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		host[strlen(host) - 1] = '\0';
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a);
		return inet_pton(AF_INET6, host + 1, &a->sin6_addr) == 1 ? 0
									 : -EINVAL;
	}
	{
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		*len = sizeof(*a);
		return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -EINVAL;
	}
}

int server_init(const struct server_config *c)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			 MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	int r;

	cfg = *c;
	/* Reports are built in arenas from here on (before any worker
	 * thread runs). */
	jarena_setup();
	r = parse_listen(cfg.listen, &ss, &sslen);
	if (r < 0) {
		log_errx("--listen %s: expected ADDRESS:PORT (127.0.0.1:8080, "
			 "[::1]:8080)", cfg.listen);
		return r;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (cfg.tls_cert || cfg.tls_key) {
		if (!cfg.tls_cert || !cfg.tls_key ||
		    read_file(cfg.tls_cert, 1 << 20, &tls_cert_pem, NULL) < 0 ||
		    read_file(cfg.tls_key, 1 << 20, &tls_key_pem, NULL) < 0) {
			log_errx("TLS needs both a readable --tls-cert and "
				 "--tls-key");
			return -EINVAL;
		}
		flags |= MHD_USE_TLS;
	}
	daemon_ = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, cfg.threads,
		MHD_OPTION_CONNECTION_LIMIT, CONNECTION_LIMIT,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, PER_IP_LIMIT,
		MHD_OPTION_CONNECTION_TIMEOUT, CONNECTION_TIMEOUT_S,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
		tls_cert_pem ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
		tls_cert_pem, MHD_OPTION_HTTPS_MEM_KEY, tls_key_pem,
		MHD_OPTION_END);
	if (!daemon_) {
		log_errx("cannot listen on %s", cfg.listen);
		return -EADDRNOTAVAIL;
	}
	return 0;
}

void server_exit(void)
{
	if (daemon_)
		MHD_stop_daemon(daemon_);
	daemon_ = NULL;
	for (size_t i = 0; i < nstores; i++)
		store_close(stores[i]);
	free(stores);
	stores = NULL;
	nstores = 0;
	free(tls_cert_pem);
	free(tls_key_pem);
	tls_cert_pem = tls_key_pem = NULL;
}
