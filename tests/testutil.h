/* SPDX-License-Identifier: Apache-2.0 */
/*
 * testutil: temporary directories and files for the unit tests.
 */
#ifndef ENDPOINTD_TESTUTIL_H
#define ENDPOINTD_TESTUTIL_H

#include <stddef.h>

/* A new empty directory under $TMPDIR (or /tmp). Caller frees. */
char *tu_tmpdir(void);
/* Write len bytes to dir/name, creating parent directories. Returns the
 * full path (caller frees). */
char *tu_write(const char *dir, const char *name, const void *data,
	       size_t len);
/* tu_write() of a NUL-terminated string. */
char *tu_writes(const char *dir, const char *name, const char *text);
/* Remove a tree. */
void tu_rmrf(const char *dir);

/* cmocka setup and teardown: a fresh tu_dir for each test or group. */
extern char *tu_dir;
int tu_setup(void **state);
int tu_teardown(void **state);

#endif
