/* SPDX-License-Identifier: Apache-2.0 */
/*
 * util: allocation that aborts on failure, cleanup attributes for locals
 * that own memory or handles, and small string helpers.
 *
 * Allocation failure ends the process through one wrapper, so call sites
 * never check for NULL.
 */
#ifndef ENDPOINTD_UTIL_H
#define ENDPOINTD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_close_ _cleanup_(closep)

/* Allocate or die. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) _printf_(1, 2);

/* Cleanup helpers for _cleanup_(): each takes a pointer to the local. */
void freep(void *p);
void fclosep(FILE **f);
void closep(int *fd);

/* Remove trailing white space in place; returns s. */
char *strrstrip(char *s);

/* NULL-terminated vectors of strings (char **), each string owned by the
 * vector. Append s (taken over) to *v, which holds *n strings (*v may be
 * NULL when *n is 0). */
void strv_push(char ***v, size_t *n, char *s);
/* Whether one of v's strings is s (v may be NULL). */
bool strv_contains(char **v, const char *s);
/* Free every string and the vector; NULL is allowed. */
void strv_free(char **v);
/* strv_free() for _cleanup_(strv_freep). */
void strv_freep(char ***v);

/* Read a whole regular file of at most max bytes into a NUL-terminated
 * buffer. Anything else (a FIFO, a device) is refused with -EINVAL
 * without blocking. Returns 0, or -errno (-EFBIG when the file is larger
 * than max). */
int read_file(const char *path, size_t max, char **out, size_t *len);
/* The same, for a file a user controls: a symlink as the last component
 * is refused too (-ELOOP). */
int read_file_nofollow(const char *path, size_t max, char **out,
		       size_t *len);

/* Write data to path atomically: temp file in the same directory, fsync,
 * rename, fsync of the directory. Returns 0 once the file is in place (a
 * directory that cannot be synced is then logged, not returned), or
 * -errno. */
int write_file_atomic(const char *path, const void *data, size_t len,
		      unsigned mode);
/* Its steps: a new file at path (whatever was there is removed, never
 * followed), written and synced to disk, removed again on failure; and,
 * after the rename, a sync of the directory that holds path. Return 0 or
 * -errno. */
int write_file_new(const char *path, const void *data, size_t len,
		   unsigned mode);
/* Remove what a killed writer left of write_file_atomic(dir/name): its
 * temporary files (name.tmp.PID) whose process is gone, which nobody will
 * rename into place. A running writer's file is left alone. */
void remove_stale_temps(const char *dir, const char *name);
int fsync_dir_of(const char *path);

/* Current wall-clock time as RFC 3339 UTC ("2026-11-22T13:08:53Z"). */
void time_rfc3339(char buf[static 32]);
/* Milliseconds on a clock that setting the time does not move and that
 * runs on in suspend (CLOCK_BOOTTIME). */
uint64_t boottime_ms(void);

#endif
