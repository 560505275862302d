/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gsettings: GSettings values as a user's session reads them, through the
 * system's gsettings and dconf tools run as that user (never as root:
 * the user's database is a file she controls).
 *
 * The child gets a profile on a memfd (DCONF_PROFILE=/proc/self/fd/3):
 * the session's profile with system-db:NAME turned into
 * file-db:ROOT/etc/dconf/db/NAME, and XDG_CONFIG_HOME, XDG_DATA_HOME and
 * XDG_DATA_DIRS pointing below the root, so that in production (root "/")
 * it reads exactly what the session reads, and in tests a fixture tree.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gsettings.h"
#include "inifile.h"
#include "log.h"
#include "tool.h"
#include "util.h"

#define GSETTINGS_TOOL "/usr/bin/gsettings"
#define DCONF_TOOL "/usr/bin/dconf"
#define PROFILE_MAX (64 * 1024)
#define NOBODY 65534

/* A dconf profile as the child gets it. */
struct profile {
	char *file;		/* the profile read, or NULL: dconf's default */
	char *text;		/* what the child is given */
	char *user_db;		/* the user-db: name, or NULL */
	json_t *dbs;		/* evidence, in the profile's order */
	json_t *sysvalues;	/* db name -> {"/path/key": text} */
	json_t *notes;		/* strings: what the profile names but is not read */
	char *stale;		/* first database not compiled */
};

struct gsettings {
	const struct host *h;
	struct profile common;	/* /etc/dconf/profile/user or the default */
};

struct gsettings_user {
	struct gsettings *g;
	struct profile *p;	/* &g->common, or the user's own */
	struct profile own_profile;
	const struct user *u;
	char *home;		/* below the root */
	json_t *schemas;	/* schema -> {key: text}, or a string: error */
	json_t *locked;		/* "schema key" -> bool */
	json_t *own;		/* the user's database: {"/path/key": text} */
	json_t *sources;	/* "schema key" -> where its value came from */
	json_t *paths;		/* schema -> its dconf path */
	char *error;
};

/* ---------- running the tools ---------- */

struct child {
	uid_t uid;
	gid_t gid;
	const char *home;	/* below the root; NULL: none */
	const char *root;
	const char *profile;
	char *const *argv;
};

/* Run c as its user, with the profile on fd 3; 0 with what it printed
 * (and, when it failed, -EIO with what it said on stderr in *err). */
static int run(const struct child *c, char **out, char **err)
{
	_cleanup_close_ int profile = memfd_create("endpointd-dconf-profile", 0);
	const char *home = c->home ? c->home : "/nonexistent";
	const char *root = strcmp(c->root, "/") ? c->root : "";
	_cleanup_free_ char *henv = xasprintf("HOME=%s", home);
	_cleanup_free_ char *conf = xasprintf("XDG_CONFIG_HOME=%s/.config", home);
	_cleanup_free_ char *data = xasprintf("XDG_DATA_HOME=%s/.local/share", home);
	_cleanup_free_ char *dirs = xasprintf(
		"XDG_DATA_DIRS=%s/usr/local/share:%s/usr/share", root, root);
	char *env[] = { "PATH=/usr/bin:/bin", henv, conf, data, dirs,
			"DCONF_PROFILE=/proc/self/fd/3", "GSETTINGS_BACKEND=dconf",
			/* nowhere to write: the tools must not touch the home */
			"XDG_RUNTIME_DIR=/nonexistent",
			"XDG_CACHE_HOME=/nonexistent", "LC_ALL=C.UTF-8", NULL };
	struct tool t = { c->argv, env, true, c->uid, c->gid, profile };

	*out = *err = NULL;
	if (profile < 0 || write(profile, c->profile, strlen(c->profile)) < 0)
		return -errno;
	return tool_run(&t, out, err);
}

/* GLib falls back to its keyfile back-end, with every key at its default
 * or the user's ~/.config/glib-2.0 file, when dconf's GIO module is
 * missing ("Can't find module 'dconf' specified in GSETTINGS_BACKEND"):
 * that is not what the session reads. */
static bool backend_missing(const char *err)
{
	return err && strstr(err, "GSETTINGS_BACKEND");
}

static json_t *lossy(const char *fmt, ...) _printf_(1, 2);

/* A JSON string of text that holds bytes from the machine. */
static json_t *lossy(const char *fmt, ...)
{
	va_list ap;
	json_t *s;

	va_start(ap, fmt);
	s = json_lossy_vprintf(fmt, ap);
	va_end(ap);
	return s;
}

