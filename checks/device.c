/* SPDX-License-Identifier: Apache-2.0 */
/*
 * device: the laptop's identity, as a report and an enrolment give it:
 * machine-id, hostname, DMI vendor, model and serial, the OS's name and
 * the agent's version, each read through the host's root prefix.
 */
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "util.h"

#ifndef VERSION
#define VERSION "0"
#endif

/* A one-line file below the root as a JSON string, or null. */
static json_t *line_or_null(const struct host *h, const char *path)
{
	_cleanup_free_ char *s = NULL;

	if (host_read_line(h, path, &s) < 0 || !*s)
		return json_null();
	return json_string_lossy(s);
}

/* PRETTY_NAME from an os-release file (shell-style KEY="value" lines). */
static json_t *os_pretty_name(const struct host *h, const char *path)
{
	_cleanup_free_ char *buf = NULL;
	char *line, *save = NULL;

	if (host_read(h, path, 64 * 1024, &buf) < 0)
		return NULL;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *v;
		size_t n;

		if (strncmp(line, "PRETTY_NAME=", 12) != 0)
			continue;
		v = line + 12;
		n = strlen(v);
		if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
			v[n - 1] = '\0';
			v++;
		}
		return *v ? json_string_lossy(v) : NULL;
	}
	return NULL;
}

json_t *device_identity(const struct host *h)
{
	json_t *os = os_pretty_name(h, "/etc/os-release");
	json_t *hostname = line_or_null(h, "/proc/sys/kernel/hostname");

	if (!os)
		os = os_pretty_name(h, "/usr/lib/os-release");
	if (json_is_null(hostname)) {
		json_decref(hostname);
		hostname = line_or_null(h, "/etc/hostname");
	}
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:s}",
			 "machine_id", line_or_null(h, "/etc/machine-id"),
			 "hostname", hostname,
			 "vendor", line_or_null(h, "/sys/class/dmi/id/sys_vendor"),
			 "model", line_or_null(h, "/sys/class/dmi/id/product_name"),
			 /* readable by root only */
			 "serial", line_or_null(h, "/sys/class/dmi/id/product_serial"),
			 "os", os ? os : json_null(),
			 "agent_version", VERSION);
}

