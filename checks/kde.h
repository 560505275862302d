/*
 * kde: KDE Plasma's screen locker (kscreenlocker) for one user, from
 * kscreenlockerrc merged as KConfig merges it: each directory of
 * $XDG_CONFIG_DIRS (/etc/xdg), then the user's ~/.config, a later file
 * overriding an earlier one except where an earlier one made a key or the
 * whole group immutable ([$i]).
 */
#ifndef ENDPOINTD_KDE_H
#define ENDPOINTD_KDE_H

#include "check.h"
#include "desktop.h"
#include "users.h"

/* The system-wide files, read once per evaluation. */
struct kde;

struct kde *kde_new(const struct host *h);
void kde_free(struct kde *k);

/* Fill lc with what kscreenlocker does for user u. */
void kde_lockconf(const struct kde *k, const struct user *u,
		  struct lockconf *lc);

#endif
