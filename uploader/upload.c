/* SPDX-License-Identifier: Apache-2.0 */
/*
 * endpointd-upload: delivers endpointd's spooled reports to the collector
 * and fetches the policy the collector holds for this laptop's group.
 *
 * It runs as its own unprivileged user with network access, the spool
 * directory (shared with endpointd through a group) and its own state
 * directory, which holds the device token. endpointd, which is root, has
 * no network at all. One thread, one loop: curl_multi_poll() waits on the
 * transfer in progress, on inotify (a new report, new settings, a new
 * enrolment) and on signals. How a request is set up (TLS, the JSON POST,
 * the buffer the answer goes to) is lib/http.c's, shared with endpointctl
 * enroll; the transfer itself stays in the multi loop.
 *
 * Reports go oldest first, one at a time over a kept-alive connection,
 * and a report is removed only after the collector answered 2xx (201
 * stored, 200 stored before: the collector is idempotent on device and
 * sequence number, so a report sent again after a crash is stored once).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "devkey.h"
#include "http.h"
#include "log.h"
#include "paths.h"
#include "privacy.h"
#include "spool.h"
#include "utf8.h"
#include "util.h"


#define REPORT_MAX (16 * 1024 * 1024)
#define POLICY_MAX (1024 * 1024)
#define REJECTED_KEPT 16
#define STATUS_EVERY_MS 1000
#define ETAG_NAME "policy.etag"
/* The Endpointd-Terms header: three short fields, even \u-escaped. */
#define TERMS_MAX 2048

enum transfer { NONE, REPORT, POLICY };

static struct {
	const char *spool, *dir;
	bool once;
	int ino, sigfd;

	/* From endpointd (uploader.json) and from enrolment. */
	bool configured, reconnect;
	char *ca_file, *pins;
	unsigned retry_max_s, heartbeat_min;
	bool enrolled, revoked;
	struct enrolment en;

	/* Reports waiting, oldest first: q[qhead..qn). */
	uint64_t *q;
	size_t qn, qhead, qcap;
	bool rescan;

	CURLM *multi;
	CURL *easy;
	struct curl_slist *headers;
	enum transfer busy;
	uint64_t seq;			/* the report being sent */
	char *body;			/* the spool file */
	size_t body_len;
	const char *report;		/* the report's bytes in body */
	size_t report_len;
	char sig[DEVKEY_SIG_B64 + 1];	/* endpointd's signature, or "" */
	struct http_answer resp;

	unsigned failures;
	uint64_t next_try_ms, next_policy_ms;
	bool policy_fetched;

	/* What uploader.status says. */
	const char *state;
	char last_delivery[32], last_attempt[32], next_attempt[32];
	char *last_error;
	uint64_t delivered, rejected_total;
	json_t *rejected;
	json_t *terms;		/* the collector's, for endpointctl privacy */
	char *terms_from;	/* ... and which collector said them */
	bool status_dirty;
	uint64_t status_due_ms;
} up;

static void status_changed(const char *state)
{
	if (state)
		up.state = state;
	up.status_dirty = true;
}

static void set_error(const char *fmt, ...) _printf_(1, 2);
static void set_error(const char *fmt, ...)
{
	va_list ap;

	free(up.last_error);
	va_start(ap, fmt);
	if (vasprintf(&up.last_error, fmt, ap) < 0)
		up.last_error = NULL;
	va_end(ap);
	status_changed(NULL);
}

static void write_status(void)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", up.spool,
					      SPOOL_STATUS_NAME);
	_cleanup_free_ char *text = NULL;
	json_t *s;

	s = json_pack("{s:s, s:s?, s:I, s:s?, s:s?, s:s?, s:s?, s:I, s:I, "
		      "s:O, s:I, s:O?}",
		      "state", up.state,
		      "collector", up.enrolled ? up.en.collector : NULL,
		      "device_id", (json_int_t)up.en.device_id,
		      "last_delivery", up.last_delivery[0] ? up.last_delivery : NULL,
		      "last_attempt", up.last_attempt[0] ? up.last_attempt : NULL,
		      "next_attempt", up.next_attempt[0] ? up.next_attempt : NULL,
		      "last_error", up.last_error,
		      "delivered", (json_int_t)up.delivered,
		      "rejected_total", (json_int_t)up.rejected_total,
		      "rejected", up.rejected,
		      "queued", (json_int_t)(up.qn - up.qhead),
		      "terms", up.enrolled ? up.terms : NULL);
	text = json_dumps(s, JSON_COMPACT);
	json_decref(s);
	if (text && write_file_atomic(path, text, strlen(text), 0640) < 0)
		log_warn("%s", path);
	up.status_dirty = false;
	up.status_due_ms = boottime_ms() + STATUS_EVERY_MS;
}

