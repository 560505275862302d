/*
 * logins: display-manager configuration read with inih; /etc/shadow read
 * only to see which password fields are empty. No hash is ever copied:
 * the buffer is wiped before it is freed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inifile.h"
#include "logins.h"
#include "util.h"

struct dm_read {
	const char *dm;		/* "GDM", "LightDM", "SDDM" */
	const char *file;	/* the file being read, for the evidence */
	json_t *problems;
	/* GDM: both keys of a pair decide, so keep them. */
	int auto_enable, timed_enable;
	char *auto_user, *timed_user;
};

static void add(json_t *problems, const char *kind, const char *file,
		const char *fmt, ...) _printf_(4, 5);

static void add(json_t *problems, const char *kind, const char *file,
		const char *fmt, ...)
{
	json_t *detail;
	va_list ap;

	va_start(ap, fmt);
	detail = json_lossy_vprintf(fmt, ap);
	va_end(ap);
	json_array_append_new(problems,
			      json_pack("{s:s, s:o, s:o}", "kind", kind,
					"detail", detail,
					"file", json_string_lossy(file)));
}

static int gdm_handler(void *user, const char *section, const char *name,
		       const char *value)
{
	struct dm_read *d = user;

	if (strcmp(section, "daemon") != 0)
		return 1;
	if (strcmp(name, "AutomaticLoginEnable") == 0)
		d->auto_enable = inifile_bool(value);
	else if (strcmp(name, "TimedLoginEnable") == 0)
		d->timed_enable = inifile_bool(value);
	else if (strcmp(name, "AutomaticLogin") == 0)
		free(d->auto_user), d->auto_user = xstrdup(value);
	else if (strcmp(name, "TimedLogin") == 0)
		free(d->timed_user), d->timed_user = xstrdup(value);
	return 1;
}

static void gdm_check(const struct host *h, json_t *problems)
{
	static const char *const files[] = { "/etc/gdm3/daemon.conf",
					     "/etc/gdm3/custom.conf",
					     "/etc/gdm/custom.conf" };

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		struct dm_read d = { .dm = "GDM", .file = files[i] };

		if (inifile_read(h, files[i], gdm_handler, &d) < 0)
			continue;
		if (d.auto_enable == 1)
			add(problems, "autologin", files[i],
			    "GDM logs %s in automatically, with no password",
			    d.auto_user && *d.auto_user ? d.auto_user : "a user");
		if (d.timed_enable == 1)
			add(problems, "autologin", files[i],
			    "GDM logs %s in after a delay, with no password",
			    d.timed_user && *d.timed_user ? d.timed_user : "a user");
		free(d.auto_user);
		free(d.timed_user);
	}
}

static int lightdm_handler(void *user, const char *section, const char *name,
			   const char *value)
{
	struct dm_read *d = user;

	if (strncmp(section, "Seat:", 5) != 0 &&
	    strcmp(section, "SeatDefaults") != 0)
		return 1;
	if (strcmp(name, "autologin-user") == 0 && *value)
		add(d->problems, "autologin", d->file,
		    "LightDM logs %s in automatically, with no password", value);
	else if (strcmp(name, "autologin-guest") == 0 && inifile_bool(value) == 1)
		add(d->problems, "guest", d->file,
		    "LightDM starts a guest session automatically");
	else if (strcmp(name, "allow-guest") == 0 && inifile_bool(value) == 1)
		add(d->problems, "guest", d->file,
		    "LightDM offers a guest session, which needs no password");
	return 1;
}

static int sddm_handler(void *user, const char *section, const char *name,
			const char *value)
{
	struct dm_read *d = user;

	if (strcmp(section, "Autologin") == 0 && strcmp(name, "User") == 0 &&
	    *value)
		add(d->problems, "autologin", d->file,
		    "SDDM logs %s in automatically, with no password", value);
	return 1;
}

/* A main file and drop-in directories, each file checked on its own. */
static void dm_files(const struct host *h, const char *main_file,
		     const char *const *dirs, size_t ndirs, ini_handler fn,
		     json_t *problems)
{
	struct dm_read d = { .file = main_file, .problems = problems };

	inifile_read(h, main_file, fn, &d);
	for (size_t i = 0; i < ndirs; i++) {
		_cleanup_free_ char *full = host_path(h, dirs[i]);
		DIR *dir = opendir(full);
		struct dirent *de;

		if (!dir)
			continue;
		while ((de = readdir(dir))) {
			_cleanup_free_ char *path = NULL;
			size_t n = strlen(de->d_name);

			if (de->d_name[0] == '.' || n < 5 ||
			    strcmp(de->d_name + n - 5, ".conf") != 0)
				continue;
			path = xasprintf("%s/%s", dirs[i], de->d_name);
			d.file = path;
			inifile_read(h, path, fn, &d);
		}
		closedir(dir);
	}
}

static bool installed(const struct host *h, const char *binary)
{
	_cleanup_free_ char *p = host_path(h, binary);

	return access(p, F_OK) == 0;
}

/* Empty password fields. The hashes are read into one buffer, sized once
 * (no reallocation leaves copies behind) and wiped on every path. */
static int shadow_check(const struct host *h, json_t *problems)
{
	_cleanup_free_ char *path = host_path(h, "/etc/shadow");
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
					     O_NONBLOCK);
	char *buf, *line, *save = NULL;
	struct stat st;
	size_t size, n = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size > 16 * 1024 * 1024)
		return -EINVAL;
	size = (size_t)st.st_size;
	buf = xmalloc(size + 1);
	while (n < size) {
		ssize_t r = read(fd, buf + n, size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			/* A part of the file could hide an empty password. */
			int e = errno;

			explicit_bzero(buf, size + 1);
			free(buf);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');

		if (colon && colon != line && colon[1] == ':') {
			*colon = '\0';
			add(problems, "empty_password", "/etc/shadow",
			    "the account %s has no password", line);
		}
	}
	explicit_bzero(buf, size + 1);
	free(buf);
	return 0;
}

int logins_check(const struct host *h, json_t *problems)
{
	static const char *const lightdm_dirs[] = {
		"/usr/share/lightdm/lightdm.conf.d", "/etc/lightdm/lightdm.conf.d",
	};
	static const char *const sddm_dirs[] = {
		"/usr/lib/sddm/sddm.conf.d", "/etc/sddm.conf.d",
	};

	if (installed(h, "/usr/sbin/gdm3") || installed(h, "/usr/sbin/gdm"))
		gdm_check(h, problems);
	if (installed(h, "/usr/sbin/lightdm"))
		dm_files(h, "/etc/lightdm/lightdm.conf", lightdm_dirs,
			 ARRAY_SIZE(lightdm_dirs), lightdm_handler, problems);
	if (installed(h, "/usr/bin/sddm"))
		dm_files(h, "/etc/sddm.conf", sddm_dirs, ARRAY_SIZE(sddm_dirs),
			 sddm_handler, problems);
	return shadow_check(h, problems);
}
