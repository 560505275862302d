/* SPDX-License-Identifier: Apache-2.0 */
/*
 * screen_lock: the laptop locks itself, is password protected, and is not
 * sitting idle and unlocked.
 *
 * Configuration: every installed desktop's lock settings for every login
 * user (desktop.c), logind's IdleAction=lock, display-manager autologin,
 * guest sessions and empty passwords (logins.c). Behaviour: logind's
 * graphical sessions (sessions.c); one idle past max_idle_minutes plus
 * grace_seconds and not locked is a fail and an event, cleared when it
 * locks or is used again. Signals and one deadline timer drive it: a
 * signal re-judges the sessions only, the configuration waits for the
 * next full evaluation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "check.h"
#include "desktop.h"
#include "logins.h"
#include "loop.h"
#include "messages.h"
#include "sessions.h"
#include "users.h"
#include "util.h"

/* The configuration part's result, kept between full evaluations while
 * watching. */
struct conf {
	json_t *problems;	/* strings, for staff */
	json_t *unknown;	/* strings: what could not be seen */
	json_t *evidence;	/* users, logind, logins */
	json_t *no_idle;	/* "user desktop" -> true: never tells logind
				 * it is idle */
	char *remedy;		/* for the first problem */
	char *signed_in;	/* logind's users when it was judged */
};

static struct {
	struct host *h;
	bool watching;
	bool sessions_only;	/* the next evaluation is for a signal */
	struct conf conf;	/* valid when conf.problems != NULL */
	json_t *unattended;	/* session id -> {user, since} */
	json_t *inhibitors;	/* "who pid why" -> first seen (s) */
	struct loop_source *inhibit_timer;
} sl;

static void conf_clear(struct conf *c)
{
	json_decref(c->problems);
	json_decref(c->unknown);
	json_decref(c->evidence);
	json_decref(c->no_idle);
	free(c->remedy);
	free(c->signed_in);
	memset(c, 0, sizeof(*c));
}

/* What to do on that desktop, with the school's limit. */
static char *desktop_remedy(const char *desktop, unsigned minutes)
{
	if (strcmp(desktop, "KDE Plasma") == 0)
		return xasprintf(SAY_SCREEN_LOCK_KDE_DO, minutes);
	if (strncmp(desktop, "XFCE (light-locker)", 19) == 0)
		return xasprintf(SAY_SCREEN_LOCK_LIGHTLOCKER_DO, minutes);
	if (strcmp(desktop, "XFCE") == 0)
		return xasprintf(SAY_SCREEN_LOCK_XFCE_DO, minutes);
	if (strcmp(desktop, "MATE") == 0)
		return xasprintf(SAY_SCREEN_LOCK_MATE_DO, minutes);
	if (strcmp(desktop, "Cinnamon") == 0)
		return xasprintf(SAY_SCREEN_LOCK_CINNAMON_DO, minutes);
	return xasprintf(SAY_SCREEN_LOCK_GNOME_DO, minutes);
}

static void set_tri(json_t *o, const char *key, int v)
{
	if (v >= 0)
		json_object_set_new(o, key, json_boolean(v));
}

static void set_secs(json_t *o, const char *key, long v)
{
	if (v >= 0)
		json_object_set_new(o, key, json_integer(v));
}

static json_t *lockconf_json(const struct lockconf *lc, long via_logind,
			     long effective)
{
	json_t *o = json_pack("{s:s, s:O}", "desktop", lc->desktop,
			      "settings", lc->settings);

	set_tri(o, "lock_enabled", lc->lock_enabled);
	set_secs(o, "lock_after_seconds", effective);
	set_secs(o, "desktop_lock_seconds", lc->lock_after);
	set_secs(o, "idle_hint_after_seconds", lc->idle_after);
	set_tri(o, "obeys_logind_lock", lc->obeys_logind);
	if (via_logind > 0)
		json_object_set_new(o, "logind_lock_seconds",
				    json_integer(via_logind));
	set_secs(o, "lock_grace_seconds", lc->grace);
	set_tri(o, "asks_password", lc->asks_password);
	set_tri(o, "lock_on_suspend", lc->lock_on_suspend);
	set_tri(o, "locked_by_it", lc->locked_by_it);
	if (lc->error)
		json_object_set_new(o, "error", json_string_lossy(lc->error));
	return o;
}

/* When logind's IdleAction=lock locks this desktop: its session must
 * set IdleHint (after idle_after) and obey the Lock that follows
 * IdleActionSec later. 0: never; -1: cannot be told. */
