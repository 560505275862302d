/* SPDX-License-Identifier: Apache-2.0 */
/*
 * xfce: how an Xfce session locks for one user, by the locker installed.
 * Debian 12's Xfce locks with light-locker (GSettings apps.light-locker,
 * read through gsettings.c, its lock on sleep included) a few seconds
 * after the X screensaver that xfce4-power-manager starts (xfconf channel
 * xfce4-power-manager); others use xfce4-screensaver (xfconf channel
 * xfce4-screensaver, lock on sleep from xfce4-power-manager). An Xfce
 * with no locker never locks; one with a locker not read here is unknown.
 */
#ifndef ENDPOINTD_XFCE_H
#define ENDPOINTD_XFCE_H

#include "check.h"
#include "desktop.h"
#include "gsettings.h"
#include "users.h"

/* The system-wide xfconf channels, read once per evaluation. */
struct xfce;

struct xfce *xfce_new(const struct host *h);
void xfce_free(struct xfce *x);

/* Fill lc with what the Xfce session does for user u; gu reads u's
 * GSettings (light-locker). */
void xfce_lockconf(const struct xfce *x, const struct user *u,
		   struct gsettings_user *gu, struct lockconf *lc);

#endif