/* --- settings and enrolment --- */

static void read_settings(void)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", up.spool,
					      SPOOL_SETTINGS_NAME);
	_cleanup_free_ char *text = NULL;
	json_t *v, *pins, *p;
	size_t len, i;
	const char *ca, *pin[16];
	json_int_t retry, beat;

	if (read_file_nofollow(path, 64 * 1024, &text, &len) < 0)
		return;		/* endpointd has not started yet */
	v = json_loadb(text, len, 0, NULL);
	ca = json_string_value(json_object_get(v, "ca_file"));
	pins = json_object_get(v, "pinned_pubkey");
	retry = json_integer_value(json_object_get(v, "retry_max_seconds"));
	beat = json_integer_value(json_object_get(v, "heartbeat_minutes"));
	if (!json_is_array(pins) || json_array_size(pins) > 16 ||
	    (ca && (ca[0] != '/' || strlen(ca) > 1024)) || retry < 10 ||
	    retry > 86400 || beat < 1 || beat > 1440) {
		log_warnx("%s: not settings endpointd wrote; ignored", path);
		json_decref(v);
		return;
	}
	json_array_foreach(pins, i, p) {
		if (json_string_length(p) != 8 + 44 ||
		    strncmp(json_string_value(p), "sha256//", 8) != 0) {
			log_warnx("%s: pinned_pubkey[%zu] is not a pin; ignored",
				  path, i);
			json_decref(v);
			return;
		}
		pin[i] = json_string_value(p);
	}
	free(up.ca_file);
	free(up.pins);
	up.ca_file = ca ? xstrdup(ca) : NULL;
	up.pins = http_pins(pin, json_array_size(pins));
	/* A connection kept alive was checked under the old settings. */
	up.reconnect = true;
	up.retry_max_s = (unsigned)retry;
	if (up.heartbeat_min != (unsigned)beat && up.configured)
		up.next_policy_ms = boottime_ms() + (uint64_t)beat * 60000;
	up.heartbeat_min = (unsigned)beat;
	up.configured = true;
	json_decref(v);
	log_debug("settings: ca_file %s, %s, retries up to %u s",
		  up.ca_file ? up.ca_file : "(system)",
		  up.pins ? "pinned" : "no pins", up.retry_max_s);
}

static void forget_terms_of_others(void);

static void read_enrolment(void)
{
	struct enrolment e;
	int r = enrolment_read(up.dir, &e);

	if (r < 0) {
		if (r != -ENOENT)
			log_warnx("%s/%s: not an enrolment; run endpointctl "
				  "enroll again", up.dir, ENROLMENT_NAME);
		if (!up.enrolled)
			status_changed("not_enrolled");
		return;
	}
	if (up.enrolled && strcmp(e.token, up.en.token) == 0 &&
	    strcmp(e.collector, up.en.collector) == 0) {
		enrolment_clear(&e);
		return;
	}
	enrolment_clear(&up.en);
	up.en = e;
	up.enrolled = true;
	up.revoked = false;
	up.failures = 0;
	up.next_try_ms = up.next_policy_ms = 0;
	log_info("enrolled with %s as device %" PRId64, up.en.collector,
		 up.en.device_id);
	forget_terms_of_others();
	status_changed("idle");
}

