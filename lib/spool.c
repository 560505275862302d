/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spool: atomic report files, bounded in count and bytes, oldest dropped
 * first.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devkey.h"
#include "log.h"
#include "spool.h"
#include "util.h"

static char *spool_dir;
static unsigned spool_max;
static uint64_t spool_max_bytes;
static const struct devkey *spool_key;

/* Shared with the uploader's group when the installer created it. */
static int spool_share(const char *dir)
{
	struct group *g = getgrnam(UPLOAD_GROUP);

	if (!g)
		return chmod(dir, 0750) < 0 ? -errno : 0;
	if (chown(dir, 0, g->gr_gid) < 0 || chmod(dir, 02770) < 0)
		return -errno;
	return 0;
}

int spool_init(const char *dir, unsigned max_reports, uint64_t max_bytes)
{
	int r;

	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return -errno;
	r = spool_share(dir);
	if (r < 0)
		log_warnx("spool %s: cannot share it with group %s: %s", dir,
			  UPLOAD_GROUP, strerror(-r));
	spool_dir = xstrdup(dir);
	spool_set_limits(max_reports, max_bytes);
	return 0;
}

void spool_exit(void)
{
	free(spool_dir);
	spool_dir = NULL;
}

void spool_set_limits(unsigned max_reports, uint64_t max_bytes)
{
	spool_max = max_reports;
	spool_max_bytes = max_bytes;
}

const char *spool_path(void)
{
	return spool_dir;
}

bool spool_is_report_name(const char *name)
{
	size_t n = strlen(name);

	return n == 20 + 5 && strspn(name, "0123456789") == 20 &&
	       strcmp(name + 20, ".json") == 0;
}

struct spooled {
	char name[26];
	uint64_t size;
};

static int cmp_spooled(const void *a, const void *b)
{
	return strcmp(((const struct spooled *)a)->name,
		      ((const struct spooled *)b)->name);
}

/* The reports in the spool, oldest first. Returns how many, or -errno. */
static ssize_t spool_list(struct spooled **out, uint64_t *total)
{
	DIR *d = opendir(spool_dir);
	struct spooled *v = NULL;
	size_t n = 0;
	struct dirent *de;

	*total = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct stat st;

		if (!spool_is_report_name(de->d_name) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;	/* not a report, or just sent */
		v = xrealloc(v, (n + 1) * sizeof(*v));
		memcpy(v[n].name, de->d_name, sizeof(v[n].name));
		v[n].size = (uint64_t)st.st_size;
		*total += v[n].size;
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_spooled);
	*out = v;
	return (ssize_t)n;
}

int spool_usage(unsigned *reports, uint64_t *bytes)
{
	_cleanup_free_ struct spooled *v = NULL;
	ssize_t n = spool_dir ? spool_list(&v, bytes) : -ENOENT;

	if (n < 0)
		return (int)n;
	*reports = (unsigned)n;
	return 0;
}

/* Remove the oldest reports beyond the limits; returns how many. The
 * newest report always stays, however large. */
static int spool_trim(void)
{
	_cleanup_free_ struct spooled *v = NULL;
	uint64_t total;
	ssize_t n = spool_list(&v, &total);
	size_t left, removed = 0;

	if (n < 0)
		return (int)n;
	left = (size_t)n;
	for (size_t i = 0; i + 1 < (size_t)n; i++) {
		if (left <= spool_max && total <= spool_max_bytes)
			break;
		_cleanup_free_ char *p = xasprintf("%s/%s", spool_dir,
						   v[i].name);

		if (unlink(p) == 0) {
			removed++;
		} else if (errno != ENOENT) {	/* ENOENT: just delivered */
			log_warn("spool: removing %s", p);
			continue;
		}
		left--;
		total -= v[i].size;
	}
	return (int)removed;
}

/* Larger than any report endpointd writes: a bound for reading one back. */
#define SPOOL_RECOVER_MAX (64 * 1024 * 1024)

char *spool_report_path(const char *dir, uint64_t seq, const char *suffix)
{
	return xasprintf("%s/%020" PRIu64 ".json%s", dir, seq, suffix);
}

static char *report_path(uint64_t seq, const char *suffix)
{
	return spool_report_path(spool_dir, seq, suffix);
}

void spool_set_key(const struct devkey *k)
{
	spool_key = k;
}

/* The report's text, after its signature's line when there is a key. */
static char *signed_text(const json_t *report)
{
	_cleanup_free_ char *text = json_dumps(report, JSON_COMPACT);
	char sig[DEVKEY_SIG_B64 + 1];

	if (!text)
		return NULL;
	if (!spool_key) {
		char *plain = text;

		text = NULL;
		return plain;
	}
	if (devkey_sign(spool_key, text, strlen(text), sig) < 0)
		return NULL;
	return xasprintf(SPOOL_SIG_PREFIX "%s\n%s", sig, text);
}

