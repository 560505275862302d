/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logins: every way the laptop logs someone in without a password.
 *
 * Each display manager's files are read in its own order and merged by its
 * own rules (a later empty value clears an earlier one), so the verdict is
 * what it will do, not what some file once said. Text consoles are
 * getty's part (getty.c). /etc/shadow is read only to see which password
 * fields are empty: no hash is ever copied, and the buffer is wiped before
 * it is freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>	/* GNU basename(): never writes to its argument */
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "getty.h"
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

static bool exists(const struct host *h, const char *path)
{
	_cleanup_free_ char *p = host_path(h, path);

	return access(p, F_OK) == 0;
}

/* A configuration file; one there but unreadable is said in unknown. */
static int conf_read(struct logins *l, const char *path, char **out)
{
	int r = host_read(l->h, path, INIFILE_MAX, out);

	return check_unreadable(l->unknown, r, "read", path);
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

/* Every matching file of each directory in strcmp order (the order LightDM
 * and SDDM read them in), then main (may be NULL). */
static void kv_load_dirs(struct logins *l, struct kvs *s,
			 const char *const *dirs, size_t ndirs,
			 const char *pattern, int fnm_flags, const char *main)
{
	for (size_t i = 0; i < ndirs; i++) {
		_cleanup_(strv_freep) char **names = NULL;
		int r = host_list(l->h, dirs[i], pattern, fnm_flags, &names);

		check_unreadable(l->unknown, r, "list", dirs[i]);
		for (char **n = names; *n; n++) {
			_cleanup_free_ char *p = xasprintf("%s/%s", dirs[i], *n);

			kv_load(l, s, p);
		}
	}
	if (main)
		kv_load(l, s, main);
}

/* --- PAM's nopasswdlogin group (GDM's and LightDM's stacks) --- */

/* Whether a line of a PAM file lets the group nopasswdlogin in: auth,
 * pam_succeed_if.so with "user ingroup nopasswdlogin". */
static bool pam_line_nopasswdlogin(char *line)
{
	char *w[16], *hash = strchr(line, '#'), *save = NULL;
	size_t n = 0, i = 2;

	if (hash)
		*hash = '\0';
	for (char *t = strtok_r(line, " \t", &save); t && n < ARRAY_SIZE(w);
	     t = strtok_r(NULL, " \t", &save))
		w[n++] = t;
	/* required/requisite/optional would only restrict who gets in; a
	 * bracketed control ("[success=done default=ignore]", which may hold
	 * spaces) is taken as letting the group in. */
	if (n < 3 || strcmp(w[0] + (w[0][0] == '-'), "auth") != 0 ||
	    (w[1][0] != '[' && strcmp(w[1], "sufficient") != 0))
		return false;
	if (w[1][0] == '[')
		while (i < n && !strchr(w[i - 1], ']'))
			i++;
	if (i >= n || strcmp(basename(w[i]), "pam_succeed_if.so") != 0)
		return false;
	for (i++; i + 2 < n; i++)
		if (strcmp(w[i], "user") == 0 &&
		    strcmp(w[i + 1], "ingroup") == 0 &&
		    strcmp(w[i + 2], "nopasswdlogin") == 0)
			return true;
	return false;
}

/* Whether the PAM file has such a line. */
static bool pam_nopasswdlogin(struct logins *l, const char *pam)
{
	_cleanup_free_ char *buf = NULL;
	char *line, *save = NULL;

	if (conf_read(l, pam, &buf) < 0)
		return false;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (pam_line_nopasswdlogin(line))
			return true;
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

/* A guest session started at once (autologin-guest), or offered:
 * allow-guest (true unless set otherwise) does something only when the
 * guest-account script is installed; Debian ships none. */
static void lightdm_guest(struct logins *l, const struct kvs *s)
{
	const struct kv *autologin = lightdm_get(s, "autologin-guest");
	const struct kv *allow = lightdm_get(s, "allow-guest");
	const struct kv *script = lightdm_get(s, "guest-account-script");
	_cleanup_free_ char *p = NULL;

	if (autologin && strcmp(autologin->value, "true") == 0)
		add(l->problems, "guest", autologin->file,
		    "LightDM starts a guest session automatically");
	if (allow && strcmp(allow->value, "true") != 0)
		return;
	p = lightdm_script(l, script ? script->value : "guest-account");
	if (p)
		add(l->problems, "guest", allow ? allow->file : p,
		    "LightDM offers a guest session, which needs no password");
}

/* autologin-user, at once or after autologin-user-timeout seconds.
 * autologin-in-background still logs the user in: not a way out. */
static void lightdm_autologin(struct logins *l, const struct kvs *s)
{
	const struct kv *user = lightdm_get(s, "autologin-user");
	const struct kv *delay = lightdm_get(s, "autologin-user-timeout");
	long secs = delay ? strtol(delay->value, NULL, 10) : 0;

	if (!user || !*user->value)
		return;
	if (secs > 0)
		add(l->problems, "autologin", user->file,
		    "LightDM logs %s in automatically after %ld seconds, "
		    "with no password", user->value, secs);
	else
		add(l->problems, "autologin", user->file,
		    "LightDM logs %s in automatically, with no password",
		    user->value);
}

static void lightdm_check(struct logins *l)
{
	static const char *const dirs[] = {
		"/usr/share/lightdm/lightdm.conf.d",
		"/usr/local/share/lightdm/lightdm.conf.d",
		"/etc/xdg/lightdm/lightdm.conf.d", "/etc/lightdm/lightdm.conf.d",
	};
	struct kvs s = { .flags = KV_STRICT | KV_SEATDEFAULTS };

	kv_load_dirs(l, &s, dirs, ARRAY_SIZE(dirs), "*.conf", 0,
		     "/etc/lightdm/lightdm.conf");
	lightdm_autologin(l, &s);
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

/* A TOML `[section]` line at p: *section set to its name. */
static void toml_section(char *p, const char **section)
{
	char *end = strchr(p, ']');
	char *rest = end ? end + 1 + strspn(end + 1, " \t") : NULL;

	if (!rest || (*rest != '\0' && *rest != '#'))
		return;
	*end = '\0';
	*section = strrstrip(p + 1 + strspn(p + 1, " \t"));
}

/* A TOML string at p ("..." with escapes, or '...'), unquoted in place
 * into *value. Returns what follows it, or NULL when there is none. */
static char *toml_string(char *p, char **value)
{
	char q = *p, *out;

	if (q != '"' && q != '\'')
		return NULL;
	*value = out = ++p;
	for (; *p && *p != q; p++) {
		if (q == '"' && *p == '\\' && p[1])
			p++;
		*out++ = *p;
	}
	if (*p != q)
		return NULL;
	*out = '\0';
	return p + 1;
}

/* One TOML line of the form greetd's files take: `[section]` sets
 * *section; `key = "string"` (or 'string') sets *key and *value. Anything
 * else (numbers, arrays, a malformed line) returns false and is ignored. */
static bool toml_line(char *line, const char **section, char **key,
		      char **value)
{
	char *p = line + strspn(line, " \t"), *end;

	if (*p == '[') {	/* a section: nothing else to return */
		toml_section(p, section);
		return false;
	}
	*key = p;
	p += strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
	if (p == *key)
		return false;
	end = p;
	p += strspn(p, " \t");
	if (*p++ != '=')
		return false;
	*end = '\0';
	p = toml_string(p + strspn(p, " \t"), value);
	if (!p)
		return false;
	p += strspn(p, " \t");
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
	json_lossy_append(l->unknown, "the display manager %s is not one this "
			  "check knows: whether it logs someone in without a "
			  "password cannot be told", name);
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
		return dm_find(l, basename(target), true);
	}
	r = host_read_line(l->h, "/etc/X11/default-display-manager", &bin);
	if (r < 0 && r != -ENOENT)
		json_lossy_append(l->unknown, "cannot read "
				  "/etc/X11/default-display-manager (%s)",
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

/* Read up to size bytes of fd into buf. Returns how many, or -errno. */
static ssize_t shadow_read_fd(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n < size) {
		ssize_t r = read(fd, buf + n, size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	return (ssize_t)n;
}

static void shadow_free(char *buf, size_t size)
{
	explicit_bzero(buf, size + 1);
	free(buf);
}

/* /etc/shadow, read into one buffer of *size + 1 bytes, sized once (no
 * reallocation leaves copies behind) and wiped on every path: free it with
 * shadow_free(). Returns 0 or -errno. */
static int shadow_read(const struct host *h, char **out, size_t *size)
{
	_cleanup_free_ char *path = host_path(h, "/etc/shadow");
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
					     O_NONBLOCK);
	struct stat st;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size > 16 * 1024 * 1024)
		return -EINVAL;
	*size = (size_t)st.st_size;
	*out = xmalloc(*size + 1);
	n = shadow_read_fd(fd, *out, *size);
	/* A part of the file could hide an empty password. */
	if (n < 0) {
		shadow_free(*out, *size);
		return (int)n;
	}
	(*out)[n] = '\0';
	return 0;
}

/* Empty password fields: no hash is copied out of the buffer. */
static int shadow_check(const struct host *h, json_t *problems)
{
	char *buf = NULL, *line, *save = NULL;
	size_t size = 0;
	int r = shadow_read(h, &buf, &size);

	if (r < 0)
		return r;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');

		if (colon && colon != line && colon[1] == ':') {
			*colon = '\0';
			add(problems, "empty_password", "/etc/shadow",
			    "the account %s has no password", line);
		}
	}
	shadow_free(buf, size);
	return 0;
}

int logins_check(const struct host *h, json_t *problems, json_t *unknown)
{
	struct logins l = { h, problems, unknown };

	dm_check(&l);
	getty_check(h, problems, unknown);
	return shadow_check(h, problems);
}
