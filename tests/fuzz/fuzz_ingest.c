/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_ingest: collectord's HTTP side, whole. The real server (the
 * libmicrohttpd daemon, its worker threads, the API handlers, the group
 * committer and SQLite) runs in this process on a loopback port; each
 * input is sent as the raw bytes of a request on its own connection.
 *
 * In an input, "@TOKEN@", "@MACHINE@" and "@SECRET@" stand for a device
 * token, its machine id and an enrolment secret made at start-up, so the
 * corpus reaches past authentication.
 *
 * Invariants: the server never answers 500, and keeps answering /healthz
 * (asked every 256 inputs) within 20 s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "api.h"
#include "auth.h"
#include "committer.h"
#include "devkey.h"
#include "fuzz.h"
#include "log.h"
#include "secret.h"
#include "server.h"
#include "store.h"
#include "util.h"

#define MACHINE "0f5a0d1e2c3b4a5968778695a4b3c2d1"
#define ANSWER_MAX (1 << 20)

static unsigned short port;
static char token[256], secret_text[SECRET_HEX_LEN + 1];
static char dir[] = "/tmp/fuzz-ingest.XXXXXX";

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Whether buf holds a whole answer: headers, and a body as long as its
 * Content-Length says. */
static bool answered(char *buf, size_t n)
{
	char *end, *cl;
	unsigned long len;

	buf[n] = '\0';
	end = strstr(buf, "\r\n\r\n");
	if (!end)
		return false;
	*end = '\0';
	cl = strcasestr(buf, "\r\nContent-Length:");
	len = cl ? strtoul(cl + 17, NULL, 10) : 0;
	*end = '\r';
	return cl && n >= (size_t)(end + 4 - buf) + len;
}

/* One request on a fresh connection: the bytes, then end of input; the
 * answer (NUL-terminated, caller frees) is whatever came back.
 *
 * libmicrohttpd (0.9.75) does not always see a client's end of input
 * that arrives with the last bytes of an incomplete request, nor after an
 * answer on a kept-alive connection: it then holds the connection until
 * its 30-second timeout, as it does for any slow client. So the exchange
 * ends at a whole answer, or after a quiet spell (wait_ms with nothing
 * yet, 300 ms after part of an answer), and is then reset, which
 * libmicrohttpd does see at once. With must_answer, nothing at all in 20
 * s is a finding. */
static char *exchange(const char *req, size_t len, size_t *got,
		      unsigned wait_ms, bool must_answer)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	char *buf = xmalloc(ANSWER_MAX + 1);
	size_t off = 0, n = 0;
	uint64_t deadline = now_us() + 20 * 1000000ULL, quiet = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		fuzz_fail("connecting to collectord: %s", strerror(errno));
	if (len == 0)
		shutdown(fd, SHUT_WR);
	/* Write and read together: the server may answer (413, 400) before
	 * it has read everything. */
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (off < len)
			p.events |= POLLOUT;
		if (off == len && answered(buf, n))
			break;
		if (off == len && !quiet)
			quiet = now_us() + (n ? 300 : wait_ms) * 1000ULL;
		/* libFuzzer's timer interrupts poll every second: the
		 * deadlines are kept apart. */
		r = poll(&p, 1, 100);
		if (quiet && now_us() > quiet && (n || !must_answer))
			break;
		if (now_us() > deadline)
			fuzz_fail("collectord did not answer in 20 s (sent %zu "
				  "of %zu bytes, got %zu)", off, len, n);
		if (r <= 0)
			continue;
		if (p.revents & POLLOUT) {
			r = send(fd, req + off, len - off, MSG_NOSIGNAL);
			if (r < 0)
				off = len;	/* it closed on us: read what it said */
			else
				off += (size_t)r;
			if (off == len)
				shutdown(fd, SHUT_WR);
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			r = recv(fd, buf + n, ANSWER_MAX - n, 0);
			if (r <= 0 || n + (size_t)r >= ANSWER_MAX)
				break;
			n += (size_t)r;
			quiet = 0;
		}
	}
	/* Reset, not closed: no TIME_WAIT (thousands of connections a second
	 * would run out of ports), and libmicrohttpd lets go at once. */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	buf[n] = '\0';
	*got = n;
	return buf;
}

static int status_of(const char *answer)
{
	int st;

	if (sscanf(answer, "HTTP/1.%*1[01] %3d ", &st) != 1)
		return -1;
	return st;
}

