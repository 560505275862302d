/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log: messages on stderr. Under systemd (JOURNAL_STREAM set) each line
 * carries an sd-daemon priority prefix so journald files it at the right
 * level; on a terminal it is prefixed with the program name.
 *
 * Levels: error, the operation failed; warning, degraded; info, rare and
 * for the operator; debug, freely. The plain variants append
 * strerror(errno); the -x variants do not (OpenBSD's log_warn/log_warnx).
 */
#ifndef ENDPOINTD_LOG_H
#define ENDPOINTD_LOG_H

#include <stdbool.h>

#include "util.h"

/* Set the program name shown on a terminal and whether debug is shown. */
void log_init(const char *progname, bool debug);

void log_err(const char *fmt, ...) _printf_(1, 2);
void log_errx(const char *fmt, ...) _printf_(1, 2);
void log_warn(const char *fmt, ...) _printf_(1, 2);
void log_warnx(const char *fmt, ...) _printf_(1, 2);
void log_info(const char *fmt, ...) _printf_(1, 2);
void log_debug(const char *fmt, ...) _printf_(1, 2);

#endif
