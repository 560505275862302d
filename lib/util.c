/* SPDX-License-Identifier: Apache-2.0 */
/*
 * util: allocation wrappers, cleanup helpers, string vectors, whole-file
 * I/O.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static void __attribute__((noreturn)) oom(void)
{
	static const char msg[] = "out of memory\n";

	/* Nothing sensible can follow; write(2) needs no allocation. */
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		abort();
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		oom();
	return d;
}

char *xstrndup(const char *s, size_t n)
{
	char *d = strndup(s, n);

	if (!d)
		oom();
	return d;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		oom();
	return s;
}

void freep(void *p)
{
	free(*(void **)p);
}

void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

char *strrstrip(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' ||
			 s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

void strv_push(char ***v, size_t *n, char *s)
{
	*v = xrealloc(*v, (*n + 2) * sizeof(**v));
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

bool strv_contains(char **v, const char *s)
{
	for (char **p = v; p && *p; p++)
		if (strcmp(*p, s) == 0)
			return true;
	return false;
}

void strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

void strv_freep(char ***v)
{
	strv_free(*v);
}

static int read_file_flags(const char *path, int flags, size_t max,
			   char **out, size_t *len)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
					     O_NONBLOCK | flags);
	_cleanup_free_ char *buf = NULL;
	size_t n = 0, cap = 4096;
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	/* sysfs and procfs files report size 4096 or 0: read until EOF. */
	buf = xmalloc(cap + 1);
	for (;;) {
		ssize_t r;

		if (n == cap) {
			if (cap > max)
				return -EFBIG;
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		n += r;
		if (n > max)
			return -EFBIG;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	*out = buf;
	buf = NULL;
	return 0;
}

int fsync_dir_of(const char *path)
{
	_cleanup_free_ char *copy = xstrdup(path);
	_cleanup_close_ int dfd = open(dirname(copy),
				       O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return -errno;
	return fsync(dfd) < 0 ? -errno : 0;
}

int read_file(const char *path, size_t max, char **out, size_t *len)
{
	return read_file_flags(path, 0, max, out, len);
}

int read_file_nofollow(const char *path, size_t max, char **out,
		       size_t *len)
{
	return read_file_flags(path, O_NOFOLLOW, max, out, len);
}

int write_file_new(const char *path, const void *data, size_t len,
		   unsigned mode)
{
	const char *p = data;
	int fd, r = 0;

	/* The spool is shared with a less privileged user: never follow
	 * or reuse what may have been planted at the name. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  mode);
	if (fd < 0 && errno == EEXIST && unlink(path) == 0)
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			r = -errno;
			break;
		}
		p += w;
		len -= w;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		unlink(path);
	return r;
}

void remove_stale_temps(const char *dir, const char *name)
{
	_cleanup_free_ char *prefix = xasprintf("%s.tmp.", name);
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		const char *pid = de->d_name + strlen(prefix);
		char *end;
		long v;

		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		/* Only a process that is gone leaves one for good: a second
		 * instance (endpointd --once beside the service) must not
		 * take the file another is writing. */
		errno = 0;
		v = strtol(pid, &end, 10);
		if (errno || end == pid || *end || v <= 0 ||
		    (v != getpid() && (kill((pid_t)v, 0) == 0 || errno != ESRCH)))
			continue;
		unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

int write_file_atomic(const char *path, const void *data, size_t len,
		      unsigned mode)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int r = write_file_new(tmp, data, len, mode);

	if (r < 0)
		return r;
	if (rename(tmp, path) < 0) {
		r = -errno;
		unlink(tmp);
		return r;
	}
	r = fsync_dir_of(path);
	if (r < 0)
		log_warnx("%s: in place, but its directory could not be synced: "
			  "%s", path, strerror(-r));
	return 0;
}

void time_rfc3339(char buf[static 32])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

uint64_t boottime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
