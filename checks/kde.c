/*
 * kde: kscreenlockerrc's [Daemon] group, read with inih, system file
 * first. KConfig's immutability: "Key[$i]=" fixes one key, "[Daemon][$i]"
 * the group and a "[$i]" line before any group the whole file, for every
 * file read after it. Defaults are kscreenlocker's own (kcfg):
 * Autolock=true, Timeout=5 (minutes), LockGrace=5 (seconds),
 * LockOnResume=true, RequirePassword=true (Plasma 6.1).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inifile.h"
#include "kde.h"
#include "util.h"

#define KDE_SYSTEM_RC "/etc/xdg/kscreenlockerrc"

struct kde {
	const struct host *h;
	json_t *values;		/* [Daemon] of the system file */
	json_t *fixed;		/* keys IT made immutable; "[$i]": all */
};

struct kde_read {
	json_t *values, *fixed;
	json_t *from;		/* key -> file, for the evidence */
	const char *file;
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
	if (k->from)
		json_object_set_new(k->from, key, json_string(k->file));
	if (k->system && mark)
		json_object_set_new(k->fixed, key, json_true());
	return 1;
}

/* KDE's "[Daemon][$i]" makes the whole group immutable, and a "[$i]"
 * line before the first group the whole file; inih reads the header as
 * plain [Daemon], so the markers are looked for here. */
static bool kde_group_immutable(const struct host *h, const char *path)
{
	_cleanup_free_ char *buf = NULL;
	char *line, *save = NULL;
	bool before_groups = true;

	if (host_read(h, path, INIFILE_MAX, &buf) < 0)
		return false;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		strrstrip(line);
		if (strcmp(line, "[Daemon][$i]") == 0 ||
		    (before_groups && strcmp(line, "[$i]") == 0))
			return true;
		if (line[0] == '[')
			before_groups = false;
	}
	return false;
}

struct kde *kde_new(const struct host *h)
{
	struct kde *k = xcalloc(1, sizeof(*k));
	struct kde_read r;

	k->h = h;
	k->values = json_object();
	k->fixed = json_object();
	r = (struct kde_read){ k->values, k->fixed, NULL, KDE_SYSTEM_RC, true };
	if (kde_group_immutable(h, KDE_SYSTEM_RC))
		json_object_set_new(k->fixed, "[$i]", json_true());
	inifile_read(h, KDE_SYSTEM_RC, kde_handler, &r);
	return k;
}

void kde_free(struct kde *k)
{
	if (!k)
		return;
	json_decref(k->values);
	json_decref(k->fixed);
	free(k);
}

/* The keys IT must fix for the settings to be its own: a user's
 * LockGrace of an hour undoes a fixed Timeout. RequirePassword exists
 * only from Plasma 6.1, so its default cannot be relied on fixed. */
static const char *const kde_keys[] = { "Autolock", "Timeout",
					"LockOnResume", "LockGrace" };

/* The merged value of key, or def; recorded in lc's evidence. */
static const char *kde_get(const struct kde *k, json_t *values, json_t *from,
			   struct lockconf *lc, const char *key,
			   const char *def)
{
	const char *v = json_string_value(json_object_get(values, key));
	const char *file = json_string_value(json_object_get(from, key));

	if (!v && json_object_get(k->values, key))
		v = json_string_value(json_object_get(k->values, key)),
		file = KDE_SYSTEM_RC;
	lockconf_setting(lc, key, v ? v : def,
			 v ? file : "kscreenlocker's default",
			 json_object_get(k->fixed, key) ||
				 json_object_get(k->fixed, "[$i]"));
	return v ? v : def;
}

static int kbool(const char *v)
{
	return inifile_bool(v);
}

static long kint(const char *v)
{
	char *end;
	long n = strtol(v, &end, 10);

	return end == v || *end || n < 0 ? -1 : n;
}

void kde_lockconf(const struct kde *k, const struct user *u,
		  struct lockconf *lc)
{
	_cleanup_free_ char *rc = xasprintf("%s/.config/kscreenlockerrc",
					    u->home);
	json_t *values = json_object(), *from = json_object();
	struct kde_read r = { values, k->fixed, from, rc, false };
	int autolock, resume, password, e;
	long timeout, grace;
	unsigned fixed = 0;

	lockconf_init(lc, "KDE Plasma");
	e = inifile_read_user(k->h, rc, kde_handler, &r);
	if (e < 0 && e != -ENOENT) {
		/* Not read is not default: the session may get anything. */
		lockconf_unknown(lc, "cannot read %s's kscreenlockerrc (%s)",
				 u->name, strerror(-e));
		goto out;
	}
	autolock = kbool(kde_get(k, values, from, lc, "Autolock", "true"));
	timeout = kint(kde_get(k, values, from, lc, "Timeout", "5"));
	grace = kint(kde_get(k, values, from, lc, "LockGrace", "5"));
	resume = kbool(kde_get(k, values, from, lc, "LockOnResume", "true"));
	password = kbool(kde_get(k, values, from, lc, "RequirePassword",
				 "true"));
	lc->lock_enabled = autolock;
	lc->lock_after = autolock < 0 || timeout < 0 ? -1
			 : autolock && timeout ? timeout * 60 : 0;
	/* Plasma does not tell logind when the session is idle, so logind's
	 * IdleAction never fires for it. */
	lc->idle_after = 0;
	lc->obeys_logind = 1;
	lc->grace = grace;
	lc->asks_password = password;
	lc->lock_on_suspend = resume;
	for (size_t i = 0; i < ARRAY_SIZE(kde_keys); i++)
		fixed += json_object_get(k->fixed, kde_keys[i]) != NULL;
	lc->locked_by_it = fixed == ARRAY_SIZE(kde_keys) ||
			   json_object_get(k->fixed, "[$i]") != NULL;
out:
	json_decref(values);
	json_decref(from);
}
