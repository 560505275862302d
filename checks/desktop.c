/*
 * desktop: effective screen-lock settings per user and desktop.
 *
 * dconf: the profile (/etc/dconf/profile/user) orders the databases, the
 * user's first. IT's system databases are read from their keyfiles and
 * locks (INI, with inih); the user's binary database is dumped to text by
 * the dconf tool, run as the database's owner with a profile naming only
 * that database, so no GVDB parser is written here and no root process
 * parses a file a user controls. A key locked in a database comes from
 * that database or one after it.
 */
#include <dirent.h>
#include <errno.h>
#include <expat.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "desktop.h"
#include "inifile.h"
#include "log.h"
#include "util.h"

#define DCONF_TOOL "/usr/bin/dconf"
#define DCONF_TIMEOUT_MS 3000
#define DCONF_OUTPUT_MAX (1024 * 1024)
#define MAX_DBS 8

/* ---------- dconf ---------- */

struct dconf_db {
	char *name;
	bool user;		/* the user's database: filled per user */
	json_t *values;		/* "/org/gnome/.../key" -> GVariant text */
	json_t *locks;		/* lock paths; one ending in '/' locks a dir */
};

struct desktop_ctx {
	const struct host *h;
	struct dconf_db dbs[MAX_DBS];
	int ndbs;
	json_t *kde;		/* [Daemon] of /etc/xdg/kscreenlockerrc */
	json_t *kde_fixed;	/* keys IT made immutable ([$i]) */
	json_t *xfce;		/* xfconf channels below /etc/xdg */
};

/* keyfile: [org/gnome/desktop/session] idle-delay=... */
static int keyfile_handler(void *user, const char *section, const char *name,
			   const char *value)
{
	json_t *values = user;
	size_t n = strlen(section);
	char *path;

	while (*section == '/')
		section++, n--;
	while (n > 0 && section[n - 1] == '/')
		n--;
	path = n ? xasprintf("/%.*s/%s", (int)n, section, name)
		 : xasprintf("/%s", name);
	json_object_set_new(values, path, json_string_lossy(value));
	free(path);
	return 1;
}

static void read_locks(const struct host *h, const char *db, json_t *locks)
{
	_cleanup_free_ char *rel = xasprintf("/etc/dconf/db/%s.d/locks", db);
	_cleanup_free_ char *dir = host_path(h, rel);
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		_cleanup_free_ char *file = NULL, *buf = NULL;
		char *line, *save = NULL;

		if (de->d_name[0] == '.')
			continue;
		file = xasprintf("%s/%s", rel, de->d_name);
		if (host_read(h, file, INIFILE_MAX, &buf) < 0)
			continue;
		for (line = strtok_r(buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			strrstrip(line);
			while (*line == ' ' || *line == '\t')
				line++;
			if (*line == '/')
				json_array_append_new(locks,
						      json_string_lossy(line));
		}
	}
	closedir(d);
}

static void db_add(struct desktop_ctx *c, const char *name, bool user)
{
	struct dconf_db *db;

	if (c->ndbs >= MAX_DBS)
		return;
	db = &c->dbs[c->ndbs++];
	db->name = xstrdup(name);
	db->user = user;
	db->values = json_object();
	db->locks = json_array();
	if (user)
		return;
	{
		_cleanup_free_ char *dir = xasprintf("/etc/dconf/db/%s.d", name);

		inifile_read_dir(c->h, dir, NULL, keyfile_handler, db->values);
	}
	read_locks(c->h, name, db->locks);
}

/* /etc/dconf/profile/user names the databases in order; without it the
 * user's database is the only one. */
static void read_profile(struct desktop_ctx *c)
{
	_cleanup_free_ char *buf = NULL;
	char *line, *save = NULL;

	if (host_read(c->h, "/etc/dconf/profile/user", 64 * 1024, &buf) < 0) {
		db_add(c, "user", true);
		return;
	}
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *hash = strchr(line, '#');

		if (hash)
			*hash = '\0';
		strrstrip(line);
		if (strncmp(line, "user-db:", 8) == 0)
			db_add(c, line + 8, true);
		else if (strncmp(line, "system-db:", 10) == 0 &&
			 strspn(line + 10, "abcdefghijklmnopqrstuvwxyz"
					   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
				 strlen(line + 10) &&
			 line[10] != '.' && line[10])
			db_add(c, line + 10, false);
	}
}

