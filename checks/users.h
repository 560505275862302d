/* SPDX-License-Identifier: Apache-2.0 */
/*
 * users: the people who can sit down at this laptop and whose desktop
 * settings decide whether it locks. Local accounts (/etc/passwd and
 * /etc/login.defs below the host's root), in production every account NSS
 * lists (network accounts through SSSD or LDAP where they enumerate,
 * systemd-homed's through nss-systemd), systemd-homed's own records, the
 * users logind has sessions for, and the owner of any home folder no
 * account names: a network account that has signed in here before.
 *
 * A user whose home folder is encrypted (eCryptfs, fscrypt, homed) and
 * closed because she is signed out has her settings encrypted too: that
 * is said (locked) rather than judged on defaults.
 */
#ifndef ENDPOINTD_USERS_H
#define ENDPOINTD_USERS_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#include "check.h"

struct user {
	char *name;
	uid_t uid;
	gid_t gid;
	char *home;		/* as on the machine, not joined to the root */
	const char *source;	/* "passwd", "NSS", "systemd-homed",
				 * "logind", "home folder" */
	const char *encryption;	/* "eCryptfs", "fscrypt", "systemd-homed",
				 * or NULL */
	char *locked;		/* why her settings cannot be read until she
				 * signs in, or NULL */
};

/* The login users: passwd's first, in its order, then the others.
 * signed_in holds logind's users ([{"uid", "name"}], may be NULL).
 * Returns how many, or -errno when /etc/passwd cannot be read. */
int users_list(const struct host *h, const json_t *signed_in,
	       struct user **users);
void users_free(struct user *users, int n);

/* The name of any account with that uid (system ones too), or NULL.
 * Caller frees. */
char *users_name(const struct host *h, uid_t uid);

/* The people whose home folders are encrypted ([{"user", "encryption"}]
 * appended to homes), and "alice's home folder is" or "alice's and bob's
 * home folders are" for a summary (caller frees; NULL when none). */
char *users_encrypted_homes(const struct host *h, json_t *homes);

#endif
