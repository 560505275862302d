/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_privacy: what keeping a report to the privacy account costs. A
 * report like a busy laptop's (every check with its evidence, EVENTS USB
 * and camera events) is filtered RUNS times; each run filters a fresh
 * copy, as endpointd does once per report. Beside it, what writing that
 * report costs: write() and fsync() of its text to a file in DIR (the
 * spool does that, then a rename), 20 times.
 * Usage: bench_privacy [EVENTS] [RUNS] [DIR]
 * Prints a result line for bench/run.sh (ROW, what, figure, goal, met).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "privacy.h"
#include "bench.h"
#include "util.h"

static const char checks[] =
	"[{\"id\":\"encryption\",\"status\":\"pass\",\"severity\":\"high\","
	"\"clause\":\"c\",\"summary\":\"s\",\"remedy\":null,\"evidence\":"
	"{\"targets\":[{\"kind\":\"mount\",\"what\":\"/\",\"verdict\":"
	"\"encrypted\",\"chain\":\"/ on dm-1 (LVM) on dm-0 (LUKS2)\","
	"\"layers\":[{\"device\":\"dm-0\",\"name\":\"root\",\"type\":\"LUKS2\","
	"\"cipher\":\"aes\",\"mode\":\"xts-plain64\",\"key_bits\":512,"
	"\"pbkdf\":\"argon2id\"}],\"problems\":[]},{\"kind\":\"swap\",\"what\":"
	"\"/dev/dm-2\",\"verdict\":\"encrypted\",\"chain\":\"x\",\"layers\":[],"
	"\"problems\":[]}],\"min_key_bits\":256,\"allowed_ciphers\":"
	"[\"aes-xts\"]}},"
	"{\"id\":\"screen_lock\",\"status\":\"pass\",\"severity\":\"high\","
	"\"clause\":\"c\",\"summary\":\"s\",\"remedy\":null,\"evidence\":"
	"{\"logind_idle_lock\":{\"enforced\":false,\"idle_action_seconds\":0},"
	"\"logins\":[],\"users\":[{\"user\":\"alice\",\"desktops\":[{\"desktop\":"
	"\"GNOME\",\"lock_enabled\":true,\"lock_after_seconds\":300}]}],"
	"\"sessions\":[{\"id\":\"2\",\"user\":\"alice\",\"type\":\"wayland\","
	"\"idle\":false,\"locked\":false,\"idle_seconds\":0}],\"problems\":[],"
	"\"unattended\":[],\"unknown\":[],\"max_idle_minutes\":5}},"
	"{\"id\":\"usb_storage\",\"status\":\"pass\",\"severity\":\"high\","
	"\"clause\":\"c\",\"summary\":\"s\",\"remedy\":null,\"evidence\":"
	"{\"devices\":[],\"action\":\"warn\"}},"
	"{\"id\":\"camera\",\"status\":\"pass\",\"severity\":\"medium\","
	"\"clause\":\"c\",\"summary\":\"s\",\"remedy\":null,\"evidence\":"
	"{\"cameras\":[{\"device\":\"/dev/video0\",\"name\":\"Integrated\","
	"\"sessions\":[]}],\"privacy\":\"p\"}}]";

static const char usb_event[] =
	"{\"at\":\"2026-11-22T10:00:00Z\",\"type\":\"usb_device\",\"check\":"
	"\"usb_storage\",\"action\":\"add\",\"taken\":\"warned\",\"device\":"
	"{\"vendor_id\":\"0781\",\"product_id\":\"5581\",\"serial\":\"4C53\","
	"\"manufacturer\":\"SanDisk\",\"product\":\"Ultra\",\"bus_path\":"
	"\"1-2\",\"verdict\":\"not encrypted\",\"parts\":[{\"name\":\"sdb1\","
	"\"whole\":false,\"type\":\"vfat\",\"mounted_at\":"
	"[\"/media/alice/STICK\"]}]}}";

static const char camera_event[] =
	"{\"at\":\"2026-11-22T10:00:01Z\",\"type\":\"camera_session\","
	"\"check\":\"camera\",\"action\":\"start\",\"device\":\"/dev/video0\","
	"\"application\":\"zoom\",\"exe\":\"/opt/zoom/zoom\",\"pid\":4242,"
	"\"user\":\"alice\",\"approved\":true,\"media_server\":false,"
	"\"started_at\":\"2026-11-22T10:00:01Z\"}";

#define WRITES 20

/* The median time to write and fsync text to a file in dir, or -1. */
static double write_cost(const char *dir, const char *text)
{
	_cleanup_free_ char *path = xasprintf("%s/bench-report.json", dir);
	size_t len = strlen(text);
	double t[WRITES];

	for (int i = 0; i < WRITES; i++) {
		double start = bench_now();
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			      0600);

		if (fd < 0)
			return -1;
		if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
			close(fd);
			return -1;
		}
		close(fd);
		t[i] = bench_now() - start;
	}
	unlink(path);
	qsort(t, WRITES, sizeof(*t), bench_cmp_double);
	return t[WRITES / 2];
}

int main(int argc, char **argv)
{
	int nevents = argc > 1 ? atoi(argv[1]) : 1000;
	int runs = argc > 2 ? atoi(argv[2]) : 200;
	json_t *events = json_array(), *report;
	double *t = xcalloc((size_t)runs, sizeof(*t));
	size_t removed = 0, bytes;
	double written;
	char *text;

	for (int i = 0; i < nevents; i++)
		json_array_append_new(events, json_loads(i % 2 ? camera_event
							       : usb_event,
							 0, NULL));
	report = json_pack("{s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s}, "
			   "s:{s:s, s:s, s:s}, s:i, s:s, s:o, s:o}",
			   "schema", "endpointd.report/1", "device",
			   "machine_id", "0123", "hostname", "staff-017",
			   "vendor", "LENOVO", "model", "20XW", "serial", "PF3",
			   "os", "Debian 12", "agent_version", "0.1.0",
			   "policy", "name", "Staff", "version", "1", "sha256",
			   "00", "seq", 1, "generated_at",
			   "2026-11-22T10:00:00Z", "checks",
			   json_loads(checks, 0, NULL), "events", events);
	text = json_dumps(report, JSON_COMPACT);
	bytes = strlen(text);
	written = write_cost(argc > 3 ? argv[3] : ".", text);
	free(text);
	for (int i = 0; i < runs; i++) {
		json_t *copy = json_deep_copy(report);
		double start = bench_now();

		removed += privacy_filter(copy, NULL, NULL);
		t[i] = bench_now() - start;
		json_decref(copy);
	}
	qsort(t, (size_t)runs, sizeof(*t), bench_cmp_double);
	printf("ROW\tprivacy account filter (every report is kept to the "
	       "fields endpointctl privacy lists): a %zu KB report with %d USB "
	       "and camera events, %d runs; beside it, write and fsync of the "
	       "same report\tfilter median %.0f us, p99 %.0f us; write+fsync "
	       "median %.0f us%s\tsmall beside writing the report\t%s\n",
	       (bytes + 1023) / 1024, nevents, runs, t[runs / 2] * 1e6,
	       t[runs * 99 / 100] * 1e6, written * 1e6,
	       removed ? " (fields removed: a bug)" : "",
	       written > 0 && t[runs / 2] < written ? "yes" : "**no**");
	json_decref(report);
	free(t);
	return removed ? 1 : 0;
}