/* --- the queue --- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void queue_push(uint64_t seq)
{
	if (up.qn == up.qcap) {
		if (up.qhead > up.qcap / 2) {
			memmove(up.q, up.q + up.qhead,
				(up.qn - up.qhead) * sizeof(*up.q));
			up.qn -= up.qhead;
			up.qhead = 0;
		} else {
			up.qcap = up.qcap ? 2 * up.qcap : 256;
			up.q = xrealloc(up.q, up.qcap * sizeof(*up.q));
		}
	}
	up.q[up.qn++] = seq;
}

static void queue_scan(void)
{
	DIR *d = opendir(up.spool);
	struct dirent *de;

	up.qn = up.qhead = 0;
	up.rescan = false;
	if (!d) {
		log_warn("%s", up.spool);
		return;
	}
	while ((de = readdir(d)))
		if (spool_is_report_name(de->d_name))
			queue_push(strtoull(de->d_name, NULL, 10));
	closedir(d);
	if (up.qn)
		qsort(up.q, up.qn, sizeof(*up.q), cmp_u64);
}

/* A report endpointd just renamed into the spool: almost always the
 * newest. */
static void queue_add(uint64_t seq)
{
	if (up.qn > up.qhead && up.q[up.qn - 1] >= seq) {
		up.rescan = true;
		return;
	}
	queue_push(seq);
}

/* --- transfers --- */

static char *url_of(const char *path)
{
	return xasprintf("%s%s", up.en.collector, path);
}

