/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gsettings: the values a user's GNOME-family session (GNOME, Budgie,
 * Cinnamon, MATE, light-locker) really reads, computed by GLib's and
 * dconf's own code rather than by ours. The system's gsettings tool runs
 * as that user, with a dconf profile naming the databases the session's
 * profile names, each joined to the host's root: the user's own database
 * (user-db:), and each system database as the file `dconf update`
 * compiled (file-db:), with the locks compiled into it. Defaults come from
 * the installed schemas below the root (gschemas.compiled, which holds
 * the vendors' .gschema.override values). Keyfiles that `dconf update`
 * has not compiled yet are not in force, and are reported as such.
 */
#ifndef ENDPOINTD_GSETTINGS_H
#define ENDPOINTD_GSETTINGS_H

#include <jansson.h>
#include <stdbool.h>

#include "check.h"
#include "users.h"

/* The profile and the system databases, read once per evaluation. */
struct gsettings;

struct gsettings *gsettings_new(const struct host *h);
void gsettings_free(struct gsettings *g);

/* For the evidence: the profile read, each system database and whether
 * what IT wrote in its keyfiles is in force. */
json_t *gsettings_evidence(const struct gsettings *g);
/* The first database whose keyfiles are not compiled, or NULL. */
const char *gsettings_stale(const struct gsettings *g);

/* One user's settings, read on demand. */
struct gsettings_user;

struct gsettings_user *gsettings_user_new(struct gsettings *g,
					  const struct user *u);
void gsettings_user_free(struct gsettings_user *gu);

/* For the evidence: the user's dconf profile, when it is her own. */
json_t *gsettings_user_evidence(const struct gsettings_user *gu);

/* A key as the user's session reads it. */
struct gsetting {
	const char *value;	/* GVariant text: "uint32 300", "true" */
	bool locked;		/* a system database locks it */
	const char *source;	/* "alice's own settings", "IT's database
				 * local", "the installed default" */
};

/* Key schema/key for gu. Returns 0, -ENOENT when the schema or the key
 * is not installed, or another -errno when it could not be read (the
 * reason is then in gsettings_error()). */
int gsettings_get(struct gsettings_user *gu, const char *schema,
		  const char *key, struct gsetting *out);
/* Why the last failing gsettings_get() failed, in words. */
const char *gsettings_error(const struct gsettings_user *gu);

/* GVariant text as a boolean (1, 0, -1) or a non-negative integer
 * (-1 for anything else). */
int gsettings_bool(const char *v);
long gsettings_int(const char *v);

#endif
