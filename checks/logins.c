/*
 * logins: every way the laptop logs someone in without a password.
 *
 * Each display manager's files are read in its own order and merged by its
 * own rules (a later empty value clears an earlier one), so the verdict is
 * what it will do, not what some file once said. getty drop-ins are merged
 * as systemd merges them, and agetty's command line read as its getopt_long
 * reads it. /etc/shadow is read only to see which password fields are
 * empty: no hash is ever copied, and the buffer is wiped before it is freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inifile.h"
#include "logins.h"
#include "util.h"

struct logins {
	const struct host *h;
	json_t *problems, *unknown;
};

/* One key of a merged key file, and the file whose line set it. */
struct kv {
	char *section, *key, *value, *file;
};

enum {
	KV_STRICT = 1,		/* GKeyFile: a file with bad syntax is skipped */
	KV_SEATDEFAULTS = 2,	/* LightDM: [SeatDefaults] is [Seat:*] */
	KV_HASH_COMMENTS = 4,	/* SDDM: '#' starts a comment anywhere */
};

struct kvs {
	struct kv *v;
	size_t n;
	unsigned flags;
	const char *file;	/* while parsing */
	bool bad;		/* a key outside any section: GKeyFile refuses */
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

static void say_unknown(struct logins *l, const char *fmt, ...) _printf_(2, 3);

static void say_unknown(struct logins *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	json_array_append_new(l->unknown, json_lossy_vprintf(fmt, ap));
	va_end(ap);
}

static bool exists(const struct host *h, const char *path)
{
	_cleanup_free_ char *p = host_path(h, path);

	return access(p, F_OK) == 0;
}

/* A file that is there but cannot be read hides a setting: say so. */
static int conf_read(struct logins *l, const char *path, char **out)
{
	int r = host_read(l->h, path, INIFILE_MAX, out);

	if (r < 0 && r != -ENOENT && r != -ENOTDIR)
		say_unknown(l, "cannot read %s (%s)", path, strerror(-r));
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void strv_freep(char ***p)
{
	for (char **v = *p; v && *v; v++)
		free(*v);
	free(*p);
}

/* The names in dir below the root that match pattern, in strcmp order
 * (the order LightDM, SDDM and systemd apply drop-ins in). *out is
 * NULL-terminated, even when the directory cannot be read. */
static size_t dir_list(struct logins *l, const char *dir, const char *pattern,
		       int fnm_flags, char ***out)
{
	_cleanup_free_ char *full = host_path(l->h, dir);
	DIR *d = opendir(full);
	struct dirent *de;
	size_t n = 0;

	*out = xcalloc(1, sizeof(**out));
	if (!d) {
		if (errno != ENOENT && errno != ENOTDIR)
			say_unknown(l, "cannot list %s (%s)", dir, strerror(errno));
		return 0;
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    fnmatch(pattern, de->d_name, fnm_flags) != 0)
			continue;
		*out = xrealloc(*out, (n + 2) * sizeof(**out));
		(*out)[n++] = xstrdup(de->d_name);
		(*out)[n] = NULL;
	}
	closedir(d);
	qsort(*out, n, sizeof(**out), cmp_str);
	return n;
}

/* --- merged key files --- */

static void kv_set(struct kvs *s, const char *section, const char *key,
		   const char *value, const char *file)
{
	for (size_t i = 0; i < s->n; i++) {
		struct kv *kv = &s->v[i];

		if (strcmp(kv->section, section) == 0 && strcmp(kv->key, key) == 0) {
			free(kv->value);
			free(kv->file);
			kv->value = xstrdup(value);
			kv->file = xstrdup(file);
			return;
		}
	}
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n++] = (struct kv){ xstrdup(section), xstrdup(key),
				    xstrdup(value), xstrdup(file) };
}

static const struct kv *kv_get(const struct kvs *s, const char *section,
			       const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].section, section) == 0 &&
		    strcmp(s->v[i].key, key) == 0)
			return &s->v[i];
	return NULL;
}

static void kv_free(struct kvs *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].section);
		free(s->v[i].key);
		free(s->v[i].value);
		free(s->v[i].file);
	}
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static int kv_handler(void *user, const char *section, const char *name,
		      const char *value)
{
	struct kvs *s = user;
	_cleanup_free_ char *v = xstrdup(value);
	char *hash;

	if (!*section)
		s->bad = true;
	if (s->flags & KV_SEATDEFAULTS && strcmp(section, "SeatDefaults") == 0)
		section = "Seat:*";
	if (s->flags & KV_HASH_COMMENTS && (hash = strchr(v, '#'))) {
		*hash = '\0';
		strrstrip(v);
	}
	kv_set(s, section, name, v, s->file);
	return 1;
}

/* Merge path into s, a later key replacing an earlier one. Returns 0 or
 * -errno (-EINVAL: skipped for its syntax, with KV_STRICT). */
