/* SPDX-License-Identifier: Apache-2.0 */
/*
 * committer: group commit. Worker threads hand it validated reports;
 * committer threads store every report that has arrived in one
 * transaction (one fsync), then let their connections answer. Nothing is
 * acknowledged before it is on disk.
 */
#ifndef COLLECTORD_COMMITTER_H
#define COLLECTORD_COMMITTER_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct committer_job;

/* Start the committer threads, which store reports on their own
 * connections to db_url: one on SQLite, as many as the worker threads
 * (up to 8) on PostgreSQL. When none starts (logged), each report is
 * stored alone by its worker. Returns 0. */
int committer_init(const char *db_url, unsigned threads);
/* Commit and answer every waiting report, then stop: from then on
 * workers store reports themselves. */
void committer_exit(void);

/* Store the validated report of device id, whose token hashed to
 * token_hash (body, len: its text), with the next batch. While the
 * committer runs, connection c is suspended, *job is set (the caller
 * frees it with committer_job_free once the request has ended) and
 * -EINPROGRESS returned; c is resumed once the batch is committed, and
 * committer_result(*job) then tells what became of the report. With no
 * committer, the report is stored now on s, the worker's own connection
 * (NULL: -EIO), and store_report_put's result returned. report, body and
 * token_hash must last until the request ends. */
int committer_put(struct MHD_Connection *c, struct store *s, int64_t id,
		  const char *token_hash, const json_t *report,
		  const char *body, size_t len, struct committer_job **job);
/* What the commit of a job's report returned (as store_report_put). */
int committer_result(const struct committer_job *job);
void committer_job_free(void *job);

#endif
