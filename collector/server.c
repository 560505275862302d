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

/* The trusted proxies: an address and how many of its leading bits a
 * peer must share. */
struct net {
	int family;
	unsigned char addr[16];
	unsigned bits;
};

static struct net *proxies;
static size_t nproxies;

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

/* C0 and C1 control characters (and DEL) as spaces: an error is read in
 * logs and terminals, where they could forge lines or colours. */
static char *no_controls(const char *msg)
{
	char *out = xstrdup(msg);

	utf8_no_controls(out);
	return out;
}

enum MHD_Result server_error(struct MHD_Connection *c, unsigned status,
			     const char *msg)
{
	_cleanup_free_ char *clean = no_controls(msg);
	json_t *body = json_pack("{s:s}", "error", clean);

	/* A message quoting what a client sent (a key, a field) may have
	 * cut a character in two: mended, it is still answered. */
	if (!body) {
		_cleanup_free_ char *mended = utf8_repair(clean, strlen(clean));

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

enum MHD_Result server_too_many(struct MHD_Connection *c, unsigned seconds,
				const char *msg)
{
	char secs[16];
	const char *const h[] = { "Retry-After", secs, NULL };

	snprintf(secs, sizeof(secs), "%u", seconds);
	return server_reply_json(c, MHD_HTTP_TOO_MANY_REQUESTS,
				 json_pack("{s:s}", "error", msg), h);
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

static enum MHD_Result arg_long(void *cls, enum MHD_ValueKind kind,
				const char *key, const char *value)
{
	(void)kind;
	if (strlen(key) <= SERVER_ARG_MAX &&
	    (!value || strlen(value) <= SERVER_ARG_MAX))
		return MHD_YES;
	*(bool *)cls = true;
	return MHD_NO;
}

/* No query argument (name or value) over SERVER_ARG_MAX bytes: a filter
 * cut or left out would answer another question than the one asked. */
static bool args_ok(struct MHD_Connection *c)
{
	bool too_long = false;

	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, arg_long,
				  &too_long);
	return !too_long;
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
	if (!rq->kept && !args_ok(c))
		return server_error(c, MHD_HTTP_BAD_REQUEST,
				    "a query argument is longer than 256 bytes");
	/* The dispatcher is called again for a request it suspended, once
	 * it is resumed (server_kept). */
	return cfg.dispatch(c, rq, url, method, rq->body ? rq->body : "",
			    rq->len);
}

/* --- trusted proxies and the client's address --- */

/* "ADDRESS" or "ADDRESS/BITS", IPv4 or IPv6. */
static bool net_parse(const char *text, struct net *n)
{
	char host[64];
	const char *slash = strchr(text, '/');
	size_t len = slash ? (size_t)(slash - text) : strlen(text);
	unsigned long bits;
	char *end;

	if (len == 0 || len >= sizeof(host))
		return false;
	memcpy(host, text, len);
	host[len] = '\0';
	memset(n, 0, sizeof(*n));
	n->family = strchr(host, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(n->family, host, n->addr) != 1)
		return false;
	n->bits = n->family == AF_INET ? 32 : 128;
	if (!slash)
		return true;
	bits = strtoul(slash + 1, &end, 10);
	if (end == slash + 1 || *end || bits > n->bits)
		return false;
	n->bits = (unsigned)bits;
	return true;
}

/* The items of a list separated by commas or spaces, into out (when not
 * NULL), counted in *n; false at the first that is not an address or a
 * CIDR, with it in *bad (caller frees). */
static bool proxies_each(const char *text, struct net *out, size_t *n,
			 char **bad)
{
	_cleanup_free_ char *copy = xstrdup(text);
	char *save = NULL;

	*n = 0;
	for (char *w = strtok_r(copy, ", \t", &save); w;
	     w = strtok_r(NULL, ", \t", &save)) {
		struct net one;

		if (!net_parse(w, &one)) {
			*bad = xstrdup(w);
			return false;
		}
		if (out)
			out[*n] = one;
		(*n)++;
	}
	return true;
}

bool server_proxies_valid(const char *text, char **bad)
{
	size_t n;

	*bad = NULL;
	return proxies_each(text, NULL, &n, bad);
}

static bool net_has(const struct net *n, int family, const unsigned char *a)
{
	unsigned full = n->bits / 8, rest = n->bits % 8;

	if (n->family != family || memcmp(n->addr, a, full) != 0)
		return false;
	return !rest || ((n->addr[full] ^ a[full]) & (0xff << (8 - rest))) == 0;
}

/* Whether the address text is a trusted proxy's (an IPv4-mapped IPv6
 * address counts as its IPv4 one). */
static bool trusted(const char *text)
{
	unsigned char a[16];
	int family = strchr(text, ':') ? AF_INET6 : AF_INET;

	if (inet_pton(family, text, a) != 1)
		return false;
	if (family == AF_INET6 && IN6_IS_ADDR_V4MAPPED((struct in6_addr *)a)) {
		memmove(a, a + 12, 4);
		family = AF_INET;
	}
	for (size_t i = 0; i < nproxies; i++)
		if (net_has(&proxies[i], family, a))
			return true;
	return false;
}

/* The entries of X-Forwarded-For from the right: each proxy adds the
 * address it was reached from, so the first that is not a trusted proxy
 * is the client. An entry that is no address ends the walk at the last
 * good one. */
static void forwarded_client(const char *xff, char out[static 64])
{
	size_t end = strlen(xff);

	while (end > 0) {
		size_t start = end;
		char cand[64];
		unsigned char bin[16];

		while (start > 0 && xff[start - 1] != ',')
			start--;
		snprintf(cand, sizeof(cand), "%.*s", (int)(end - start),
			 xff + start);
		memmove(cand, cand + strspn(cand, " \t"),
			strlen(cand + strspn(cand, " \t")) + 1);
		cand[strcspn(cand, " \t")] = '\0';
		if (inet_pton(AF_INET, cand, bin) != 1 &&
		    inet_pton(AF_INET6, cand, bin) != 1)
			return;
		strcpy(out, cand);
		if (!trusted(cand))
			return;
		end = start ? start - 1 : 0;
	}
}

void server_client_address(struct MHD_Connection *c, char out[static 64])
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	const char *xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						      "X-Forwarded-For");

	strcpy(out, "unknown");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)
					   ->sin_addr, out, 64);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)(const void *)sa)
				   ->sin6_addr, out, 64);
	if (xff && strlen(xff) < 4096 && trusted(out))
		forwarded_client(xff, out);
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
	if (cfg.trusted_proxies) {
		_cleanup_free_ char *bad = NULL;

		proxies_each(cfg.trusted_proxies, NULL, &nproxies, &bad);
		proxies = xcalloc(nproxies ? nproxies : 1, sizeof(*proxies));
		if (!proxies_each(cfg.trusted_proxies, proxies, &nproxies,
				  &bad)) {
			log_errx("trusted_proxies: %s is not an address or "
				 "CIDR", bad);
			return -EINVAL;
		}
	}
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
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg.per_address,
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
	free(proxies);
	proxies = NULL;
	nproxies = 0;
	free(tls_cert_pem);
	free(tls_key_pem);
	tls_cert_pem = tls_key_pem = NULL;
}