static int kv_load(struct logins *l, struct kvs *s, const char *path)
{
	_cleanup_free_ char *buf = NULL;
	struct kvs one = { .flags = s->flags, .file = path };
	int r = conf_read(l, path, &buf);

	if (r < 0)
		return r;
	r = inifile_parse(buf, strlen(buf), kv_handler, &one);
	if (s->flags & KV_STRICT && (r < 0 || one.bad)) {
		kv_free(&one);
		return -EINVAL;
	}
	for (size_t i = 0; i < one.n; i++)
		kv_set(s, one.v[i].section, one.v[i].key, one.v[i].value, path);
	kv_free(&one);
	return 0;
}

/* Every matching file of each directory in order, then main (may be NULL). */
static void kv_load_dirs(struct logins *l, struct kvs *s,
			 const char *const *dirs, size_t ndirs,
			 const char *pattern, int fnm_flags, const char *main)
{
	for (size_t i = 0; i < ndirs; i++) {
		_cleanup_(strv_freep) char **names = NULL;

		dir_list(l, dirs[i], pattern, fnm_flags, &names);
		for (char **n = names; *n; n++) {
			_cleanup_free_ char *p = xasprintf("%s/%s", dirs[i], *n);

			kv_load(l, s, p);
		}
	}
	if (main)
		kv_load(l, s, main);
}

/* --- PAM's nopasswdlogin group (GDM's and LightDM's stacks) --- */

/* Whether the PAM file lets the group nopasswdlogin in: an auth line of
 * pam_succeed_if.so with "user ingroup nopasswdlogin". */
static bool pam_nopasswdlogin(struct logins *l, const char *pam)
{
	_cleanup_free_ char *buf = NULL;
	char *line, *save = NULL;

	if (conf_read(l, pam, &buf) < 0)
		return false;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *w[16], *hash = strchr(line, '#'), *s2 = NULL;
		size_t n = 0, i = 2;

		if (hash)
			*hash = '\0';
		for (char *t = strtok_r(line, " \t", &s2); t && n < ARRAY_SIZE(w);
		     t = strtok_r(NULL, " \t", &s2))
			w[n++] = t;
		/* required/requisite/optional would only restrict who gets in;
		 * a bracketed control ("[success=done default=ignore]", which
		 * may hold spaces) is taken as letting the group in. */
		if (n < 3 || strcmp(w[0] + (w[0][0] == '-'), "auth") != 0 ||
		    (w[1][0] != '[' && strcmp(w[1], "sufficient") != 0))
			continue;
		if (w[1][0] == '[')
			while (i < n && !strchr(w[i - 1], ']'))
				i++;
		if (i >= n || strcmp(strrchr(w[i], '/') ? strrchr(w[i], '/') + 1
							: w[i], "pam_succeed_if.so") != 0)
			continue;
		for (i++; i + 2 < n; i++)
			if (strcmp(w[i], "user") == 0 && strcmp(w[i + 1], "ingroup") == 0 &&
			    strcmp(w[i + 2], "nopasswdlogin") == 0)
				return true;
	}
	return false;
}

/* Cut a colon-separated line (/etc/group, /etc/passwd) into its first n
 * fields; true when it has that many. */
static bool split_fields(char *line, char **f, size_t n)
{
	size_t i = 1;

	f[0] = line;
	for (char *c = line; i < n && (c = strchr(c, ':')); i++) {
		*c++ = '\0';
		f[i] = c;
	}
	return i == n;
}

/* Add name to a list of names separated by ", " unless it is there. */
static char *list_add(char *list, const char *name)
{
	_cleanup_free_ char *padded = NULL, *needle = NULL;
	char *out;

	if (!list)
		return xstrdup(name);
	padded = xasprintf(", %s,", list);
	needle = xasprintf(", %s,", name);
	if (strstr(padded, needle))
		return list;
	out = xasprintf("%s, %s", list, name);
	free(list);
	return out;
}

/* The group's members, as pam_succeed_if sees them: listed in /etc/group
 * or having it as their primary group. NULL when it has none. */
static char *group_members(struct logins *l, const char *group)
{
	_cleanup_free_ char *gbuf = NULL, *pbuf = NULL;
	char *members = NULL, *gid = NULL, *line, *save = NULL;

	if (conf_read(l, "/etc/group", &gbuf) < 0)
		return NULL;
	for (line = strtok_r(gbuf, "\n", &save); line && !gid;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[4], *m, *s2 = NULL;

		if (!split_fields(line, f, 4) || strcmp(f[0], group) != 0)
			continue;
		gid = f[2];
		for (m = strtok_r(f[3], ",", &s2); m; m = strtok_r(NULL, ",", &s2))
			members = list_add(members, m);
	}
	if (!gid || conf_read(l, "/etc/passwd", &pbuf) < 0)
		return members;
	for (line = strtok_r(pbuf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[5];

		if (split_fields(line, f, 5) && strcmp(f[3], gid) == 0)
			members = list_add(members, f[0]);
	}
	return members;
}

static void nopasswdlogin_check(struct logins *l, const char *dm,
				const char *pam)
{
	_cleanup_free_ char *who = NULL;

	if (!pam_nopasswdlogin(l, pam) || !(who = group_members(l, "nopasswdlogin")))
		return;
	add(l->problems, "autologin", "/etc/group",
	    "%s lets %s sign in without a password (group nopasswdlogin)", dm, who);
}

/* --- GDM --- */

/* The first file with the key wins: GDM reads /run's file, then Debian's
 * daemon.conf, then Ubuntu's custom.conf (upstream gdm's last). */
static const struct kv *gdm_get(const struct kvs *s, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++) {
		const struct kv *kv = kv_get(&s[i], "daemon", key);

		if (kv)
			return kv;
	}
	return NULL;
}

