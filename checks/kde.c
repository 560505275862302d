/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kde: kscreenlocker's [Daemon] settings, read as KConfig reads them and
 * applied as kscreenlocker applies them (both read from their sources:
 * KConfig 5.103's kconfigini.cpp and kconfigdata.cpp, kscreenlocker
 * 5.27 to 6.3's ksldapp.cpp and kscreenlockersettings.kcfg).
 *
 * The files, in order: the global ones (/etc/xdg/system.kdeglobals,
 * /etc/xdg/kdeglobals, ~/.config/kdeglobals: the locker opens its file
 * with KConfig::FullConfig), then /etc/xdg/kscreenlockerrc and
 * ~/.config/kscreenlockerrc. A later file overrides an earlier one,
 * except that "Key[$i]=" fixes a key, "[Daemon][$i]" the group (the user's
 * own files then skip it), and a bare "[$i]" header every group after it
 * and every later file of its list: KConfig stops reading. "Key[$d]"
 * deletes a value (the default applies); "Key[de]" holds a value for one
 * language only, which cannot be told here.
 *
 * Not inih: its inline ';' comments, continuation lines and reading of
 * "[Daemon][$i]" differ from KConfig's format, and would read another
 * value than the locker's.
 *
 * Defaults, conversions and bounds are the compiled-in kcfg's, which
 * change with Plasma's version (read from kscreenlocker's library name):
 * Timeout (minutes; default 5) at least 1 before 6.1, a number with a
 * fraction from 6.3; LockGrace (seconds; 5) within 0-300 before 6.0,
 * 0-3600 in 6.0; RequirePassword (6.1 on). A bool is false only for
 * "false", "no", "off" or "0"; a number that does not convert is the
 * default.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "inifile.h"
#include "kde.h"
#include "util.h"

/* Minutes (Timeout) beyond which kscreenlocker's milliseconds overflow
 * an int. */
#define KDE_TIMEOUT_MAX 35791

enum { K_AUTOLOCK, K_TIMEOUT, K_LOCK, K_GRACE, K_RESUME, K_PASSWORD, K_N };

static const struct {
	const char *name, *def;
} kde_keys[K_N] = {
	[K_AUTOLOCK] = { "Autolock", "true" },
	[K_TIMEOUT] = { "Timeout", "5" },
	[K_LOCK] = { "Lock", "true" },
	[K_GRACE] = { "LockGrace", "5" },
	[K_RESUME] = { "LockOnResume", "true" },
	[K_PASSWORD] = { "RequirePassword", "true" },
};

/* The system's files, read once per evaluation. */
static const char *const kde_system[] = {
	"/etc/xdg/system.kdeglobals",
	"/etc/xdg/kdeglobals",
	"/etc/xdg/kscreenlockerrc",
};

/* The files in KConfig's order: two lists, each stopped by a bare [$i].
 * A system file by its index in kde_system; a user's by its name below
 * ~/.config. */
static const struct kfile {
	int system;		/* -1: the user's */
	const char *user;
} kde_globals[] = {
	{ 0, NULL }, { 1, NULL }, { -1, "kdeglobals" },
}, kde_rc[] = {
	{ 2, NULL }, { -1, "kscreenlockerrc" },
};

struct kde {
	const struct host *h;
	char *text[ARRAY_SIZE(kde_system)];	/* NULL: absent, unreadable */
	int error[ARRAY_SIZE(kde_system)];	/* 0, or -errno but ENOENT */
	int major, minor;		/* Plasma's; -1 unknown */
	char *library;			/* the file that told it */
};

/* One [Daemon] key as KConfig's entry map holds it. */
struct kentry {
	bool set;		/* an entry exists (a value, or a [$d]) */
	char *value;		/* NULL: none or deleted: the default */
	const char *from;	/* the file that set it */
	bool user;		/* that file is the user's */
	bool immutable;
	bool loc_set, loc_immutable;
	const char *localized;	/* the file of a per-language value */
};

struct kmerge {
	struct kentry e[K_N];
	bool group_fixed;	/* [Daemon] immutable, by a file read before */
	bool group_fixed_by_user;
	const char *stopped_by;	/* a system file whose [$i] kept the user's
				 * kscreenlockerrc out */
};

