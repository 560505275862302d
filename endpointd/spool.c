/*
 * spool: atomic report files, bounded in count, oldest dropped first.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "spool.h"
#include "util.h"

static char *spool_dir;
static unsigned spool_max;

int spool_init(const char *dir, unsigned max_reports)
{
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return -errno;
	spool_dir = xstrdup(dir);
	spool_max = max_reports;
	return 0;
}

void spool_exit(void)
{
	free(spool_dir);
	spool_dir = NULL;
}

void spool_set_max(unsigned max_reports)
{
	spool_max = max_reports;
}

static bool is_report_name(const char *name)
{
	size_t n = strlen(name);

	return n == 20 + 5 && strspn(name, "0123456789") == 20 &&
	       strcmp(name + 20, ".json") == 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Remove the oldest reports beyond spool_max; returns how many. */
static int spool_trim(void)
{
	DIR *d = opendir(spool_dir);
	char **names = NULL;
	size_t n = 0, removed = 0;
	struct dirent *de;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!is_report_name(de->d_name))
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		if (n - removed > spool_max) {
			_cleanup_free_ char *p = xasprintf("%s/%s", spool_dir,
							   names[i]);

			if (unlink(p) == 0)
				removed++;
			else
				log_warn("spool: removing %s", p);
		}
		free(names[i]);
	}
	free(names);
	return (int)removed;
}

int spool_put(uint64_t seq, const json_t *report)
{
	_cleanup_free_ char *path = xasprintf("%s/%020" PRIu64 ".json",
					      spool_dir, seq);
	_cleanup_free_ char *text = json_dumps(report, JSON_COMPACT);
	int r;

	if (!text)
		return -ENOMEM;
	r = write_file_atomic(path, text, strlen(text), 0640);
	if (r < 0)
		return r;
	return spool_trim();
}
