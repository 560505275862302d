/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http: what the uploader and `endpointctl enroll` share about talking to
 * the collector: which URLs are acceptable, TLS settings (verification is
 * always on), a JSON POST and the buffer its answer is collected in, and
 * the enrolment file that holds the device token.
 *
 * Only the setting up is shared, not the transfer: the uploader runs its
 * handle in a curl multi loop that must not block, endpointctl enroll
 * waits in curl_easy_perform().
 */
#ifndef UPLOADER_HTTP_H
#define UPLOADER_HTTP_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define ENROLMENT_NAME "enrolment.json"
#define HTTP_TIMEOUT_S 60
#define HTTP_CONNECT_TIMEOUT_S 15

/* Why url cannot be a collector's address, or NULL when it can: https://,
 * or http:// to a loopback address only (the token would travel in
 * clear). */
const char *http_url_problem(const char *url);

/* Common options on h: protocols, timeouts, no redirects, TLS
 * verification of peer and host always; ca_file (NULL: the system store)
 * and pins ("sha256//...;sha256//...", NULL: none). Returns 0 or -EINVAL
 * when libcurl refuses an option. */
int http_setup(CURL *h, const char *ca_file, const char *pins);

/* A response body collected in memory. */
struct http_answer {
	char *buf;		/* NUL-terminated; NULL while nothing came */
	size_t len;
	size_t max;		/* a longer body fails the transfer ... */
	bool too_big;		/* ... and sets this */
};

/* Empty a (freeing what it held), accept at most max bytes from now on,
 * and have h write what it receives into it. */
void http_answer_start(CURL *h, struct http_answer *a, size_t max);
/* The body so far, "" when none. */
const char *http_answer_text(const struct http_answer *a);
/* Free what a holds. */
void http_answer_free(struct http_answer *a);

/* Make h POST the JSON body[0..len) to url. *headers (NULL, or the
 * caller's: Authorization) gains Content-Type and is handed to h; the
 * caller frees it with curl_slist_free_all() once the transfer is over. */
void http_post_json(CURL *h, const char *url, const char *body, size_t len,
		    struct curl_slist **headers);

/* Pins as libcurl takes them ("a;b"), or NULL when n is 0. */
char *http_pins(const char *const *pins, size_t n);

/* The "error" of a collector's JSON error body, or the body's start. */
char *http_error_text(const char *body, size_t len);

struct enrolment {
	char *collector;	/* base URL, no trailing slash */
	int64_t device_id;
	char *token;		/* "ID.HEX" */
	char *group;		/* NULL: the collector's default */
};

/* Read dir/enrolment.json. Returns 0, -ENOENT, or -EINVAL. */
int enrolment_read(const char *dir, struct enrolment *e);
/* Write it atomically, mode 0600, owned by uid:gid (unchanged when
 * uid is -1), through descriptors only: dir must be a directory, not a
 * symlink, owned by root or uid and writable by no one else (-EPERM).
 * Returns 0 or -errno. */
int enrolment_write(const char *dir, const struct enrolment *e, uid_t uid,
		    gid_t gid);
void enrolment_clear(struct enrolment *e);

#endif
