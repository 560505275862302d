/* SPDX-License-Identifier: Apache-2.0 */
/*
 * holders: a scan of /proc/PID/fd. Links are compared by name first,
 * which costs no stat; only a link whose last component is the node's
 * name is stat'ed to compare device or inode.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "holders.h"
#include "sandbox.h"
#include "users.h"
#include "util.h"

struct target {
	const char *node;	/* as on the machine */
	char *resolved;		/* where the node links to, or NULL */
	struct stat st;
	bool have_st;
};

static bool same_file(const struct stat *a, const struct stat *b)
{
	if (S_ISCHR(a->st_mode) && S_ISCHR(b->st_mode))
		return a->st_rdev == b->st_rdev;
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Whether the link fd/NAME of a process names the target. Relative to
 * the open fd/ directory: no path is built, one component looked up. */
static bool fd_matches(int fddir, const char *name, const struct target *t)
{
	char link[PATH_MAX];
	ssize_t n = readlinkat(fddir, name, link, sizeof(link) - 1);
	struct stat st;

	if (n <= 0)
		return false;
	link[n] = '\0';
	if (strcmp(link, t->node) == 0 ||
	    (t->resolved && strcmp(link, t->resolved) == 0))
		return true;
	/* Any file by path may be the node under another name (a bind
	 * mount made in a user namespace): compare what it is. Sockets,
	 * pipes and anonymous inodes have no path. */
	if (!t->have_st || link[0] != '/')
		return false;
	return fstatat(fddir, name, &st, 0) == 0 && same_file(&st, &t->st);
}

static bool pid_holds(int procfd, const char *pid, const struct target *t)
{
	char rel[NAME_MAX + 8];
	struct dirent *de;
	bool found = false;
	int fd;
	DIR *d;

	snprintf(rel, sizeof(rel), "%s/fd", pid);
	fd = openat(procfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;	/* gone, a kernel thread, or not ours */
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return false;
	}
	while (!found && (de = readdir(d)))
		if (de->d_name[0] >= '0' && de->d_name[0] <= '9')
			found = fd_matches(fd, de->d_name, t);
	closedir(d);
	return found;
}

static char *read_link(const char *path)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return xstrdup(buf);
}

/* Whether path (the process's word for its executable), seen below our
 * root, is the file the process actually runs (exe_link). */
