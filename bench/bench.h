/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench: what the benchmarks share: a monotonic clock in seconds and the
 * comparison to sort timings for their percentiles.
 */
#ifndef ENDPOINTD_BENCH_H
#define ENDPOINTD_BENCH_H

#include <time.h>

static inline double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

#endif