static long via_logind(const struct lockconf *lc, long logind_secs)
{
	if (logind_secs < 0 || lc->idle_after == 0 || lc->obeys_logind == 0)
		return 0;
	if (lc->idle_after < 0 || lc->obeys_logind < 0)
		return -1;
	return lc->idle_after + logind_secs;
}

/* The sooner of two lock times (seconds; 0 never; -1 unknown). */
static long sooner(long a, long b)
{
	if (a > 0 && b > 0)
		return a < b ? a : b;
	if (a > 0 || b > 0)
		return a > 0 ? a : b;
	return a < 0 || b < 0 ? -1 : 0;
}

/* Judge one desktop's settings for one user. */
static void judge_desktop(struct conf *c, const struct policy *p,
			  const struct user *u, const struct lockconf *lc,
			  long logind_secs, json_t *desktops)
{
	long max = (long)p->screen_lock.max_idle_minutes * 60;
	long via = via_logind(lc, logind_secs);
	long eff = sooner(lc->lock_after, via);
	size_t before = json_array_size(c->problems);

	json_array_append_new(desktops, lockconf_json(lc, via, eff));
	if (lc->idle_after == 0) {
		_cleanup_free_ char *k = xasprintf("%s\t%s", u->name, lc->desktop);

		json_object_set_new(c->no_idle, k, json_true());
	}
	if (lc->error)
		json_lossy_append(c->unknown, "%s", lc->error);
	if (lc->asks_password == 0)
		json_lossy_append(c->problems, SAY_SCREEN_LOCK_NO_PASSWORD_ASKED,
		    lc->desktop, u->name);
	if (lc->grace > 60)
		json_lossy_append(c->problems, SAY_SCREEN_LOCK_GRACE, lc->desktop, u->name,
		    lc->grace);
	if (eff > 0 && eff <= max)
		;	/* locks in time, by itself or through logind */
	else if (eff < 0 && !lc->error)
		json_lossy_append(c->unknown, "whether %s locks the screen of %s in time "
				"cannot be told", lc->desktop, u->name);
	else if (eff == 0 && lc->lock_enabled == 0)
		json_lossy_append(c->problems, SAY_SCREEN_LOCK_NEVER, lc->desktop, u->name);
	else if (eff == 0)
		json_lossy_append(c->problems, SAY_SCREEN_LOCK_NOT_IDLE, lc->desktop,
		    u->name);
	else if (eff > max)
		json_lossy_append(c->problems, SAY_SCREEN_LOCK_TOO_LATE, lc->desktop,
		    u->name, (eff + 59) / 60,
		    p->screen_lock.max_idle_minutes);
	if (p->screen_lock.require_lock_on_suspend && lc->lock_on_suspend == 0)
		json_lossy_append(c->problems, SAY_SCREEN_LOCK_NOT_ON_SLEEP, lc->desktop,
		    u->name);
	if (p->screen_lock.require_locked_settings && lc->locked_by_it == 0)
		json_lossy_append(c->problems, SAY_SCREEN_LOCK_NOT_FIXED,
		    lc->desktop, u->name);
	if (!c->remedy && json_array_size(c->problems) > before)
		c->remedy = desktop_remedy(lc->desktop,
					   p->screen_lock.max_idle_minutes);
}

static json_t *user_json(const struct user *u, json_t *desktops)
{
	json_t *o = json_pack("{s:o, s:s, s:o}", "user",
			      json_string_lossy(u->name), "source", u->source,
			      "desktops", desktops);

	if (u->encryption)
		json_object_set_new(o, "home_encryption",
				    json_string(u->encryption));
	if (u->locked)
		json_object_set_new(o, "home_closed", json_true());
	return o;
}

static void judge_user(struct conf *c, const struct policy *p,
		       struct desktop_ctx *ctx, const struct user *u,
		       long logind_secs, json_t *users)
{
	struct lockconf *lc = NULL;
	json_t *desktops = json_array();
	int nd;

	/* Her settings are encrypted with her home: not the defaults. */
	if (u->locked) {
		json_lossy_append(c->unknown, "%s", u->locked);
		json_array_append_new(users, user_json(u, desktops));
		return;
	}
	nd = desktop_lockconf(ctx, u, &lc);
	for (int d = 0; d < nd; d++)
		judge_desktop(c, p, u, &lc[d], logind_secs, desktops);
	json_array_append_new(users, user_json(u, desktops));
	desktop_lockconf_free(lc, nd);
}

