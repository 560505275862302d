/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sandbox: Flatpak and Snap application identities.
 *
 * Each name is taken only where the process cannot have written it:
 *
 * - Flatpak: the process is in a root of its own (own_root()),
 *   /.flatpak-info, opened through its root without following a link, is
 *   a small regular file on a read-only mount (bubblewrap's
 *   --ro-bind-data), owned by root or by the process's user (bubblewrap
 *   writes it as that user in a user namespace) and writable by no one
 *   else; and, since any user can build a namespace like that, the
 *   sandbox's /app is root's system-wide installation of that very ID
 *   (installed()). A per-user installation names nothing.
 * - Snap: the AppArmor label, which only the kernel's policy gives and
 *   which the process cannot shed, names the snap in enforce mode (a
 *   complain-mode label confines nothing); the cgroup, which a user may
 *   move processes within, must agree.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "appid.h"
#include "inifile.h"
#include "sandbox.h"
#include "util.h"

#define FLATPAK_INFO_MAX (64 * 1024)

/* --- Flatpak --- */

/* Whether the process lives in a root of its own: its root directory is
 * not the machine's (a /.flatpak-info there would be the machine's own,
 * naming every process), and its mount namespace is not init's. Where
 * init's namespace cannot be read (endpointd in a container), the root
 * alone decides. */
static bool own_root(const struct host *h, const char *piddir)
{
	_cleanup_free_ char *root = xasprintf("%s/root", piddir);
	_cleanup_free_ char *ours = host_path(h, "/");
	_cleanup_free_ char *mine = xasprintf("%s/ns/mnt", piddir);
	_cleanup_free_ char *init = host_path(h, "/proc/1/ns/mnt");
	char a[64], b[64];
	struct stat sa, sb;
	ssize_t na, nb;

	if (stat(root, &sa) < 0 || stat(ours, &sb) < 0 ||
	    (sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino))
		return false;
	na = readlink(mine, a, sizeof(a) - 1);
	nb = readlink(init, b, sizeof(b) - 1);
	if (na <= 0)
		return false;
	return nb <= 0 || na != nb || memcmp(a, b, (size_t)na) != 0;
}

/* Whether the file, open as fd, is one the sandboxed process cannot
 * have written. */
static bool sealed(int fd, uid_t uid)
{
	struct statvfs vfs;
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > FLATPAK_INFO_MAX)
		return false;
	if ((st.st_uid != 0 && st.st_uid != uid) || (st.st_mode & 022))
		return false;
	return fstatvfs(fd, &vfs) == 0 && (vfs.f_flag & ST_RDONLY);
}

static int on_key(void *data, const char *section, const char *key,
		  const char *value)
{
	char **id = data;

	if (strcmp(section, "Application") == 0 && strcmp(key, "name") == 0 &&
	    !*id && appid_flatpak_valid(value))
		*id = xstrdup(value);
	return 1;
}

/* The [Application] name= of a Flatpak keyfile's text, or NULL. */
static char *info_id(const char *text)
{
	char *id = NULL;

	inifile_parse(text, strlen(text), on_key, &id);
	return id;
}

