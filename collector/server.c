/*
 * server: libmicrohttpd with an internal thread pool (epoll).
 */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "jarena.h"
#include "log.h"
#include "secret.h"
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
	/* A report waiting for, or back from, the committer. */
	struct MHD_Connection *conn;
	struct jarena arena;	/* where the report was built */
	char token_hash[SECRET_HASH_LEN + 1];
	struct store_put put;
	bool committed;
	struct request *next;
};

/* Group commit: a committer thread stores every report that has arrived
 * in one transaction (one fsync), then lets their connections answer.
 * Nothing is acknowledged before it is on disk. One committer on SQLite,
 * several on PostgreSQL (server_start). */
#define BATCH_MAX 512

#define MAX_COMMITTERS 8

static pthread_t committers[MAX_COMMITTERS];
static unsigned ncommitters;
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_cond = PTHREAD_COND_INITIALIZER;
static struct request *queue_head, *queue_tail;
static bool committer_running, committer_stop;

static struct MHD_Daemon *daemon_;
static struct server_config cfg;
static char *tls_cert_pem, *tls_key_pem;

/* Every connection a worker opened, closed at stop. */
static pthread_mutex_t stores_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store **stores;
static size_t nstores;
static __thread struct store *thread_store;

static unsigned long counters[M_COUNT];
static const double buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01,
				  0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5 };
static unsigned long hist[ARRAY_SIZE(buckets) + 1];
static double hist_sum;
static pthread_mutex_t hist_lock = PTHREAD_MUTEX_INITIALIZER;

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

