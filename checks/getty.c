/* SPDX-License-Identifier: Apache-2.0 */
/*
 * getty: text consoles that log someone in without a password.
 *
 * Each getty unit is loaded as systemd loads it: the unit file of the
 * first unit directory that has one (an instance without its own follows
 * its template's), then the drop-ins of its names, one per file name
 * (/etc's beating /run's beating /lib's), applied in file-name order, an
 * empty ExecStart= clearing the ones before. The agetty command line it is
 * left with is read as agetty's getopt_long reads it, and the options it
 * hands login as login reads them.
 */
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>	/* GNU basename(): never writes to its argument */
#include <sys/stat.h>
#include <unistd.h>

#include "getty.h"
#include "inifile.h"
#include "util.h"

struct getty {
	const struct host *h;
	json_t *problems, *unknown;
};

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

/* Where systemd looks for unit files, the first one winning. */
static const char *const unit_dirs[] = {
	"/etc/systemd/system", "/run/systemd/system",
	"/usr/local/lib/systemd/system", "/lib/systemd/system",
	"/usr/lib/systemd/system",
};

/* The ExecStart= a unit is left with once its files are read. */
struct execstart {
	char *line;	/* the last one, or NULL after an empty one */
	int count;	/* how many since the last clearing */
	char *from;	/* the file of the last ExecStart= line */
};

static void execstart_clear(struct execstart *e)
{
	free(e->line);
	free(e->from);
}

/* The finding: "<what> <verdict>", set in file. */
static void getty_add(struct getty *g, const char *file, const char *what,
		      const char *verdict)
{
	_cleanup_free_ char *detail = xasprintf("%s %s", what, verdict);

	json_array_append_new(g->problems,
			      json_pack("{s:s, s:o, s:o}", "kind", "autologin",
					"detail", json_string_lossy(detail),
					"file", json_string_lossy(file)));
}

/* --- systemd's unit files --- */

/* A unit or drop-in linked to /dev/null (or empty) masks what it names. */
static bool unit_masked(struct getty *g, const char *path)
{
	_cleanup_free_ char *full = host_path(g->h, path);
	char target[PATH_MAX];
	ssize_t n = readlink(full, target, sizeof(target) - 1);
	struct stat st;

	if (n >= 0)
		target[n] = '\0';
	return (n >= 0 && strcmp(target, "/dev/null") == 0) ||
	       (stat(full, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0);
}

/* The unit file systemd loads for name: the first unit directory's. */
static char *unit_fragment(struct getty *g, const char *name)
{
	for (size_t d = 0; d < ARRAY_SIZE(unit_dirs); d++) {
		char *p = xasprintf("%s/%s.service", unit_dirs[d], name);
		_cleanup_free_ char *full = host_path(g->h, p);
		struct stat st;

		if (lstat(full, &st) == 0)
			return p;
		free(p);
	}
	return NULL;
}

/* The value of line when it is an ExecStart= of [Service], else NULL;
 * *section follows the section headers. */
static char *execstart_value(char *line, const char **section)
{
	char *eq;

	line += strspn(line, " \t");
	strrstrip(line);
	if (*line == '[')
		*section = line;
	if (strcmp(*section, "[Service]") != 0 || !(eq = strchr(line, '=')))
		return NULL;
	*eq = '\0';
	if (strcmp(strrstrip(line), "ExecStart") != 0)
		return NULL;
	return eq + 1 + strspn(eq + 1, " \t");
}

/* Apply path's ExecStart= lines to e, in order. Lines continued with a
 * backslash are joined first, as systemd does. */
static void unit_execstart(struct getty *g, const char *path,
			   struct execstart *e)
{
	_cleanup_free_ char *buf = NULL;
	const char *section = "";
	char *line, *v, *save = NULL;
	int r;

	if (unit_masked(g, path))
		return;
	r = host_read(g->h, path, INIFILE_MAX, &buf);
	if (check_unreadable(g->unknown, r, "read", path) < 0)
		return;
	for (char *c = buf; (c = strstr(c, "\\\n")); )
		c[0] = c[1] = ' ';
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!(v = execstart_value(line, &section)))
			continue;
		free(e->line);
		free(e->from);
		e->line = *v ? xstrdup(v) : NULL;
		e->count = *v ? e->count + 1 : 0;
		e->from = xstrdup(path);
	}
}

