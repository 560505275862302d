/*
 * bench_holders: open-to-attribution cost. With N extra processes in
 * /proc (children that sleep), this process holds a node open and times
 * holders_find() on the real /proc: what endpointd does on each open or
 * close of a camera. Usage: bench_holders [PROCESSES] [RUNS]
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "holders.h"
#include "util.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

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
		double start = now();
		int n = holders_find(h, node, &v);

		t[i] = now() - start;
		found = n;
		holders_free(v, n < 0 ? 0 : n);
	}
	for (int i = 0; i < nproc; i++)
		kill(kids[i], SIGTERM);
	while (wait(NULL) > 0)
		procs++;
	qsort(t, (size_t)runs, sizeof(*t), cmp_double);
	printf("camera attribution with %d extra processes in /proc (%d runs, "
	       "%d holder found): p50 %.2f ms, p99 %.2f ms\n", procs, runs,
	       found, t[runs / 2] * 1e3, t[runs * 99 / 100] * 1e3);
	unlink(node);
	close(fd);
	host_free(h);
	free(kids);
	free(t);
	return found == 1 ? 0 : 1;
}