static void gdm_pair(struct logins *l, const struct kvs *s, size_t n,
		     const char *enable, const char *user, const char *when)
{
	const struct kv *on = gdm_get(s, n, enable), *who = gdm_get(s, n, user);

	if (!on || (strcasecmp(on->value, "true") != 0 && strcmp(on->value, "1") != 0) ||
	    !who || !*who->value)
		return;
	add(l->problems, "autologin", on->file,
	    "GDM logs %s in %s, with no password", who->value, when);
}

static void gdm_check(struct logins *l)
{
	static const char *const files[] = {
		"/run/gdm3/custom.conf", "/etc/gdm3/daemon.conf",
		"/etc/gdm3/custom.conf", "/run/gdm/custom.conf",
		"/etc/gdm/custom.conf",
	};
	struct kvs s[ARRAY_SIZE(files)];

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		s[i] = (struct kvs){ .flags = KV_STRICT };
		kv_load(l, &s[i], files[i]);
	}
	gdm_pair(l, s, ARRAY_SIZE(s), "AutomaticLoginEnable", "AutomaticLogin",
		 "automatically");
	gdm_pair(l, s, ARRAY_SIZE(s), "TimedLoginEnable", "TimedLogin",
		 "after a delay");
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		kv_free(&s[i]);
	nopasswdlogin_check(l, "GDM", "/etc/pam.d/gdm-password");
}

/* --- LightDM --- */

static bool kv_first_of_section(const struct kvs *s, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(s->v[j].section, s->v[i].section) == 0)
			return false;
	return true;
}

/* What seat0 gets: [Seat:*], then each [Seat:GLOB] matching seat0 in the
 * order the sections first appeared, whatever file each came from. */
static const struct kv *lightdm_get(const struct kvs *s, const char *key)
{
	const struct kv *best = kv_get(s, "Seat:*", key), *kv;

	for (size_t i = 0; i < s->n; i++) {
		const char *sec = s->v[i].section;

		if (strncmp(sec, "Seat:", 5) != 0 || strcmp(sec, "Seat:*") == 0 ||
		    !kv_first_of_section(s, i) || fnmatch(sec + 5, "seat0", 0) != 0)
			continue;
		if ((kv = kv_get(s, sec, key)))
			best = kv;
	}
	return best;
}

/* Where LightDM finds the guest-account script (in its PATH), or NULL. */
static char *lightdm_script(struct logins *l, const char *name)
{
	static const char *const path[] = { "/usr/local/sbin", "/usr/local/bin",
					    "/usr/sbin", "/usr/bin", "/sbin", "/bin" };

	if (!*name)
		return NULL;
	if (strchr(name, '/'))
		return exists(l->h, name) ? xstrdup(name) : NULL;
	for (size_t i = 0; i < ARRAY_SIZE(path); i++) {
		char *p = xasprintf("%s/%s", path[i], name);

		if (exists(l->h, p))
			return p;
		free(p);
	}
	return NULL;
}

/* allow-guest (true unless set otherwise) does something only when the
 * guest-account script is installed; Debian ships none. */
static void lightdm_guest(struct logins *l, const struct kvs *s)
{
	const struct kv *allow = lightdm_get(s, "allow-guest");
	const struct kv *script = lightdm_get(s, "guest-account-script");
	_cleanup_free_ char *p = NULL;

	if (allow && strcmp(allow->value, "true") != 0)
		return;
	p = lightdm_script(l, script ? script->value : "guest-account");
	if (p)
		add(l->problems, "guest", allow ? allow->file : p,
		    "LightDM offers a guest session, which needs no password");
}

static void lightdm_check(struct logins *l)
{
	static const char *const dirs[] = {
		"/usr/share/lightdm/lightdm.conf.d",
		"/usr/local/share/lightdm/lightdm.conf.d",
		"/etc/xdg/lightdm/lightdm.conf.d", "/etc/lightdm/lightdm.conf.d",
	};
	struct kvs s = { .flags = KV_STRICT | KV_SEATDEFAULTS };
	const struct kv *user, *delay, *guest;
	long secs;

	kv_load_dirs(l, &s, dirs, ARRAY_SIZE(dirs), "*.conf", 0,
		     "/etc/lightdm/lightdm.conf");
	/* autologin-in-background still logs the user in: not a way out. */
	if ((user = lightdm_get(&s, "autologin-user")) && *user->value) {
		delay = lightdm_get(&s, "autologin-user-timeout");
		secs = delay ? strtol(delay->value, NULL, 10) : 0;
		if (secs > 0)
			add(l->problems, "autologin", user->file,
			    "LightDM logs %s in automatically after %ld seconds, "
			    "with no password", user->value, secs);
		else
			add(l->problems, "autologin", user->file,
			    "LightDM logs %s in automatically, with no password",
			    user->value);
	}
	if ((guest = lightdm_get(&s, "autologin-guest")) &&
	    strcmp(guest->value, "true") == 0)
		add(l->problems, "guest", guest->file,
		    "LightDM starts a guest session automatically");
	lightdm_guest(l, &s);
	kv_free(&s);
	nopasswdlogin_check(l, "LightDM", "/etc/pam.d/lightdm");
}