/* ---------- keyfile text from `dconf dump /` ---------- */

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

static json_t *dump(const struct host *h, uid_t uid, gid_t gid,
		    const char *home, const char *profile)
{
	char *argv[] = { DCONF_TOOL, "dump", "/", NULL };
	struct child c = { uid, gid, home, host_root(h), profile, argv };
	_cleanup_free_ char *out = NULL, *err = NULL;
	json_t *values;

	if (run(&c, &out, &err) < 0)
		return NULL;
	values = json_object();
	inifile_parse(out, strlen(out), keyfile_handler, values);
	return values;
}

/* ---------- the profile ---------- */

static bool db_name_ok(const char *s)
{
	return *s && *s != '.' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789-_.") == strlen(s);
}

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* Nanoseconds: a keyfile saved in the same second as `dconf update`
 * ran, but after it, is still not in force. 0 when it is not there. */
static int64_t mtime_of(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? 0 : mtime_ns(&st);
}

/* A compiled database is a regular file (file-db:/ names a folder). */
static int64_t compiled_at(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 || !S_ISREG(st.st_mode) ? 0 : mtime_ns(&st);
}

/* The newest change below a keyfile directory and its locks. */
static int64_t newest(const char *dir)
{
	int64_t t = mtime_of(dir);
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		_cleanup_free_ char *p = NULL;
		int64_t m;

		if (de->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		m = strcmp(de->d_name, "locks") == 0 ? newest(p) : mtime_of(p);
		if (m > t)
			t = m;
	}
	closedir(d);
	return t;
}

/* A system database: compiled or not, in force or not. */
static void add_sysdb(const struct host *h, struct profile *p,
		      const char *name, const char *path, FILE *prof)
{
	_cleanup_free_ char *file = host_path(h, path);
	_cleanup_free_ char *dir = xasprintf("%s.d", file);
	_cleanup_free_ char *one = xasprintf("file-db:%s\n", file);
	int64_t compiled = compiled_at(file), edited = newest(dir);
	json_t *o = json_pack("{s:o, s:o}", "name", json_string_lossy(name),
			      "file", json_string_lossy(path));
	json_t *values;

	/* `dconf update` compiles NAME.d into NAME; the session reads only
	 * NAME. Keyfiles edited since are not in force. */
	if (!compiled && edited)
		json_object_set_new(o, "problem", lossy(
			"IT's settings in %s.d are not in force: `dconf "
			"update` has not been run", path));
	else if (edited > compiled)
		json_object_set_new(o, "problem", lossy(
			"IT's settings in %s.d are not in force: they were "
			"changed after `dconf update` last ran", path));
	if (json_object_get(o, "problem") && !p->stale)
		p->stale = xstrdup(json_string_value(json_object_get(o, "problem")));
	json_object_set_new(o, "compiled", json_boolean(compiled != 0));
	json_array_append_new(p->dbs, o);
	if (!compiled)
		return;
	fputs(one, prof);
	/* Only to say where a value came from: as nobody, like any reader. */
	values = dump(h, NOBODY, NOBODY, NULL, one);
	if (values)
		json_object_set_new(p->sysvalues, name, values);
}

static void profile_line(const struct host *h, struct profile *p, char *line,
			 FILE *prof)
{
	char *hash = strchr(line, '#');

	if (hash)
		*hash = '\0';
	strrstrip(line);
	while (*line == ' ' || *line == '\t')
		line++;
	if (!*line)
		return;
	if (strncmp(line, "user-db:", 8) == 0 && db_name_ok(line + 8) &&
	    !p->user_db) {
		p->user_db = xstrdup(line + 8);
		fprintf(prof, "user-db:%s\n", p->user_db);
	} else if (strncmp(line, "system-db:", 10) == 0 &&
		   db_name_ok(line + 10)) {
		_cleanup_free_ char *path = xasprintf("/etc/dconf/db/%s", line + 10);

		add_sysdb(h, p, line + 10, path, prof);
	} else if (strncmp(line, "file-db:", 8) == 0 && line[8] == '/') {
		add_sysdb(h, p, line + 8, line + 8, prof);
	} else if (strncmp(line, "service-db:", 11) == 0) {
		json_array_append_new(p->notes, json_string(
			"the profile names a service database (service-db), "
			"which lives in the session's dconf service: not read"));
	} else {
		/* Never the line itself: a profile a user controls may be a
		 * link to a file she may not read. */
		json_array_append_new(p->notes, json_string(
			"a line of the profile names no database this check "
			"reads (dconf ignores it, or reads a path outside "
			"/etc/dconf/db)"));
	}
}

