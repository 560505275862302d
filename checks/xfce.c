/* SPDX-License-Identifier: Apache-2.0 */
/*
 * xfce: which locker an Xfce session runs and what it does.
 *
 * light-locker (Debian 12's task-xfce-desktop; read from its 1.8.0
 * source) locks lock-after-screensaver seconds after the X screensaver
 * starts, which xfce4-power-manager sets to blank-on-ac or
 * blank-on-battery minutes; with late-locking it waits for the screensaver
 * to end, that is for someone at the keyboard. It locks on every logind
 * suspend when lock-on-suspend, obeys logind's Lock, and sets logind's
 * IdleHint only with idle-hint, when the screensaver starts. Its settings
 * are GSettings (apps.light-locker), read through gsettings.c.
 * xfce4-screensaver locks lock-delay minutes after its own idle delay.
 *
 * xfconf channels are XML files (system ones below /etc/xdg, the user's
 * in ~/.config), read with expat, the user's over the system's.
 */
#include <errno.h>
#include <expat.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inifile.h"
#include "log.h"
#include "util.h"
#include "xfce.h"

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

#define XFCONF_SYSTEM "/etc/xdg/" XFCONF_DIR
#define LIGHTLOCKER "apps.light-locker"
#define LL_AUTOSTART "autostart/light-locker.desktop"

/* Lockers an Xfce session may run whose settings are not read here. */
static const char *const other_lockers[] = {
	"/usr/bin/xscreensaver", "/usr/bin/gnome-screensaver",
	"/usr/bin/xss-lock", "/usr/bin/xautolock",
};

struct xfce {
	const struct host *h;
	json_t *saver;		/* the system channels' properties */
	json_t *power;
};

/* One user's xfconf channels and files. */
struct xfuser {
	json_t *saver, *power;
	char *saver_path, *power_path;
};

static int xf_bool(json_t *v, const char *key, int def)
{
	const char *s = json_string_value(json_object_get(v, key));

	return s ? inifile_bool(s) : def;
}

/* A property of type int: xfconf refuses a value beyond INT_MAX (which,
 * in minutes, would overflow the seconds computed from it). */
static long xf_num(const char *s)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	return end == s || *end || n < 0 || n > INT_MAX || errno ? -1 : n;
}

static long xf_int(json_t *v, const char *key, long def)
{
	const char *s = json_string_value(json_object_get(v, key));

	return s ? xf_num(s) : def;
}

static bool installed(const struct host *h, const char *binary)
{
	_cleanup_free_ char *p = host_path(h, binary);

	return access(p, F_OK) == 0;
}

/* ---------- xfce4-screensaver ---------- */

/* The saver starts after its idle delay and locks lock-delay minutes
 * later. */
static void screensaver_conf(json_t *v, struct lockconf *lc)
{
	int saver_on = xf_bool(v, "/saver/enabled", 1);
	int idle_on = xf_bool(v, "/saver/idle-activation/enabled", 1);
	long idle = xf_int(v, "/saver/idle-activation/delay", 5);
	int lock_on = xf_bool(v, "/lock/enabled", 1);
	int with_saver = xf_bool(v, "/lock/saver-activation/enabled", 1);
	long delay = xf_int(v, "/lock/saver-activation/delay", 0);
	int suspend = xf_bool(v, "/xfce4-power-manager/lock-screen-suspend-hibernate", 1);

	lc->lock_enabled = lock_on;
	if (saver_on < 0 || idle_on < 0 || lock_on < 0 || with_saver < 0 ||
	    idle < 0 || delay < 0)
		lc->lock_after = -1;
	else if (saver_on && idle_on && lock_on && with_saver && idle)
		lc->lock_after = (idle + delay) * 60;
	else
		lc->lock_after = 0;
	lc->lock_on_suspend = lock_on < 0 || suspend < 0 ? -1 : lock_on && suspend;
	lc->asks_password = 1;
	lc->grace = 0;
	/* xfce4-screensaver does not tell logind when the session is idle,
	 * so logind's IdleAction never fires for it. */
	lc->idle_after = 0;
	lc->obeys_logind = 1;
}

static void screensaver_lockconf(const struct xfce *x, const struct xfuser *xu,
				 struct lockconf *lc)
{
	json_t *v = json_deep_copy(x->saver);