void server_count(enum metric m)
{
	__atomic_add_fetch(&counters[m], 1, __ATOMIC_RELAXED);
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

static enum MHD_Result reply_put(struct MHD_Connection *c, struct request *rq)
{
	int r = rq->put.result;

	if (r < 0) {
		server_count(M_REJECT_STORAGE);
		return server_error(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				    "storage unavailable; try again later");
	}
	if (r == STORE_UNAUTHORIZED) {
		server_count(M_REJECT_UNAUTHORIZED);
		return server_error(c, MHD_HTTP_UNAUTHORIZED,
				    "unknown or revoked device token");
	}
	server_count(r == STORE_STORED ? M_REPORTS_STORED : M_REPORTS_DUPLICATE);
	return r == STORE_STORED
		       ? MHD_queue_response(c, MHD_HTTP_CREATED, answer_stored)
		       : MHD_queue_response(c, MHD_HTTP_OK, answer_duplicate);
}

static bool on_sqlite(void)
{
	return strncmp(cfg.db_url, "sqlite:", 7) == 0;
}

/* Store a batch on the committer's connection, opened if need be; a
 * connection that fails is closed. 0 or -EIO. */
static int put_batch(struct store **s, struct store_put *puts, size_t n)
{
	_cleanup_free_ char *err = NULL;

	if (!*s && (*s = store_open(cfg.db_url, false, &err)))
		store_remember(*s);
	else if (!*s)
		log_errx("%s", err);
	if (*s && store_report_put_batch(*s, puts, n) == 0)
		return 0;
	store_close(*s);
	*s = NULL;
	return -EIO;
}

static void commit_batch(struct store **s, struct request **jobs, size_t n)
{
	struct store_put puts[BATCH_MAX];

	for (size_t i = 0; i < n; i++)
		puts[i] = jobs[i]->put;
	/* A PostgreSQL connection broken since the last batch (the server
	 * restarted) fails this one: it is tried once more on a new
	 * connection before it is answered 503. Nothing was stored by the
	 * failed try, or, if its commit went through unseen, the retry finds
	 * every report stored before (200). On SQLite a failure is the write
	 * lock held past its wait: no second wait. */
	if (put_batch(s, puts, n) < 0 && (on_sqlite() ||
					  put_batch(s, puts, n) < 0))
		for (size_t i = 0; i < n; i++)
			puts[i].result = -EIO;
	for (size_t i = 0; i < n; i++) {
		jobs[i]->put.result = puts[i].result;
		jobs[i]->committed = true;
		MHD_resume_connection(jobs[i]->conn);
	}
}

static void *committer_main(void *arg)
{
	struct request *jobs[BATCH_MAX];
	struct store *s = NULL;

	(void)arg;
	for (;;) {
		size_t n = 0;

		pthread_mutex_lock(&queue_lock);
		while (!queue_head && !committer_stop)
			pthread_cond_wait(&queue_cond, &queue_lock);
		if (!queue_head) {
			/* Stopping, and nothing waits: from now on workers
			 * store their reports themselves. */
			committer_running = false;
			pthread_cond_broadcast(&queue_cond);
			pthread_mutex_unlock(&queue_lock);
			break;
		}
		while (queue_head && n < BATCH_MAX) {
			jobs[n++] = queue_head;
			queue_head = queue_head->next;
		}
		if (!queue_head)
			queue_tail = NULL;
		pthread_mutex_unlock(&queue_lock);
		commit_batch(&s, jobs, n);
	}
	store_close(s);
	return NULL;
}

struct jarena *server_arena(struct request *rq)
{
	return &rq->arena;
}

enum MHD_Result server_commit(struct MHD_Connection *c, struct request *rq,
			      int64_t id, const char *token_hash,
			      json_t *report)
{
	rq->conn = c;
	snprintf(rq->token_hash, sizeof(rq->token_hash), "%s", token_hash);
	rq->put = (struct store_put){ id, rq->token_hash, report,
				      rq->body ? rq->body : "", rq->len, 0 };
	pthread_mutex_lock(&queue_lock);
	if (!committer_running) {
		struct store *s;

		pthread_mutex_unlock(&queue_lock);
		s = server_store();
		rq->put.result = s ? store_report_put(s, id, rq->token_hash,
						      report, rq->put.body,
						      rq->len)
				   : -EIO;
		return reply_put(c, rq);
	}
	MHD_suspend_connection(c);
	if (queue_tail)
		queue_tail->next = rq;
	else
		queue_head = rq;
	queue_tail = rq;
	pthread_cond_signal(&queue_cond);
	pthread_mutex_unlock(&queue_lock);
	return MHD_YES;
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
	double t;
	size_t i;

	(void)cls;
	(void)c;
	(void)toe;
	if (!rq)
		return;
	t = elapsed(&rq->t0);
	for (i = 0; i < ARRAY_SIZE(buckets) && t > buckets[i]; i++)
		;
	pthread_mutex_lock(&hist_lock);
	hist[i]++;
	hist_sum += t;
	pthread_mutex_unlock(&hist_lock);
	jarena_free(&rq->arena);
	free(rq->body);
	free(rq);
	*con_cls = NULL;
}

char *server_metrics_text(void)
{
	char *buf = NULL;
	size_t len = 0, total = 0;
	FILE *f = open_memstream(&buf, &len);
	static const char *const reasons[] = {
		[M_REJECT_INVALID] = "invalid",
		[M_REJECT_UNAUTHORIZED] = "unauthorized",
		[M_REJECT_FORBIDDEN] = "forbidden",
		[M_REJECT_TOO_LARGE] = "too_large",
		[M_REJECT_MEDIA_TYPE] = "unsupported_media_type",
		[M_REJECT_STORAGE] = "storage_unavailable",
	};

	if (!f)
		abort();
	fprintf(f, "# HELP collectord_reports_accepted_total Reports answered "
		   "2xx.\n# TYPE collectord_reports_accepted_total counter\n"
		   "collectord_reports_accepted_total{result=\"stored\"} %lu\n"
		   "collectord_reports_accepted_total{result=\"duplicate\"} %lu\n",
		__atomic_load_n(&counters[M_REPORTS_STORED], __ATOMIC_RELAXED),
		__atomic_load_n(&counters[M_REPORTS_DUPLICATE], __ATOMIC_RELAXED));
	fprintf(f, "# HELP collectord_reports_rejected_total Reports refused, "
		   "by reason.\n# TYPE collectord_reports_rejected_total counter\n");
	for (int m = M_REJECT_INVALID; m <= M_REJECT_STORAGE; m++)
		fprintf(f, "collectord_reports_rejected_total{reason=\"%s\"} %lu\n",
			reasons[m], __atomic_load_n(&counters[m], __ATOMIC_RELAXED));
	fprintf(f, "# HELP collectord_enrolments_total Enrolment requests.\n"
		   "# TYPE collectord_enrolments_total counter\n"
		   "collectord_enrolments_total{result=\"enrolled\"} %lu\n"
		   "collectord_enrolments_total{result=\"refused\"} %lu\n",
		__atomic_load_n(&counters[M_ENROLLED], __ATOMIC_RELAXED),
		__atomic_load_n(&counters[M_ENROL_REFUSED], __ATOMIC_RELAXED));
	fprintf(f, "# HELP collectord_request_duration_seconds Time to answer "
		   "a request.\n# TYPE collectord_request_duration_seconds "
		   "histogram\n");
	pthread_mutex_lock(&hist_lock);
	for (size_t i = 0; i <= ARRAY_SIZE(buckets); i++) {
		total += hist[i];
		if (i < ARRAY_SIZE(buckets))
			fprintf(f, "collectord_request_duration_seconds_bucket"
				   "{le=\"%g\"} %zu\n", buckets[i], total);
	}
	fprintf(f, "collectord_request_duration_seconds_bucket{le=\"+Inf\"} "
		   "%zu\ncollectord_request_duration_seconds_sum %.6f\n"
		   "collectord_request_duration_seconds_count %zu\n",
		total, hist_sum, total);
	pthread_mutex_unlock(&hist_lock);
	fclose(f);
	return buf;
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
			server_count(M_REJECT_TOO_LARGE);
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
		server_count(M_REJECT_TOO_LARGE);
		return server_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
				    "the body is larger than this server accepts");
	}
	/* Resumed by the committer: the report is on disk, or not. */
	if (rq->committed)
		return reply_put(c, rq);
	return api_dispatch(c, rq, url, method, rq->body ? rq->body : "",
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

int server_start(const struct server_config *c)
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
	if (!answer_stored) {
		answer_stored = answer_new("{\"stored\":true}");
		answer_duplicate = answer_new("{\"stored\":false}");
	}
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
	/* SQLite has one writer: one committer. On PostgreSQL a committer
	 * spends most of its time waiting for the server's answers, and the
	 * server for the next statement: as many committers as worker
	 * threads (2,400 to 7,400-7,900 reports/s with two on two cores;
	 * four did 6,500). Their batches lock device rows in id order and
	 * change the counts in key order, as several instances' do, so they
	 * wait for each other but cannot deadlock. */
	committer_stop = false;
	ncommitters = on_sqlite() ? 1
		      : cfg.threads < MAX_COMMITTERS ? cfg.threads
						     : MAX_COMMITTERS;
	for (unsigned i = 0; i < ncommitters; i++) {
		if (pthread_create(&committers[i], NULL, committer_main,
				   NULL) != 0) {
			ncommitters = i;
			break;
		}
	}
	committer_running = ncommitters > 0;
	if (!committer_running)
		log_warnx("no committer thread: each report commits alone");
	return 0;
}

void server_stop(void)
{
	/* Every waiting report is committed and answered first: the
	 * daemon must not stop with connections suspended. */
	pthread_mutex_lock(&queue_lock);
	committer_stop = true;
	pthread_cond_broadcast(&queue_cond);
	pthread_mutex_unlock(&queue_lock);
	for (unsigned i = 0; i < ncommitters; i++)
		pthread_join(committers[i], NULL);
	ncommitters = 0;
	if (daemon_)
		MHD_stop_daemon(daemon_);
	daemon_ = NULL;
	for (size_t i = 0; i < nstores; i++)
		store_close(stores[i]);
	free(stores);
	stores = NULL;
	nstores = 0;
	MHD_destroy_response(answer_stored);
	MHD_destroy_response(answer_duplicate);
	answer_stored = answer_duplicate = NULL;
	free(tls_cert_pem);
	free(tls_key_pem);
	tls_cert_pem = tls_key_pem = NULL;
	api_exit();
}