/* --- SDDM, LXDM --- */

static void sddm_check(struct logins *l)
{
	static const char *const dirs[] = { "/usr/lib/sddm/sddm.conf.d",
					    "/etc/sddm.conf.d" };
	struct kvs s = { .flags = KV_HASH_COMMENTS };
	const struct kv *user;

	/* SDDM reads every file there, not only *.conf (hidden ones not). */
	kv_load_dirs(l, &s, dirs, ARRAY_SIZE(dirs), "*", FNM_PERIOD,
		     "/etc/sddm.conf");
	if ((user = kv_get(&s, "Autologin", "User")) && *user->value)
		add(l->problems, "autologin", user->file,
		    "SDDM logs %s in automatically, with no password", user->value);
	kv_free(&s);
}

/* [base] autologin: users separated by spaces, "@name" naming [name]'s
 * user=. skip_password only skips the prompt for accounts whose password
 * is empty, which the /etc/shadow part already finds. */
static void lxdm_check(struct logins *l)
{
	const char *file = "/etc/lxdm/default.conf";
	struct kvs s = { 0 };
	const struct kv *list;
	char *save = NULL;

	if (kv_load(l, &s, file) == -ENOENT)
		kv_load(l, &s, file = "/etc/lxdm/lxdm.conf");
	if ((list = kv_get(&s, "base", "autologin"))) {
		_cleanup_free_ char *users = xstrdup(list->value);

		for (char *u = strtok_r(users, " \t", &save); u;
		     u = strtok_r(NULL, " \t", &save)) {
			const struct kv *in = u[0] == '@' ? kv_get(&s, u + 1, "user") : NULL;
			const char *who = u[0] == '@' ? (in ? in->value : "") : u;

			if (*who)
				add(l->problems, "autologin", file,
				    "LXDM logs %s in automatically, with no password", who);
		}
	}
	kv_free(&s);
}

/* --- nodm, greetd: not INI --- */

/* The last assignment of key in a shell-style file (KEY=VALUE, quotes
 * allowed), or NULL. */
static char *shell_get(const char *buf, const char *key)
{
	_cleanup_free_ char *copy = xstrdup(buf);
	char *val = NULL, *line, *save = NULL;
	size_t klen = strlen(key);

	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *p = line + strspn(line, " \t"), *v, *end;

		if (strncmp(p, "export ", 7) == 0)
			p += 7 + strspn(p + 7, " \t");
		if (strncmp(p, key, klen) != 0 || p[klen] != '=')
			continue;
		v = p + klen + 1;
		if (*v == '"' || *v == '\'') {
			end = strchr(v + 1, *v);
			v++;
		} else {
			end = v + strcspn(v, " \t;#");
		}
		free(val);
		val = end ? xstrndup(v, (size_t)(end - v)) : NULL;
	}
	return val;
}

static void nodm_check(struct logins *l)
{
	_cleanup_free_ char *buf = NULL, *on = NULL, *user = NULL;
	int r = conf_read(l, "/etc/default/nodm", &buf);

	if (r < 0 && r != -ENOENT)
		return;
	on = shell_get(buf ? buf : "", "NODM_ENABLED");
	user = shell_get(buf ? buf : "", "NODM_USER");
	if (on && (strcmp(on, "no") == 0 || strcmp(on, "false") == 0))
		return;
	add(l->problems, "autologin", "/etc/default/nodm",
	    "nodm logs %s in automatically, with no password",
	    user && *user ? user : "root");
}

/* One TOML line of the form greetd's files take: `[section]` sets
 * *section; `key = "string"` (or 'string') sets *key and *value. Anything
 * else (numbers, arrays, a malformed line) returns false and is ignored. */
static bool toml_line(char *line, const char **section, char **key,
		      char **value)
{
	char *p = line + strspn(line, " \t"), *out;
	char q;

	if (*p == '[') {	/* a section: nothing else to return */
		char *end = strchr(p, ']'), *rest = end ? end + 1 + strspn(end + 1, " \t") : NULL;

		if (!rest || (*rest != '\0' && *rest != '#'))
			return false;
		*end = '\0';
		*section = strrstrip(p + 1 + strspn(p + 1, " \t"));
		return false;
	}
	*key = p;
	p += strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
	if (p == *key)
		return false;
	out = p;
	p += strspn(p, " \t");
	if (*p++ != '=')
		return false;
	*out = '\0';
	p += strspn(p, " \t");
	if (*p != '"' && *p != '\'')
		return false;
	q = *p++;
	*value = out = p;
	for (; *p && *p != q; p++) {
		if (q == '"' && *p == '\\' && p[1])
			p++;
		*out++ = *p;
	}
	if (*p != q)
		return false;
	p++;
	p += strspn(p, " \t");
	*out = '\0';
	return *p == '\0' || *p == '#';
}