static void profile_parse(const struct host *h, struct profile *p,
			  const char *file, char *buf)
{
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *prof = open_memstream(&text, &len);

	if (!prof)
		abort();
	p->file = file ? xstrdup(file) : NULL;
	p->dbs = json_array();
	p->sysvalues = json_object();
	p->notes = json_array();
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		profile_line(h, p, line, prof);
	fclose(prof);
	p->text = text;
}

static void profile_clear(struct profile *p)
{
	free(p->file);
	free(p->text);
	free(p->user_db);
	free(p->stale);
	json_decref(p->dbs);
	json_decref(p->sysvalues);
	json_decref(p->notes);
	memset(p, 0, sizeof(*p));
}

/* The first of files that can be read, into *buf; its name or NULL. */
static const char *first_readable(const struct host *h,
				  const char *const *files, size_t n,
				  char **buf)
{
	for (size_t i = 0; i < n; i++)
		if (host_read(h, files[i], PROFILE_MAX, buf) == 0)
			return files[i];
	return NULL;
}

/* The profile a session gets when nothing in its environment names one
 * (dconf-engine-profile.c): after the mandatory and runtime profiles,
 * which are the user's (profile_of_user), "user" in /etc/dconf/profile,
 * then in each XDG_DATA_DIRS/dconf/profile; with none, user-db:user. */
static void read_common(const struct host *h, struct profile *p)
{
	static const char *const where[] = {
		"/etc/dconf/profile/user",
		"/usr/local/share/dconf/profile/user",
		"/usr/share/dconf/profile/user",
	};
	_cleanup_free_ char *buf = NULL;
	const char *file = first_readable(h, where, ARRAY_SIZE(where), &buf);

	if (!buf)
		buf = xstrdup("user-db:user\n");
	profile_parse(h, p, file, buf);
}

struct gsettings *gsettings_new(const struct host *h)
{
	struct gsettings *g = xcalloc(1, sizeof(*g));

	g->h = h;
	read_common(h, &g->common);
	return g;
}

void gsettings_free(struct gsettings *g)
{
	if (!g)
		return;
	profile_clear(&g->common);
	free(g);
}

static json_t *profile_evidence(const struct profile *p)
{
	return json_pack("{s:o, s:O, s:O}", "profile",
			 p->file ? json_string_lossy(p->file)
				 : json_string("dconf's default (user-db:user)"),
			 "databases", p->dbs, "notes", p->notes);
}

json_t *gsettings_evidence(const struct gsettings *g)
{
	return profile_evidence(&g->common);
}

const char *gsettings_stale(const struct gsettings *g)
{
	return g->common.stale;
}

/* ---------- one user ---------- */

/* dconf's mandatory profile for the user (/run/dconf/user/UID, which
 * wins over everything) or her runtime one ($XDG_RUNTIME_DIR/dconf/
 * profile, below /run/user/UID); else the common one. */
static struct profile *profile_of_user(struct gsettings *g,
				       const struct user *u,
				       struct profile *own)
{
	_cleanup_free_ char *mandatory = xasprintf("/run/dconf/user/%u",
						   (unsigned)u->uid);
	_cleanup_free_ char *runtime = xasprintf("/run/user/%u/dconf/profile",
						 (unsigned)u->uid);
	_cleanup_free_ char *buf = NULL;
	const char *file = NULL;

	/* The mandatory profile is root's; the runtime one is in her own
	 * runtime directory. */
	if (host_read(g->h, mandatory, PROFILE_MAX, &buf) == 0)
		file = mandatory;
	else if (host_read_user(g->h, runtime, PROFILE_MAX, &buf) == 0)
		file = runtime;
	if (!file)
		return &g->common;
	profile_parse(g->h, own, file, buf);
	return own;
}

struct gsettings_user *gsettings_user_new(struct gsettings *g,
					  const struct user *u)
{
	struct gsettings_user *gu = xcalloc(1, sizeof(*gu));

	gu->g = g;
	gu->u = u;
	gu->home = host_path(g->h, u->home);
	gu->p = profile_of_user(g, u, &gu->own_profile);
	gu->schemas = json_object();
	gu->locked = json_object();
	gu->sources = json_object();
	return gu;
}