/* Add the drop-ins of unit name in unit_dir (its name.service.d) to
 * *paths, but not one with the name of a file already there. */
static void unit_dropins_in(struct getty *g, const char *unit_dir,
			    const char *name, char ***paths, size_t *n)
{
	_cleanup_free_ char *dir = xasprintf("%s/%s.service.d", unit_dir, name);
	_cleanup_(strv_freep) char **files = NULL;
	int r = host_list(g->h, dir, "*.conf", FNM_PERIOD, &files);

	check_unreadable(g->unknown, r, "list", dir);
	for (char **f = files; *f; f++) {
		bool seen = false;

		for (size_t i = 0; i < *n && !seen; i++)
			seen = strcmp(strrchr((*paths)[i], '/') + 1, *f) == 0;
		if (!seen)
			strv_push(paths, n, xasprintf("%s/%s", dir, *f));
	}
}

static int cmp_base(const void *a, const void *b)
{
	return strcmp(strrchr(*(char *const *)a, '/'),
		      strrchr(*(char *const *)b, '/'));
}

/* The drop-ins of names (instance first, then template), one per file
 * name, /etc's beating /run's beating /lib's; sorted by file name, the
 * order systemd applies them in. */
static char **unit_dropins(struct getty *g, char **names)
{
	char **paths = xcalloc(1, sizeof(*paths));
	size_t n = 0;

	for (size_t d = 0; d < ARRAY_SIZE(unit_dirs); d++)
		for (char **name = names; *name; name++)
			unit_dropins_in(g, unit_dirs[d], *name, &paths, &n);
	qsort(paths, n, sizeof(*paths), cmp_base);
	return paths;
}

/* --- agetty's command line --- */

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

/* The words of an ExecStart= value as systemd runs it: the prefixes
 * ("-", "@", ":", "+", "!") taken off, and with "@" ("@path argv0
 * args") the argv0 dropped, so that w[0] is the program run. */
static size_t exec_words(char *exec, char **w, size_t max)
{
	size_t skip = strspn(exec, "-@:+!");
	size_t n = split_words(exec + skip, w, max);

	if (n >= 2 && memchr(exec, '@', skip)) {
		memmove(w + 1, w + 2, (n - 2) * sizeof(*w));
		n--;
	}
	return n;
}

struct agetty_args {
	const char *autologin, *options, *program;
	bool skip_login;
};

/* agetty's long options (util-linux 2.38's table): arg 0 none, 1
 * required, 2 optional; c the short option it stands for, where it
 * matters here. */
