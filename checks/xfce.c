/*
 * xfce: xfconf channels are XML files (system ones below /etc/xdg, the
 * user's in ~/.config), read with expat, the user's over the system's.
 * light-locker's settings are GSettings, read through gsettings.c.
 */
#include <errno.h>
#include <expat.h>
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

struct xfce {
	const struct host *h;
	json_t *values;		/* the system channels' properties */
};

static int xf_bool(json_t *v, const char *key, int def)
{
	const char *s = json_string_value(json_object_get(v, key));

	return s ? inifile_bool(s) : def;
}

static long xf_int(json_t *v, const char *key, long def)
{
	const char *s = json_string_value(json_object_get(v, key));
	char *end;
	long n;

	if (!s)
		return def;
	n = strtol(s, &end, 10);
	return end == s || *end || n < 0 ? -1 : n;
}

static bool installed(const struct host *h, const char *binary)
{
	_cleanup_free_ char *p = host_path(h, binary);

	return access(p, F_OK) == 0;
}

/* xfce4-screensaver: the saver starts after its idle delay and locks
 * lock-delay minutes later. */
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
}

void xfce_lockconf(const struct xfce *x, const struct user *u,
		   struct gsettings_user *gu, struct lockconf *lc)
{
	_cleanup_free_ char *saver = xasprintf(
		"%s/.config/" XFCONF_DIR "/xfce4-screensaver.xml", u->home);
	_cleanup_free_ char *power = xasprintf(
		"%s/.config/" XFCONF_DIR "/xfce4-power-manager.xml", u->home);
	json_t *v = json_deep_copy(x->values);
	int r;

	(void)gu;
	lockconf_init(lc, "XFCE");
	/* Neither xfce4-session nor its lockers tell logind when the session
	 * is idle, so logind's IdleAction never fires for it. */
	lc->idle_after = 0;
	lc->obeys_logind = 1;
	if (!installed(x->h, "/usr/bin/xfce4-screensaver")) {
		lockconf_unknown(lc, "XFCE without xfce4-screensaver: "
				     "light-locker's settings are not read");
	} else if ((r = xfconf_read(x->h, saver, v, true)) < 0 ||
		   (r = xfconf_read(x->h, power, v, true)) < 0) {
		lockconf_unknown(lc, "cannot read %s's XFCE settings (%s)",
				 u->name, strerror(-r));
	} else {
		screensaver_conf(v, lc);
	}
	json_decref(v);
}

struct xfce *xfce_new(const struct host *h)
{
	struct xfce *x = xcalloc(1, sizeof(*x));

	x->h = h;
	x->values = json_object();
	xfconf_read(h, "/etc/xdg/" XFCONF_DIR "/xfce4-screensaver.xml",
		    x->values, false);
	xfconf_read(h, "/etc/xdg/" XFCONF_DIR "/xfce4-power-manager.xml",
		    x->values, false);
	return x;
}

void xfce_free(struct xfce *x)
{
	if (!x)
		return;
	json_decref(x->values);
	free(x);
}