/* The state of one file's pass. */
struct kparse {
	struct kmerge *m;
	const char *file;
	bool user;
	bool file_fixed;	/* a bare [$i]: every later group */
	bool group_opt;		/* the current group's [$i] */
	bool daemon;		/* in [Daemon] */
	bool skip;		/* [Daemon] is immutable, the file the user's */
	bool daemon_fixed;	/* [Daemon][$i] in this file */
};

/* ---------- the format ---------- */

static char *kde_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* KConfig's escapes, in place: \s \t \n \r \\ \xHH; "\;" and "\," are
 * kept; any other "\c" becomes "\". */
static void kde_unescape(char *s)
{
	static const char from[] = "stnr\\", to[] = " \t\n\r\\";
	char *r = s;
	size_t l = strlen(s);

	for (size_t i = 0; i < l; i++) {
		const char *c;

		if (s[i] != '\\') {
			*r++ = s[i];
		} else if (++i >= l) {
			*r++ = '\\';
		} else if ((c = strchr(from, s[i])) && *c) {
			*r++ = to[c - from];
		} else if (s[i] == ';' || s[i] == ',') {
			*r++ = '\\';
			*r++ = s[i];
		} else if (s[i] == 'x' && i + 2 < l) {
			int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);

			*r++ = hi < 0 || lo < 0 ? 'x' : (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] == 'x') {
			*r++ = 'x';
			i = l;
		} else {
			*r++ = '\\';
		}
	}
	*r = '\0';
}

/* Whether one part of a group header, s[0..n), names [Daemon]. */
static bool kde_is_daemon(const char *s, size_t n)
{
	_cleanup_free_ char *name = xstrndup(s, n);

	kde_unescape(name);
	return strcmp(name, "Daemon") == 0;
}

/* A group header: "[Daemon]", "[Daemon][$i]", "[A][B]", a bare "[$i]".
 * One that does not close leaves KConfig in the group it was in. */
static void kde_header(struct kparse *p, const char *line)
{
	size_t len = strlen(line), start = 1, end;
	bool opt = p->file_fixed, file_fixed = p->file_fixed, daemon = false;
	int parts = 0;

	p->group_opt = p->file_fixed;
	for (;;) {
		for (end = start; end < len && line[end] != ']'; end++)
			;
		if (end == len)
			return;
		if (end + 1 == len && end == start + 2 &&
		    strncmp(line + start, "$i", 2) == 0) {
			if (parts == 0)
				file_fixed = true;
			else
				opt = true;
		} else {
			daemon = parts++ == 0 &&
				 kde_is_daemon(line + start, end - start);
		}
		if (end + 1 >= len || line[end + 1] != '[')
			break;
		start = end + 2;
	}
	p->file_fixed = file_fixed;
	p->group_opt = opt;
	p->daemon = daemon && parts == 1;
	p->skip = p->daemon && p->m->group_fixed && p->user;
	if (p->daemon && opt)
		p->daemon_fixed = true;
}

/* KEntryMap::setEntry for one of our keys: an immutable entry is kept,
 * and an immutable group takes no new entry. value NULL: deleted. */
static void kde_set(struct kparse *p, const char *key, const char *value,
		    bool fixed, bool localized)
{
	struct kentry *e = NULL;

	for (size_t i = 0; i < K_N && !e; i++)
		if (strcmp(kde_keys[i].name, key) == 0)
			e = &p->m->e[i];
	if (!e)
		return;
	if (localized) {
		if (e->loc_set ? e->loc_immutable : p->m->group_fixed)
			return;
		e->loc_set = true;
		e->loc_immutable = fixed;
		e->localized = p->file;
		return;
	}
	if (e->set ? e->immutable : p->m->group_fixed)
		return;
	free(e->value);
	e->value = value ? xstrdup(value) : NULL;
	e->set = true;
	e->from = p->file;
	e->user = p->user;
	e->immutable = fixed;
	/* KConfig drops the per-language value of a key set plainly. */
	e->loc_set = false;
	e->localized = NULL;
}

