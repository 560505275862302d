/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log: stderr logging with sd-daemon priority prefixes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static const char *log_progname = "endpointd";
static bool log_debug_on;

void log_init(const char *progname, bool debug)
{
	log_progname = progname;
	log_debug_on = debug;
}

static void log_vwrite(int prio, int errnum, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* journald reads "<N>" at the start of a line as the priority. */
	if (getenv("JOURNAL_STREAM"))
		fprintf(stderr, "<%d>", prio);
	else
		fprintf(stderr, "%s: ", log_progname);
	if (errnum)
		fprintf(stderr, "%s: %s\n", msg, strerror(errnum));
	else
		fprintf(stderr, "%s\n", msg);
}

#define LOG_FN(name, prio, with_errno)                                 \
	void name(const char *fmt, ...)                                \
	{                                                              \
		int saved = errno;                                     \
		va_list ap;                                            \
									       \
		if (prio == LOG_DEBUG && !log_debug_on)                \
			return;                                        \
		va_start(ap, fmt);                                     \
		log_vwrite(prio, with_errno ? saved : 0, fmt, ap);     \
		va_end(ap);                                            \
		errno = saved;                                         \
	}

LOG_FN(log_err, LOG_ERR, 1)
LOG_FN(log_errx, LOG_ERR, 0)
LOG_FN(log_warn, LOG_WARNING, 1)
LOG_FN(log_warnx, LOG_WARNING, 0)
LOG_FN(log_info, LOG_INFO, 0)
LOG_FN(log_debug, LOG_DEBUG, 0)