static bool same_exe(const struct host *h, const char *exe_link,
		     const char *path)
{
	_cleanup_free_ char *ours = host_path(h, path);
	struct stat a, b;

	return stat(exe_link, &a) == 0 && stat(ours, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

#define DELETED " (deleted)"

/* Whether the machine path and every directory above it can be changed
 * only by root: owned by root, and writable by no one else (a sticky
 * directory such as /tmp lets no one else rename root's entries). */
static bool root_only(const struct host *h, const char *path, bool is_dir)
{
	_cleanup_free_ char *up = xstrdup(path);
	char *slash;

	for (;;) {
		_cleanup_free_ char *ours = host_path(h, up[0] ? up : "/");
		struct stat st;

		if (lstat(ours, &st) < 0 || st.st_uid != 0 ||
		    (is_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) ||
		    ((st.st_mode & 022) && !(is_dir && (st.st_mode & S_ISVTX))))
			return false;
		if (!up[0])
			return true;
		slash = strrchr(up, '/');
		if (!slash)
			return false;
		*slash = '\0';
		is_dir = true;
	}
}

/* An executable replaced while it runs (a package upgrade: the package
 * manager renames the new file over the old): the file the process runs
 * is deleted, was root's, and its path now holds a file that only root
 * can have put there, on the same file system. That is the package's
 * new file; it is not the same program only if root made it otherwise.
 * On success exe loses its " (deleted)". */
static bool replaced(const struct host *h, const char *exe_link, char *exe)
{
	size_t n = strlen(exe), d = strlen(DELETED);
	_cleanup_free_ char *ours = NULL;
	struct stat run, now;

	if (n <= d + 1 || exe[0] != '/' || strcmp(exe + n - d, DELETED) != 0)
		return false;
	if (stat(exe_link, &run) < 0 || run.st_nlink != 0 || run.st_uid != 0)
		return false;
	exe[n - d] = '\0';
	ours = host_path(h, exe);
	if (lstat(ours, &now) == 0 && now.st_dev == run.st_dev &&
	    root_only(h, exe, false))
		return true;
	exe[n - d] = ' ';
	return false;
}

static void describe(const struct host *h, const char *piddir,
		     struct holder *hd)
{
	_cleanup_free_ char *exe = xasprintf("%s/exe", piddir);
	_cleanup_free_ char *comm = xasprintf("%s/comm", piddir);
	_cleanup_free_ char *status = xasprintf("%s/status", piddir);
	_cleanup_free_ char *buf = NULL;
	char *uid;

	hd->exe = read_link(exe);
	hd->exe_verified = hd->exe && same_exe(h, exe, hd->exe);
	hd->upgraded = hd->exe && !hd->exe_verified &&
		       replaced(h, exe, hd->exe);
	if (read_file(comm, 64, &hd->comm, NULL) == 0)
		strrstrip(hd->comm);
	hd->uid = (uid_t)-1;
	if (read_file(status, 64 * 1024, &buf, NULL) == 0 &&
	    (uid = strstr(buf, "\nUid:")))
		hd->uid = (uid_t)strtoul(uid + 5, NULL, 10);
	if (hd->uid != (uid_t)-1)
		hd->user = users_name(h, hd->uid);
	hd->app_id = sandbox_app_id(h, piddir, hd->uid);
}

int holders_find(const struct host *h, const char *node,
		 struct holder **out)
{
	_cleanup_free_ char *proc = host_path(h, "/proc");
	_cleanup_free_ char *full = host_path(h, node);
	struct target t = { .node = node };
	struct holder *v = NULL;
	struct dirent *de;
	int n = 0;
	DIR *d;

	t.have_st = stat(full, &t.st) == 0;
	/* A node that is a symlink (umockdev's emulated devices point at a
	 * pty) is matched by its target too. One readlink, not realpath():
	 * umockdev's realpath() wrapper crashes. */
	t.resolved = read_link(full);
	d = opendir(proc);
	if (!d) {
		free(t.resolved);
		return -errno;
	}
	while ((de = readdir(d))) {
		_cleanup_free_ char *piddir = NULL;
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0 || !pid_holds(dirfd(d), de->d_name, &t))
			continue;
		piddir = xasprintf("%s/%s", proc, de->d_name);
		v = xrealloc(v, (size_t)(n + 1) * sizeof(*v));
		memset(&v[n], 0, sizeof(*v));
		v[n].pid = (pid_t)pid;
		describe(h, piddir, &v[n]);
		n++;
	}
	closedir(d);
	free(t.resolved);
	*out = v;
	return n;
}

int holders_describe(const struct host *h, pid_t pid, struct holder *out)
{
	_cleanup_free_ char *rel = xasprintf("/proc/%d", (int)pid);
	_cleanup_free_ char *piddir = host_path(h, rel);
	struct stat st;

	memset(out, 0, sizeof(*out));
	if (pid <= 0 || stat(piddir, &st) < 0)
		return -ESRCH;
	out->pid = pid;
	describe(h, piddir, out);
	return 0;
}

void holders_free_one(struct holder *hd)
{
	free(hd->exe);
	free(hd->comm);
	free(hd->user);
	free(hd->app_id);
	memset(hd, 0, sizeof(*hd));
}

void holders_free(struct holder *v, int n)
{
	for (int i = 0; i < n; i++)
		holders_free_one(&v[i]);
	free(v);
}

bool holders_is_media_server(const struct holder *hd)
{
	static const char *const servers[] = {
		"/usr/bin/pipewire", "/usr/bin/wireplumber",
		"/usr/bin/pipewire-media-session",
	};

	if (!hd->exe || !hd->exe_verified)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(servers); i++)
		if (strcmp(hd->exe, servers[i]) == 0)
			return true;
	return false;
}