/* "Key=value", "Key[$i]=value", "Key[$d]", "Key[de]=value". */
static void kde_entry(struct kparse *p, char *line)
{
	char *eq = strchr(line, '='), *key = line, *value = NULL, *open;
	bool fixed = p->group_opt, localized = false;

	if (eq) {
		*eq = '\0';
		value = kde_trim(eq + 1);
	}
	key = kde_trim(key);
	while (*key && (open = strrchr(key, '['))) {
		char *close = strchr(open, ']');

		if (!close)
			return;
		for (char *o = open + 2; open[1] == '$' && o < close; o++) {
			fixed |= *o == 'i';
			if (*o == 'd') {
				*open = '\0';
				kde_unescape(key);
				kde_set(p, key, NULL, fixed, false);
				return;
			}
		}
		if (open[1] != '$' || close == open + 1) {
			if (localized)
				return;	/* a second language: KConfig drops it */
			localized = true;
		}
		*open = '\0';
	}
	if (!*key || !value)
		return;
	kde_unescape(key);
	kde_unescape(value);
	kde_set(p, key, value, fixed, localized);
}

/* One file, as KConfigIniBackend::parseConfig reads it. Returns true when
 * a bare [$i] made it immutable: KConfig reads no later file. */
static bool kde_parse(struct kmerge *m, char *text, const char *file,
		      bool user)
{
	struct kparse p = { .m = m, .file = file, .user = user };
	char *save = NULL;

	for (char *l = strtok_r(text, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		l = kde_trim(l);
		if (!*l || *l == '#')
			continue;
		if (*l == '[')
			kde_header(&p, l);
		else if (p.daemon && !p.skip)
			kde_entry(&p, l);
	}
	/* The group is made immutable only once the file is read. */
	if (p.daemon_fixed && !m->group_fixed) {
		m->group_fixed = true;
		m->group_fixed_by_user = user;
	}
	return p.file_fixed;
}

/* ---------- the files ---------- */

/* Merge one list of files into m. *path gets the user's file's path.
 * Returns 0, or -errno with *bad naming the file not read. */
static int kde_read_list(const struct kde *k, const struct user *u,
			 const struct kfile *list, size_t n, struct kmerge *m,
			 char **path, const char **bad)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *text = NULL;
		int s = list[i].system, r;
		const char *file;

		if (s >= 0) {
			file = kde_system[s];
			r = k->error[s];
			text = k->text[s] ? xstrdup(k->text[s]) : NULL;
		} else {
			file = *path = xasprintf("%s/.config/%s", u->home,
						 list[i].user);
			r = host_read_user(k->h, file, INIFILE_MAX, &text);
			r = r == -ENOENT ? 0 : r;
		}
		if (r < 0) {
			*bad = s >= 0 ? file : list[i].user;
			return r;
		}
		if (text && kde_parse(m, text, file, s < 0)) {
			if (list == kde_rc && s >= 0)
				m->stopped_by = file;
			break;
		}
	}
	return 0;
}

/* ---------- Plasma's version ---------- */

/* "libKScreenLocker.so.6.1.4": keep the highest version seen. */
static void kde_version_name(struct kde *k, const char *dir, const char *name)
{
	static const char prefix[] = "libKScreenLocker.so.";
	const char *s = name + sizeof(prefix) - 1;
	char *end;
	long major, minor = -1;

	if (strncmp(name, prefix, sizeof(prefix) - 1) != 0 ||
	    !isdigit((unsigned char)*s))
		return;
	major = strtol(s, &end, 10);
	if (*end == '.' && isdigit((unsigned char)end[1]))
		minor = strtol(end + 1, &end, 10);
	if (major > 99 || minor > 99 || major < k->major ||
	    (major == k->major && minor <= k->minor))
		return;
	k->major = (int)major;
	k->minor = (int)minor;
	free(k->library);
	k->library = xasprintf("%s/%s", dir, name);
}

/* The library's folders: /usr/lib, /usr/lib64 and each multiarch folder
 * (/usr/lib/x86_64-linux-gnu). */
static void kde_version_scan(struct kde *k, const char *dir, bool deeper)
{
	_cleanup_free_ char *full = host_path(k->h, dir);
	DIR *d = opendir(full);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (deeper && de->d_name[0] != '.' &&
		    strstr(de->d_name, "-linux-")) {
			_cleanup_free_ char *sub = xasprintf("%s/%s", dir,
							     de->d_name);

			kde_version_scan(k, sub, false);
		} else {
			kde_version_name(k, dir, de->d_name);
		}
	}
	closedir(d);
}

/* Whether Plasma is at least major.minor: 1, 0, or -1 cannot be told. */
static int kde_at_least(const struct kde *k, int major, int minor)
{
	if (k->major < 0)
		return -1;
	if (k->major != major)
		return k->major > major;
	return k->minor < 0 ? -1 : k->minor >= minor;
}

