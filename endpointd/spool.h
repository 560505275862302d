/*
 * spool: reports waiting for the uploader, one file each in the spool
 * directory, written atomically (temp file, fsync, rename, fsync of the
 * directory) and named by sequence number so the oldest sorts first.
 */
#ifndef ENDPOINTD_SPOOL_H
#define ENDPOINTD_SPOOL_H

#include <jansson.h>
#include <stdint.h>

/* Use dir (created 0750 when missing); keep at most max_reports. */
int spool_init(const char *dir, unsigned max_reports);
void spool_exit(void);
void spool_set_max(unsigned max_reports);

/* Write report number seq. When more than max_reports are spooled the
 * oldest are removed; returns how many were, or -errno. */
int spool_put(uint64_t seq, const json_t *report);

#endif