static bool greetd_is_greeter(const char *user, const char *command)
{
	static const char *const greeters[] = { "agreety", "tuigreet", "gtkgreet",
						"regreet", "wlgreet", "qtgreet",
						"nwg-hello" };

	if (strcmp(user, "_greetd") == 0 || strcmp(user, "greeter") == 0)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(greeters); i++)
		if (strstr(command, greeters[i]))
			return true;
	return false;
}

static void greetd_check(struct logins *l)
{
	const char *file = exists(l->h, "/etc/greetd/greetd.conf")
				   ? "/etc/greetd/greetd.conf"
				   : "/etc/greetd/config.toml";
	_cleanup_free_ char *buf = NULL;
	const char *init = NULL, *user = "greeter", *cmd = "", *section = "";
	char *key, *value, *line, *save = NULL;

	if (conf_read(l, file, &buf) < 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!toml_line(line, &section, &key, &value))
			continue;
		if (strcmp(section, "initial_session") == 0 && strcmp(key, "user") == 0)
			init = value;
		if (strcmp(section, "default_session") == 0 && strcmp(key, "user") == 0)
			user = value;
		if (strcmp(section, "default_session") == 0 &&
		    strcmp(key, "command") == 0)
			cmd = value;
	}
	if (init && *init)
		add(l->problems, "autologin", file,
		    "greetd logs %s in automatically when the laptop starts, "
		    "with no password", init);
	if (*cmd && !greetd_is_greeter(user, cmd))
		add(l->problems, "autologin", file,
		    "greetd logs %s in automatically, with no password", user);
}

/* --- getty --- */

/* How a getty unit is found: instance@ and alias@ names share drop-ins. */
struct getty_kind {
	const char *unit, *alias;	/* "getty@", "autovt@" */
	const char *one, *every;	/* for the detail */
};

static const struct getty_kind getty_kinds[] = {
	{ "getty@", "autovt@", "the text console", "every text console" },
	{ "serial-getty@", NULL, "the serial console", "every serial console" },
	{ "container-getty@", NULL, "the container console",
	  "every container console" },
	{ "console-getty", NULL, "the console", "the console" },
};

/* A unit or drop-in linked to /dev/null (or empty) masks what it names. */
static bool unit_masked(struct logins *l, const char *path)
{
	_cleanup_free_ char *full = host_path(l->h, path);
	char target[PATH_MAX];
	ssize_t n = readlink(full, target, sizeof(target) - 1);
	struct stat st;

	if (n >= 0)
		target[n] = '\0';
	return (n >= 0 && strcmp(target, "/dev/null") == 0) ||
	       (stat(full, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0);
}

/* ExecStart= lines of [Service], in order: an empty one clears the list.
 * Lines continued with a backslash are joined first, as systemd does. */
static void unit_exec(struct logins *l, const char *path, char **exec,
		      int *count, const char **from)
{
	_cleanup_free_ char *buf = NULL;
	const char *section = "";
	char *line, *save = NULL;

	if (unit_masked(l, path) || conf_read(l, path, &buf) < 0)
		return;
	for (char *c = buf; (c = strstr(c, "\\\n")); )
		c[0] = c[1] = ' ';
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *eq, *v;

		line += strspn(line, " \t");
		strrstrip(line);
		if (*line == '[')
			section = line;
		if (strcmp(section, "[Service]") != 0 || !(eq = strchr(line, '=')))
			continue;
		*eq = '\0';
		if (strcmp(strrstrip(line), "ExecStart") != 0)
			continue;
		v = eq + 1 + strspn(eq + 1, " \t");
		free(*exec);
		*exec = *v ? xstrdup(v) : NULL;
		*count = *v ? *count + 1 : 0;
		*from = path;
	}
}

/* Split s in place as systemd splits a command line: white space between
 * words, "..." and '...' quote, a backslash escapes. Returns how many. */
static size_t split_words(char *s, char **w, size_t max)
{
	char *out = s;
	size_t n = 0;

	while (n < max) {
		char q = 0;

		s += strspn(s, " \t");
		if (!*s)
			break;
		w[n++] = out;
		for (; *s && (q || (*s != ' ' && *s != '\t')); s++) {
			if (q ? *s == q : (*s == '"' || *s == '\'')) {
				q = q ? 0 : *s;
				continue;
			}
			if (*s == '\\' && s[1])
				s++;
			*out++ = *s;
		}
		if (*s)
			s++;
		*out++ = '\0';
	}
	return n;
}

struct agetty_args {
	const char *autologin, *options, *program;
	bool skip_login;
};

