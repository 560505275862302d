/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http: collector URLs, TLS options, JSON POSTs and their answers, and
 * the enrolment file.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"
#include "util.h"

const char *http_url_problem(const char *url)
{
	_cleanup_free_ char *host = NULL, *scheme = NULL;
	CURLU *u;
	bool loopback;

	if (!url || strlen(url) > 1024)
		return "is missing or too long";
	u = curl_url();
	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		curl_url_cleanup(u);
		return "is not a URL";
	}
	curl_url_cleanup(u);
	{
		struct in_addr a;

		/* A name such as 127.example.org is not loopback. */
		loopback = strcmp(host, "localhost") == 0 ||
			   strcmp(host, "[::1]") == 0 ||
			   (inet_pton(AF_INET, host, &a) == 1 &&
			    (ntohl(a.s_addr) >> 24) == 127);
	}
	if (strcasecmp(scheme, "https") == 0)
		return NULL;
	if (strcasecmp(scheme, "http") == 0 && loopback)
		return NULL;
	if (strcasecmp(scheme, "http") == 0)
		return "uses http:// to another machine: the token would "
		       "travel in clear; use https://";
	return "is neither https:// nor http:// to this machine";
}

int http_setup(CURL *h, const char *ca_file, const char *pins)
{
	CURLcode c = CURLE_OK;

#define SET(opt, val) \
	do { if (c == CURLE_OK) c = curl_easy_setopt(h, opt, val); } while (0)
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TIMEOUT, (long)HTTP_TIMEOUT_S);
	SET(CURLOPT_CONNECTTIMEOUT, (long)HTTP_CONNECT_TIMEOUT_S);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_USERAGENT, "endpointd-upload/" VERSION);
	if (ca_file) {
		SET(CURLOPT_CAINFO, ca_file);
		SET(CURLOPT_CAPATH, NULL);
	}
	if (pins)
		SET(CURLOPT_PINNEDPUBLICKEY, pins);
#undef SET
	return c == CURLE_OK ? 0 : -EINVAL;
}

static size_t answer_write(char *p, size_t size, size_t n, void *data)
{
	struct http_answer *a = data;
	size_t len = size * n;

	if (a->len + len > a->max) {
		a->too_big = true;
		return 0;
	}
	a->buf = xrealloc(a->buf, a->len + len + 1);
	memcpy(a->buf + a->len, p, len);
	a->len += len;
	a->buf[a->len] = '\0';
	return len;
}

void http_answer_start(CURL *h, struct http_answer *a, size_t max)
{
	http_answer_free(a);
	a->max = max;
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, answer_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
}

const char *http_answer_text(const struct http_answer *a)
{
	return a->buf ? a->buf : "";
}

void http_answer_free(struct http_answer *a)
{
	free(a->buf);
	memset(a, 0, sizeof(*a));
}

void http_post_json(CURL *h, const char *url, const char *body, size_t len,
		    struct curl_slist **headers)
{
	*headers = curl_slist_append(*headers,
				     "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, *headers);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
}

char *http_pins(const char *const *pins, size_t n)
{
	char *out = NULL;

	for (size_t i = 0; i < n; i++) {
		char *joined = xasprintf("%s%s%s", out ? out : "",
					 out ? ";" : "", pins[i]);

		free(out);
		out = joined;
	}
	return out;
}

char *http_error_text(const char *body, size_t len)
{
	json_t *v = json_loadb(body, len, 0, NULL);
	const char *e = json_string_value(json_object_get(v, "error"));
	char *out;

	if (e) {
		out = xstrndup(e, 512);
	} else {
		out = xstrndup(body, len < 200 ? len : 200);
		for (char *p = out; *p; p++)
			if ((unsigned char)*p < 0x20)
				*p = ' ';
	}
	json_decref(v);
	return out;
}

int enrolment_read(const char *dir, struct enrolment *e)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, ENROLMENT_NAME);
	_cleanup_free_ char *text = NULL;
	json_t *v;
	const char *col, *tok, *grp;
	size_t len;
	int r;

	memset(e, 0, sizeof(*e));
	r = read_file_nofollow(path, 64 * 1024, &text, &len);
	if (r < 0)
		return r == -ENOENT ? r : -EINVAL;
	v = json_loadb(text, len, 0, NULL);
	col = json_string_value(json_object_get(v, "collector"));
	tok = json_string_value(json_object_get(v, "token"));
	grp = json_string_value(json_object_get(v, "group"));
	if (!col || http_url_problem(col) || !tok || strlen(tok) > 256 ||
	    !json_is_integer(json_object_get(v, "device_id"))) {
		json_decref(v);
		return -EINVAL;
	}
	e->collector = xstrdup(col);
	e->token = xstrdup(tok);
	e->group = grp ? xstrdup(grp) : NULL;
	e->device_id = json_integer_value(json_object_get(v, "device_id"));
	json_decref(v);
	return 0;
}