int spool_split(const char *text, size_t len, char sig[static 89],
		const char **body, size_t *body_len)
{
	size_t pre = strlen(SPOOL_SIG_PREFIX), line = pre + DEVKEY_SIG_B64;

	sig[0] = '\0';
	if (len < pre || memcmp(text, SPOOL_SIG_PREFIX, pre) != 0) {
		*body = text;
		*body_len = len;
		return 0;
	}
	if (len <= line || text[line] != '\n' ||
	    memchr(text + pre, '\n', DEVKEY_SIG_B64))
		return -EINVAL;
	memcpy(sig, text + pre, DEVKEY_SIG_B64);
	sig[DEVKEY_SIG_B64] = '\0';
	*body = text + line + 1;
	*body_len = len - line - 1;
	return 0;
}

int spool_prepare(uint64_t seq, const json_t *report)
{
	_cleanup_free_ char *tmp = report_path(seq, SPOOL_TMP_SUFFIX);
	_cleanup_free_ char *text = signed_text(report);
	int r;

	if (!text)
		return -ENOMEM;
	r = write_file_new(tmp, text, strlen(text), 0640);
	/* Its name on disk before its number is kept (in another
	 * directory), so that no number outlives the report it names. */
	if (r == 0)
		r = fsync_dir_of(tmp);
	if (r < 0)
		spool_abort(seq);
	return r;
}

int spool_commit(uint64_t seq)
{
	_cleanup_free_ char *tmp = report_path(seq, SPOOL_TMP_SUFFIX);
	_cleanup_free_ char *path = report_path(seq, "");
	int r;

	if (rename(tmp, path) < 0)
		return -errno;
	/* In place from here on, whatever fails next. */
	r = fsync_dir_of(path);
	if (r < 0)
		log_warnx("spool %s: %s", spool_dir, strerror(-r));
	r = spool_trim();
	if (r < 0)
		log_warnx("spool %s: %s", spool_dir, strerror(-r));
	return r < 0 ? 0 : r;
}

void spool_abort(uint64_t seq)
{
	_cleanup_free_ char *tmp = report_path(seq, SPOOL_TMP_SUFFIX);

	if (unlink(tmp) < 0 && errno != ENOENT)
		log_warn("spool: removing %s", tmp);
}

/* A report's temporary file: its sequence number, or 0 for any other
 * name. */
static uint64_t prepared_seq(const char *name)
{
	size_t n = strlen(name);

	if (n != 20 + 5 + strlen(SPOOL_TMP_SUFFIX) ||
	    strspn(name, "0123456789") != 20 ||
	    strcmp(name + 20, ".json" SPOOL_TMP_SUFFIX) != 0)
		return 0;
	return strtoull(name, NULL, 10);
}

static void recover_one(uint64_t seq, uint64_t last)
{
	_cleanup_free_ char *tmp = report_path(seq, SPOOL_TMP_SUFFIX);
	_cleanup_free_ char *path = report_path(seq, "");
	int r;

	_cleanup_free_ char *text = NULL;
	json_t *report = NULL;
	const char *body;
	char sig[DEVKEY_SIG_B64 + 1];
	size_t len, body_len;

	/* Not numbered yet when the daemon stopped: as if never written. */
	if (seq > last) {
		spool_abort(seq);
		return;
	}
	/* Numbered, but the file may still be cut short (a stop while it was
	 * written, with a number kept by another run): only the whole report
	 * of that number goes in place. */
	if (read_file_nofollow(tmp, SPOOL_RECOVER_MAX, &text, &len) == 0 &&
	    spool_split(text, len, sig, &body, &body_len) == 0)
		report = json_loadb(body, body_len, 0, NULL);
	if (!json_is_object(report) ||
	    json_integer_value(json_object_get(report, "seq")) != (json_int_t)seq) {
		log_warnx("spool: %s is not a whole report %" PRIu64 "; removed",
			  tmp, seq);
		json_decref(report);
		spool_abort(seq);
		return;
	}
	json_decref(report);
	r = rename(tmp, path) < 0 ? -errno : fsync_dir_of(path);
	if (r < 0)
		log_warnx("spool: %s: %s", tmp, strerror(-r));
	else
		log_info("spool: report %" PRIu64 ", numbered before a stop, "
			 "put in place", seq);
}

void spool_recover(uint64_t last)
{
	_cleanup_free_ uint64_t *found = NULL;
	DIR *d = opendir(spool_dir);
	struct dirent *de;
	size_t n = 0;

	if (!d) {
		log_warn("spool %s", spool_dir);
		return;
	}
	while ((de = readdir(d))) {
		uint64_t seq = prepared_seq(de->d_name);

		if (seq) {
			found = xrealloc(found, (n + 1) * sizeof(*found));
			found[n++] = seq;
		}
	}
	closedir(d);
	for (size_t i = 0; i < n; i++)
		recover_one(found[i], last);
}