static void agetty_set(struct agetty_args *a, char c, const char *v)
{
	if (c == 'a')
		a->autologin = v;
	else if (c == 'o')
		a->options = v;
	else if (c == 'l')
		a->program = v;
	else if (c == 'n')
		a->skip_login = true;
}

/* A long option as getopt_long reads it: exact or a unique prefix. */
static int agetty_long(char **w, size_t n, size_t *i, struct agetty_args *a)
{
	static const struct { const char *name; int arg; char c; } opts[] = {
		{ "8bits", 0, 0 }, { "autologin", 1, 'a' }, { "noreset", 0, 0 },
		{ "chdir", 1, 0 }, { "delay", 1, 0 }, { "remote", 0, 0 },
		{ "issue-file", 1, 0 }, { "show-issue", 0, 0 },
		{ "flow-control", 0, 0 }, { "host", 1, 0 }, { "noissue", 0, 0 },
		{ "init-string", 1, 0 }, { "noclear", 0, 0 },
		{ "login-program", 1, 'l' }, { "local-line", 2, 0 },
		{ "extract-baud", 0, 0 }, { "list-speeds", 0, 0 },
		{ "skip-login", 0, 'n' }, { "nonewline", 0, 0 },
		{ "login-options", 1, 'o' }, { "login-pause", 0, 0 },
		{ "nice", 1, 0 }, { "chroot", 1, 0 }, { "hangup", 0, 0 },
		{ "keep-baud", 0, 0 }, { "timeout", 1, 0 },
		{ "detect-case", 0, 0 }, { "wait-cr", 0, 0 }, { "nohints", 0, 0 },
		{ "nohostname", 0, 0 }, { "long-hostname", 0, 0 },
		{ "reload", 0, 0 }, { "version", 0, 0 }, { "help", 0, 0 },
		{ "erase-chars", 1, 0 }, { "kill-chars", 1, 0 },
	};
	char *name = w[*i] + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name), hit = 0, hits = 0;

	for (size_t k = 0; k < ARRAY_SIZE(opts); k++) {
		if (strncmp(opts[k].name, name, len) != 0)
			continue;
		hit = k;
		hits++;
		if (opts[k].name[len] == '\0') {	/* exact beats prefixes */
			hits = 1;
			break;
		}
	}
	/* Unknown or ambiguous: agetty exits, no login at all. */
	if (hits != 1 || (eq && opts[hit].arg == 0))
		return -EINVAL;
	if (opts[hit].arg == 1 && !eq && *i + 1 >= n)
		return -EINVAL;
	agetty_set(a, opts[hit].c,
		   eq ? eq + 1 : opts[hit].arg == 1 ? w[++*i] : NULL);
	return 0;
}

/* A cluster of short options ("-Ja alice", "-aalice"). */
static int agetty_short(char **w, size_t n, size_t *i, struct agetty_args *a)
{
	static const char optstring[] = "8a:cC:d:Ef:hH:iI:Jl:L::mnNo:pP:r:Rst:Uw";

	for (char *c = w[*i] + 1; *c; c++) {
		const char *o = *c == ':' ? NULL : strchr(optstring, *c);

		if (!o)
			return -EINVAL;
		if (o[1] != ':') {
			agetty_set(a, *c, NULL);
			continue;
		}
		if (o[2] != ':' && !c[1] && *i + 1 >= n)
			return -EINVAL;
		agetty_set(a, *c, c[1] || o[2] == ':' ? c + 1 : w[++*i]);
		return 0;
	}
	return 0;
}

/* agetty's options wherever they are (getopt_long permutes). -EINVAL when
 * agetty would refuse the line, and so start no login at all. */
