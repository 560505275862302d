/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy: policy.ini parsed with inih into a typed structure.
 *
 * Unknown sections and keys, bad values, out-of-range numbers, repeated
 * sections or keys and missing required keys are errors reported as
 * "FILE:LINE: message". A policy with any error is never returned, so
 * nothing half-loaded is ever used.
 */
#ifndef ENDPOINTD_POLICY_H
#define ENDPOINTD_POLICY_H

#include <stdbool.h>
#include <stddef.h>

/* Largest policy file accepted; a real one is a few KB. */
#define POLICY_MAX_BYTES (1024 * 1024)

enum severity {
	SEVERITY_LOW,
	SEVERITY_MEDIUM,
	SEVERITY_HIGH,
	SEVERITY_CRITICAL,
};

enum usb_action { USB_ACTION_LOG, USB_ACTION_WARN, USB_ACTION_BLOCK };
/* allow|warn|block share values with log|warn|block: allow is log. */
enum camera_action { CAMERA_ACTION_LOG, CAMERA_ACTION_WARN };

/* A comma-separated list value. */
struct policy_list {
	char **v;
	size_t n;
};

/* What every check section has. */
struct policy_section {
	bool present;		/* the section is in the file */
	bool enabled;
	enum severity severity;
	char *clause;		/* the code of conduct's words */
};

struct policy {
	char *path;
	char sha256[65];	/* of the file's bytes, lower-case hex */

	/* [policy] */
	char *name;
	char *version;
	unsigned interval_minutes;

	/* [report] */
	struct {
		unsigned spool_max_reports;
		unsigned spool_max_bytes;
		unsigned max_events;
		unsigned heartbeat_minutes;
		/* For the uploader: the collector's CA (at most one path;
		 * none means the system store), public-key pins in curl's
		 * "sha256//BASE64" form, the longest wait between retries. */
		struct policy_list ca_file;
		struct policy_list pinned_pubkey;
		unsigned retry_max_seconds;
	} report;

	/* [notify]: endpoint-notify shows a lasting problem again after
	 * this many hours. */
	struct {
		unsigned renotify_hours;
	} notify;

	struct {
		struct policy_section s;
		struct policy_list mounts;	/* besides / and swap */
		unsigned min_key_bits;
		struct policy_list allowed_ciphers;	/* "aes-xts", ... */
		bool allow_plain_dmcrypt;
		bool require_preboot_auth;	/* no TPM2-only unlock */
	} encryption;
	struct {
		struct policy_section s;
		unsigned max_idle_minutes;
		unsigned grace_seconds;
		bool require_lock_on_suspend;
		bool require_locked_settings;
		unsigned max_inhibit_minutes;	/* an idle inhibitor held
						 * longer is a warning */
	} screen_lock;
	struct {
		struct policy_section s;
		enum usb_action action;		/* unencrypted storage */
		enum usb_action unrecognised;	/* nothing libblkid knows */
		enum usb_action blank;		/* nothing on it at all */
		enum usb_action phones;		/* MTP and PTP devices */
		struct policy_list allow_models;	/* "0951:1666" */
		struct policy_list allow_devices;	/* "0951:1666:SERIAL" */
	} usb_storage;
	struct {
		struct policy_section s;
		enum camera_action action;
		struct policy_list allowed_apps;	/* executable paths,
						 * flatpak:ID, snap:NAME */
		unsigned min_session_seconds;
	} camera;
};

/* Load and validate path. Returns 0 and the policy in *out, or -errno
 * (-EINVAL for a policy with errors) with every error, one "FILE:LINE:
 * message" a line, in *errors (caller frees). */
int policy_load(const char *path, struct policy **out, char **errors);

/* The same for policy text already in memory; errors name it as name
 * ("policy.ini:12: ..."). */
int policy_parse(const char *name, const char *buf, size_t len,
		 struct policy **out, char **errors);

void policy_free(struct policy *p);
void policy_freep(struct policy **p);

/* The common part of a check's section ("encryption", ...), or NULL when
 * no check section has that name. A section absent from the file is
 * returned with present and enabled false. */
const struct policy_section *policy_section(const struct policy *p,
					    const char *id);

/* Whether list l holds s. */
bool policy_list_has(const struct policy_list *l, const char *s);

/* Names of the values, as written in the policy and the report. */
const char *severity_name(enum severity s);

#endif