static const struct agetty_opt {
	const char *name;
	int arg;
	char c;
} agetty_opts[] = {
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

/* The option the first len bytes of name stand for, as getopt_long finds
 * it: the exact name, or the only one they abbreviate. NULL when unknown
 * or ambiguous. */
static const struct agetty_opt *agetty_long_find(const char *name, size_t len)
{
	const struct agetty_opt *hit = NULL;
	size_t hits = 0;

	for (size_t k = 0; k < ARRAY_SIZE(agetty_opts); k++) {
		if (strncmp(agetty_opts[k].name, name, len) != 0)
			continue;
		if (agetty_opts[k].name[len] == '\0')	/* exact wins */
			return &agetty_opts[k];
		hit = &agetty_opts[k];
		hits++;
	}
	return hits == 1 ? hit : NULL;
}

/* A long option ("--autologin alice", "--auto=alice"). */
static int agetty_long(char **w, size_t n, size_t *i, struct agetty_args *a)
{
	char *name = w[*i] + 2, *eq = strchr(name, '=');
	const struct agetty_opt *o =
		agetty_long_find(name, eq ? (size_t)(eq - name) : strlen(name));

	/* Unknown or ambiguous: agetty exits, no login at all. */
	if (!o || (eq && o->arg == 0))
		return -EINVAL;
	if (o->arg == 1 && !eq && *i + 1 >= n)
		return -EINVAL;
	agetty_set(a, o->c, eq ? eq + 1 : o->arg == 1 ? w[++*i] : NULL);
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

/* A word of login's options that starts with '-' ("-p", "-pf", "-h"):
 * *f set when it holds -f before any h (whose argument takes the rest of
 * the word). Returns true when it ends in h, whose argument is then the
 * next word. */
static bool login_option(const char *word, bool *f)
{
	size_t h = strcspn(word, "h");

	if (word[1] == '-')	/* a long option */
		return false;
	*f = *f || word[strcspn(word, "fh")] == 'f';
	return word[h] == 'h' && !word[h + 1];
}

/* With login's -f in --login-options, login asks for no password: for the
 * user named there, or (with \u) whoever types a name. agetty splits the
 * options at white space only. */
static char *login_f(const char *options)
{
	_cleanup_free_ char *copy = xstrdup(options);
	char *w, *user = NULL, *save = NULL;
	bool f = false, end = false, host = false;

	for (w = strtok_r(copy, " \t\n", &save); w;
	     w = strtok_r(NULL, " \t\n", &save)) {
		if (host)	/* -h's argument, not a user name */
			host = false;
		else if (!end && strcmp(w, "--") == 0)
			end = true;
		else if (!end && w[0] == '-')
			host = login_option(w, &f);
		else if (!user)
			user = w;
	}
	if (!f)
		return NULL;
	if (!user || strstr(user, "\\u"))
		return xstrdup("logs in whoever types a user name, "
			       "with no password");
	return xasprintf("logs %s in automatically, with no password", user);
}

/* What agetty's options do without a password, in words, or NULL. */
static char *agetty_verdict(const struct agetty_args *a)
{
	char *login;

	if (a->autologin && *a->autologin)
		return xasprintf("logs %s in automatically, with no password",
				 a->autologin);
	if (a->options && (login = login_f(a->options)))
		return login;
	/* -n alone runs login with no name: login asks for both. */
	if (a->skip_login && a->program &&
	    strcmp(basename(a->program), "login") != 0)
		return xasprintf("starts %s without asking for a password",
				 a->program);
	return NULL;
}

/* What the ExecStart= value does without a password, in words, or NULL;
 * what names the console for the unknown. */
static char *getty_verdict(struct getty *g, char *exec, const char *what)
{
	char *w[64];
	size_t n = exec_words(exec, w, ARRAY_SIZE(w));
	struct agetty_args a = { 0 };
	const char *base;

	if (!n)
		return NULL;
	base = basename(w[0]);
	if (strcmp(base, "agetty") != 0 && strcmp(base, "getty") != 0) {
		json_lossy_append(g->unknown, "%s runs %s instead of agetty: "
				  "whether it asks for a password cannot be "
				  "told", what, w[0]);
		return NULL;
	}
	if (agetty_parse(w, n, &a) < 0)
		return NULL;
	return agetty_verdict(&a);
}

/* --- the getty units --- */

/* The names whose drop-ins apply to a unit: for an instance (inst not
 * ""), its own and its alias's, then the template's and its alias's. */
static char **getty_names(const struct getty_kind *k, const char *inst)
{
	char **names = NULL;
	size_t n = 0;

	if (*inst)
		strv_push(&names, &n, xasprintf("%s%s", k->unit, inst));
	if (*inst && k->alias)
		strv_push(&names, &n, xasprintf("%s%s", k->alias, inst));
	strv_push(&names, &n, xstrdup(k->unit));
	if (k->alias)
		strv_push(&names, &n, xstrdup(k->alias));
	return names;
}

/* Read one getty unit's files into e: its unit file, then its drop-ins.
 * False when the unit is masked. */
static bool getty_execstart(struct getty *g, const struct getty_kind *k,
			    const char *inst, struct execstart *e)
{
	_cleanup_free_ char *unit = xasprintf("%s%s", k->unit, inst);
	_cleanup_free_ char *frag = unit_fragment(g, unit);
	_cleanup_(strv_freep) char **names = NULL, **dropins = NULL;

	if (!frag && *inst)
		frag = unit_fragment(g, k->unit);
	if (frag && unit_masked(g, frag))
		return false;
	if (frag)
		unit_execstart(g, frag, e);
	names = getty_names(k, inst);
	dropins = unit_dropins(g, names);
	for (char **d = dropins; *d; d++)
		unit_execstart(g, *d, e);
	return true;
}

/* One getty unit (inst "" for the template, which every instance without
 * files of its own follows): a finding when it logs in without a
 * password. */
static void getty_eval(struct getty *g, const struct getty_kind *k,
		       const char *inst)
{
	_cleanup_(execstart_clear) struct execstart e = { 0 };
	_cleanup_free_ char *what = NULL, *verdict = NULL;

	if (!getty_execstart(g, k, inst, &e))
		return;
	/* More than one ExecStart=: systemd refuses the unit, no getty runs.
	 * An instance that only inherits the template's line is the
	 * template's finding. */
	if (!e.line || e.count != 1 || (*inst && strstr(e.from, "@.service")))
		return;
	what = *inst ? xasprintf("%s %s", k->one, inst) : xstrdup(k->every);
	verdict = getty_verdict(g, e.line, what);
	if (verdict)
		getty_add(g, e.from, what, verdict);
}

/* Add to *seen each instance of unit ("getty@") that has a unit file or
 * drop-in folder in dir: "tty1", or "" for the template (or the unit
 * itself, for one without '@'). */
static void getty_instances_in(struct getty *g, const char *dir,
			       const char *unit, char ***seen, size_t *n)
{
	_cleanup_free_ char *pattern = xasprintf("%s*.service*", unit);
	_cleanup_(strv_freep) char **names = NULL;
	int r = host_list(g->h, dir, pattern, FNM_PERIOD, &names);

	check_unreadable(g->unknown, r, "list", dir);
	for (char **name = names; *name; name++) {
		const char *rest = *name + strlen(unit);
		char *inst = xstrndup(rest, strcspn(rest, "."));

		/* console-getty has none: console-getty-x is another unit. */
		if (strv_contains(*seen, inst) || (!strchr(unit, '@') && *inst))
			free(inst);
		else
			strv_push(seen, n, inst);
	}
}

/* The instances of a kind of getty that have files of their own, in the
 * order the unit directories list them. */
static char **getty_instances(struct getty *g, const struct getty_kind *k)
{
	char **seen = xcalloc(1, sizeof(*seen));
	size_t n = 0;

	for (size_t d = 0; d < ARRAY_SIZE(unit_dirs); d++) {
		getty_instances_in(g, unit_dirs[d], k->unit, &seen, &n);
		if (k->alias)
			getty_instances_in(g, unit_dirs[d], k->alias, &seen, &n);
	}
	return seen;
}

void getty_check(const struct host *h, json_t *problems, json_t *unknown)
{
	struct getty g = { h, problems, unknown };

	for (size_t k = 0; k < ARRAY_SIZE(getty_kinds); k++) {
		const struct getty_kind *kind = &getty_kinds[k];
		_cleanup_(strv_freep) char **inst = getty_instances(&g, kind);

		for (char **i = inst; *i; i++)
			getty_eval(&g, kind, *i);
	}
}
