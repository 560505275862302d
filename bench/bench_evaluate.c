/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_evaluate: CPU time of one full evaluation of every check in the
 * registry that the policy enables (encryption, screen_lock, usb_storage,
 * camera), on this machine (root "/") and with the system bus when there
 * is one, as endpointd does at start and every interval_minutes.
 * Usage: bench_evaluate POLICY RUNS WHERE
 * Prints a result line for bench/run.sh: ROW, what (WHERE says what the
 * machine had to look at), figure (median and p90 of user + system time
 * from getrusage, and each check's median), goal, met.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench.h"
#include "check.h"
#include "policy.h"
#include "util.h"

#define MAX_CHECKS 8

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
	return v[n / 2];
}

int main(int argc, char **argv)
{
	_cleanup_free_ char *errors = NULL;
	const struct check_ops *run[MAX_CHECKS];
	struct policy *p = NULL;
	sd_bus *bus = NULL;
	struct host *h;
	int runs = argc > 2 ? atoi(argv[2]) : 0, nrun = 0;
	double *total, *each[MAX_CHECKS];
	char per[512] = "";

	if (argc < 4 || runs < 1) {
		fprintf(stderr, "usage: %s POLICY RUNS WHERE\n", argv[0]);
		return 2;
	}
	if (policy_load(argv[1], &p, &errors) < 0) {
		fputs(errors, stderr);
		return 2;
	}
	h = host_new("/");
	/* screen_lock asks logind; without a bus it says unknown at once. */
	if (sd_bus_open_system(&bus) >= 0)
		host_set_bus(h, bus);
	for (const struct check_ops *const *c = check_registry; *c; c++) {
		const struct policy_section *s = policy_section(p, (*c)->id);

		if (s && s->enabled && nrun < MAX_CHECKS)
			run[nrun++] = *c;
	}
	total = xcalloc((size_t)runs, sizeof(*total));
	for (int k = 0; k < nrun; k++)
		each[k] = xcalloc((size_t)runs, sizeof(*each[k]));
	for (int i = 0; i < runs; i++) {
		double start = cpu_seconds();

		for (int k = 0; k < nrun; k++) {
			double t0 = cpu_seconds();

			finding_free(check_run(run[k], h, p));
			each[k][i] = cpu_seconds() - t0;
		}
		total[i] = cpu_seconds() - start;
	}
	for (int k = 0; k < nrun; k++) {
		size_t len = strlen(per);

		snprintf(per + len, sizeof(per) - len, "%s%s %.2f", k ? ", " : "",
			 run[k]->id, median(each[k], runs) * 1e3);
		free(each[k]);
	}
	qsort(total, (size_t)runs, sizeof(*total), bench_cmp_double);
	printf("ROW\tone full evaluation of the %d checks (%s), CPU user+system "
	       "from getrusage, %d runs\tmedian %.2f ms, p90 %.2f ms "
	       "(medians: %s ms)%s\t(none set)\treported\n", nrun, argv[3],
	       runs, total[runs / 2] * 1e3, total[runs * 9 / 10] * 1e3, per,
	       bus ? "" : "; no system bus, so logind's sessions not asked");
	free(total);
	host_free(h);
	sd_bus_unref(bus);
	policy_free(p);
	return 0;
}
