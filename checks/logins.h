/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logins: what defeats password protection. Display managers that log a
 * user in without a password (GDM, LightDM, SDDM, LXDM, nodm, greetd, and
 * the nopasswdlogin group of GDM's and LightDM's PAM stacks), text
 * consoles whose getty logs someone in, guest sessions, and accounts
 * whose password field in /etc/shadow is empty.
 */
#ifndef ENDPOINTD_LOGINS_H
#define ENDPOINTD_LOGINS_H

#include <jansson.h>

#include "check.h"

/* Each finding is one object {"kind", "detail", "file"} appended to
 * problems (kind: "autologin", "guest", "empty_password"); what could
 * not be seen (a display manager this module does not know, a file that
 * cannot be read) is a string appended to unknown. Returns 0, or -errno
 * when /etc/shadow could not be read (the rest is still done). */
int logins_check(const struct host *h, json_t *problems, json_t *unknown);

#endif
