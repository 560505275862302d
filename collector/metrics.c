/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics: the counters (atomic, relaxed: each is read on its own) and
 * the latency histogram (under a lock: its buckets and sum are read
 * together).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "metrics.h"
#include "util.h"

static unsigned long counters[M_COUNT];
static const double buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01,
				  0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5 };
static unsigned long hist[ARRAY_SIZE(buckets) + 1];
static double hist_sum;
static pthread_mutex_t hist_lock = PTHREAD_MUTEX_INITIALIZER;

void metrics_count(enum metric m)
{
	__atomic_add_fetch(&counters[m], 1, __ATOMIC_RELAXED);
}

void metrics_latency(double seconds)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(buckets) && seconds > buckets[i]; i++)
		;
	pthread_mutex_lock(&hist_lock);
	hist[i]++;
	hist_sum += seconds;
	pthread_mutex_unlock(&hist_lock);
}

char *metrics_text(void)
{
	char *buf = NULL;
	size_t len = 0, total = 0;
	FILE *f = open_memstream(&buf, &len);
	static const char *const reasons[] = {
		[M_REJECT_INVALID] = "invalid",
		[M_REJECT_UNAUTHORIZED] = "unauthorized",
		[M_REJECT_FORBIDDEN] = "forbidden",
		[M_REJECT_TOO_LARGE] = "too_large",
		[M_REJECT_MEDIA_TYPE] = "unsupported_media_type",
		[M_REJECT_RATE] = "too_many_events",
		[M_REJECT_STORAGE] = "storage_unavailable",
	};

	if (!f)
		abort();
	fprintf(f, "# HELP collectord_reports_accepted_total Reports answered "
		   "2xx.\n# TYPE collectord_reports_accepted_total counter\n"
		   "collectord_reports_accepted_total{result=\"stored\"} %lu\n"
		   "collectord_reports_accepted_total{result=\"duplicate\"} %lu\n",
		__atomic_load_n(&counters[M_REPORTS_STORED], __ATOMIC_RELAXED),
		__atomic_load_n(&counters[M_REPORTS_DUPLICATE], __ATOMIC_RELAXED));
	fprintf(f, "# HELP collectord_reports_rejected_total Reports refused, "
		   "by reason.\n# TYPE collectord_reports_rejected_total counter\n");
	for (int m = M_REJECT_INVALID; m <= M_REJECT_STORAGE; m++)
		fprintf(f, "collectord_reports_rejected_total{reason=\"%s\"} %lu\n",
			reasons[m], __atomic_load_n(&counters[m], __ATOMIC_RELAXED));
	fprintf(f, "# HELP collectord_enrolments_total Enrolment requests.\n"
		   "# TYPE collectord_enrolments_total counter\n"
		   "collectord_enrolments_total{result=\"enrolled\"} %lu\n"
		   "collectord_enrolments_total{result=\"refused\"} %lu\n",
		__atomic_load_n(&counters[M_ENROLLED], __ATOMIC_RELAXED),
		__atomic_load_n(&counters[M_ENROL_REFUSED], __ATOMIC_RELAXED));
	fprintf(f, "# HELP collectord_request_duration_seconds Time to answer "
		   "a request.\n# TYPE collectord_request_duration_seconds "
		   "histogram\n");
	pthread_mutex_lock(&hist_lock);
	for (size_t i = 0; i <= ARRAY_SIZE(buckets); i++) {
		total += hist[i];
		if (i < ARRAY_SIZE(buckets))
			fprintf(f, "collectord_request_duration_seconds_bucket"
				   "{le=\"%g\"} %zu\n", buckets[i], total);
	}
	fprintf(f, "collectord_request_duration_seconds_bucket{le=\"+Inf\"} "
		   "%zu\ncollectord_request_duration_seconds_sum %.6f\n"
		   "collectord_request_duration_seconds_count %zu\n",
		total, hist_sum, total);
	pthread_mutex_unlock(&hist_lock);
	fclose(f);
	return buf;
}