static void judge_users(struct conf *c, struct host *h,
			const struct policy *p, const json_t *signed_in,
			long logind_secs)
{
	struct desktop_ctx *ctx = desktop_ctx_new(h);
	json_t *users = json_array();
	struct user *us = NULL;
	int n = users_list(h, signed_in, &us);

	if (n < 0)
		json_lossy_append(c->unknown, "cannot read the accounts in /etc/passwd (%s)",
		    strerror(-n));
	/* A desktop with nobody to read settings for is not a pass. */
	else if (n == 0 && desktop_any_installed(ctx))
		json_lossy_append(c->unknown, "no account with a home folder on this laptop "
				"to read the desktop's lock settings for");
	for (int i = 0; i < n; i++)
		judge_user(c, p, ctx, &us[i], logind_secs, users);
	json_object_set_new(c->evidence, "users", users);
	json_object_set_new(c->evidence, "dconf", desktop_ctx_evidence(ctx));
	users_free(us, n < 0 ? 0 : n);
	desktop_ctx_free(ctx);
}

static void conf_evaluate(struct conf *c, struct host *h,
			  const struct policy *p, const json_t *signed_in)
{
	json_t *logins = json_array();
	bool logind_locks;
	long secs = 0;
	size_t i;
	json_t *l;
	int r;

	c->problems = json_array();
	c->unknown = json_array();
	c->evidence = json_object();
	c->no_idle = json_object();
	c->signed_in = json_dumps(signed_in, JSON_COMPACT | JSON_SORT_KEYS);
	/* logind locks only sessions whose desktop says they are idle:
	 * credited per desktop in judge_desktop(). */
	logind_locks = desktop_logind_locks(h, &secs);
	json_object_set_new(c->evidence, "logind_idle_lock",
			    json_pack("{s:b, s:I}", "enforced", logind_locks,
				      "idle_action_seconds", (json_int_t)secs));
	r = logins_check(h, logins, c->unknown);
	/* Which account has no password is for IT (the evidence), not for
	 * a summary every local user can read. */
	json_array_foreach(logins, i, l)
		json_lossy_append(c->problems, "%s",
		    strcmp(json_string_value(json_object_get(l, "kind")),
			   "empty_password") == 0
			    ? SAY_SCREEN_LOCK_NO_PASSWORD
			    : json_string_value(json_object_get(l, "detail")));
	if (json_array_size(logins))
		c->remedy = xstrdup(SAY_SCREEN_LOCK_LOGIN_DO);
	if (r < 0)
		json_lossy_append(c->unknown, "cannot read /etc/shadow to find accounts "
				"without a password (%s)", strerror(-r));
	json_object_set_new(c->evidence, "logins", logins);
	judge_users(c, h, p, signed_in, logind_locks ? secs : -1);
}

/* Events for sessions that became, or stopped being, unattended. */
static void track(json_t *unattended)
{
	const char *id;
	json_t *s, *tmp;
	size_t i;

	json_array_foreach(unattended, i, s) {
		id = json_string_value(json_object_get(s, "id"));
		if (json_object_get(sl.unattended, id))
			continue;
		json_object_set(sl.unattended, id, s);
		host_event(sl.h, json_pack(
			"{s:s, s:s, s:O, s:O, s:I}", "type", "unattended_session",
			"check", "screen_lock", "session", json_object_get(s, "id"),
			"user", json_object_get(s, "user"), "idle_minutes",
			json_integer_value(json_object_get(s, "idle_seconds")) / 60));
	}
	json_object_foreach_safe(sl.unattended, tmp, id, s) {
		bool still = false;
		json_t *u;

		json_array_foreach(unattended, i, u)
			still |= strcmp(json_string_value(json_object_get(u, "id")),
					id) == 0;
		if (still)
			continue;
		host_event(sl.h, json_pack("{s:s, s:s, s:s, s:O}", "type",
					   "unattended_session_end", "check",
					   "screen_lock", "session", id, "user",
					   json_object_get(s, "user")));
		json_object_del(sl.unattended, id);
	}
}

static const char *first(const json_t *arr)
{
	return json_string_value(json_array_get(arr, 0));
}

/* The desktop a logind session runs (its XDG_SESSION_DESKTOP), as
 * desktop.c names it, or NULL. */
static const char *session_desktop(const char *d)
{
	static const struct {
		const char *prefix, *name;
	} map[] = {
		{ "gnome", "GNOME" }, { "ubuntu", "GNOME" },
		{ "kde", "KDE Plasma" }, { "plasma", "KDE Plasma" },
		{ "xfce", "XFCE" }, { "cinnamon", "Cinnamon" },
		{ "mate", "MATE" }, { "budgie", "Budgie" },
	};

	for (size_t i = 0; d && i < ARRAY_SIZE(map); i++)
		if (strncasecmp(d, map[i].prefix, strlen(map[i].prefix)) == 0)
			return map[i].name;
	return NULL;
}