static int agetty_parse(char **w, size_t n, struct agetty_args *a)
{
	for (size_t i = 1; i < n; i++) {
		int r = 0;

		if (strcmp(w[i], "--") == 0)
			break;
		if (strncmp(w[i], "--", 2) == 0)
			r = agetty_long(w, n, &i, a);
		else if (w[i][0] == '-' && w[i][1])
			r = agetty_short(w, n, &i, a);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Whether a word of login's options holds -f: a cluster of short options
 * with f before h (whose argument would take the rest). */
static bool login_has_f(const char *word)
{
	return word[0] == '-' && word[1] != '-' && word[strcspn(word, "fh")] == 'f';
}

/* With login's -f in --login-options, login asks for no password: for the
 * user named there, or (with \u) whoever types a name. agetty splits the
 * options at white space only. */
static char *login_f(const char *options)
{
	_cleanup_free_ char *copy = xstrdup(options);
	char *w, *user = NULL, *save = NULL;
	bool f = false, end = false;

	for (w = strtok_r(copy, " \t\n", &save); w;
	     w = strtok_r(NULL, " \t\n", &save)) {
		if (!end && strcmp(w, "--") == 0)
			end = true;
		else if (!end && w[0] == '-')
			f = f || login_has_f(w);
		else if (!user)
			user = w;
	}
	if (!f)
		return NULL;
	if (!user || strstr(user, "\\u"))
		return xstrdup("logs in whoever types a user name, with no password");
	return xasprintf("logs %s in automatically, with no password", user);
}

/* What the command line does without a password, in words, or NULL. */
static char *getty_verdict(struct logins *l, char *exec, const char *what)
{
	char *w[64], *prog, *base;
	size_t n, skip;
	struct agetty_args a = { 0 };

	skip = strspn(exec, "-@:+!");
	n = split_words(exec + skip, w, ARRAY_SIZE(w));
	if (n >= 2 && memchr(exec, '@', skip)) {	/* "@path argv0 args" */
		memmove(w + 1, w + 2, (n - 2) * sizeof(*w));
		n--;
	}
	if (!n)
		return NULL;
	prog = w[0];
	base = strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog;
	if (strcmp(base, "agetty") != 0 && strcmp(base, "getty") != 0) {
		say_unknown(l, "%s runs %s instead of agetty: whether it asks for "
			    "a password cannot be told", what, prog);
		return NULL;
	}
	if (agetty_parse(w, n, &a) < 0)
		return NULL;
	if (a.autologin && *a.autologin)
		return xasprintf("logs %s in automatically, with no password",
				 a.autologin);
	if (a.options && (prog = login_f(a.options)))
		return prog;
	/* -n alone runs login with no name: login asks for both. */
	base = a.program ? strrchr(a.program, '/') : NULL;
	if (a.skip_login && a.program &&
	    strcmp(base ? base + 1 : a.program, "login") != 0)
		return xasprintf("starts %s without asking for a password", a.program);
	return NULL;
}

static const char *const unit_dirs[] = {
	"/etc/systemd/system", "/run/systemd/system",
	"/usr/local/lib/systemd/system", "/lib/systemd/system",
	"/usr/lib/systemd/system",
};

/* The drop-ins of the unit's names (instance first, then template), one
 * per file name, /etc's beating /run's beating /lib's; sorted by name. */
static size_t getty_dropins(struct logins *l, char **names, size_t nnames,
			    char ***out)
{
	char **paths = xcalloc(1, sizeof(*paths));
	size_t n = 0;

	for (size_t d = 0; d < ARRAY_SIZE(unit_dirs); d++)
		for (size_t k = 0; k < nnames; k++) {
			_cleanup_free_ char *dir = xasprintf("%s/%s.service.d",
							     unit_dirs[d], names[k]);
			_cleanup_(strv_freep) char **files = NULL;

			dir_list(l, dir, "*.conf", FNM_PERIOD, &files);
			for (char **f = files; *f; f++) {
				bool seen = false;

				for (size_t i = 0; i < n && !seen; i++)
					seen = strcmp(strrchr(paths[i], '/') + 1, *f) == 0;
				if (seen)
					continue;
				paths = xrealloc(paths, (n + 2) * sizeof(*paths));
				paths[n++] = xasprintf("%s/%s", dir, *f);
				paths[n] = NULL;
			}
		}
	*out = paths;
	return n;
}

static int cmp_base(const void *a, const void *b)
{
	return strcmp(strrchr(*(char *const *)a, '/'), strrchr(*(char *const *)b, '/'));
}

/* The unit file systemd loads for name: the first unit directory's. */
static char *unit_fragment(struct logins *l, const char *name)
{
	for (size_t d = 0; d < ARRAY_SIZE(unit_dirs); d++) {
		char *p = xasprintf("%s/%s.service", unit_dirs[d], name);
		_cleanup_free_ char *full = host_path(l->h, p);
		struct stat st;

		if (lstat(full, &st) == 0)
			return p;
		free(p);
	}
	return NULL;
}

/* One getty unit (inst "" for the template, which every instance without
 * its own files follows): its unit file, then its drop-ins. */
static void getty_eval(struct logins *l, const struct getty_kind *k,
		       const char *inst)
{
	_cleanup_free_ char *exec = NULL, *what = NULL, *verdict = NULL;
	_cleanup_free_ char *unit = xasprintf("%s%s", k->unit, inst), *frag = NULL;
	_cleanup_(strv_freep) char **dropins = NULL;
	char *names[4] = { 0 };
	const char *from = NULL;
	size_t nn = 0, nd;
	int count = 0;

	frag = unit_fragment(l, unit);
	if (!frag && *inst)
		frag = unit_fragment(l, k->unit);
	if (frag && unit_masked(l, frag))
		return;
	if (frag)
		unit_exec(l, frag, &exec, &count, &from);
	if (*inst)
		names[nn++] = xstrdup(unit);
	if (*inst && k->alias)
		names[nn++] = xasprintf("%s%s", k->alias, inst);
	names[nn++] = xstrdup(k->unit);
	if (k->alias)
		names[nn++] = xstrdup(k->alias);
	nd = getty_dropins(l, names, nn, &dropins);
	qsort(dropins, nd, sizeof(*dropins), cmp_base);
	for (size_t i = 0; i < nd; i++)
		unit_exec(l, dropins[i], &exec, &count, &from);
	/* More than one ExecStart=: systemd refuses the unit, no getty runs.
	 * An instance that only inherits the template's line is the
	 * template's finding. */
	if (exec && count == 1 && from && (!*inst || !strstr(from, "@.service"))) {
		what = *inst ? xasprintf("%s %s", k->one, inst) : xstrdup(k->every);
		if ((verdict = getty_verdict(l, exec, what)))
			add(l->problems, "autologin", from, "%s %s", what, verdict);
	}
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
}

/* Every getty unit that has a file or drop-in directory of its own. */
static void getty_check(struct logins *l)
{
	for (size_t k = 0; k < ARRAY_SIZE(getty_kinds); k++) {
		const struct getty_kind *g = &getty_kinds[k];
		_cleanup_(strv_freep) char **seen = xcalloc(1, sizeof(*seen));
		size_t ns = 0;

		for (size_t d = 0; d < ARRAY_SIZE(unit_dirs); d++)
			for (int a = 0; a < (g->alias ? 2 : 1); a++) {
				const char *unit = a ? g->alias : g->unit;
				_cleanup_free_ char *pat = xasprintf("%s*.service*", unit);
				_cleanup_(strv_freep) char **names = NULL;

				dir_list(l, unit_dirs[d], pat, FNM_PERIOD, &names);
				for (char **n = names; *n; n++) {
					char *inst = xstrndup(*n + strlen(unit),
							      strcspn(*n + strlen(unit), "."));
					bool dup = false;

					for (size_t i = 0; i < ns && !dup; i++)
						dup = strcmp(seen[i], inst) == 0;
					if (dup || (!strchr(unit, '@') && *inst)) {
						free(inst);
						continue;
					}
					seen = xrealloc(seen, (ns + 2) * sizeof(*seen));
					seen[ns++] = inst;
					seen[ns] = NULL;
				}
			}
		for (size_t i = 0; i < ns; i++)
			getty_eval(l, g, seen[i]);
	}
}

/* --- which display managers --- */

struct dm {
	const char *unit, *binary;
	void (*check)(struct logins *l);	/* NULL: it has no autologin */
};

static const struct dm dms[] = {
	{ "gdm3.service", "/usr/sbin/gdm3", gdm_check },
	{ "gdm.service", "/usr/sbin/gdm", gdm_check },
	{ "lightdm.service", "/usr/sbin/lightdm", lightdm_check },
	{ "sddm.service", "/usr/bin/sddm", sddm_check },
	{ "lxdm.service", "/usr/sbin/lxdm", lxdm_check },
	{ "nodm.service", "/usr/sbin/nodm", nodm_check },
	{ "greetd.service", "/usr/sbin/greetd", greetd_check },
	{ "xdm.service", "/usr/bin/xdm", NULL },
};

static const struct dm *dm_find(struct logins *l, const char *name, bool unit)
{
	for (size_t i = 0; i < ARRAY_SIZE(dms); i++)
		if (strcmp(unit ? dms[i].unit : dms[i].binary, name) == 0)
			return &dms[i];
	say_unknown(l, "the display manager %s is not one this check knows: "
		    "whether it logs someone in without a password cannot be "
		    "told", name);
	return NULL;
}

/* The display manager systemd starts: display-manager.service's link
 * (to /dev/null: none), else Debian's /etc/X11/default-display-manager. */
static const struct dm *dm_active(struct logins *l)
{
	_cleanup_free_ char *link = host_path(l->h,
				"/etc/systemd/system/display-manager.service");
	_cleanup_free_ char *bin = NULL;
	char target[PATH_MAX];
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	int r;

	if (n > 0) {
		target[n] = '\0';
		if (strcmp(target, "/dev/null") == 0)
			return NULL;
		return dm_find(l, strrchr(target, '/') ? strrchr(target, '/') + 1
						       : target, true);
	}
	r = host_read_line(l->h, "/etc/X11/default-display-manager", &bin);
	if (r < 0 && r != -ENOENT)
		say_unknown(l, "cannot read /etc/X11/default-display-manager (%s)",
			    strerror(-r));
	return r < 0 || !*bin ? NULL : dm_find(l, bin, false);
}

/* Each installed display manager's files, and the active one's. */
static void dm_check(struct logins *l)
{
	const struct dm *active = dm_active(l);
	void (*done[ARRAY_SIZE(dms)])(struct logins *) = { 0 };
	size_t ndone = 0;

	for (size_t i = 0; i < ARRAY_SIZE(dms); i++) {
		bool ran = false;

		if (!dms[i].check ||
		    (active != &dms[i] && !exists(l->h, dms[i].binary)))
			continue;
		for (size_t j = 0; j < ndone; j++)
			ran = ran || done[j] == dms[i].check;
		if (ran)
			continue;
		dms[i].check(l);
		done[ndone++] = dms[i].check;
	}
}

/* --- /etc/shadow --- */

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

int logins_check(const struct host *h, json_t *problems, json_t *unknown)
{
	struct logins l = { h, problems, unknown };

	dm_check(&l);
	getty_check(&l);
	return shadow_check(h, problems);
}
