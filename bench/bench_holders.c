/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_holders: open-to-attribution cost. With N extra processes in
 * /proc (children that sleep), this process holds a node open and times
 * holders_find() on the real /proc: what endpointd does on each open or
 * close of a camera. Usage: bench_holders [PROCESSES] [RUNS]
 * Prints a result line for bench/run.sh (ROW, what, figure, goal, met).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "check.h"
#include "holders.h"
#include "util.h"

int main(int argc, char **argv)
{
	int nproc = argc > 1 ? atoi(argv[1]) : 1000;
	int runs = argc > 2 ? atoi(argv[2]) : 200;
	char node[] = "/tmp/endpointd-bench-video.XXXXXX";
	pid_t *kids = xcalloc((size_t)nproc, sizeof(*kids));
	double *t = xcalloc((size_t)runs, sizeof(*t));
	struct host *h = host_new("/");
	int fd = mkstemp(node), found = 0, procs = 0;

	if (fd < 0)
		return 2;
	for (int i = 0; i < nproc; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			close(fd);
			pause();
			_exit(0);
		}
	}
	for (int i = 0; i < runs; i++) {
		struct holder *v = NULL;
		double start = bench_now();
		int n = holders_find(h, node, &v);

		t[i] = bench_now() - start;
		found = n;
		holders_free(v, n < 0 ? 0 : n);
	}
	for (int i = 0; i < nproc; i++)
		kill(kids[i], SIGTERM);
	while (wait(NULL) > 0)
		procs++;
	qsort(t, (size_t)runs, sizeof(*t), bench_cmp_double);
	printf("ROW\tcamera attribution alone: one scan of /proc/*/fd "
	       "(holders_find, what endpointd runs on each open or close of a "
	       "camera) with %d extra processes, %d runs, %d holder found"
	       "\tp50 %.2f ms, p99 %.2f ms\t(none set)\treported\n", procs,
	       runs, found, t[runs / 2] * 1e3, t[runs * 99 / 100] * 1e3);
	unlink(node);
	close(fd);
	host_free(h);
	free(kids);
	free(t);
	return found == 1 ? 0 : 1;
}