	json_object_update(v, x->power);
	json_object_update(v, xu->saver);
	json_object_update(v, xu->power);
	screensaver_conf(v, lc);
	json_decref(v);
}

/* ---------- light-locker ---------- */

/* A property of channel xfce4-power-manager: the user's, IT's, or the
 * daemon's default; recorded in lc. */
static const char *power_get(const struct xfce *x, const struct xfuser *xu,
			     struct lockconf *lc, const char *name,
			     const char *def)
{
	_cleanup_free_ char *prop = xasprintf("/xfce4-power-manager/%s", name);
	const char *v = json_string_value(json_object_get(xu->power, prop));
	const char *from = xu->power_path;

	if (!v) {
		v = json_string_value(json_object_get(x->power, prop));
		from = XFCONF_SYSTEM "/xfce4-power-manager.xml";
	}
	if (!v) {
		v = def;
		from = "xfce4-power-manager's default";
	}
	lockconf_setting(lc, prop, v, from, false);
	return v;
}

/* Seconds idle before xfce4-power-manager starts the X screensaver
 * (0: never), the later of on battery and plugged in; -1 unreadable. */
static long blank_seconds(const struct xfce *x, const struct xfuser *xu,
			  struct lockconf *lc)
{
	int present = inifile_bool(power_get(x, xu, lc, "presentation-mode",
					     "false"));
	long ac = xf_num(power_get(x, xu, lc, "blank-on-ac", "15"));
	long bat = xf_num(power_get(x, xu, lc, "blank-on-battery", "10"));

	if (present < 0 || ac < 0 || bat < 0)
		return -1;
	if (present || ac == 0 || bat == 0)
		return 0;
	return (ac > bat ? ac : bat) * 60;
}

/* One light-locker key for gu, recorded in lc; NULL (lc unknown) when it
 * cannot be read. */
static const char *ll_get(struct gsettings_user *gu, struct lockconf *lc,
			  const char *key)
{
	_cleanup_free_ char *name = xasprintf(LIGHTLOCKER " %s", key);
	struct gsetting s;
	int r = gsettings_get(gu, LIGHTLOCKER, key, &s);

	if (r == -ENOENT)
		lockconf_unknown(lc, "XFCE: light-locker's settings are not "
				     "installed (%s)", gsettings_error(gu));
	else if (r < 0)
		lockconf_unknown(lc, "XFCE: %s", gsettings_error(gu));
	if (r < 0)
		return NULL;
	lockconf_setting(lc, name, s.value, s.source, s.locked);
	return s.value;
}

static int autostart_handler(void *user, const char *section,
			     const char *name, const char *value)
{
	int *hidden = user;

	if (strcmp(section, "Desktop Entry") == 0 &&
	    strcmp(name, "Hidden") == 0)
		*hidden = inifile_bool(value) == 1;
	return 1;
}

/* Whether the session starts light-locker: xfce4-session starts it from
 * /etc/xdg/autostart, unless the user's copy of the file replaces it
 * (Xfce's Session and Startup turns it off with Hidden=true). 1, 0, or
 * -errno. */
static int ll_autostart(const struct xfce *x, const struct user *u,
			struct lockconf *lc)
{
	_cleanup_free_ char *mine = xasprintf("%s/.config/" LL_AUTOSTART,
					      u->home);
	const char *from = mine;
	int hidden = 0, r;

	r = host_read_ini_user(x->h, mine, autostart_handler, &hidden);
	if (r == -ENOENT) {
		from = "/etc/xdg/" LL_AUTOSTART;
		r = host_read_ini(x->h, from, autostart_handler, &hidden);
	}
	if (r == -ENOENT) {
		lockconf_setting(lc, "autostart", "none", from, false);
		return 0;
	}
	if (r < 0)
		return r;
	lockconf_setting(lc, "autostart", hidden ? "Hidden=true" : "started",
			 from, false);
	return !hidden;
}

