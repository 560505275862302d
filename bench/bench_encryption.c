/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_encryption: CPU time of full evaluations of the encryption check
 * on a fixture root. Usage: bench_encryption ROOT POLICY [RUNS [WHAT]]
 * (WHAT: the fixture, in words).
 * Prints a result line for bench/run.sh (ROW, what, figure, goal, met):
 * the median and the 90th percentile of the per-run CPU time (user +
 * system, from getrusage) and the result's status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "bench.h"
#include "check.h"
#include "policy.h"
#include "util.h"

extern const struct check_ops encryption_check;

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
	_cleanup_free_ char *errors = NULL;
	struct policy *p = NULL;
	struct host *h;
	int runs = argc > 3 ? atoi(argv[3]) : 200;
	double *t;
	size_t ntargets = 0;
	enum check_status st = CHECK_UNKNOWN;

	if (argc < 3 || runs < 1) {
		fprintf(stderr, "usage: %s ROOT POLICY [RUNS]\n", argv[0]);
		return 2;
	}
	if (policy_load(argv[2], &p, &errors) < 0) {
		fputs(errors, stderr);
		return 2;
	}
	h = host_new(argv[1]);
	t = xcalloc((size_t)runs, sizeof(*t));
	for (int i = 0; i < runs; i++) {
		double start = cpu_seconds();
		struct finding *f = check_run(&encryption_check, h, p);

		t[i] = cpu_seconds() - start;
		st = f->status;
		ntargets = json_array_size(json_object_get(f->evidence,
							   "targets"));
		finding_free(f);
	}
	qsort(t, (size_t)runs, sizeof(*t), bench_cmp_double);
	printf("ROW\tencryption check, one full evaluation, %s: %zu targets, "
	       "status %s; CPU user+system from getrusage, %d runs\tmedian "
	       "%.2f ms, p90 %.2f ms\tunder 10 ms (p90)\t%s\n",
	       argc > 4 ? argv[4] : "a fixture root", ntargets,
	       finding_status_name(st), runs, t[runs / 2] * 1e3,
	       t[runs * 9 / 10] * 1e3,
	       t[runs * 9 / 10] < 0.010 ? "yes" : "**no**");
	free(t);
	host_free(h);
	policy_free(p);
	return 0;
}