/* The uploader's directory for enrolment_write(), never through a
 * symlink: a directory owned by uid (root when uid is -1) or root, that
 * nobody else may write to. Returns a descriptor or -errno. */
static int enrolment_dir_open(const char *dir, uid_t uid)
{
	struct stat st;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 ||
	    (st.st_uid != 0 && (uid == (uid_t)-1 || st.st_uid != uid)) ||
	    (st.st_mode & 022)) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

/* A new file in dfd under a name nobody can guess beforehand (written to
 * name, which has room for ".XXXXXXXXXXXXXXXX"), mode 0600, written and
 * synced; never through what the directory's owner put there. Returns
 * the descriptor or -errno. */
static int enrolment_tmp_write(int dfd, char *name, const char *text)
{
	size_t len = strlen(text), base = strlen(name);
	int fd = -EEXIST, r = 0;

	for (int i = 0; i < 16 && fd == -EEXIST; i++) {
		uint64_t n;

		if (getrandom(&n, sizeof(n), 0) != sizeof(n))
			return -EIO;
		sprintf(name + base, ".%016llx", (unsigned long long)n);
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				       O_CLOEXEC, 0600);
		if (fd < 0)
			fd = -errno;
		if (fd < 0)
			name[base] = '\0';
	}
	if (fd < 0)
		return fd;
	while (len > 0 && r == 0) {
		ssize_t w = write(fd, text, len);

		if (w < 0 && errno != EINTR)
			r = -errno;
		if (w > 0) {
			text += w;
			len -= (size_t)w;
		}
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		unlinkat(dfd, name, 0);
		return r;
	}
	return fd;
}

/* Whether dfd's enrolment file is the file open at fd. */
static bool enrolment_is(int dfd, int fd)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 &&
	       fstatat(dfd, ENROLMENT_NAME, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int enrolment_write(const char *dir, const struct enrolment *e, uid_t uid,
		    gid_t gid)
{
	char tmp[sizeof(ENROLMENT_NAME ".new.") + 16] = ENROLMENT_NAME ".new";
	_cleanup_free_ char *text = NULL;
	char now[32];
	json_t *v;
	int dfd, fd, r = 0;

	time_rfc3339(now);
	v = json_pack("{s:s, s:I, s:s, s:s?, s:s}", "collector", e->collector,
		      "device_id", (json_int_t)e->device_id, "token", e->token,
		      "group", e->group, "enrolled_at", now);
	text = json_dumps(v, JSON_INDENT(2));
	json_decref(v);
	if (!text)
		return -ENOMEM;
	/* Root writes in a directory the uploader owns: every step goes
	 * through descriptors, so a symlink swapped in cannot make root
	 * write or chown a file of the uploader's choice. */
	dfd = enrolment_dir_open(dir, uid);
	if (dfd < 0)
		return dfd;
	fd = enrolment_tmp_write(dfd, tmp, text);
	if (fd < 0) {
		close(dfd);
		return fd;
	}
	/* Mode 0600 from the start; the uploader's once complete. */
	if ((uid != (uid_t)-1 && fchown(fd, uid, gid) < 0) ||
	    renameat(dfd, tmp, dfd, ENROLMENT_NAME) < 0) {
		r = -errno;
		unlinkat(dfd, tmp, 0);
	}
	/* What was renamed may be what the owner put at tmp since. */
	if (r == 0 && !enrolment_is(dfd, fd))
		r = -EAGAIN;
	close(fd);
	if (r == 0 && fsync(dfd) < 0)
		r = -errno;
	close(dfd);
	return r;
}

void enrolment_clear(struct enrolment *e)
{
	free(e->collector);
	free(e->token);
	free(e->group);
	memset(e, 0, sizeof(*e));
}