static char *read_info(int fd)
{
	_cleanup_free_ char *buf = xcalloc(1, FLATPAK_INFO_MAX + 1);
	size_t len = 0;
	ssize_t r;

	while (len < FLATPAK_INFO_MAX &&
	       (r = read(fd, buf + len, FLATPAK_INFO_MAX - len)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return NULL;
		len += (size_t)r;
	}
	if (memchr(buf, '\0', len))
		return NULL;
	return info_id(buf);
}

/* Whether deploy/metadata, root's, names id: the deployment's own word,
 * written by flatpak as root, for what it holds. */
static bool deploy_of(const char *deploy, const char *id)
{
	_cleanup_free_ char *path = xasprintf("%s/metadata", deploy);
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *name = NULL;
	struct stat st;

	if (lstat(path, &st) < 0 || st.st_uid != 0 || (st.st_mode & 022) ||
	    read_file_nofollow(path, FLATPAK_INFO_MAX, &text, NULL) < 0)
		return false;
	name = info_id(text);
	return name && strcmp(name, id) == 0;
}

/* Whether the sandbox's /app is a deployment of id in the system-wide
 * installation, which only root writes: a "files" directory of root's
 * beside a metadata file naming id. flatpak (common/flatpak-dir.c)
 * deploys to app/ID/ARCH/BRANCH/COMMIT/ and moves a deployment that is
 * replaced while it runs to .removed/, under a name without the id.
 * Anyone can build a sandbox claiming an id; not one whose /app is
 * root's installation of it. */
static bool installed(const struct host *h, int rfd, const char *id)
{
	_cleanup_free_ char *base = host_path(h, "/var/lib/flatpak");
	_cleanup_free_ char *pat = xasprintf(
		"%s/{app/%s/*/*/*,.removed/*}/files", base, id);
	struct stat app, st;
	bool ok = false;
	glob_t g;

	/* The id is checked: letters, digits, '_', '-' and '.' only. A
	 * link at /app would be followed from our root, not the sandbox's:
	 * bubblewrap's /app is a directory (a bind mount), never a link. */
	if (fstatat(rfd, "app", &app, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISDIR(app.st_mode) ||
	    glob(pat, GLOB_BRACE | GLOB_NOSORT | GLOB_ONLYDIR, NULL, &g) != 0)
		return false;
	for (size_t i = 0; !ok && i < g.gl_pathc; i++) {
		char *files = g.gl_pathv[i];

		if (stat(files, &st) < 0 || st.st_dev != app.st_dev ||
		    st.st_ino != app.st_ino || st.st_uid != 0)
			continue;
		*strrchr(files, '/') = '\0';
		ok = deploy_of(files, id);
	}
	globfree(&g);
	return ok;
}

static char *flatpak_id(const struct host *h, const char *piddir, uid_t uid)
{
	_cleanup_free_ char *root = xasprintf("%s/root", piddir);
	_cleanup_close_ int rfd = -1;
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *id = NULL;

	if (!own_root(h, piddir))
		return NULL;
	/* Through the process's own root: its sandbox, not ours. */
	rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		return NULL;
	fd = openat(rfd, ".flatpak-info",
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || !sealed(fd, uid))
		return NULL;
	id = read_info(fd);
	if (!id || !installed(h, rfd, id))
		return NULL;
	return xasprintf("flatpak:%s", id);
}

/* --- Snap --- */

/* The snap named by an AppArmor label "snap.NAME.APP (enforce)" or
 * "snap.NAME.hook.HOOK (enforce)", or NULL. */
static char *label_snap(const char *label)
{
	const char *name = label + 5, *dot, *mode;

	if (strncmp(label, "snap.", 5) != 0 || !(dot = strchr(name, '.')))
		return NULL;
	mode = strstr(dot, " (");
	if (!mode || strcmp(mode, " (enforce)") != 0 || mode == dot + 1 ||
	    memchr(dot, ' ', (size_t)(mode - dot)))
		return NULL;
	return xstrndup(name, (size_t)(dot - name));
}

static char *apparmor_snap(const char *piddir)
{
	static const char *const files[] = { "attr/apparmor/current",
					     "attr/current" };

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *path = xasprintf("%s/%s", piddir, files[i]);
		_cleanup_free_ char *buf = NULL;

		/* attr/current belongs to whichever LSM is first; a label
		 * of another LSM simply does not parse. */
		if (read_file(path, 4096, &buf, NULL) == 0)
			return label_snap(strrstrip(buf));
	}
	return NULL;
}

/* Whether a line of /proc/PID/cgroup ends in snapd's unit for the snap:
 * "snap.NAME.APP-UUID.scope" (applications) or "snap.NAME.APP.service"
 * (daemons). */
static bool unit_of(const char *line, size_t n, const char *name)
{
	const char *slash = memrchr(line, '/', n);
	const char *unit = slash ? slash + 1 : line;
	size_t ulen = n - (size_t)(unit - line), nlen = strlen(name);

	if (ulen < 5 + nlen + 1 || strncmp(unit, "snap.", 5) != 0 ||
	    strncmp(unit + 5, name, nlen) != 0 || unit[5 + nlen] != '.')
		return false;
	return (ulen > 6 && memcmp(unit + ulen - 6, ".scope", 6) == 0) ||
	       (ulen > 8 && memcmp(unit + ulen - 8, ".service", 8) == 0);
}

static bool cgroup_agrees(const char *piddir, const char *name)
{
	_cleanup_free_ char *path = xasprintf("%s/cgroup", piddir);
	_cleanup_free_ char *buf = NULL;
	const char *p, *nl;

	if (read_file(path, 64 * 1024, &buf, NULL) < 0)
		return false;
	for (p = buf; *p; p = nl + 1) {
		nl = strchrnul(p, '\n');
		if (unit_of(p, (size_t)(nl - p), name))
			return true;
		if (!*nl)
			break;
	}
	return false;
}

static char *snap_id(const char *piddir)
{
	_cleanup_free_ char *name = apparmor_snap(piddir);

	if (!name || !appid_snap_valid(name) ||
	    !cgroup_agrees(piddir, name))
		return NULL;
	return xasprintf("snap:%s", name);
}

char *sandbox_app_id(const struct host *h, const char *piddir, uid_t uid)
{
	char *id = flatpak_id(h, piddir, uid);

	return id ? id : snap_id(piddir);
}
