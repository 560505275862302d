/*
 * desktop: how each desktop installed on the laptop will lock the screen
 * for one user, as that user's session really gets it: GNOME and the
 * desktops that share its settings (Budgie, Cinnamon, MATE) through dconf
 * (IT's keyfiles and locks in /etc/dconf/db/NAME.d/, the user's own
 * database read by the dconf tool as its owner), KDE Plasma through
 * kscreenlockerrc, XFCE through xfce4-screensaver's xfconf channel. And
 * logind's IdleAction=lock, which locks whatever the desktop.
 */
#ifndef ENDPOINTD_DESKTOP_H
#define ENDPOINTD_DESKTOP_H

#include <stdbool.h>

#include "check.h"
#include "users.h"

/* One desktop's lock settings for one user. */
struct lockconf {
	const char *desktop;	/* "GNOME", "KDE Plasma", ... */
	int lock_enabled;	/* 1, 0, or -1 unknown */
	long lock_after;	/* seconds idle before it locks; 0 never;
				 * -1 unknown */
	int lock_on_suspend;	/* 1, 0, -1 */
	int locked_by_it;	/* IT's locks hold every setting: 1, 0, or
				 * -1 where the desktop has no such locks */
	char *error;		/* why something is unknown, or NULL */
};

/* Settings read once per evaluation for every user (dconf system
 * databases, system-wide rc files). */
struct desktop_ctx;

struct desktop_ctx *desktop_ctx_new(const struct host *h);
void desktop_ctx_free(struct desktop_ctx *c);

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
