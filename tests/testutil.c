/* SPDX-License-Identifier: Apache-2.0 */
/*
 * testutil: temporary trees for tests; aborts on any failure, since a test
 * that cannot set itself up must not pass.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "util.h"

char *tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *dir = xasprintf("%s/endpointd-test.XXXXXX", base ? base : "/tmp");

	if (!mkdtemp(dir))
		abort();
	return dir;
}

static void mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
}

char *tu_write(const char *dir, const char *name, const void *data,
	       size_t len)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f;

	mkdirs(path);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		abort();
	return path;
}

char *tu_writes(const char *dir, const char *name, const char *text)
{
	return tu_write(dir, name, text, strlen(text));
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void tu_rmrf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *tu_dir;

int tu_setup(void **state)
{
	(void)state;
	tu_dir = tu_tmpdir();
	return 0;
}

int tu_teardown(void **state)
{
	(void)state;
	tu_rmrf(tu_dir);
	free(tu_dir);
	tu_dir = NULL;
	return 0;
}