static int start(enum transfer kind, const char *path)
{
	_cleanup_free_ char *url = url_of(path);
	_cleanup_free_ char *auth = xasprintf("Authorization: Bearer %s",
					      up.en.token);

	curl_easy_reset(up.easy);
	curl_slist_free_all(up.headers);
	up.headers = curl_slist_append(NULL, auth);
	http_answer_start(up.easy, &up.resp, POLICY_MAX);
	if (http_setup(up.easy, up.ca_file, up.pins) < 0) {
		set_error("libcurl refused the TLS settings (ca_file %s)",
			  up.ca_file ? up.ca_file : "none");
		return -EINVAL;
	}
	if (kind == REPORT) {
		/* No 100-continue round trip for a few KB. */
		up.headers = curl_slist_append(up.headers, "Expect:");
		if (up.sig[0]) {
			_cleanup_free_ char *h = xasprintf(
				SPOOL_SIG_HEADER ": " SPOOL_SIG_PREFIX "%s",
				up.sig);

			up.headers = curl_slist_append(up.headers, h);
		}
		http_post_json(up.easy, url, up.report, up.report_len,
			       &up.headers);
	} else {
		_cleanup_free_ char *etag = NULL;
		_cleanup_free_ char *p = xasprintf("%s/%s", up.dir, ETAG_NAME);

		if (read_file_nofollow(p, 256, &etag, NULL) == 0 &&
		    strspn(etag, "\"0123456789abcdef") == strlen(etag)) {
			_cleanup_free_ char *h = xasprintf("If-None-Match: %s",
							   etag);

			up.headers = curl_slist_append(up.headers, h);
		}
		curl_easy_setopt(up.easy, CURLOPT_URL, url);
		curl_easy_setopt(up.easy, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(up.easy, CURLOPT_HTTPHEADER, up.headers);
	}
	time_rfc3339(up.last_attempt);
	if (curl_multi_add_handle(up.multi, up.easy) != CURLM_OK)
		return -EIO;
	up.busy = kind;
	status_changed("sending");
	return 0;
}

static int start_report(void)
{
	_cleanup_free_ char *path = NULL;
	int r;

	while (up.qhead < up.qn) {
		up.seq = up.q[up.qhead];
		free(path);
		path = spool_report_path(up.spool, up.seq, "");
		free(up.body);
		up.body = NULL;
		r = read_file_nofollow(path, REPORT_MAX, &up.body, &up.body_len);
		if (r == 0 && spool_split(up.body, up.body_len, up.sig,
					  &up.report, &up.report_len) == 0)
			return start(REPORT, "/api/v1/reports");
		if (r < 0 && r != -ENOENT && r != -EFBIG) {
			set_error("%s: %s", path, strerror(-r));
			return r;
		}
		if (r == 0)
			log_warnx("%s: neither a report nor a signed one; left "
				  "in the spool", path);
		if (r == -EFBIG)
			log_warnx("%s: larger than %d MiB; left in the spool",
				  path, REPORT_MAX >> 20);
		up.qhead++;	/* dropped by endpointd, too big, or not one */
	}
	return -ENOENT;
}

/* Wait before the next try: doubled at each failure up to retry_max_s,
 * the second half random so a school's laptops spread out; at least
 * what the collector asked for in Retry-After. */
static void back_off(long retry_after)
{
	uint64_t cap = (uint64_t)up.retry_max_s * 1000, wait = 1000, jitter;
	time_t t;
	struct tm tm;

	for (unsigned i = 0; i < up.failures && wait < cap; i++)
		wait *= 2;
	if (wait > cap)
		wait = cap;
	if (getrandom(&jitter, sizeof(jitter), 0) != sizeof(jitter))
		jitter = boottime_ms();
	wait = wait / 2 + jitter % (wait / 2 + 1);
	if (retry_after > 0 && (uint64_t)retry_after * 1000 > wait)
		wait = (uint64_t)(retry_after < 86400 ? retry_after : 86400) *
		       1000;
	up.failures++;
	up.next_try_ms = boottime_ms() + wait;
	t = time(NULL) + (time_t)(wait / 1000);
	gmtime_r(&t, &tm);
	strftime(up.next_attempt, sizeof(up.next_attempt), "%Y-%m-%dT%H:%M:%SZ",
		 &tm);
	status_changed("retrying");
}

static void delivered(void)
{
	_cleanup_free_ char *path = spool_report_path(up.spool, up.seq, "");

	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("%s", path);
	up.qhead++;
	up.delivered++;
	up.failures = 0;
	up.next_attempt[0] = '\0';
	time_rfc3339(up.last_delivery);
	free(up.last_error);
	up.last_error = NULL;
	status_changed("idle");
}

/* Refused for good: set aside so the reports behind it go on. */
static void rejected(long code, const char *why)
{
	_cleanup_free_ char *from = spool_report_path(up.spool, up.seq, "");
	_cleanup_free_ char *dir = xasprintf("%s/%s", up.spool,
					     SPOOL_REJECTED_DIR);
	_cleanup_free_ char *to = spool_report_path(dir, up.seq, "");
	char now[32];

	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		log_warn("%s", dir);
	if (rename(from, to) < 0 && unlink(from) < 0 && errno != ENOENT)
		log_warn("%s", from);
	log_warnx("report %" PRIu64 " refused by the collector (%ld: %s); "
		  "moved to %s", up.seq, code, why, to);
	time_rfc3339(now);
	json_array_append_new(up.rejected,
			      json_pack("{s:I, s:i, s:s, s:s}",
					"seq", (json_int_t)up.seq,
					"http_status", (int)code,
					"error", why, "at", now));
	while (json_array_size(up.rejected) > REJECTED_KEPT)
		json_array_remove(up.rejected, 0);
	up.rejected_total++;
	up.qhead++;
	up.failures = 0;
	status_changed("idle");
}

static void revoked(void)
{
	log_errx("the collector no longer accepts this device's token; "
		 "reports stay in the spool until it is enrolled again "
		 "(endpointctl enroll)");
	up.revoked = true;
	set_error("the collector refused the device token (401)");
	status_changed("token_revoked");
}

/* The collector's terms come with every answer to a policy request. */
static void take_terms(void)
{
	struct curl_header *h = NULL;
	json_t *v, *t;

	if (curl_easy_header(up.easy, "Endpointd-Terms", 0, CURLH_HEADER, -1,
			     &h) != CURLHE_OK)
		return;
	v = strlen(h->value) <= TERMS_MAX ? json_loads(h->value, 0, NULL)
					  : NULL;
	t = privacy_terms(v);
	json_decref(v);
	if (!t) {
		log_warnx("policy: the collector's Endpointd-Terms header is "
			  "not terms; ignored");
		return;
	}
	if (!json_equal(t, up.terms))
		status_changed(NULL);
	json_decref(up.terms);
	up.terms = t;
	free(up.terms_from);
	up.terms_from = xstrdup(up.en.collector);
}

/* Terms said by another collector than this enrolment's are not its. */
static void forget_terms_of_others(void)
{
	if (up.terms && up.enrolled && up.terms_from &&
	    strcmp(up.terms_from, up.en.collector) == 0)
		return;
	json_decref(up.terms);
	free(up.terms_from);
	up.terms = NULL;
	up.terms_from = NULL;
}

/* The terms last heard, from the status written before a restart. */
static void read_old_terms(void)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", up.spool,
					      SPOOL_STATUS_NAME);
	_cleanup_free_ char *text = NULL;
	size_t len;
	json_t *v;

	if (read_file_nofollow(path, 64 * 1024, &text, &len) < 0)
		return;
	v = json_loadb(text, len, 0, NULL);
	up.terms = privacy_terms(json_object_get(v, "terms"));
	if (up.terms && json_string_value(json_object_get(v, "collector")))
		up.terms_from = xstrdup(json_string_value(
			json_object_get(v, "collector")));
	json_decref(v);
}