void gsettings_user_free(struct gsettings_user *gu)
{
	if (!gu)
		return;
	free(gu->home);
	free(gu->error);
	json_decref(gu->schemas);
	json_decref(gu->locked);
	json_decref(gu->own);
	json_decref(gu->sources);
	json_decref(gu->paths);
	profile_clear(&gu->own_profile);
	free(gu);
}

const char *gsettings_error(const struct gsettings_user *gu)
{
	return gu->error;
}

static int fail(struct gsettings_user *gu, int r, const char *fmt, ...)
	_printf_(3, 4);

static int fail(struct gsettings_user *gu, int r, const char *fmt, ...)
{
	va_list ap;

	free(gu->error);
	va_start(ap, fmt);
	if (vasprintf(&gu->error, fmt, ap) < 0)
		abort();
	va_end(ap);
	return r;
}

static int tool(struct gsettings_user *gu, char *const *argv, char **out,
		char **err)
{
	struct child c = { gu->u->uid, gu->u->gid, gu->home,
			   host_root(gu->g->h), gu->p->text, argv };

	return run(&c, out, err);
}

/* A failed run in words; -ENOENT when the schema or key is missing. */
static int tool_failed(struct gsettings_user *gu, int r, char *err,
		       const char *schema)
{
	if (r == -ENOENT && access(GSETTINGS_TOOL, X_OK) < 0)
		return fail(gu, -ENOPKG, "the gsettings tool (libglib2.0-bin) "
					 "is not installed");
	if (err && (strstr(err, "No such schema") || strstr(err, "No such key") ||
		    strstr(err, "No schemas installed")))
		return fail(gu, -ENOENT, "its settings schema %s is not "
					 "installed", schema);
	if (r == -ETIMEDOUT)
		return fail(gu, r, "gsettings did not answer for %s's settings",
			    gu->u->name);
	return fail(gu, r, "cannot read %s's settings (%s)", gu->u->name,
		    err && *err ? strrstrip(err) : strerror(-r));
}

/* "schema key value" lines of `gsettings list-recursively SCHEMA`. */
static int load_schema(struct gsettings_user *gu, const char *schema,
		       json_t **keys)
{
	_cleanup_free_ char *id = xstrdup(schema);
	char *argv[] = { GSETTINGS_TOOL, "list-recursively", id, NULL };
	_cleanup_free_ char *out = NULL, *err = NULL;
	char *line, *save = NULL;
	size_t n = strlen(schema);
	int r = tool(gu, argv, &out, &err);

	if (r == 0 && backend_missing(err))
		r = fail(gu, -ENOPKG, "GSettings cannot load dconf's back-end "
				      "(dconf-gsettings-backend is not "
				      "installed): the settings read would "
				      "not be the session's");
	else if (r < 0)
		r = tool_failed(gu, r, err, schema);
	if (r < 0)
		return r;
	*keys = json_object();
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *key, *sp;

		if (strncmp(line, schema, n) != 0 || line[n] != ' ')
			continue;	/* a child schema */
		key = line + n + 1;
		sp = strchr(key, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		json_object_set_new(*keys, key, json_string_lossy(sp + 1));
	}
	json_object_set_new(gu->schemas, schema, *keys);
	return 0;
}

static int writable(struct gsettings_user *gu, const char *schema,
		    const char *key, bool *locked)
{
	_cleanup_free_ char *id = xstrdup(schema), *k = xstrdup(key);
	char *argv[] = { GSETTINGS_TOOL, "writable", id, k, NULL };
	_cleanup_free_ char *out = NULL, *err = NULL;
	int r = tool(gu, argv, &out, &err);

	if (r < 0)
		return tool_failed(gu, r, err, schema);
	strrstrip(out);
	if (strcmp(out, "true") != 0 && strcmp(out, "false") != 0)
		return fail(gu, -EIO, "gsettings answered '%.40s'", out);
	*locked = strcmp(out, "false") == 0;
	return 0;
}

/* The user's own database, for saying where a value came from. */
static void load_own(struct gsettings_user *gu)
{
	_cleanup_free_ char *db = NULL, *profile = NULL;

	gu->own = json_object();
	if (!gu->p->user_db)
		return;
	db = xasprintf("%s/.config/dconf/%s", gu->home, gu->p->user_db);
	if (access(db, F_OK) < 0)
		return;
	profile = xasprintf("user-db:%s\n", gu->p->user_db);
	json_decref(gu->own);
	gu->own = dump(gu->g->h, gu->u->uid, gu->u->gid, gu->home, profile);
	if (!gu->own)
		gu->own = json_object();
}

