/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics: collectord's counters and request latency histogram, as
 * Prometheus text for /metrics. Safe to use from any thread.
 */
#ifndef COLLECTORD_METRICS_H
#define COLLECTORD_METRICS_H

enum metric {
	M_REPORTS_STORED, M_REPORTS_DUPLICATE, M_REJECT_INVALID,
	M_REJECT_UNAUTHORIZED, M_REJECT_FORBIDDEN, M_REJECT_TOO_LARGE,
	M_REJECT_MEDIA_TYPE, M_REJECT_RATE, M_REJECT_STORAGE, M_ENROLLED, M_ENROL_REFUSED,
	M_COUNT,
};

/* Count one m. */
void metrics_count(enum metric m);
/* Record that a request took seconds to answer. */
void metrics_latency(double seconds);
/* The Prometheus text of the counters and the latency histogram (caller
 * frees). */
char *metrics_text(void);

#endif