static void healthy(void)
{
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n"
				  "Connection: close\r\n\r\n";
	size_t n;
	char *a = exchange(req, sizeof(req) - 1, &n, 20000, true);

	if (status_of(a) != 200)
		fuzz_fail("collectord stopped answering /healthz: %.200s", a);
	free(a);
}

static void enrol(void)
{
	char *body = xasprintf("{\"enrol_secret\": \"%s\", \"group\": \"fuzz\","
			       " \"device\": {\"machine_id\": \"" MACHINE "\","
			       " \"hostname\": \"fuzz\"}}", secret_text);
	char *req = xasprintf("POST /api/v1/enrol HTTP/1.1\r\nHost: x\r\n"
			      "Content-Type: application/json\r\n"
			      "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			      strlen(body), body);
	size_t n;
	char *a = exchange(req, strlen(req), &n, 20000, true);
	char *b = strstr(a, "\r\n\r\n");
	json_t *v = b ? json_loads(b + 4, 0, NULL) : NULL;
	const char *t = json_string_value(json_object_get(v, "token"));

	if (status_of(a) != 201 || !t || strlen(t) >= sizeof(token))
		fuzz_fail("enrolling the fuzzing device: %.300s", a);
	strcpy(token, t);
	json_decref(v);
	free(a);
	free(req);
	free(body);
}

static void cleanup(void)
{
	static const char *const files[] = { "collector.db",
					     "collector.db-wal",
					     "collector.db-shm" };
	char path[sizeof(dir) + 32];

	committer_exit();
	server_exit();
	auth_exit();
	api_exit();
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static struct server_config cfg;
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	char hash[SECRET_HASH_LEN + 1], *err = NULL, *url;
	_cleanup_free_ char *pem = NULL;
	struct store *s;
	int fd;

	(void)argc;
	(void)argv;
	log_init("collectord", false);
	if (!mkdtemp(dir))
		fuzz_fail("mkdtemp: %s", strerror(errno));
	url = xasprintf("sqlite:%s/collector.db", dir);
	s = store_open(url, true, &err);
	if (!s)
		fuzz_fail("store_open: %s", err);
	if (secret_new(secret_text) < 0)
		fuzz_fail("secret_new");
	secret_hash(secret_text, hash);
	if (store_secret_add(s, hash, "fuzz") < 0)
		fuzz_fail("store_secret_add");
	store_close(s);
	/* A free loopback port. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
		fuzz_fail("finding a free port: %s", strerror(errno));
	port = ntohs(sa.sin_port);
	close(fd);
	cfg.listen = xasprintf("127.0.0.1:%u", port);
	cfg.db_url = url;
	cfg.max_body = 256 * 1024;
	cfg.stale_hours = 24;
	cfg.retention_days = 90;
	cfg.access = "the fuzzer";
	cfg.threads = 2;
	cfg.dispatch = api_dispatch;
	if (devkey_new_pem(&pem) < 0 || api_init(pem) < 0)
		fuzz_fail("no policy key");
	if (server_init(&cfg) < 0)
		fuzz_fail("collectord did not start");
	committer_init(cfg.db_url, cfg.threads);
	atexit(cleanup);
	enrol();
	return 0;
}

/* The input with the placeholders filled in. */
static char *fill(const uint8_t *data, size_t size, size_t *len)
{
	static const struct {
		const char *name;
		const char *value;
	} ph[] = { { "@TOKEN@", token }, { "@MACHINE@", MACHINE },
		   { "@SECRET@", secret_text } };
	char *out = NULL;
	size_t i = 0, k;
	FILE *f = open_memstream(&out, len);

	if (!f)
		abort();
	while (i < size) {
		for (k = 0; k < sizeof(ph) / sizeof(*ph); k++) {
			size_t pl = strlen(ph[k].name);

			if (size - i >= pl && memcmp(data + i, ph[k].name, pl) == 0) {
				fputs(ph[k].value, f);
				i += pl;
				break;
			}
		}
		if (k == sizeof(ph) / sizeof(*ph))
			fputc(data[i++], f);
	}
	fclose(f);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned long runs;
	size_t len, n;
	char *req = fill(data, size, &len);
	char *a = exchange(req, len, &n, 200, false);
	int st = status_of(a);

	if (st >= 500 && st != 503 && st != 501 && st != 505)
		fuzz_fail("collectord answered %d: %.300s", st, a);
	free(a);
	free(req);
	if (++runs % 256 == 0)
		healthy();
	return 0;
}
