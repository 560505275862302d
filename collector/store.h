/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store: where collectord keeps the estate, on SQLite ("sqlite:PATH",
 * embedded, WAL) or PostgreSQL ("postgresql://..."), the same logic on
 * both (db.h). A store handle is one connection, used by one thread at a
 * time: the server opens one per worker thread, and nothing that matters
 * lives in a process's memory, so several instances can share one
 * PostgreSQL.
 *
 * Operations return 0 (or a documented positive value), -ENOENT when the
 * thing is not there, -EIO when the database failed (the API answers 503
 * and the agent retries).
 */
#ifndef COLLECTORD_STORE_H
#define COLLECTORD_STORE_H

#include <jansson.h>
#include <stdint.h>

struct store;

/* Open url; with migrate, create or upgrade the schema first. Returns the
 * handle, or NULL with a message in *err (caller frees). */
struct store *store_open(const char *url, bool migrate, char **err);
void store_close(struct store *s);

/* Whether the database answers now. */
bool store_ping(struct store *s);

/* A group (school) name: 1 to 64 letters, digits, spaces or ._-' */
bool store_group_ok(const char *g);

/* The schema version this build writes. */
int store_schema_version(void);

/* --- administration --- */
int store_admin_add(struct store *s, const char *name, const char *pwhash);
/* The stored password hash of admin name (caller frees). */
int store_admin_get(struct store *s, const char *name, char **pwhash);

int store_secret_add(struct store *s, const char *hash, const char *group);
/* Revoke the enrolment secret with that hash; -ENOENT if none is live. */
int store_secret_revoke(struct store *s, const char *hash);
/* The group of a live enrolment secret (caller frees). */
int store_secret_group(struct store *s, const char *hash, char **group);

/* The collector's own key called name, as PEM text (caller frees): made
 * and kept in the database the first time any instance asks. */
int store_signing_key(struct store *s, const char *name, char **pem);

/* --- devices --- */

/* Enrol (or re-enrol: the token rotates) the machine described by device
 * (a validated report "device" object) into group, with its key's public
 * half (NULL: an agent from before keys). -EEXIST, and nothing changed,
 * when that machine id is enrolled with another key, or with none and
 * proof (the hash of the token it was given) is not its token's: a
 * re-enrolment that would take a laptop over. */
int store_device_enrol(struct store *s, const json_t *device,
		       const char *group, const char *token_hash,
		       const char *public_key, const char *proof,
		       int64_t *id);
/* A device's token hash, machine id and public key (NULL when it has
 * none); the caller frees all three. */
int store_device_auth(struct store *s, int64_t id, char **token_hash,
		      char **machine_id, char **public_key);

enum { STORE_STORED = 1, STORE_DUPLICATE = 2, STORE_UNAUTHORIZED = 3 };

/* Store a validated report of device id, durably, if token_hash (the hash
 * of the token it came with) is still the device's: that is checked in
 * the transaction that stores it, so a token rotated or a device removed
 * meanwhile, by any instance, is refused. Returns STORE_STORED,
 * STORE_DUPLICATE when (device, seq) was stored before, or
 * STORE_UNAUTHORIZED. */
int store_report_put(struct store *s, int64_t id, const char *token_hash,
		     const json_t *report, const char *body, size_t len);

/* Many reports in one transaction, one commit (group commit). Each
 * result is one of store_report_put's, or -EIO for all when the
 * transaction failed. Returns 0 or -EIO. */
struct store_put {
	int64_t id;
	const char *token_hash;
	const json_t *report;
	const char *body;
	size_t len;
	int result;
};
int store_report_put_batch(struct store *s, struct store_put *puts, size_t n);

/* For the one connection that stores reports (the committer): remember
 * each device's state between reports instead of reading it for each,
 * while no other connection writes (SQLite only; PostgreSQL's instances
 * share the database, so nothing is remembered there). */
void store_remember(struct store *s);

/* --- reading (for the API) --- */