/* Sessions whose desktop never tells logind it is idle: logind's
 * IdleHint stays false there, so a session left unlocked is not seen. */
static json_t *unwatched(const struct conf *c, const json_t *sessions)
{
	json_t *out = json_array(), *s;
	const char *key;
	size_t i;

	json_array_foreach(sessions, i, s) {
		const char *user = json_string_value(json_object_get(s, "user"));
		const char *d = session_desktop(json_string_value(
			json_object_get(s, "desktop")));
		json_t *v;

		json_object_foreach(c->no_idle, key, v)
			if (d && user && strncmp(key, user, strlen(user)) == 0 &&
			    key[strlen(user)] == '\t' &&
			    strncmp(key + strlen(user) + 1, d, strlen(d)) == 0)
				json_lossy_append(out, "%s's %s session does not tell the "
					 "system when it is idle, so whether "
					 "it is left unlocked is not watched "
					 "there", user, key + strlen(user) + 1);
	}
	return out;
}

static uint64_t now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec;
}

/* How long each idle inhibitor has been held, as far as endpointd has
 * seen it (logind does not say when it was taken); forgotten once
 * released. Returns the first held over the limit, or NULL. */
static json_t *judge_inhibitors(struct host *h, const struct policy *p,
				json_t *list)
{
	uint64_t now = now_seconds(), max = p->screen_lock.max_inhibit_minutes * 60ULL;
	uint64_t next = 0;
	json_t *seen = json_object(), *i, *over = NULL;
	size_t n;

	json_array_foreach(list, n, i) {
		_cleanup_free_ char *key = xasprintf("%s\t%lld\t%s",
			json_string_value(json_object_get(i, "who")),
			json_integer_value(json_object_get(i, "pid")),
			json_string_value(json_object_get(i, "why")));
		json_t *first = sl.watching ? json_object_get(sl.inhibitors, key)
					    : NULL;
		uint64_t since = first ? (uint64_t)json_integer_value(first) : now;
		char *user = users_name(h, (uid_t)json_integer_value(
						   json_object_get(i, "uid")));

		json_object_set_new(seen, key, json_integer((json_int_t)since));
		json_object_set_new(i, "user", user ? json_string_lossy(user)
						    : json_null());
		free(user);
		/* Seen once only: how long it was held before is unknown. */
		json_object_set_new(i, "held_minutes", sl.watching
			? json_integer((json_int_t)((now - since) / 60))
			: json_null());
		if (sl.watching && now - since >= max && !over)
			over = i;
		else if (sl.watching && (!next || since + max < next))
			next = since + max;
	}
	if (sl.watching) {
		json_decref(sl.inhibitors);
		sl.inhibitors = seen;
		loop_timer_set(sl.inhibit_timer,
			       next ? (next - now) * 1000 + 1000 : 0, 0);
	} else {
		json_decref(seen);
	}
	return over;
}

static void conclude(struct finding *f, const struct conf *c,
		     json_t *unattended, const json_t *inhibited,
		     const char *session_unknown)
{
	_cleanup_free_ char *s = NULL;
	size_t more = json_array_size(c->problems);

	if (json_array_size(unattended)) {
		json_t *u = json_array_get(unattended, 0);

		s = xasprintf(SAY_SCREEN_LOCK_UNATTENDED,
			      json_string_value(json_object_get(u, "user")),
			      json_integer_value(json_object_get(u, "idle_seconds")) / 60);
		finding_set(f, CHECK_FAIL, s, SAY_SCREEN_LOCK_UNATTENDED_DO);
	} else if (more) {
		s = xasprintf(SAY_SCREEN_LOCK_PROBLEM, first(c->problems),
			      more > 1 ? SAY_SCREEN_LOCK_MORE : "");
		finding_set(f, CHECK_FAIL, s, c->remedy);
	} else if (inhibited) {
		s = xasprintf(SAY_SCREEN_LOCK_INHIBITED,
			      json_string_value(json_object_get(inhibited, "who")),
			      json_integer_value(json_object_get(inhibited,
								 "held_minutes")));
		finding_set(f, CHECK_WARN, s, SAY_SCREEN_LOCK_INHIBITED_DO);
	} else if (json_array_size(c->unknown) || session_unknown) {
		s = xasprintf(SAY_SCREEN_LOCK_UNKNOWN,
			      session_unknown ? session_unknown : first(c->unknown));
		finding_set(f, CHECK_UNKNOWN, s, SAY_UNKNOWN_DO);
	} else {
		finding_set(f, CHECK_PASS, SAY_SCREEN_LOCK_PASS, NULL);
	}
}