static void policy_answer(long code)
{
	_cleanup_free_ char *in = xasprintf("%s/%s", up.spool,
					    SPOOL_POLICY_NAME);
	_cleanup_free_ char *etag_path = xasprintf("%s/%s", up.dir, ETAG_NAME);
	_cleanup_free_ char *text = NULL;
	struct curl_header *h = NULL, *sig = NULL;
	size_t pre = strlen(SPOOL_SIG_PREFIX);
	int r;

	up.policy_fetched = true;
	take_terms();
	if (code == 304 || code == 404)
		return;		/* unchanged, or none for this group */
	if (code != 200) {
		log_warnx("policy: the collector answered %ld", code);
		return;
	}
	if (curl_easy_header(up.easy, SPOOL_SIG_HEADER, 0, CURLH_HEADER, -1,
			     &sig) == CURLHE_OK &&
	    strncmp(sig->value, SPOOL_SIG_PREFIX, pre) == 0 &&
	    strlen(sig->value + pre) == DEVKEY_SIG_B64 &&
	    !strpbrk(sig->value, "\r\n"))
		text = xasprintf("%s\n%.*s", sig->value, (int)up.resp.len,
				 http_answer_text(&up.resp));
	else
		text = xstrndup(http_answer_text(&up.resp), up.resp.len);
	/* endpointd validates it and its signature; this only hands them
	 * over, in the spool's form: the signature's line, then the text. */
	r = write_file_atomic(in, text, strlen(text), 0640);
	if (r < 0) {
		log_warnx("%s: %s", in, strerror(-r));
		return;
	}
	log_info("policy from the collector handed to endpointd (%zu bytes)",
		 up.resp.len);
	if (curl_easy_header(up.easy, "ETag", 0, CURLH_HEADER, -1, &h) ==
		    CURLHE_OK &&
	    strlen(h->value) < 128 &&
	    write_file_atomic(etag_path, h->value, strlen(h->value), 0600) < 0)
		log_warn("%s", etag_path);
}

