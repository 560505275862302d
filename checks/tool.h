/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tool: run one of the system's own programs (gsettings, dconf, zfs) as a
 * child, with the environment the caller gives and nothing of the
 * daemon's, a deadline, and a bound on what it may print. The checks ask
 * such tools rather than parse what the tools own.
 */
#ifndef ENDPOINTD_TOOL_H
#define ENDPOINTD_TOOL_H

#include <stdbool.h>
#include <sys/types.h>

/* Longest a tool may take, and most it may print on stdout. */
#define TOOL_TIMEOUT_MS 3000
#define TOOL_OUTPUT_MAX (1024 * 1024)
/* What is kept of its stderr, for the evidence. */
#define TOOL_STDERR_MAX 4096

struct tool {
	char *const *argv;	/* argv[0]: an absolute path */
	char *const *envp;	/* the child's whole environment */
	bool drop;		/* run as uid/gid (when the caller is root) */
	uid_t uid;
	gid_t gid;
	int fd3;		/* the child's fd 3, or -1 */
};

/* Run t to its end. 0 with what it printed on stdout in *out; -ENOENT
 * when argv[0] is missing or could not be run; -EIO when it failed, with
 * what it said on stderr in *err (also set on success); -ETIMEDOUT,
 * -EFBIG, or another -errno. The caller frees *out and *err. */
int tool_run(const struct tool *t, char **out, char **err);

#endif