/* {"devices", "compliant", "failing", "stale", "by_check": {check:
 * {status: n}}, "by_group": {group: {"devices", "compliant"}}}. */
int store_summary(struct store *s, int stale_hours, json_t **out);

struct store_filter {
	const char *status;	/* a device's overall status */
	const char *check;	/* with check_status: that check's status */
	const char *check_status;
	const char *group;
	const char *q;		/* in hostname, serial, machine id */
	bool stale;		/* only devices silent for stale_hours */
	unsigned page, per_page;	/* from 1; per_page up to 500 */
	const char *sort;	/* hostname, group, status, last_seen; a
				 * leading '-' for descending */
};

/* {"total", "page", "per_page", "devices": [{id, machine_id, hostname,
 * group, serial, model, os, status, last_seen, stale, failing: [...]}]}.
 * per_page 0: every device (for CSV). -EINVAL for a bad sort. */
int store_devices(struct store *s, const struct store_filter *f,
		  int stale_hours, json_t **out);

/* One device: identity, latest checks, report history, recent events. */
int store_device(struct store *s, int64_t id, int stale_hours, json_t **out);

/* Events, newest first: of a type, a group, since a time (each optional),
 * at most limit. */
int store_events(struct store *s, const char *type, const char *group,
		 const char *since, unsigned limit, json_t **out);

/* Delete report history and events received more than days ago; each
 * device's latest report stays. Returns how many rows went, or -EIO. */
int store_purge(struct store *s, unsigned days);

/* A device last seen later than now was seen when this server's clock was
 * ahead (it has been set back since): it counts as seen now, so that it
 * turns stale on time if it stays silent. Returns how many, or -EIO. */
int store_seen_not_after_now(struct store *s);

/* Remove a device and everything it sent (a laptop given back, sold or
 * destroyed): its reports, events and checks, and its place in the
 * counts. Its token stops working. Returns 0, -ENOENT or -EIO. */
int store_device_remove(struct store *s, int64_t id);

/* [{"id" (the first 12 hex digits of the secret's hash), "group",
 * "created_at", "revoked_at"}]: never the secrets themselves. */
int store_secrets(struct store *s, json_t **out);
/* [{"name", "created_at"}] */
int store_admins(struct store *s, json_t **out);

/* A group's policy text and its SHA-256 (the ETag). */
int store_policy_put(struct store *s, const char *group, const char *body,
		     const char *sha256);
int store_policy_get(struct store *s, const char *group, char **body,
		     char **sha256);
/* [{"group", "policy_sha256", "policy_updated_at"}]: every group with
 * devices, a policy or an enrolment secret. */
int store_groups(struct store *s, json_t **out);

/* --- the dashboard --- */

/* A signed-in session: the SHA-256 of its cookie, the admin, the token
 * every change must carry (CSRF). Sessions of an admin whose password
 * changes, or who is gone, end. */
int store_session_new(struct store *s, const char *id_hash, const char *admin,
		      const char *csrf, int64_t lifetime_s);
int store_session_get(struct store *s, const char *id_hash, char **admin,
		      char **csrf);
int store_session_end(struct store *s, const char *id_hash);

/* Keep today's counts as today's snapshot (rewritten until the day
 * ends), and drop snapshots older than keep_days. */
int store_snapshot(struct store *s, int stale_hours, unsigned keep_days);
/* {"group", "days": [{"day", "devices", "compliant", "failing", "stale",
 * "by_check": {check: {status: n}}}]}: the last days from the snapshots,
 * today as it is now. group NULL: the whole estate. */
int store_history(struct store *s, const char *group, unsigned days,
		  int stale_hours, json_t **out);
/* The most common failing and warning findings: [{"check", "status",
 * "summary", "clause", "devices"}], most devices first. */
int store_findings(struct store *s, const char *group, unsigned limit,
		   json_t **out);

/* The group a device belongs to (caller frees). */
int store_device_group(struct store *s, int64_t id, char **group);

#endif
