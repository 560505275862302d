/* SPDX-License-Identifier: Apache-2.0 */
/*
 * desktop: effective screen-lock settings per user and desktop.
 *
 * Each desktop is described by what its own code does, read from its
 * source (gnome-session 43, gnome-shell 43, cinnamon-session and
 * cinnamon-screensaver 5.6, mate-session 1.26 and mate-screensaver
 * 1.26): which settings start its idle lock, whether its session tells
 * logind it is idle (the only way logind's IdleAction=lock can fire),
 * whether it obeys logind's Lock, and what locks it on suspend. The
 * values themselves come from GSettings (gsettings.c), never from
 * defaults written here.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "desktop.h"
#include "gsettings.h"
#include "inifile.h"
#include "kde.h"
#include "log.h"
#include "util.h"
#include "xfce.h"

struct desktop_ctx {
	const struct host *h;
	struct gsettings *gs;
	struct kde *kde;
	struct xfce *xfce;
};

/* ---------- lockconf ---------- */

void lockconf_init(struct lockconf *lc, const char *desktop)
{
	memset(lc, 0, sizeof(*lc));
	lc->desktop = desktop;
	lc->lock_enabled = lc->obeys_logind = lc->asks_password = -1;
	lc->lock_on_suspend = lc->locked_by_it = -1;
	lc->lock_after = lc->idle_after = lc->grace = -1;
	lc->settings = json_array();
}

void lockconf_setting(struct lockconf *lc, const char *key, const char *value,
		      const char *from, bool locked)
{
	size_t i;
	json_t *s;

	json_array_foreach(lc->settings, i, s)
		if (strcmp(json_string_value(json_object_get(s, "key")), key) == 0)
			return;	/* read twice: once in the evidence */
	json_array_append_new(lc->settings, json_pack(
		"{s:s, s:o, s:o, s:b}", "key", key, "value",
		json_string_lossy(value), "from", json_string_lossy(from),
		"locked", locked));
}

void lockconf_unknown(struct lockconf *lc, const char *fmt, ...)
{
	va_list ap;

	if (lc->error)
		return;	/* the first reason is the one to fix */
	va_start(ap, fmt);
	if (vasprintf(&lc->error, fmt, ap) < 0)
		abort();
	va_end(ap);
	lc->lock_enabled = lc->obeys_logind = lc->asks_password = -1;
	lc->lock_on_suspend = -1;
	lc->lock_after = lc->idle_after = -1;
}

/* ---------- GNOME and the desktops that share its settings ---------- */

struct gsdesk {
	const char *name, *binary;
	const char *lock;	/* "schema key": lock-enabled */
	const char *lockdown;	/* disable-lock-screen, or NULL: not read */
	const char *idle;	/* the session's idle-delay */
	const char *activation;	/* the saver starts on idle, or NULL */
	const char *delay;	/* lock-delay after the saver starts */
	unsigned unit;		/* seconds per unit of idle and delay */
	const char *suspend;	/* what locks on suspend */
	const char *suspend_alt;	/* read instead where installed */
	int obeys_logind;	/* 1: unless locked down; -1 not known */
};

static const struct gsdesk gsdesks[] = {
	/* gnome-session sets IdleHint after idle-delay (none when 0);
	 * gnome-shell locks on logind's Lock unless disable-lock-screen, and
	 * on suspend when lock-enabled (Ubuntu: ubuntu-lock-on-suspend). */
	{ "GNOME", "/usr/bin/gnome-shell",
	  "org.gnome.desktop.screensaver lock-enabled",
	  "org.gnome.desktop.lockdown disable-lock-screen",
	  "org.gnome.desktop.session idle-delay", NULL,
	  "org.gnome.desktop.screensaver lock-delay", 1,
	  "org.gnome.desktop.screensaver lock-enabled",
	  "org.gnome.desktop.screensaver ubuntu-lock-on-suspend", 1 },
	/* Budgie's session is gnome-session; its screensaver's answer to
	 * logind's Lock has not been established, so logind is not
	 * credited. */
	{ "Budgie", "/usr/bin/budgie-desktop",
	  "org.gnome.desktop.screensaver lock-enabled",
	  "org.gnome.desktop.lockdown disable-lock-screen",
	  "org.gnome.desktop.session idle-delay", NULL,
	  "org.gnome.desktop.screensaver lock-delay", 1,
	  "org.gnome.desktop.screensaver lock-enabled", NULL, -1 },
	/* cinnamon-session sets IdleHint after idle-delay; cinnamon-
	 * screensaver locks lock-delay after the session goes idle when
	 * lock-enabled, obeys logind's Lock whatever its settings, and reads
	 * neither idle-activation-enabled nor disable-lock-screen. csd-power
	 * locks on suspend (default off). */
	{ "Cinnamon", "/usr/bin/cinnamon",
	  "org.cinnamon.desktop.screensaver lock-enabled", NULL,
	  "org.cinnamon.desktop.session idle-delay", NULL,
	  "org.cinnamon.desktop.screensaver lock-delay", 1,
	  "org.cinnamon.settings-daemon.plugins.power lock-on-suspend", NULL,
	  1 },
	/* mate-session sets IdleHint after idle-delay minutes; mate-
	 * screensaver starts then when idle-activation-enabled, locks
	 * lock-delay minutes later when lock-enabled, and obeys logind's
	 * Lock unless disable-lock-screen. mate-power-manager locks on
	 * suspend (lock-use-screensaver: as lock-enabled; else
	 * lock-suspend). */
	{ "MATE", "/usr/bin/mate-session",
	  "org.mate.screensaver lock-enabled",
	  "org.mate.lockdown disable-lock-screen",
	  "org.mate.session idle-delay",
	  "org.mate.screensaver idle-activation-enabled",
	  "org.mate.screensaver lock-delay", 60,
	  "org.mate.power-manager lock-suspend", NULL, 1 },
};

