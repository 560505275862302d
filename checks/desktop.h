/* SPDX-License-Identifier: Apache-2.0 */
/*
 * desktop: how each desktop installed on the laptop will lock the screen
 * for one user, as that user's session really gets it: GNOME and the
 * desktops that share its settings (Budgie, Cinnamon, MATE) through
 * GSettings and dconf's own code (gsettings.c), KDE Plasma through
 * kscreenlockerrc merged as KConfig merges it (kde.c), Xfce through
 * light-locker or xfce4-screensaver (xfce.c). And logind's IdleAction,
 * which locks only a session whose desktop tells logind it is idle.
 */
#ifndef ENDPOINTD_DESKTOP_H
#define ENDPOINTD_DESKTOP_H

#include <jansson.h>
#include <stdbool.h>

#include "check.h"
#include "users.h"

/* One desktop's lock settings for one user. */
struct lockconf {
	const char *desktop;	/* "GNOME", "KDE Plasma", ... */
	int lock_enabled;	/* 1, 0, or -1 unknown */
	long lock_after;	/* seconds idle before the desktop itself
				 * locks; 0 never; -1 unknown */
	long idle_after;	/* seconds idle before the desktop sets
				 * logind's IdleHint; 0 it never does (so
				 * logind's IdleAction never fires); -1
				 * unknown */
	int obeys_logind;	/* a Lock from logind locks it: 1, 0, -1 */
	long grace;		/* seconds after locking in which it unlocks
				 * without a password; -1 unknown */
	int asks_password;	/* its lock screen asks for one: 1, 0, -1 */
	int lock_on_suspend;	/* 1, 0, -1 */
	int locked_by_it;	/* IT's locks hold every setting: 1, 0, or
				 * -1 where the desktop has no such locks */
	json_t *settings;	/* evidence: [{key, value, from, locked}] */
	char *error;		/* why something is unknown, or NULL */
};

/* Start a lockconf for desktop: everything unknown, no settings. */
void lockconf_init(struct lockconf *lc, const char *desktop);
/* Record in lc's evidence the value of a setting and where it came from
 * ("alice's own settings", "/etc/xdg/kscreenlockerrc", "the default"). */
void lockconf_setting(struct lockconf *lc, const char *key, const char *value,
		      const char *from, bool locked);
/* Mark lc unknown with the reason (printf format). */
void lockconf_unknown(struct lockconf *lc, const char *fmt, ...)
	_printf_(2, 3);

/* Settings read once per evaluation for every user (the dconf profile
 * and system databases, system-wide rc files). */
struct desktop_ctx;

struct desktop_ctx *desktop_ctx_new(const struct host *h);
void desktop_ctx_free(struct desktop_ctx *c);
/* For the evidence: the dconf profile and IT's databases. */
json_t *desktop_ctx_evidence(const struct desktop_ctx *c);

/* The lock settings of every installed desktop for user u. Returns how
 * many desktops (0 when none is installed); *out freed with
 * desktop_lockconf_free(). */
int desktop_lockconf(struct desktop_ctx *c, const struct user *u,
		     struct lockconf **out);
void desktop_lockconf_free(struct lockconf *v, int n);

/* Whether any desktop whose lock settings this module reads is
 * installed. */
bool desktop_any_installed(const struct desktop_ctx *c);

/* logind's IdleAction and IdleActionSec from logind.conf and its drop-ins:
 * true and the seconds when logind locks idle sessions. */
bool desktop_logind_locks(const struct host *h, long *seconds);

/* A systemd time span ("30min", "1h 30s", "300"): seconds, or -1. */
long desktop_timespan(const char *s);

#endif
