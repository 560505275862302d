/*
 * inifile: inih behind a reader that hands it whole lines only.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "inifile.h"
#include "util.h"

struct stream {
	const char *buf;
	size_t len, pos;
};

static char *reader(char *str, int num, void *data)
{
	struct stream *s = data;
	const char *start, *nl;
	size_t n;

	if (s->pos >= s->len)
		return NULL;
	start = s->buf + s->pos;
	nl = memchr(start, '\n', s->len - s->pos);
	n = nl ? (size_t)(nl - start) + 1 : s->len - s->pos;
	s->pos += n;
	/* Too long for inih, or holding a NUL: an empty line instead. */
	if (n + 1 > (size_t)num || memchr(start, '\0', n))
		n = 0;
	memcpy(str, start, n);
	str[n] = '\0';
	return str;
}

int inifile_parse(const char *buf, size_t len, ini_handler fn, void *user)
{
	struct stream s = { buf, len, 0 };

	return ini_parse_stream(reader, &s, fn, user) == 0 ? 0 : -EINVAL;
}

int inifile_read(const struct host *h, const char *path, ini_handler fn,
		 void *user)
{
	_cleanup_free_ char *buf = NULL, *full = host_path(h, path);
	size_t len = 0;
	int r;

	r = read_file(full, INIFILE_MAX, &buf, &len);
	if (r < 0)
		return r;
	inifile_parse(buf, len, fn, user);
	return 0;
}

int inifile_read_user(const struct host *h, const char *path, ini_handler fn,
		      void *user)
{
	_cleanup_free_ char *buf = NULL;
	int r = host_read_user(h, path, INIFILE_MAX, &buf);

	if (r < 0)
		return r;
	inifile_parse(buf, strlen(buf), fn, user);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int inifile_read_dir(const struct host *h, const char *dir,
		     const char *suffix, ini_handler fn, void *user)
{
	_cleanup_free_ char *full = host_path(h, dir);
	char **names = NULL;
	size_t n = 0, slen = suffix ? strlen(suffix) : 0;
	struct dirent *de;
	int count = 0;
	DIR *d = opendir(full);

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' ||
		    (suffix && (len < slen ||
				strcmp(de->d_name + len - slen, suffix) != 0)))
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *path = xasprintf("%s/%s", dir, names[i]);

		if (inifile_read(h, path, fn, user) == 0)
			count++;
		free(names[i]);
	}
	free(names);
	return count;
}

int inifile_bool(const char *v)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	}
	return -1;
}
