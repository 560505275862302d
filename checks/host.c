/* SPDX-License-Identifier: Apache-2.0 */
/*
 * host: the handle through which checks read the machine. Every path is
 * joined to the root prefix, so the same code reads "/" in production and
 * a fixture tree in tests.
 */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "inifile.h"
#include "util.h"

/* Sysfs attributes and /etc one-liners are small; this bounds a hostile
 * or odd file. */
#define HOST_LINE_MAX 4096

struct host {
	char *root;		/* no trailing slash; "" for "/" */
	host_changed_fn changed;
	host_event_fn event;
	void *data;
	sd_bus *bus;		/* not owned */
	struct udev *udev;	/* owned, made on first use */
	char *udev_rule;	/* where the generated rule goes */
};

struct host *host_new(const char *root)
{
	struct host *h = xcalloc(1, sizeof(*h));
	size_t n = strlen(root);

	while (n > 0 && root[n - 1] == '/')
		n--;
	h->root = xstrndup(root, n);
	return h;
}

void host_free(struct host *h)
{
	if (!h)
		return;
	udev_unref(h->udev);
	free(h->udev_rule);
	free(h->root);
	free(h);
}

const char *host_root(const struct host *h)
{
	return h->root[0] ? h->root : "/";
}

void host_set_callbacks(struct host *h, host_changed_fn changed,
			host_event_fn event, void *data)
{
	h->changed = changed;
	h->event = event;
	h->data = data;
}

void host_set_bus(struct host *h, sd_bus *bus)
{
	h->bus = bus;
}

void host_set_udev_rule(struct host *h, const char *path)
{
	free(h->udev_rule);
	h->udev_rule = path && *path ? xstrdup(path) : NULL;
}

const char *host_udev_rule(const struct host *h)
{
	return h->udev_rule;
}

struct udev *host_udev(struct host *h)
{
	if (!h->udev)
		h->udev = udev_new();
	return h->udev;
}

sd_bus *host_bus(const struct host *h)
{
	return h->bus;
}

void host_changed(struct host *h, const char *check_id)
{
	if (h->changed)
		h->changed(h, check_id, h->data);
}

void host_event(struct host *h, json_t *event)
{
	if (h->event)
		h->event(h, event, h->data);
	else
		json_decref(event);
}

char *host_path(const struct host *h, const char *path)
{
	while (*path == '/')
		path++;
	return xasprintf("%s/%s", h->root, path);
}

int host_read(const struct host *h, const char *path, size_t max, char **out)
{
	_cleanup_free_ char *full = host_path(h, path);

	return read_file(full, max, out, NULL);
}

int host_read_user(const struct host *h, const char *path, size_t max,
		   char **out)
{
	_cleanup_free_ char *full = host_path(h, path);

	return read_file_nofollow(full, max, out, NULL);
}

int host_read_line(const struct host *h, const char *path, char **out)
{
	char *buf, *nl;
	int r;

	r = host_read(h, path, HOST_LINE_MAX, &buf);
	if (r < 0)
		return r;
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	*out = strrstrip(buf);
	return 0;
}

static int host_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int host_list(const struct host *h, const char *dir, const char *pattern,
	      int fnm_flags, char ***out)
{
	_cleanup_free_ char *full = host_path(h, dir);
	DIR *d = opendir(full);
	int r = d ? 0 : -errno;
	struct dirent *de;
	size_t n = 0;

	*out = xcalloc(1, sizeof(**out));
	if (!d)
		return r;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    fnmatch(pattern, de->d_name, fnm_flags) != 0)
			continue;
		strv_push(out, &n, xstrdup(de->d_name));
	}
	closedir(d);
	qsort(*out, n, sizeof(**out), host_cmp_str);
	return (int)n;
}

int host_read_ini(const struct host *h, const char *path, ini_handler fn,
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

int host_read_ini_user(const struct host *h, const char *path,
		       ini_handler fn, void *user)
{
	_cleanup_free_ char *buf = NULL;
	int r = host_read_user(h, path, INIFILE_MAX, &buf);

	if (r < 0)
		return r;
	inifile_parse(buf, strlen(buf), fn, user);
	return 0;
}

static int ini_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int host_read_ini_dir(const struct host *h, const char *dir,
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
	qsort(names, n, sizeof(*names), ini_cmp_str);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *path = xasprintf("%s/%s", dir, names[i]);

		if (host_read_ini(h, path, fn, user) == 0)
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