static void lightlocker_lockconf(const struct xfce *x, const struct user *u,
				 const struct xfuser *xu,
				 struct gsettings_user *gu,
				 struct lockconf *lc)
{
	int started = ll_autostart(x, u, lc);
	long blank = blank_seconds(x, xu, lc);
	long after = gsettings_int(ll_get(gu, lc, "lock-after-screensaver"));
	int late = gsettings_bool(ll_get(gu, lc, "late-locking"));
	int suspend = gsettings_bool(ll_get(gu, lc, "lock-on-suspend"));
	int hint = gsettings_bool(ll_get(gu, lc, "idle-hint"));

	if (started < 0)
		lockconf_unknown(lc, "cannot read %s's light-locker autostart "
				     "file (%s)", u->name, strerror(-started));
	if (lc->error)
		return;
	if (blank < 0 || after < 0 || late < 0 || suspend < 0 || hint < 0) {
		lockconf_unknown(lc, "XFCE: a lock setting of %s holds a value "
				     "that cannot be read", u->name);
		return;
	}
	if (!started) {
		lc->lock_enabled = lc->lock_on_suspend = lc->obeys_logind = 0;
		lc->lock_after = lc->idle_after = 0;
		return;
	}
	lc->lock_enabled = after > 0 || suspend;
	/* late-locking: locked only when someone comes back. */
	lc->lock_after = late || !after || !blank ? 0 : blank + after;
	lc->idle_after = hint ? blank : 0;
	lc->obeys_logind = 1;
	lc->lock_on_suspend = suspend;
	lc->asks_password = 1;	/* LightDM's greeter unlocks */
	lc->grace = 0;
}

/* ---------- the session ---------- */

static void no_locker(const struct xfce *x, struct lockconf *lc)
{
	for (size_t i = 0; i < ARRAY_SIZE(other_lockers); i++) {
		if (!installed(x->h, other_lockers[i]))
			continue;
		lockconf_unknown(lc, "XFCE locks with %s, whose settings are "
				     "not read", other_lockers[i] + 9);
		return;
	}
	lockconf_setting(lc, "locker", "none", "no light-locker, "
			 "xfce4-screensaver or other locker in /usr/bin", false);
	lc->lock_enabled = lc->lock_on_suspend = lc->obeys_logind = 0;
	lc->lock_after = lc->idle_after = 0;
}

void xfce_lockconf(const struct xfce *x, const struct user *u,
		   struct gsettings_user *gu, struct lockconf *lc)
{
	struct xfuser xu = {
		json_object(), json_object(),
		xasprintf("%s/.config/" XFCONF_DIR "/xfce4-screensaver.xml",
			  u->home),
		xasprintf("%s/.config/" XFCONF_DIR "/xfce4-power-manager.xml",
			  u->home),
	};
	bool ll = installed(x->h, "/usr/bin/light-locker");
	int r;

	lockconf_init(lc, ll ? "XFCE (light-locker)" : "XFCE");
	if ((r = xfconf_read(x->h, xu.saver_path, xu.saver, true)) < 0 ||
	    (r = xfconf_read(x->h, xu.power_path, xu.power, true)) < 0)
		lockconf_unknown(lc, "cannot read %s's XFCE settings (%s)",
				 u->name, strerror(-r));
	else if (ll && !installed(x->h, "/usr/bin/xfce4-power-manager"))
		lockconf_unknown(lc, "XFCE: light-locker locks after the X "
				     "screensaver, whose time is not set by "
				     "xfce4-power-manager (not installed)");
	else if (ll)
		lightlocker_lockconf(x, u, &xu, gu, lc);
	else if (installed(x->h, "/usr/bin/xfce4-screensaver"))
		screensaver_lockconf(x, &xu, lc);
	else
		no_locker(x, lc);
	json_decref(xu.saver);
	json_decref(xu.power);
	free(xu.saver_path);
	free(xu.power_path);
}

struct xfce *xfce_new(const struct host *h)
{
	struct xfce *x = xcalloc(1, sizeof(*x));

	x->h = h;
	x->saver = json_object();
	x->power = json_object();
	xfconf_read(h, XFCONF_SYSTEM "/xfce4-screensaver.xml", x->saver, false);
	xfconf_read(h, XFCONF_SYSTEM "/xfce4-power-manager.xml", x->power,
		    false);
	return x;
}

void xfce_free(struct xfce *x)
{
	if (!x)
		return;
	json_decref(x->saver);
	json_decref(x->power);
	free(x);
}