static bool lock_covers(const char *lock, const char *key)
{
	size_t n = strlen(lock);

	if (n && lock[n - 1] == '/')
		return strncmp(key, lock, n) == 0;
	return strcmp(key, lock) == 0;
}

static int locked_at(const struct desktop_ctx *c, const char *key)
{
	int at = -1;

	for (int i = 0; i < c->ndbs; i++) {
		size_t j;
		json_t *l;

		json_array_foreach(c->dbs[i].locks, j, l)
			if (lock_covers(json_string_value(l), key))
				at = i;
	}
	return at;
}

/* The value the session gets for key, or NULL for the schema default. */
static const char *dconf_get(const struct desktop_ctx *c, const char *key)
{
	int from = locked_at(c, key);

	for (int i = from < 0 ? 0 : from; i < c->ndbs; i++) {
		const char *v = json_string_value(
			json_object_get(c->dbs[i].values, key));

		if (v)
			return v;
	}
	return NULL;
}

/* GVariant text: "true", "uint32 300", "300". */
static int gv_bool(const char *v, int def)
{
	if (!v)
		return def;
	if (strcmp(v, "true") == 0)
		return 1;
	if (strcmp(v, "false") == 0)
		return 0;
	return -1;
}

static long gv_int(const char *v, long def)
{
	const char *sp;
	char *end;
	long n;

	if (!v)
		return def;
	sp = strchr(v, ' ');
	if (sp && v[0] >= 'a' && v[0] <= 'z')
		v = sp + 1;
	n = strtol(v, &end, 10);
	return (end == v || *end || n < 0) ? -1 : n;
}

static void child_exec_dconf(int out, int profile, const char *home,
			     const struct user *u)
{
	sigset_t none;

	_cleanup_free_ char *env_home = xasprintf("HOME=%s", home);
	_cleanup_free_ char *env_conf = xasprintf("XDG_CONFIG_HOME=%s/.config",
						  home);
	char *env[] = { "PATH=/usr/bin:/bin", env_home, env_conf,
			"DCONF_PROFILE=/proc/self/fd/3",
			/* nowhere to write: dconf must not touch the home */
			"XDG_RUNTIME_DIR=/nonexistent", "XDG_CACHE_HOME=/nonexistent",
			NULL };
	int null = open("/dev/null", O_RDWR);

	if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 ||
	    dup2(null, 2) < 0 || dup2(profile, 3) < 0)
		_exit(126);
	closefrom(4);
	/* The daemon blocks its signals for signalfd; dconf must not. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Read the user's file with that user's rights, from passwd: never
	 * those of whoever owns a path the user controls. */
	if (geteuid() == 0 &&
	    (setgroups(0, NULL) < 0 || setgid(u->gid) < 0 ||
	     setuid(u->uid) < 0))
		_exit(126);
	execle(DCONF_TOOL, "dconf", "dump", "/", (char *)NULL, env);
	_exit(127);
}

