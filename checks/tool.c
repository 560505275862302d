/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tool: run a system program to its end, with a deadline and bounded
 * output; see tool.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tool.h"
#include "util.h"

static void child_exec(const struct tool *t, int out, int err)
{
	int null = open("/dev/null", O_RDWR);
	sigset_t none;

	if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 ||
	    dup2(err, 2) < 0 || (t->fd3 >= 0 && dup2(t->fd3, 3) < 0))
		_exit(126);
	closefrom(t->fd3 >= 0 ? 4 : 3);
	/* The daemon blocks its signals for signalfd; the tool must not. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* The rights asked for, from the account: never those of whoever
	 * owns a path the user controls. */
	if (t->drop && geteuid() == 0 &&
	    (setgroups(0, NULL) < 0 || setgid(t->gid) < 0 ||
	     setuid(t->uid) < 0))
		_exit(126);
	execve(t->argv[0], t->argv, t->envp);
	_exit(127);
}

/* Read what the child writes, up to the limit and the deadline. */
static int read_all(int fd, char **out)
{
	size_t cap = 8192, n = 0;
	char *buf = xmalloc(cap);

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, TOOL_TIMEOUT_MS) <= 0) {
			free(buf);
			return -ETIMEDOUT;
		}
		if (n + 1 >= cap) {
			if (cap >= TOOL_OUTPUT_MAX) {
				free(buf);
				return -EFBIG;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			/* Half an answer would be read as a whole one. */
			r = -errno;
			free(buf);
			return (int)r;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

/* Wait for the child until the deadline, then kill it. */
static int reap(pid_t pid, int *status)
{
	_cleanup_close_ int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p = { .fd = pfd, .events = POLLIN };

	if (pfd >= 0 && poll(&p, 1, TOOL_TIMEOUT_MS) <= 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static char *read_stderr(int fd)
{
	char *buf = xmalloc(TOOL_STDERR_MAX + 1);
	ssize_t n = pread(fd, buf, TOOL_STDERR_MAX, 0);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

int tool_run(const struct tool *t, char **out, char **err)
{
	_cleanup_close_ int errfd = memfd_create("endpointd-stderr", 0);
	int p[2], status = 0, r;
	pid_t pid;

	*out = *err = NULL;
	if (access(t->argv[0], X_OK) < 0)
		return -ENOENT;
	if (errfd < 0 || pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(p[0]);
		close(p[1]);
		return r;
	}
	if (pid == 0)
		child_exec(t, p[1], errfd);
	close(p[1]);
	r = read_all(p[0], out);
	close(p[0]);
	if (r < 0)
		kill(pid, SIGKILL);
	if (reap(pid, &status) < 0 && r == 0)
		r = -ECHILD;
	*err = read_stderr(errfd);
	if (r == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
		free(*out);
		*out = NULL;
		r = WIFEXITED(status) && WEXITSTATUS(status) == 127 ? -ENOENT
								   : -EIO;
	}
	return r;
}
