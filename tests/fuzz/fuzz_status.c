/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_status: endpointctl, the status socket's client, on whatever the
 * socket sends. A thread here plays endpointd: it accepts each connection
 * and sends the input; status (as a table and as JSON), explain, privacy
 * and run read it as they do from the real daemon.
 *
 * The strings in a status come from devices and from other users'
 * programs (a USB stick's product name, a camera app's command line), so
 * the invariant besides not crashing: nothing endpointctl prints carries a
 * C0 or C1 control character (an escape sequence could rewrite the
 * terminal of whoever reads it) other than the newlines and tabs of its
 * layout. DEL, which terminals ignore, may pass in --json output.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz.h"

int endpointctl_main(int argc, char **argv);
#define main endpointctl_main
#include "../../endpointctl/endpointctl.c"
#undef main

static char dir[] = "/tmp/fuzz-status.XXXXXX";
static char sock_path[64];
static int listener = -1, out_fd = -1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const uint8_t *cur;
static size_t cur_len;

/* endpointd's side: every connection gets the current input. */
static void *serve(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
		size_t off = 0;

		if (fd < 0)
			continue;
		pthread_mutex_lock(&lock);
		while (off < cur_len) {
			ssize_t r = send(fd, cur + off, cur_len - off,
					 MSG_NOSIGNAL);

			if (r <= 0)
				break;
			off += (size_t)r;
		}
		pthread_mutex_unlock(&lock);
		close(fd);
	}
	return NULL;
}

static void cleanup(void)
{
	unlink(sock_path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char out_path[64];
	pthread_t t;

	(void)argc;
	(void)argv;
	if (!mkdtemp(dir))
		fuzz_fail("mkdtemp: %s", strerror(errno));
	snprintf(sock_path, sizeof(sock_path), "%s/status.sock", dir);
	strcpy(sa.sun_path, sock_path);
	listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listener < 0 ||
	    bind(listener, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(listener, 16) < 0)
		fuzz_fail("the status socket: %s", strerror(errno));
	if (pthread_create(&t, NULL, serve, NULL) != 0)
		fuzz_fail("pthread_create");
	/* What endpointctl prints goes to an unlinked file, read back after
	 * each input. */
	snprintf(out_path, sizeof(out_path), "%s/out", dir);
	out_fd = open(out_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out_fd < 0)
		fuzz_fail("%s: %s", out_path, strerror(errno));
	unlink(out_path);
	atexit(cleanup);
	return 0;
}

/* UTF-8 C1 controls are U+0080..U+009F: 0xC2 0x80..0x9F. */
static void check_output(void)
{
	off_t n = lseek(out_fd, 0, SEEK_END);
	unsigned char *buf;

	if (n <= 0)
		return;
	buf = xmalloc((size_t)n);
	if (pread(out_fd, buf, (size_t)n, 0) != n)
		fuzz_fail("reading back the output");
	for (off_t i = 0; i < n; i++) {
		unsigned char c = buf[i];

		if ((c < 0x20 && c != '\n' && c != '\t') ||
		    (c == 0xc2 && i + 1 < n && buf[i + 1] >= 0x80 &&
		     buf[i + 1] <= 0x9f))
			fuzz_fail("endpointctl printed control character 0x%02x "
				  "at byte %lld of: %.*s", c, (long long)i,
				  (int)(n > 2000 ? 2000 : n), buf);
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int saved_out, saved_err;

	pthread_mutex_lock(&lock);
	cur = data;
	cur_len = size;
	pthread_mutex_unlock(&lock);
	if (ftruncate(out_fd, 0) < 0)
		fuzz_fail("ftruncate: %s", strerror(errno));
	lseek(out_fd, 0, SEEK_SET);
	fflush(stdout);
	fflush(stderr);
	saved_out = dup(STDOUT_FILENO);
	saved_err = dup(STDERR_FILENO);
	dup2(out_fd, STDOUT_FILENO);
	dup2(out_fd, STDERR_FILENO);

	cmd_status(sock_path, false);
	cmd_status(sock_path, true);
	cmd_explain(sock_path, "usb_storage");
	cmd_explain(sock_path, "camera");
	cmd_privacy(sock_path, false);
	cmd_run(sock_path);

	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, STDOUT_FILENO);
	dup2(saved_err, STDERR_FILENO);
	close(saved_out);
	close(saved_err);
	check_output();
	return 0;
}