/* Read what the child writes, up to the limit and the deadline. */
static int read_child(int fd, char **out, size_t *len)
{
	size_t cap = 8192, n = 0;
	char *buf = xmalloc(cap);

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, DCONF_TIMEOUT_MS) <= 0) {
			free(buf);
			return -ETIMEDOUT;
		}
		if (n + 1 >= cap) {
			if (cap >= DCONF_OUTPUT_MAX) {
				free(buf);
				return -EFBIG;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			/* Half the settings would be read as the defaults. */
			r = -errno;
			free(buf);
			return (int)r;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* Wait for the child until the deadline, then kill it. */
static int reap(pid_t pid, int *status)
{
	_cleanup_close_ int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p = { .fd = pfd, .events = POLLIN };

	if (pfd >= 0 && poll(&p, 1, DCONF_TIMEOUT_MS) <= 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* `dconf dump /` of user u's database, as u. Returns 0 with the keyfile
 * text, or -errno. */
static int dconf_dump(const char *home, const struct user *u, char **out,
		      size_t *len)
{
	static const char profile_text[] = "user-db:user\n";
	_cleanup_close_ int profile = -1;
	int p[2], status = 0, r;
	pid_t pid;

	if (access(DCONF_TOOL, X_OK) < 0)
		return -ENOENT;
	profile = memfd_create("endpointd-dconf-profile", 0);
	if (profile < 0 || write(profile, profile_text, sizeof(profile_text) - 1) < 0 ||
	    pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(p[0]);
		close(p[1]);
		return r;
	}
	if (pid == 0)
		child_exec_dconf(p[1], profile, home, u);
	close(p[1]);
	r = read_child(p[0], out, len);
	close(p[0]);
	if (r < 0)
		kill(pid, SIGKILL);
	if (reap(pid, &status) < 0 && r == 0)
		r = -ECHILD;
	if (r == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
		free(*out);
		return -EIO;
	}
	return r;
}

/* Load user u's own database into the profile's user slot. */
static int dconf_load_user(struct desktop_ctx *c, const struct user *u)
{
	_cleanup_free_ char *home = host_path(c->h, u->home);
	_cleanup_free_ char *db = xasprintf("%s/.config/dconf/user", home);
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r;

	for (int i = 0; i < c->ndbs; i++)
		if (c->dbs[i].user)
			json_object_clear(c->dbs[i].values);
	if (access(db, F_OK) < 0)
		/* Never changed a setting: defaults apply. Unreadable (a
		 * root-squashed NFS home) is not the same. */
		return errno == ENOENT ? 0 : -errno;
	r = dconf_dump(home, u, &text, &len);
	if (r < 0)
		return r;
	for (int i = 0; i < c->ndbs; i++)
		if (c->dbs[i].user)
			inifile_parse(text, len, keyfile_handler,
				      c->dbs[i].values);
	return 0;
}

/* The desktops that keep their settings in dconf. */
struct gsdesk {
	const char *name, *binary;
	const char *lock_key, *disable_key;
	const char *idle_key;
	long idle_default;
	unsigned idle_unit;		/* seconds per unit */
	const char *activation_key;	/* must be true for idle to lock */
	const char *delay_key;
	unsigned delay_unit;
	const char *suspend_key;	/* default true */
};

#define GNOME_KEYS                                                          \
	"/org/gnome/desktop/screensaver/lock-enabled",                     \
	"/org/gnome/desktop/lockdown/disable-lock-screen",                 \
	"/org/gnome/desktop/session/idle-delay", 300, 1, NULL,             \
	"/org/gnome/desktop/screensaver/lock-delay", 1,                    \
	"/org/gnome/desktop/screensaver/ubuntu-lock-on-suspend"

static const struct gsdesk gsdesks[] = {
	{ "GNOME", "/usr/bin/gnome-shell", GNOME_KEYS },
	{ "Budgie", "/usr/bin/budgie-desktop", GNOME_KEYS },
	{ "Cinnamon", "/usr/bin/cinnamon",
	  "/org/cinnamon/desktop/screensaver/lock-enabled",
	  "/org/cinnamon/desktop/lockdown/disable-lock-screen",
	  "/org/cinnamon/desktop/session/idle-delay", 300, 1, NULL,
	  "/org/cinnamon/desktop/screensaver/lock-delay", 1,
	  "/org/cinnamon/settings-daemon/plugins/power/lock-on-suspend" },
	{ "MATE", "/usr/bin/mate-session",
	  "/org/mate/screensaver/lock-enabled",
	  "/org/mate/desktop/lockdown/disable-lock-screen",
	  "/org/mate/session/idle-delay", 5, 60,
	  "/org/mate/screensaver/idle-activation-enabled",
	  "/org/mate/screensaver/lock-delay", 60,
	  "/org/mate/power-manager/lock-suspend" },
};

static void gsdesk_conf(const struct desktop_ctx *c, const struct gsdesk *d,
			struct lockconf *lc)
{
	int enabled = gv_bool(dconf_get(c, d->lock_key), 1);
	int disabled = gv_bool(dconf_get(c, d->disable_key), 0);
	int active = d->activation_key
			     ? gv_bool(dconf_get(c, d->activation_key), 1)
			     : 1;
	long idle = gv_int(dconf_get(c, d->idle_key), d->idle_default);
	long delay = gv_int(dconf_get(c, d->delay_key), 0);
	int suspend = gv_bool(dconf_get(c, d->suspend_key), 1);

	lc->desktop = d->name;
	lc->lock_enabled = (enabled < 0 || disabled < 0) ? -1
							: enabled && !disabled;
	if (lc->lock_enabled < 0 || idle < 0 || delay < 0 || active < 0)
		lc->lock_after = -1;
	else if (!lc->lock_enabled || idle == 0 || !active)
		lc->lock_after = 0;
	else
		lc->lock_after = idle * d->idle_unit + delay * d->delay_unit;
	lc->lock_on_suspend = (lc->lock_enabled < 0 || suspend < 0)
				      ? -1
				      : lc->lock_enabled && suspend;
	lc->locked_by_it = locked_at(c, d->lock_key) >= 0 &&
			   locked_at(c, d->idle_key) >= 0 &&
			   locked_at(c, d->delay_key) >= 0;
}

/* ---------- KDE Plasma ---------- */

struct kde_read {
	json_t *values, *fixed;
	bool system;
};

static int kde_handler(void *user, const char *section, const char *name,
		       const char *value)
{
	struct kde_read *k = user;
	_cleanup_free_ char *key = xstrdup(name);
	char *mark = strstr(key, "[$i]");

	if (strcmp(section, "Daemon") != 0)
		return 1;
	if (mark)
		*mark = '\0';
	/* What IT made immutable, the user's file cannot change. */
	if (!k->system && (json_object_get(k->fixed, key) ||
			   json_object_get(k->fixed, "[$i]")))
		return 1;
	json_object_set_new(k->values, key, json_string_lossy(value));
	if (k->system && mark)
		json_object_set_new(k->fixed, key, json_true());
	return 1;
}

/* KDE's "[Daemon][$i]" makes the whole group immutable; inih reads the
 * header as plain [Daemon], so the marker is looked for here. */
static bool kde_group_immutable(const struct host *h, const char *path)
{
	_cleanup_free_ char *buf = NULL;
	char *line, *save = NULL;

	if (host_read(h, path, INIFILE_MAX, &buf) < 0)
		return false;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (strcmp(strrstrip(line), "[Daemon][$i]") == 0)
			return true;
	return false;
}

static const char *const kde_keys[] = { "Autolock", "Timeout",
					"LockOnResume" };

static void kde_conf(const struct desktop_ctx *c, const struct user *u,
		     struct lockconf *lc)
{
	_cleanup_free_ char *rc = xasprintf("%s/.config/kscreenlockerrc",
					    u->home);
	struct kde_read k = { json_deep_copy(c->kde), c->kde_fixed, false };
	const char *v;
	int autolock, resume, r;
	long timeout;
	unsigned fixed = 0;

	r = inifile_read_user(c->h, rc, kde_handler, &k);
	if (r < 0 && r != -ENOENT) {
		/* Not read is not default: the session may get anything. */
		lc->desktop = "KDE Plasma";
		lc->lock_enabled = lc->lock_on_suspend = -1;
		lc->lock_after = -1;
		lc->locked_by_it = -1;
		lc->error = xasprintf("cannot read %s's kscreenlockerrc (%s)",
				      u->name, strerror(-r));
		json_decref(k.values);
		return;
	}
	v = json_string_value(json_object_get(k.values, "Autolock"));
	autolock = v ? inifile_bool(v) : 1;
	v = json_string_value(json_object_get(k.values, "Timeout"));
	timeout = v ? gv_int(v, 5) : 5;
	v = json_string_value(json_object_get(k.values, "LockOnResume"));
	resume = v ? inifile_bool(v) : 1;
	lc->desktop = "KDE Plasma";
	lc->lock_enabled = autolock;
	lc->lock_after = autolock < 0 || timeout < 0 ? -1
			 : autolock && timeout ? timeout * 60 : 0;
	lc->lock_on_suspend = resume;
	for (size_t i = 0; i < ARRAY_SIZE(kde_keys); i++)
		fixed += json_object_get(c->kde_fixed, kde_keys[i]) != NULL;
	lc->locked_by_it = fixed == ARRAY_SIZE(kde_keys) ||
			   json_object_get(c->kde_fixed, "[$i]") != NULL;
	json_decref(k.values);
}

/* ---------- XFCE (xfconf XML channels) ---------- */

#define XFCONF_DIR "xfce4/xfconf/xfce-perchannel-xml"
#define XFCONF_DEPTH 16

struct xml_read {
	json_t *values;
	char *stack[XFCONF_DEPTH];
	int depth;
	bool overflow;		/* inside a property that is skipped */
	int overflow_at;	/* the depth where skipping began */
};

static const char *attr(const XML_Char **a, const char *name)
{
	for (; a && a[0]; a += 2)
		if (strcmp(a[0], name) == 0)
			return a[1];
	return NULL;
}

static void XMLCALL xml_start(void *data, const XML_Char *el,
			      const XML_Char **a)
{
	struct xml_read *x = data;
	const char *name = attr(a, "name"), *value = attr(a, "value");
	char path[1024] = "";

	if (strcmp(el, "property") != 0)
		return;
	/* Below a property that cannot be named, nothing is kept (and
	 * nothing allocated) until the parser climbs back out of it. */
	if (x->overflow || x->depth >= XFCONF_DEPTH || !name ||
	    strchr(name, '/')) {
		if (!x->overflow)
			x->overflow_at = x->depth;
		x->depth++;
		x->overflow = true;
		return;
	}
	x->stack[x->depth++] = xstrdup(name);
	for (int i = 0; i < x->depth && !x->overflow; i++)
		snprintf(path + strlen(path), sizeof(path) - strlen(path),
			 "/%s", x->stack[i]);
	if (value && !x->overflow)
		json_object_set_new(x->values, path, json_string_lossy(value));
}

static void XMLCALL xml_end(void *data, const XML_Char *el)
{
	struct xml_read *x = data;

	if (strcmp(el, "property") != 0 || x->depth == 0)
		return;
	x->depth--;
	if (x->overflow && x->depth == x->overflow_at)
		x->overflow = false;
	else if (!x->overflow)
		free(x->stack[x->depth]);
}

/* Merge channel file path (below the root) into values; a user's own
 * file is read by host_read_user() rules. */
static int xfconf_read(const struct host *h, const char *path, json_t *values,
		       bool users)
{
	_cleanup_free_ char *buf = NULL;
	struct xml_read x = { .values = values };
	XML_Parser p;
	size_t len;
	int r = users ? host_read_user(h, path, INIFILE_MAX, &buf)
		      : host_read(h, path, INIFILE_MAX, &buf);

	if (r < 0)
		return r == -ENOENT ? 0 : r;
	len = strlen(buf);
	p = XML_ParserCreate("UTF-8");
	if (!p)
		abort();
	XML_SetUserData(p, &x);
	XML_SetElementHandler(p, xml_start, xml_end);
	if (XML_Parse(p, buf, (int)len, 1) == XML_STATUS_ERROR)
		log_debug("%s: %s", path, XML_ErrorString(XML_GetErrorCode(p)));
	XML_ParserFree(p);
	/* A document cut short leaves names on the stack. */
	while (x.depth > 0) {
		x.depth--;
		if (x.overflow && x.depth == x.overflow_at)
			x.overflow = false;
		else if (!x.overflow)
			free(x.stack[x.depth]);
	}
	return 0;
}

static int xf_bool(json_t *v, const char *key, int def)
{
	const char *s = json_string_value(json_object_get(v, key));

	return s ? inifile_bool(s) : def;
}

static long xf_int(json_t *v, const char *key, long def)
{
	const char *s = json_string_value(json_object_get(v, key));

	return s ? gv_int(s, def) : def;
}

static void xfce_conf(const struct desktop_ctx *c, const struct user *u,
		      struct lockconf *lc)
{
	_cleanup_free_ char *saver = xasprintf(
		"%s/.config/" XFCONF_DIR "/xfce4-screensaver.xml", u->home);
	_cleanup_free_ char *power = xasprintf(
		"%s/.config/" XFCONF_DIR "/xfce4-power-manager.xml", u->home);
	json_t *v = json_deep_copy(c->xfce);
	int saver_on, idle_on, lock_on, lock_with_saver, suspend, r;
	long idle, delay;
	_cleanup_free_ char *bin = host_path(c->h, "/usr/bin/xfce4-screensaver");

	lc->desktop = "XFCE";
	lc->locked_by_it = -1;
	if (access(bin, F_OK) < 0) {
		lc->lock_enabled = lc->lock_on_suspend = -1;
		lc->lock_after = -1;
		lc->error = xstrdup("XFCE without xfce4-screensaver: "
				    "light-locker's settings are not read");
		json_decref(v);
		return;
	}
	if ((r = xfconf_read(c->h, saver, v, true)) < 0 ||
	    (r = xfconf_read(c->h, power, v, true)) < 0) {
		lc->lock_enabled = lc->lock_on_suspend = -1;
		lc->lock_after = -1;
		lc->error = xasprintf("cannot read %s's XFCE settings (%s)",
				      u->name, strerror(-r));
		json_decref(v);
		return;
	}
	saver_on = xf_bool(v, "/saver/enabled", 1);
	idle_on = xf_bool(v, "/saver/idle-activation/enabled", 1);
	idle = xf_int(v, "/saver/idle-activation/delay", 5);
	lock_on = xf_bool(v, "/lock/enabled", 1);
	lock_with_saver = xf_bool(v, "/lock/saver-activation/enabled", 1);
	delay = xf_int(v, "/lock/saver-activation/delay", 0);
	suspend = xf_bool(v, "/xfce4-power-manager/lock-screen-suspend-hibernate", 1);
	lc->lock_enabled = lock_on;
	if (saver_on < 0 || idle_on < 0 || lock_on < 0 ||
	    lock_with_saver < 0 || idle < 0 || delay < 0)
		lc->lock_after = -1;
	else if (saver_on && idle_on && lock_on && lock_with_saver && idle)
		lc->lock_after = (idle + delay) * 60;
	else
		lc->lock_after = 0;
	lc->lock_on_suspend = lock_on < 0 || suspend < 0 ? -1 : lock_on && suspend;
	json_decref(v);
}

/* ---------- the context and the per-user entry point ---------- */

struct desktop_ctx *desktop_ctx_new(const struct host *h)
{
	struct desktop_ctx *c = xcalloc(1, sizeof(*c));
	struct kde_read k;

	c->h = h;
	read_profile(c);
	c->kde = json_object();
	c->kde_fixed = json_object();
	k = (struct kde_read){ c->kde, c->kde_fixed, true };
	if (kde_group_immutable(h, "/etc/xdg/kscreenlockerrc"))
		json_object_set_new(c->kde_fixed, "[$i]", json_true());
	inifile_read(h, "/etc/xdg/kscreenlockerrc", kde_handler, &k);
	c->xfce = json_object();
	xfconf_read(h, "/etc/xdg/" XFCONF_DIR "/xfce4-screensaver.xml", c->xfce,
		    false);
	xfconf_read(h, "/etc/xdg/" XFCONF_DIR "/xfce4-power-manager.xml",
		    c->xfce, false);
	return c;
}

void desktop_ctx_free(struct desktop_ctx *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->ndbs; i++) {
		free(c->dbs[i].name);
		json_decref(c->dbs[i].values);
		json_decref(c->dbs[i].locks);
	}
	json_decref(c->kde);
	json_decref(c->kde_fixed);
	json_decref(c->xfce);
	free(c);
}

static bool installed(const struct host *h, const char *binary)
{
	_cleanup_free_ char *p = host_path(h, binary);

	return access(p, F_OK) == 0;
}

int desktop_lockconf(struct desktop_ctx *c, const struct user *u,
		     struct lockconf **out)
{
	struct lockconf *v = xcalloc(ARRAY_SIZE(gsdesks) + 2, sizeof(*v));
	int n = 0, r = 1;

	for (size_t i = 0; i < ARRAY_SIZE(gsdesks); i++) {
		if (!installed(c->h, gsdesks[i].binary))
			continue;
		if (r == 1)
			r = dconf_load_user(c, u);
		if (r < 0) {
			v[n].desktop = gsdesks[i].name;
			v[n].lock_enabled = v[n].lock_on_suspend = -1;
			v[n].lock_after = -1;
			v[n].locked_by_it = -1;
			v[n++].error = xasprintf(
				"cannot read %s's dconf settings (%s)", u->name,
				r == -ENOENT ? "the dconf tool is not installed"
					     : strerror(-r));
			continue;
		}
		gsdesk_conf(c, &gsdesks[i], &v[n++]);
	}
	if (installed(c->h, "/usr/bin/plasmashell"))
		kde_conf(c, u, &v[n++]);
	if (installed(c->h, "/usr/bin/xfce4-session"))
		xfce_conf(c, u, &v[n++]);
	*out = v;
	return n;
}

bool desktop_any_installed(const struct desktop_ctx *c)
{
	for (size_t i = 0; i < ARRAY_SIZE(gsdesks); i++)
		if (installed(c->h, gsdesks[i].binary))
			return true;
	return installed(c->h, "/usr/bin/plasmashell") ||
	       installed(c->h, "/usr/bin/xfce4-session");
}

void desktop_lockconf_free(struct lockconf *v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i].error);
	free(v);
}

/* ---------- logind ---------- */

struct logind_read {
	char *action;
	long seconds;
};

static int logind_handler(void *user, const char *section, const char *name,
			  const char *value)
{
	struct logind_read *l = user;

	if (strcmp(section, "Login") != 0)
		return 1;
	if (strcmp(name, "IdleAction") == 0) {
		free(l->action);
		l->action = xstrdup(value);
	} else if (strcmp(name, "IdleActionSec") == 0) {
		l->seconds = desktop_timespan(value);
	}
	return 1;
}

bool desktop_logind_locks(const struct host *h, long *seconds)
{
	static const char *const dropins[] = {
		"/usr/lib/systemd/logind.conf.d",
		"/usr/local/lib/systemd/logind.conf.d",
		"/run/systemd/logind.conf.d",
		"/etc/systemd/logind.conf.d",
	};
	struct logind_read l = { NULL, 30 * 60 };
	bool locks;

	inifile_read(h, "/etc/systemd/logind.conf", logind_handler, &l);
	for (size_t i = 0; i < ARRAY_SIZE(dropins); i++)
		inifile_read_dir(h, dropins[i], ".conf", logind_handler, &l);
	locks = l.action && strcmp(l.action, "lock") == 0 && l.seconds > 0;
	*seconds = l.seconds;
	free(l.action);
	return locks;
}

long desktop_timespan(const char *s)
{
	static const struct {
		const char *unit;
		long mult;
	} units[] = {
		{ "seconds", 1 }, { "second", 1 }, { "sec", 1 }, { "s", 1 },
		{ "minutes", 60 }, { "minute", 60 }, { "min", 60 }, { "m", 60 },
		{ "hours", 3600 }, { "hour", 3600 }, { "hr", 3600 },
		{ "h", 3600 }, { "days", 86400 }, { "day", 86400 },
		{ "d", 86400 }, { "weeks", 604800 }, { "week", 604800 },
		{ "w", 604800 },
	};
	long total = 0;

	if (strcmp(s, "infinity") == 0)
		return -1;
	while (*s) {
		char *end;
		long n;
		size_t i, len;

		while (*s == ' ')
			s++;
		if (!*s)
			break;
		n = strtol(s, &end, 10);
		if (end == s || n < 0)
			return -1;
		s = end;
		while (*s == ' ')
			s++;
		len = strcspn(s, " 0123456789");
		if (len == 0) {
			total += n;
			continue;
		}
		for (i = 0; i < ARRAY_SIZE(units); i++)
			if (strlen(units[i].unit) == len &&
			    strncmp(s, units[i].unit, len) == 0)
				break;
		if (i == ARRAY_SIZE(units))
			return -1;	/* ms, us or nonsense */
		total += n * units[i].mult;
		s += len;
	}
	return total;
}
