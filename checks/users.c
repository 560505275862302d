/*
 * users: passwd parsed field by field (fgetpwent would read the file as
 * the C library sees it, not below the root prefix, and knows nothing of
 * login.defs).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "users.h"
#include "util.h"

#define PASSWD_MAX (4 * 1024 * 1024)

/* UID_MIN and UID_MAX from login.defs, or Debian's defaults. */
static void uid_range(const struct host *h, unsigned long *min,
		      unsigned long *max)
{
	_cleanup_free_ char *buf = NULL;
	char *line, *save = NULL;

	*min = 1000;
	*max = 60000;
	if (host_read(h, "/etc/login.defs", 1024 * 1024, &buf) < 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long v;
		char key[16];

		if (sscanf(line, " %15s %lu", key, &v) != 2)
			continue;
		if (strcmp(key, "UID_MIN") == 0)
			*min = v;
		else if (strcmp(key, "UID_MAX") == 0)
			*max = v;
	}
}

static bool shell_can_login(const char *shell)
{
	const char *base = strrchr(shell, '/');

	base = base ? base + 1 : shell;
	return *shell && strcmp(base, "nologin") != 0 &&
	       strcmp(base, "false") != 0;
}

/* Split a passwd line into its 7 fields in place. */
static bool split_fields(char *line, char *f[7])
{
	for (int i = 0; i < 7; i++) {
		f[i] = line;
		line = strchr(line, ':');
		if (!line)
			return i == 6;
		*line++ = '\0';
	}
	return false;	/* more than 7 fields */
}

int users_list(const struct host *h, struct user **users)
{
	_cleanup_free_ char *buf = NULL;
	unsigned long min, max;
	char *line, *save = NULL;
	struct user *v = NULL;
	int n = 0, r;

	r = host_read(h, "/etc/passwd", PASSWD_MAX, &buf);
	if (r < 0)
		return r;
	uid_range(h, &min, &max);
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		_cleanup_free_ char *home = NULL;
		unsigned long uid, gid;
		char *f[7], *end;

		if (!split_fields(line, f) || !*f[0])
			continue;
		uid = strtoul(f[2], &end, 10);
		if (*end || uid < min || uid > max)
			continue;
		gid = strtoul(f[3], &end, 10);
		if (*end || f[5][0] != '/' || !shell_can_login(f[6]))
			continue;
		home = host_path(h, f[5]);
		if (access(home, F_OK) < 0)
			continue;
		v = xrealloc(v, (size_t)(n + 1) * sizeof(*v));
		v[n].name = xstrdup(f[0]);
		v[n].uid = (uid_t)uid;
		v[n].gid = (gid_t)gid;
		v[n].home = xstrdup(f[5]);
		n++;
	}
	*users = v;
	return n;
}

void users_free(struct user *users, int n)
{
	for (int i = 0; i < n; i++) {
		free(users[i].name);
		free(users[i].home);
	}
	free(users);
}

char *users_name(const struct host *h, uid_t uid)
{
	_cleanup_free_ char *buf = NULL;
	char *line, *save = NULL;

	if (host_read(h, "/etc/passwd", PASSWD_MAX, &buf) < 0)
		return NULL;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[7], *end;
		unsigned long u;

		if (!split_fields(line, f))
			continue;
		u = strtoul(f[2], &end, 10);
		if (!*end && u == uid)
			return xstrdup(f[0]);
	}
	return NULL;
}