/* Who is signed in, as logind says: a user who just signed in is judged
 * at once (her encrypted home has just opened). */
static json_t *signed_in(struct host *h)
{
	json_t *users = NULL;

	if (sessions_users(h, &users) < 0)
		return json_array();
	return users;
}

static bool same_users(const struct conf *c, const json_t *users)
{
	_cleanup_free_ char *now = json_dumps(users, JSON_COMPACT |
						     JSON_SORT_KEYS);

	return c->signed_in && now && strcmp(c->signed_in, now) == 0;
}

static int screen_lock_evaluate(struct host *h, const struct policy *p,
				struct finding *f)
{
	uint64_t limit = (uint64_t)p->screen_lock.max_idle_minutes * 60 +
			 p->screen_lock.grace_seconds;
	json_t *sessions = NULL, *unattended = NULL, *inhibitors = NULL;
	json_t *users = signed_in(h), *over = NULL;
	_cleanup_free_ char *why = NULL;
	struct conf once = { 0 }, *c = sl.watching ? &sl.conf : &once;
	int r;

	if (!sl.watching || !sl.sessions_only || !c->problems ||
	    !same_users(c, users)) {
		conf_clear(c);
		conf_evaluate(c, h, p, users);
	}
	json_decref(users);
	sl.sessions_only = false;
	r = sessions_query(h, limit, &sessions, &unattended);
	if (r < 0) {
		why = xasprintf("cannot ask logind whether a session is left "
				"idle and unlocked (%s)",
				r == -ENOTCONN ? "no system bus" : strerror(-r));
		unattended = json_array();
	} else {
		json_object_set_new(f->evidence, "unwatched",
				    unwatched(c, sessions));
		json_object_set_new(f->evidence, "sessions", sessions);
	}
	if (sessions_inhibitors(h, &inhibitors) == 0) {
		over = judge_inhibitors(h, p, inhibitors);
		json_object_set_new(f->evidence, "idle_inhibitors", inhibitors);
	}
	if (sl.watching)
		track(unattended);
	conclude(f, c, unattended, over, why);
	json_object_update(f->evidence, c->evidence);
	json_object_set_new(f->evidence, "problems", json_copy(c->problems));
	json_object_set_new(f->evidence, "unattended", unattended);
	json_object_set_new(f->evidence, "unknown", json_copy(c->unknown));
	if (why)
		json_array_append_new(json_object_get(f->evidence, "unknown"),
				      json_string(why));
	json_object_set_new(f->evidence, "max_idle_minutes",
			    json_integer(p->screen_lock.max_idle_minutes));
	json_object_set_new(f->evidence, "max_inhibit_minutes",
			    json_integer(p->screen_lock.max_inhibit_minutes));
	if (!sl.watching)
		conf_clear(&once);
	return 0;
}

static void on_sessions(void *data)
{
	(void)data;
	sl.sessions_only = true;
	host_changed(sl.h, "screen_lock");
}

static void on_inhibit_timer(void *data)
{
	(void)data;
	sl.sessions_only = true;
	host_changed(sl.h, "screen_lock");
}

static int screen_lock_start(struct host *h, const struct policy *p)
{
	(void)p;
	sl.h = h;
	sl.unattended = json_object();
	sl.inhibitors = json_object();
	sl.inhibit_timer = loop_add_timer(0, 0, on_inhibit_timer, NULL);
	if (!sl.inhibit_timer)
		return -errno;
	sl.watching = true;
	return sessions_watch(h, on_sessions, NULL);
}

static void screen_lock_stop(struct host *h)
{
	(void)h;
	sessions_unwatch();
	conf_clear(&sl.conf);
	json_decref(sl.unattended);
	sl.unattended = NULL;
	json_decref(sl.inhibitors);
	sl.inhibitors = NULL;
	loop_remove(sl.inhibit_timer);
	sl.inhibit_timer = NULL;
	sl.watching = false;
}

const struct check_ops screen_lock_check = {
	.id = "screen_lock",
	.title = "Screen lock and password protection",
	.start = screen_lock_start,
	.stop = screen_lock_stop,
	.evaluate = screen_lock_evaluate,
};