/* One "schema key" for gu, recorded in lc. NULL when it cannot be read
 * (lc is then unknown, unless optional and the key is not installed). */
static const char *gs_get(struct gsettings_user *gu, struct lockconf *lc,
			  const char *name, bool optional, bool *locked)
{
	_cleanup_free_ char *schema = xstrdup(name);
	char *key = strchr(schema, ' ');
	struct gsetting s;
	int r;

	if (locked)
		*locked = false;
	if (!key)
		return NULL;
	*key++ = '\0';
	r = gsettings_get(gu, schema, key, &s);
	if (r == -ENOENT && optional)
		return NULL;
	if (r < 0) {
		lockconf_unknown(lc, "%s: %s", lc->desktop, gsettings_error(gu));
		return NULL;
	}
	lockconf_setting(lc, name, s.value, s.source, s.locked);
	if (locked)
		*locked = s.locked;
	return s.value;
}

static int gs_bool(struct gsettings_user *gu, struct lockconf *lc,
		   const char *name, bool *locked)
{
	return gsettings_bool(gs_get(gu, lc, name, false, locked));
}

static long gs_int(struct gsettings_user *gu, struct lockconf *lc,
		   const char *name, bool *locked)
{
	return gsettings_int(gs_get(gu, lc, name, false, locked));
}

/* What locks on suspend, per desktop. */
static int gs_suspend(struct gsettings_user *gu, const struct gsdesk *d,
		      struct lockconf *lc, int enabled)
{
	const char *alt = d->suspend_alt ? gs_get(gu, lc, d->suspend_alt,
						  true, NULL)
					 : NULL;

	if (alt)
		return gsettings_bool(alt);
	if (strcmp(d->name, "MATE") == 0 &&
	    gs_bool(gu, lc, "org.mate.power-manager lock-use-screensaver",
		    NULL) == 1)
		return enabled;
	return gs_bool(gu, lc, d->suspend, NULL);
}

static void gsdesk_conf(struct gsettings_user *gu, const struct gsdesk *d,
			struct lockconf *lc)
{
	bool l_lock, l_idle, l_delay;
	int enabled = gs_bool(gu, lc, d->lock, &l_lock);
	int down = d->lockdown ? gs_bool(gu, lc, d->lockdown, NULL) : 0;
	int active = d->activation ? gs_bool(gu, lc, d->activation, NULL) : 1;
	long idle = gs_int(gu, lc, d->idle, &l_idle);
	long delay = gs_int(gu, lc, d->delay, &l_delay);
	int suspend = gs_suspend(gu, d, lc, enabled);

	if (lc->error)
		return;
	if (enabled < 0 || down < 0 || active < 0 || idle < 0 || delay < 0 ||
	    suspend < 0) {
		lockconf_unknown(lc, "%s: a lock setting holds a value that "
				     "cannot be read", d->name);
		return;
	}
	lc->lock_enabled = enabled && !down;
	lc->lock_after = lc->lock_enabled && active && idle
				 ? (idle + delay) * (long)d->unit
				 : 0;
	lc->idle_after = idle * (long)d->unit;
	lc->obeys_logind = d->obeys_logind < 0 ? -1 : !down;
	lc->lock_on_suspend = suspend && !down;
	lc->grace = 0;
	lc->asks_password = 1;
	lc->locked_by_it = l_lock && l_idle && l_delay;
}

/* ---------- the context and the per-user entry point ---------- */

static bool installed(const struct host *h, const char *binary)
{
	_cleanup_free_ char *p = host_path(h, binary);

	return access(p, F_OK) == 0;
}

struct desktop_ctx *desktop_ctx_new(const struct host *h)
{
	struct desktop_ctx *c = xcalloc(1, sizeof(*c));

	c->h = h;
	c->gs = gsettings_new(h);
	c->kde = kde_new(h);
	c->xfce = xfce_new(h);
	return c;
}

void desktop_ctx_free(struct desktop_ctx *c)
{
	if (!c)
		return;
	gsettings_free(c->gs);
	kde_free(c->kde);
	xfce_free(c->xfce);
	free(c);
}

json_t *desktop_ctx_evidence(const struct desktop_ctx *c)
{
	return gsettings_evidence(c->gs);
}

int desktop_lockconf(struct desktop_ctx *c, const struct user *u,
		     struct lockconf **out)
{
	struct lockconf *v = xcalloc(ARRAY_SIZE(gsdesks) + 2, sizeof(*v));
	struct gsettings_user *gu = gsettings_user_new(c->gs, u);
	int n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(gsdesks); i++) {
		if (!installed(c->h, gsdesks[i].binary))
			continue;
		lockconf_init(&v[n], gsdesks[i].name);
		gsdesk_conf(gu, &gsdesks[i], &v[n++]);
	}
	if (installed(c->h, "/usr/bin/plasmashell"))
		kde_lockconf(c->kde, u, &v[n++]);
	if (installed(c->h, "/usr/bin/xfce4-session"))
		xfce_lockconf(c->xfce, u, gu, &v[n++]);
	gsettings_user_free(gu);
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
	for (int i = 0; i < n; i++) {
		free(v[i].error);
		json_decref(v[i].settings);
	}
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

	host_read_ini(h, "/etc/systemd/logind.conf", logind_handler, &l);
	for (size_t i = 0; i < ARRAY_SIZE(dropins); i++)
		host_read_ini_dir(h, dropins[i], ".conf", logind_handler, &l);
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
