/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sandbox: which Flatpak or Snap application a process is, so that the
 * school can approve an application whose program file exists only
 * inside its sandbox.
 *
 * Flatpak: the [Application] name= of the .flatpak-info that flatpak
 * (common/flatpak-run.c) has bubblewrap put at the root of the sandbox
 * with --ro-bind-data, read through /proc/PID/root, when the sandbox's
 * /app is that application as installed system-wide. Snap: the AppArmor
 * label snap-confine gives the process ("snap.NAME.APP (enforce)"),
 * which must agree with the systemd unit snapd puts it in
 * ("snap.NAME.APP-UUID.scope" in /proc/PID/cgroup).
 */
#ifndef ENDPOINTD_SANDBOX_H
#define ENDPOINTD_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

#include "check.h"

/* "flatpak:ID" or "snap:NAME" for the process whose /proc directory
 * (below the host's root) is piddir and whose real uid is uid, or NULL
 * when it is in neither kind of sandbox, or the sandbox cannot be shown
 * to be its own. The caller frees the string. */
char *sandbox_app_id(const struct host *h, const char *piddir, uid_t uid);

#endif
