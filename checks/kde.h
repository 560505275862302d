/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kde: KDE Plasma's screen locker (kscreenlocker) for one user, as the
 * locker reads its settings: kscreenlockerrc's [Daemon] group merged as
 * KConfig merges it (kdeglobals first, then each file of
 * $XDG_CONFIG_DIRS, /etc/xdg, then the user's ~/.config, a later file
 * overriding an earlier one except where an earlier one made a key, the
 * group or the whole file immutable with [$i]), each value converted and
 * bounded as the installed Plasma's kscreenlocker does.
 */
#ifndef ENDPOINTD_KDE_H
#define ENDPOINTD_KDE_H

#include "check.h"
#include "desktop.h"
#include "users.h"

/* The system-wide files and Plasma's version, read once per
 * evaluation. */
struct kde;

struct kde *kde_new(const struct host *h);
void kde_free(struct kde *k);

/* Fill lc with what kscreenlocker does for user u. */
void kde_lockconf(const struct kde *k, const struct user *u,
		  struct lockconf *lc);

#endif