static void finish(CURLcode result)
{
	enum transfer kind = up.busy;
	long code = 0;
	curl_off_t retry_after = 0;
	_cleanup_free_ char *why = NULL;

	curl_easy_getinfo(up.easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(up.easy, CURLINFO_RETRY_AFTER, &retry_after);
	curl_multi_remove_handle(up.multi, up.easy);
	up.busy = NONE;
	if (result != CURLE_OK && !(result == CURLE_WRITE_ERROR &&
				    up.resp.too_big)) {
		set_error("%s: %s", up.en.collector, curl_easy_strerror(result));
		log_warnx("%s", up.last_error);
		back_off(0);
		return;
	}
	if (code == 401) {
		revoked();
		return;
	}
	if (kind == POLICY) {
		if (up.resp.too_big) {
			log_warnx("policy: larger than 1 MiB; ignored");
			code = 0;
		}
		if (code >= 500 || code == 429) {
			back_off((long)retry_after);
			up.next_policy_ms = up.next_try_ms;
			return;
		}
		policy_answer(code);
		status_changed("idle");
		return;
	}
	why = http_error_text(http_answer_text(&up.resp), up.resp.len);
	utf8_no_controls(why);
	if (code >= 200 && code < 300)
		delivered();
	else if (code == 400 || code == 403 || code == 413 || code == 415)
		rejected(code, why);
	else {
		set_error("report %" PRIu64 ": the collector answered %ld: %s",
			  up.seq, code, why);
		log_warnx("%s", up.last_error);
		back_off(code == 429 || code == 503 ? (long)retry_after : 0);
	}
}

/* Start what is due, when nothing is in flight. */
static void next(uint64_t now)
{
	if (up.busy || !up.configured || !up.enrolled || up.revoked ||
	    now < up.next_try_ms)
		return;
	if (up.rescan)
		queue_scan();
	if (up.reconnect) {
		curl_easy_cleanup(up.easy);
		curl_multi_cleanup(up.multi);
		up.multi = curl_multi_init();
		up.easy = curl_easy_init();
		if (!up.multi || !up.easy) {
			log_errx("libcurl: out of memory");
			exit(2);
		}
		up.reconnect = false;
	}
	if (now >= up.next_policy_ms) {
		up.next_policy_ms = now + (uint64_t)up.heartbeat_min * 60000;
		if (start(POLICY, "/api/v1/agent/policy") == 0)
			return;
	}
	if (start_report() == -ENOENT && strcmp(up.state, "idle") != 0)
		status_changed("idle");
}

/* --- events --- */

static void on_inotify(void)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool settings = false, enrolment = false;
	ssize_t n;

	while ((n = read(up.ino, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *e = (void *)p;

			p += sizeof(*e) + e->len;
			if (e->mask & IN_Q_OVERFLOW) {
				up.rescan = settings = enrolment = true;
			} else if (!e->len) {
				continue;
			} else if (spool_is_report_name(e->name)) {
				queue_add(strtoull(e->name, NULL, 10));
			} else if (strcmp(e->name, SPOOL_SETTINGS_NAME) == 0) {
				settings = true;
			} else if (strcmp(e->name, ENROLMENT_NAME) == 0) {
				enrolment = true;
			}
		}
	}
	if (settings)
		read_settings();
	if (enrolment)
		read_enrolment();
}

/* Returns false when asked to stop. */
static bool on_signal(void)
{
	struct signalfd_siginfo si;
	bool go_on = true;

	while (read(up.sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			/* Now: settings, enrolment, the policy, a retry. */
			read_settings();
			read_enrolment();
			up.revoked = false;
			up.rescan = true;
			up.next_try_ms = up.next_policy_ms = 0;
		} else {
			log_info("signal %u: stopping", si.ssi_signo);
			go_on = false;
		}
	}
	return go_on;
}

static int wait_ms(uint64_t now)
{
	uint64_t until = UINT64_MAX;

	if (up.busy)
		return 1000;
	if (up.status_dirty)
		until = up.status_due_ms;
	if (up.configured && up.enrolled && !up.revoked) {
		uint64_t due = up.next_try_ms;

		if (up.qhead == up.qn && !up.rescan && due < up.next_policy_ms)
			due = up.next_policy_ms;
		if (due < until)
			until = due;
	}
	if (until <= now)
		return 0;
	return until - now > 60000 ? 60000 : (int)(until - now);
}

static int run(void)
{
	for (;;) {
		struct curl_waitfd extra[2] = {
			{ .fd = up.ino, .events = CURL_WAIT_POLLIN },
			{ .fd = up.sigfd, .events = CURL_WAIT_POLLIN },
		};
		uint64_t now = boottime_ms();
		int running;

		next(now);
		if (up.once && !up.busy &&
		    (up.revoked || !up.enrolled || !up.configured ||
		     (up.policy_fetched && up.qhead == up.qn && !up.rescan) ||
		     up.failures))
			break;
		if (curl_multi_poll(up.multi, extra, 2, wait_ms(boottime_ms()),
				    NULL) != CURLM_OK)
			return -EIO;
		if (extra[1].revents && !on_signal())
			break;
		if (extra[0].revents)
			on_inotify();
		if (up.busy) {
			CURLMsg *m;
			int left;

			curl_multi_perform(up.multi, &running);
			while ((m = curl_multi_info_read(up.multi, &left)))
				if (m->msg == CURLMSG_DONE)
					finish(m->data.result);
		}
		if (up.status_dirty && boottime_ms() >= up.status_due_ms)
			write_status();
	}
	if (up.busy)
		curl_multi_remove_handle(up.multi, up.easy);
	write_status();
	return 0;
}

static int setup(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	up.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	up.ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (up.sigfd < 0 || up.ino < 0)
		return -errno;
	if (inotify_add_watch(up.ino, up.spool, IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
		log_err("%s", up.spool);
		return -errno;
	}
	if (mkdir(up.dir, 0700) < 0 && errno != EEXIST) {
		log_err("%s", up.dir);
		return -errno;
	}
	if (inotify_add_watch(up.ino, up.dir, IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
		log_err("%s", up.dir);
		return -errno;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -EIO;
	up.multi = curl_multi_init();
	up.easy = curl_easy_init();
	if (!up.multi || !up.easy)
		return -ENOMEM;
	remove_stale_temps(up.spool, SPOOL_STATUS_NAME);
	remove_stale_temps(up.spool, SPOOL_POLICY_NAME);
	remove_stale_temps(up.dir, ETAG_NAME);
	up.rejected = json_array();
	up.state = "not_enrolled";
	up.status_dirty = true;
	read_old_terms();
	read_settings();
	read_enrolment();
	queue_scan();
	return 0;
}

static void teardown(void)
{
	curl_easy_cleanup(up.easy);
	curl_multi_cleanup(up.multi);
	curl_slist_free_all(up.headers);
	curl_global_cleanup();
	enrolment_clear(&up.en);
	free(up.ca_file);
	free(up.pins);
	free(up.q);
	free(up.body);
	http_answer_free(&up.resp);
	free(up.last_error);
	json_decref(up.rejected);
	json_decref(up.terms);
	free(up.terms_from);
	if (up.ino >= 0)
		close(up.ino);
	if (up.sigfd >= 0)
		close(up.sigfd);
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: endpointd-upload [OPTIONS]\n"
		"Deliver endpointd's reports to the collector; fetch its policy.\n\n"
		"  -s, --state-dir DIR   endpointd's state directory; reports are in\n"
		"                        DIR/spool (default %s)\n"
		"  -u, --upload-dir DIR  the enrolment and token (default\n"
		"                        %s)\n"
		"  -1, --once            send what is spooled, fetch the policy, exit:\n"
		"                        0 all sent, 1 some left, 2 error\n"
		"  -d, --debug           log debug messages\n"
		"  -V, --version         print the version\n"
		"  -h, --help            this text\n\n"
		"SIGHUP: read settings and enrolment again and try at once.\n",
		PATH_STATE_DIR, PATH_UPLOAD_DIR);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ "upload-dir", required_argument, NULL, 'u' },
		{ "once", no_argument, NULL, '1' },
		{ "debug", no_argument, NULL, 'd' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state_dir = PATH_STATE_DIR;
	_cleanup_free_ char *spool = NULL;
	bool debug = false;
	int c, r;

	up.dir = PATH_UPLOAD_DIR;
	up.ino = up.sigfd = -1;
	while ((c = getopt_long(argc, argv, "s:u:1dVh", longopts, NULL)) != -1) {
		switch (c) {
		case 's': state_dir = optarg; break;
		case 'u': up.dir = optarg; break;
		case '1': up.once = true; break;
		case 'd': debug = true; break;
		case 'V': printf("endpointd-upload %s\n", VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	log_init("endpointd-upload", debug);
	spool = xasprintf("%s/spool", state_dir);
	up.spool = spool;
	r = setup();
	if (r == 0)
		r = run();
	if (r < 0)
		log_errx("%s", strerror(-r));
	else if (up.once && !up.configured)
		log_errx("%s/%s: missing; is endpointd running?", up.spool,
			 SPOOL_SETTINGS_NAME);
	else if (up.once && !up.enrolled)
		log_errx("not enrolled; run endpointctl enroll");
	teardown();
	if (r < 0 || (up.once && (!up.configured || !up.enrolled || up.revoked)))
		return 2;
	if (up.once)
		return up.qhead == up.qn ? 0 : 1;
	return 0;
}