/* Each schema's dconf path, as `gsettings list-schemas --print-paths`
 * gives it: a schema's id is not always its path (org.mate.session lives
 * at /org/mate/desktop/session/). */
static void load_paths(struct gsettings_user *gu)
{
	char *argv[] = { GSETTINGS_TOOL, "list-schemas", "--print-paths",
			 NULL };
	_cleanup_free_ char *out = NULL, *err = NULL;
	char *line, *save = NULL;

	gu->paths = json_object();
	if (tool(gu, argv, &out, &err) < 0)
		return;
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');

		if (sp && sp[1] == '/') {
			*sp = '\0';
			json_object_set_new(gu->paths, line,
					    json_string_lossy(sp + 1));
		}
	}
}

/* "/org/mate/desktop/session/idle-delay", or NULL. */
static char *dconf_path(struct gsettings_user *gu, const char *schema,
			const char *key)
{
	const char *dir;

	if (!gu->paths)
		load_paths(gu);
	dir = json_string_value(json_object_get(gu->paths, schema));
	return dir ? xasprintf("%s%s", dir, key) : NULL;
}

/* Where the value came from, in words kept in gu->sources. */
static const char *attribute(struct gsettings_user *gu, const char *schema,
			     const char *key, const struct gsetting *got)
{
	_cleanup_free_ char *path = dconf_path(gu, schema, key);
	_cleanup_free_ char *lk = xasprintf("%s %s", schema, key);
	const char *name;
	json_t *values, *v, *said = NULL;

	if (!gu->own)
		load_own(gu);
	v = path ? json_object_get(gu->own, path) : NULL;
	if (!got->locked && v && strcmp(json_string_value(v), got->value) == 0)
		said = lossy("%s's own settings", gu->u->name);
	json_object_foreach(gu->p->sysvalues, name, values) {
		v = path ? json_object_get(values, path) : NULL;
		if (!said && v && strcmp(json_string_value(v), got->value) == 0)
			said = lossy("IT's dconf database %s%s", name,
					    got->locked ? ", locked" : "");
	}
	if (!said)
		said = json_string(got->locked
					   ? "the installed default, locked by IT"
					   : "the installed default");
	json_object_set_new(gu->sources, lk, said);
	return json_string_value(said);
}

int gsettings_get(struct gsettings_user *gu, const char *schema,
		  const char *key, struct gsetting *out)
{
	_cleanup_free_ char *lk = xasprintf("%s %s", schema, key);
	json_t *keys = json_object_get(gu->schemas, schema), *l;
	int r;

	if (json_is_string(keys))
		return fail(gu, -ENOENT, "%s", json_string_value(keys));
	if (!keys && (r = load_schema(gu, schema, &keys)) < 0) {
		/* Remembered, so that each key of it says the same. */
		if (r == -ENOENT)
			json_object_set_new(gu->schemas, schema,
					    json_string(gu->error));
		return r;
	}
	if (!json_object_get(keys, key))
		return fail(gu, -ENOENT, "%s has no key %s", schema, key);
	out->value = json_string_value(json_object_get(keys, key));
	l = json_object_get(gu->locked, lk);
	if (!l) {
		bool locked;

		if ((r = writable(gu, schema, key, &locked)) < 0)
			return r;
		l = json_boolean(locked);
		json_object_set_new(gu->locked, lk, l);
	}
	out->locked = json_is_true(l);
	out->source = attribute(gu, schema, key, out);
	return 0;
}

/* ---------- GVariant text ---------- */

int gsettings_bool(const char *v)
{
	if (!v)
		return -1;
	if (strcmp(v, "true") == 0)
		return 1;
	if (strcmp(v, "false") == 0)
		return 0;
	return -1;
}

long gsettings_int(const char *v)
{
	const char *sp;
	char *end;
	long n;

	if (!v)
		return -1;
	/* "uint32 300", "int32 5", or a bare number */
	sp = strchr(v, ' ');
	if (sp && v[0] >= 'a' && v[0] <= 'z')
		v = sp + 1;
	errno = 0;
	n = strtol(v, &end, 10);
	return (end == v || *end || n < 0 || errno) ? -1 : n;
}

json_t *gsettings_user_evidence(const struct gsettings_user *gu)
{
	return gu->p == &gu->g->common ? NULL : profile_evidence(gu->p);
}