struct kde *kde_new(const struct host *h)
{
	struct kde *k = xcalloc(1, sizeof(*k));

	k->h = h;
	for (size_t i = 0; i < ARRAY_SIZE(kde_system); i++) {
		int r = host_read(h, kde_system[i], INIFILE_MAX, &k->text[i]);

		k->error[i] = r == -ENOENT ? 0 : r;
	}
	k->major = k->minor = -1;
	kde_version_scan(k, "/usr/lib", true);
	kde_version_scan(k, "/usr/lib64", false);
	return k;
}

void kde_free(struct kde *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(kde_system); i++)
		free(k->text[i]);
	free(k->library);
	free(k);
}

/* ---------- what kscreenlocker makes of the values ---------- */

/* KConfig's bool: false only for these words, whatever their case. */
static int kde_bool(const char *v)
{
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < ARRAY_SIZE(no); i++)
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	return 1;
}

/* KConfig's int: a decimal number, cut to an int as Qt casts it. */
static bool kde_int(const char *v, long *out)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (end == v || *end || errno)
		return false;
	*out = (int32_t)(uint32_t)(unsigned long long)n;
	return true;
}

/* KConfig's double (Plasma 6.3's Timeout). */
static bool kde_double(const char *v, double *out)
{
	char *end;

	*out = strtod(v, &end);
	return end != v && !*end && !strpbrk(v, "xX") && isfinite(*out);
}

/* The value of key i: merged, or the default. */
static const char *kde_value(const struct kmerge *m, int i)
{
	return m->e[i].value ? m->e[i].value : kde_keys[i].def;
}

/* Timeout in minutes as the installed Plasma reads it (a value that does
 * not convert is the default, 5), or -1 with *why. */
static double kde_minutes(const struct kde *k, const char *v,
			  const char **why)
{
	int frac = kde_at_least(k, 6, 3);
	double t;
	long n;

	if (frac == 1)
		return kde_double(v, &t) ? t : 5;
	if (kde_int(v, &n))
		return n;
	if (frac < 0 && kde_double(v, &t) && t != 5)
		return *why = "a Timeout that is not a whole number of "
			      "minutes counts only from Plasma 6.3 on", -1;
	return 5;
}

/* Seconds idle before the idle lock (0: none), or -1 with *why. */
static long kde_timeout(const struct kde *k, const struct kmerge *m,
			const char **why)
{
	int unbounded = kde_at_least(k, 6, 1);
	double t;

	if (!kde_bool(kde_value(m, K_AUTOLOCK)))
		return 0;
	t = kde_minutes(k, kde_value(m, K_TIMEOUT), why);
	if (*why)
		return -1;
	/* At least one minute before Plasma 6.1; after it, 0 is none. */
	if (unbounded < 0 && t < 1)
		return *why = "a Timeout under 1 minute is one minute before "
			      "Plasma 6.1 and no idle lock after it", -1;
	if (unbounded == 0 && t < 1)
		t = 1;
	if (t > KDE_TIMEOUT_MAX)
		return *why = "Timeout is beyond what kscreenlocker counts",
		       -1;
	return t <= 0 ? 0 : ((long)(t * 60000) + 999) / 1000;
}

/* LockGrace in seconds, within the kcfg's bounds before 6.1. From 6.1
 * a negative one never ends after an idle lock: -2. */
static long kde_grace(const struct kde *k, const struct kmerge *m)
{
	long g = 5, max = kde_at_least(k, 6, 0) == 0 ? 300 : 3600;

	kde_int(kde_value(m, K_GRACE), &g);
	if (kde_at_least(k, 6, 1) == 0)
		return g < 0 ? 0 : g > max ? max : g;
	return g < 0 ? -2 : g;
}

/* Whether the lock screen asks for a password: Lock=false and, from
 * Plasma 6.1, RequirePassword=false run the greeter with --nolock. */
static int kde_password(const struct kde *k, const struct kmerge *m,
			long grace, const char **why)
{
	int required = kde_bool(kde_value(m, K_PASSWORD));
	int counts = kde_at_least(k, 6, 1);

	if (!kde_bool(kde_value(m, K_LOCK)))
		return 0;
	if (!required && counts < 0)
		return *why = "RequirePassword=false is obeyed from Plasma "
			      "6.1 on", -1;
	if (!required && counts)
		return 0;
	if (grace == -2 && counts < 0)
		return *why = "a negative LockGrace never ends from Plasma "
			      "6.1 on", -1;
	return grace == -2 ? 0 : 1;
}

