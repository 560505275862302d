/*
 * users: the people who can log in to this laptop, from /etc/passwd and
 * /etc/login.defs below the host's root: accounts with a UID in the
 * login range, a real shell and a home directory.
 */
#ifndef ENDPOINTD_USERS_H
#define ENDPOINTD_USERS_H

#include <stddef.h>
#include <sys/types.h>

#include "check.h"

struct user {
	char *name;
	uid_t uid;
	gid_t gid;
	char *home;	/* as on the machine, not joined to the root */
};

/* The login users, in passwd order. Returns how many, or -errno. */
int users_list(const struct host *h, struct user **users);
void users_free(struct user *users, int n);

/* The name of any account with that uid (system ones too), or NULL.
 * Caller frees. */
char *users_name(const struct host *h, uid_t uid);

#endif
