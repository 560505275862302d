/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spool: reports waiting for the uploader, one file each in the spool
 * directory, written atomically (temp file, fsync, rename, fsync of the
 * directory) and named by sequence number so the oldest sorts first. The
 * uploader removes a report once the collector has acknowledged it.
 *
 * The directory is shared with the uploader, which runs as its own user:
 * when the group UPLOAD_GROUP exists the directory belongs to it (mode
 * 2770) and reports are group-readable (0640). The uploader also leaves
 * its status (uploader.status) and policies fetched from the collector
 * (policy.incoming) there; endpointd reads both as untrusted input.
 */
#ifndef ENDPOINTD_SPOOL_H
#define ENDPOINTD_SPOOL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define UPLOAD_GROUP "endpointd-upload"
#define SPOOL_STATUS_NAME "uploader.status"
#define SPOOL_POLICY_NAME "policy.incoming"
#define SPOOL_SETTINGS_NAME "uploader.json"
#define SPOOL_REJECTED_DIR "rejected"

/* A report signed with the laptop's key (devkey.h) is written as one line
 * "ed25519:SIGNATURE" (base64) and then the report's bytes, the ones the
 * signature covers; the uploader sends the signature in the
 * SPOOL_SIG_HEADER header and the rest as the body. A policy from the
 * collector comes the same way, signed with its policy key. A file that
 * does not start with "ed25519:" is unsigned. */
#define SPOOL_SIG_PREFIX "ed25519:"
#define SPOOL_SIG_HEADER "Endpointd-Signature"

/* Use dir (created when missing); keep at most max_reports reports and
 * max_bytes bytes of them. */
int spool_init(const char *dir, unsigned max_reports, uint64_t max_bytes);
void spool_exit(void);
void spool_set_limits(unsigned max_reports, uint64_t max_bytes);
const char *spool_path(void);

/* Sign every report prepared from now on with k (NULL: unsigned). */
struct devkey;
void spool_set_key(const struct devkey *k);

/* A report goes in three steps, so that a crash or a full disk never
 * leaves a sequence number without its report nor gives one twice:
 * spool_prepare() writes it under a temporary name (SPOOL_TMP_SUFFIX),
 * synced to disk; the caller keeps its number (state_seq_keep()); then
 * spool_commit() renames it into place and removes the oldest reports
 * beyond the limits, returning how many, or -errno. spool_abort() removes
 * a prepared report instead. */
#define SPOOL_TMP_SUFFIX ".tmp"
int spool_prepare(uint64_t seq, const json_t *report);
int spool_commit(uint64_t seq);
void spool_abort(uint64_t seq);

/* At start: a report prepared before a stop is put in place when its
 * number had been kept (seq <= last), removed otherwise. */
void spool_recover(uint64_t last);

/* Reports waiting and their bytes. Returns 0 or -errno. */
int spool_usage(unsigned *reports, uint64_t *bytes);

/* A spool file's text split into its signature (base64; sig[] is left
 * empty when it is unsigned) and the signed bytes. Returns 0, or -EINVAL
 * when its signature's line is malformed. */
int spool_split(const char *text, size_t len, char sig[static 89],
		const char **body, size_t *body_len);

/* The uploader's side. The path of report seq in directory dir, with
 * suffix ("" for the report itself); caller frees. */
char *spool_report_path(const char *dir, uint64_t seq, const char *suffix);

/* Whether name is a report's file name: 20 digits and ".json". */
bool spool_is_report_name(const char *name);

#endif