/* The evidence: each key's value, where it came from and whether IT
 * fixed it (not the user's, and no file of hers can change it); then
 * Plasma's version. Returns whether IT fixed every key that counts. */
static bool kde_evidence(const struct kde *k, const struct kmerge *m,
			 struct lockconf *lc)
{
	char version[32] = "cannot be told";
	bool all = true;

	for (int i = 0; i < K_N; i++) {
		const struct kentry *e = &m->e[i];
		bool fixed = !(e->value && e->user) &&
			     (e->immutable || m->stopped_by ||
			      (m->group_fixed && !m->group_fixed_by_user));
		bool counts = i != K_PASSWORD || kde_at_least(k, 6, 1) != 0;
		_cleanup_free_ char *from = xasprintf(
			"%s%s", e->value ? e->from : "kscreenlocker's default",
			counts ? "" : " (no effect before Plasma 6.1)");

		if (counts || e->value)
			lockconf_setting(lc, kde_keys[i].name, kde_value(m, i),
					 from, fixed);
		if (counts)
			all &= fixed;
	}
	if (k->minor >= 0)
		snprintf(version, sizeof(version), "%d.%d", k->major, k->minor);
	else if (k->major >= 0)
		snprintf(version, sizeof(version), "%d", k->major);
	lockconf_setting(lc, "Plasma", version,
			 k->library ? k->library
				    : "no libKScreenLocker below /usr/lib",
			 false);
	return all;
}

/* A per-language value of a key read: whether it is the user's language
 * cannot be told. */
static const struct kentry *kde_localized(const struct kmerge *m)
{
	for (int i = 0; i < K_N; i++)
		if (m->e[i].loc_set)
			return &m->e[i];
	return NULL;
}

static void kde_judge(const struct kde *k, const struct kmerge *m,
		      const struct user *u, struct lockconf *lc)
{
	const struct kentry *loc = kde_localized(m);
	const char *why = NULL;
	long after = kde_timeout(k, m, &why);
	long grace = kde_grace(k, m);
	int password = kde_password(k, m, grace, &why);
	int resume = kde_bool(kde_value(m, K_RESUME));
	bool fixed = kde_evidence(k, m, lc);

	if (loc) {
		lockconf_unknown(lc, "KDE Plasma, user %s: %s sets %s for one "
				     "language only", u->name, loc->localized,
				 kde_keys[loc - m->e].name);
		return;
	}
	if (why)
		lockconf_unknown(lc, "KDE Plasma, user %s: %s", u->name, why);
	lc->lock_after = after;
	lc->lock_enabled = after > 0 || resume ? 1 : after < 0 ? -1 : 0;
	/* Plasma never sets logind's IdleHint, so logind's IdleAction never
	 * fires for it; kscreenlocker does lock on logind's Lock. */
	lc->idle_after = 0;
	lc->obeys_logind = 1;
	lc->grace = password != 0 && grace >= 0 ? grace : -1;
	lc->asks_password = password;
	lc->lock_on_suspend = resume;
	lc->locked_by_it = fixed;
}

void kde_lockconf(const struct kde *k, const struct user *u,
		  struct lockconf *lc)
{
	_cleanup_free_ char *globals = NULL, *rc = NULL;
	struct kmerge m = { 0 };
	const char *bad = NULL;
	int r;

	lockconf_init(lc, "KDE Plasma");
	r = kde_read_list(k, u, kde_globals, ARRAY_SIZE(kde_globals), &m,
			  &globals, &bad);
	if (r == 0)
		r = kde_read_list(k, u, kde_rc, ARRAY_SIZE(kde_rc), &m, &rc,
				  &bad);
	/* Not read is not default: the session may get anything. */
	if (r < 0 && bad[0] == '/')
		lockconf_unknown(lc, "cannot read %s (%s)", bad, strerror(-r));
	else if (r < 0)
		lockconf_unknown(lc, "cannot read %s's %s (%s)", u->name, bad,
				 strerror(-r));
	else
		kde_judge(k, &m, u, lc);
	for (int i = 0; i < K_N; i++)
		free(m.e[i].value);
}
