/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of holders: attribution of a device node to processes through a
 * fake /proc tree below a fixture root.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "appid.h"
#include "holders.h"
#include "sandbox.h"
#include "testutil.h"
#include "util.h"

static void link_in(const char *rel, const char *target)
{
	_cleanup_free_ char *p = tu_writes(tu_dir, rel, "");

	unlink(p);
	assert_int_equal(symlink(target, p), 0);
}

/* A process: its fds point at targets; exe, comm and uid as given. */
static void process(int pid, const char *exe, const char *comm, int uid,
		    const char *const *fds)
{
	_cleanup_free_ char *d = xasprintf("proc/%d", pid);
	_cleanup_free_ char *exe_rel = xasprintf("%s/exe", d);
	_cleanup_free_ char *comm_rel = xasprintf("%s/comm", d);
	_cleanup_free_ char *status_rel = xasprintf("%s/status", d);
	_cleanup_free_ char *comm_text = xasprintf("%s\n", comm);
	_cleanup_free_ char *status = xasprintf(
		"Name:\t%s\nUmask:\t0022\nState:\tS (sleeping)\n"
		"Uid:\t%d\t%d\t%d\t%d\n", comm, uid, uid, uid, uid);

	link_in(exe_rel, exe);
	free(tu_writes(tu_dir, comm_rel, comm_text));
	free(tu_writes(tu_dir, status_rel, status));
	for (int i = 0; fds[i]; i++) {
		_cleanup_free_ char *fd = xasprintf("%s/fd/%d", d, i + 3);

		link_in(fd, fds[i]);
	}
}

static int setup(void **state)
{
	static const char *const zoom_fds[] = { "/dev/null", "/dev/video0",
						NULL };
	static const char *const pw_fds[] = { "/dev/video0", NULL };
	static const char *const other_fds[] = { "/tmp/video0", "/dev/video1",
						 NULL };

	tu_setup(state);
	free(tu_writes(tu_dir, "etc/passwd",
		       "root:x:0:0:root:/root:/bin/bash\n"
		       "alice:x:1000:1000::/home/alice:/bin/bash\n"));
	free(tu_writes(tu_dir, "dev/video0", ""));
	free(tu_writes(tu_dir, "proc/self", ""));	/* not a pid */
	process(4242, "/usr/bin/zoom", "zoom", 1000, zoom_fds);
	process(777, "/usr/bin/pipewire", "pipewire", 1000, pw_fds);
	/* Same last component elsewhere, and another camera: not holders. */
	process(31337, "/usr/bin/cheese", "cheese", 1000, other_fds);
	return 0;
}

static int find(const struct holder *v, int n, pid_t pid)
{
	for (int i = 0; i < n; i++)
		if (v[i].pid == pid)
			return i;
	return -1;
}

static void test_attribution(void **state)
{
	struct host *h = host_new(tu_dir);
	struct holder *v = NULL;
	int n = holders_find(h, "/dev/video0", &v), z, p;

	(void)state;
	assert_int_equal(n, 2);
	z = find(v, n, 4242);
	p = find(v, n, 777);
	assert_true(z >= 0 && p >= 0);
	assert_int_equal(find(v, n, 31337), -1);
	assert_string_equal(v[z].exe, "/usr/bin/zoom");
	assert_string_equal(v[z].comm, "zoom");
	assert_int_equal(v[z].uid, 1000);
	assert_string_equal(v[z].user, "alice");
	assert_false(holders_is_media_server(&v[z]));
	/* It says /usr/bin/pipewire, but this machine's /usr/bin/pipewire
	 * (below the root) is not the file it runs: named so, not so. */
	assert_string_equal(v[p].exe, "/usr/bin/pipewire");
	assert_false(v[p].exe_verified);
	assert_false(holders_is_media_server(&v[p]));
	holders_free(v, n);
	host_free(h);
}

/* A process found some other way (PipeWire's pipewire.sec.pid) is
 * described as a holder is, whether or not it holds the node itself. */
static void test_describe(void **state)
{
	struct host *h = host_new(tu_dir);
	struct holder hd;

	(void)state;
	assert_int_equal(holders_describe(h, 31337, &hd), 0);
	assert_int_equal(hd.pid, 31337);
	assert_string_equal(hd.exe, "/usr/bin/cheese");
	assert_string_equal(hd.comm, "cheese");
	assert_string_equal(hd.user, "alice");
	assert_null(hd.via);
	holders_free_one(&hd);
	assert_null(hd.exe);
	assert_int_equal(holders_describe(h, 999999, &hd), -ESRCH);
	assert_int_equal(holders_describe(h, 0, &hd), -ESRCH);
	host_free(h);
}

#define SCOPE "/user.slice/user-1000.slice/user@1000.service/app.slice/"
#define UUID "0b4bd3c7-5c1c-4f0a-9a45-6c4f7a2b11aa"

static void file_in(int pid, const char *rel, const char *text)
{
	_cleanup_free_ char *path = xasprintf("proc/%d/%s", pid, rel);

	free(tu_writes(tu_dir, path, text));
}

/* Processes in sandboxes, as snapd and flatpak leave them in /proc. */
static int setup_sandboxes(void **state)
{
	static const char *const cam[] = { "/dev/video0", NULL };

	setup(state);
	link_in("proc/1/ns/mnt", "mnt:[4026531841]");
	/* A strict snap: its AppArmor label and its cgroup v2 scope. */
	process(5001, "/snap/zoom-client/230/zoom/zoom", "zoom", 1000, cam);
	file_in(5001, "attr/apparmor/current",
		"snap.zoom-client.zoom-client (enforce)\n");
	file_in(5001, "cgroup", "0::" SCOPE "snap.zoom-client.zoom-client-"
		UUID ".scope\n");
	/* An older kernel (attr/current) and cgroup v1 lines. */
	process(5002, "/snap/zoom-client/230/zoom/zoom", "zoom", 1000, cam);
	file_in(5002, "attr/current", "snap.zoom-client.zoom-client (enforce)");
	file_in(5002, "cgroup", "12:pids:" SCOPE "snap.zoom-client.zoom-client-"
		UUID ".scope\n1:name=systemd:" SCOPE "snap.zoom-client."
		"zoom-client-" UUID ".scope\n0::/\n");
	/* Complain mode (devmode) confines nothing: no name from it. */
	process(5003, "/snap/zoom-client/230/zoom/zoom", "zoom", 1000, cam);
	file_in(5003, "attr/apparmor/current",
		"snap.zoom-client.zoom-client (complain)\n");
	file_in(5003, "cgroup", "0::" SCOPE "snap.zoom-client.zoom-client-"
		UUID ".scope\n");
	/* The label and the cgroup disagree. */
	process(5004, "/snap/cheese/1/usr/bin/cheese", "cheese", 1000, cam);
	file_in(5004, "attr/apparmor/current",
		"snap.cheese.cheese (enforce)\n");
	file_in(5004, "cgroup", "0::" SCOPE "snap.zoom-client.zoom-client-"
		UUID ".scope\n");
	/* A scope of that name made in the user's own (delegated) cgroup
	 * tree, by an unconfined program. */
	process(5005, "/home/alice/rec", "zoom", 1000, cam);
	file_in(5005, "attr/apparmor/current", "unconfined\n");
	file_in(5005, "cgroup", "0::" SCOPE "snap.zoom-client.zoom-client-"
		UUID ".scope\n");
	/* A .flatpak-info in its own mount namespace, but writable (not a
	 * read-only bind mount as bubblewrap makes it): not believed. */
	process(5006, "/app/bin/zoom", "zoom", 1000, cam);
	link_in("proc/5006/ns/mnt", "mnt:[4026532999]");
	file_in(5006, "root/.flatpak-info",
		"[Application]\nname=us.zoom.Zoom\n");
	/* Not in a namespace of its own: the host's root is no sandbox. */
	process(5007, "/usr/bin/zoom", "zoom", 1000, cam);
	link_in("proc/5007/ns/mnt", "mnt:[4026531841]");
	file_in(5007, "root/.flatpak-info",
		"[Application]\nname=us.zoom.Zoom\n");
	return 0;
}

static void test_sandboxes(void **state)
{
	static const struct { pid_t pid; const char *app_id; } want[] = {
		{ 5001, "snap:zoom-client" }, { 5002, "snap:zoom-client" },
		{ 5003, NULL }, { 5004, NULL }, { 5005, NULL },
		{ 5006, NULL }, { 5007, NULL }, { 4242, NULL },
	};
	struct host *h = host_new(tu_dir);
	struct holder *v = NULL;
	int n = holders_find(h, "/dev/video0", &v);

	(void)state;
	assert_int_equal(n, 9);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		int k = find(v, n, want[i].pid);

		assert_true(k >= 0);
		if (want[i].app_id)
			assert_string_equal(v[k].app_id, want[i].app_id);
		else if (v[k].app_id)
			fail_msg("pid %d named %s", (int)want[i].pid,
				 v[k].app_id);
		assert_false(v[k].upgraded);
	}
	holders_free(v, n);
	host_free(h);
}

static void test_valid_names(void **state)
{
	(void)state;
	assert_true(appid_flatpak_valid("us.zoom.Zoom"));
	assert_true(appid_flatpak_valid("org.gnome.Snapshot"));
	assert_true(appid_flatpak_valid("com.example.my-app"));
	assert_false(appid_flatpak_valid("zoom.Zoom"));
	assert_false(appid_flatpak_valid("us..Zoom"));
	assert_false(appid_flatpak_valid("us.zoom.1Zoom"));
	assert_false(appid_flatpak_valid("us.zo-om.Zoom"));
	assert_false(appid_flatpak_valid("us.zoom.Zoom/"));
	assert_true(appid_snap_valid("zoom-client"));
	assert_true(appid_snap_valid("zoom-client_work"));
	assert_true(appid_snap_valid("0ad"));
	assert_false(appid_snap_valid("Zoom"));
	assert_false(appid_snap_valid("-zoom"));
	assert_false(appid_snap_valid("zo--om"));
	assert_false(appid_snap_valid("123"));
	assert_false(appid_snap_valid("zoom_"));
	assert_false(appid_snap_valid("z"));
}

static void test_no_holders(void **state)
{
	struct host *h = host_new(tu_dir);
	struct holder *v = NULL;

	(void)state;
	assert_int_equal(holders_find(h, "/dev/video2", &v), 0);
	holders_free(v, 0);
	host_free(h);
}

static void test_no_proc(void **state)
{
	_cleanup_free_ char *empty = xasprintf("%s/nothing", tu_dir);
	struct host *h = host_new(empty);
	struct holder *v = NULL;

	(void)state;
	assert_true(holders_find(h, "/dev/video0", &v) < 0);
	host_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_attribution, setup,
						tu_teardown),
		cmocka_unit_test_setup_teardown(test_describe, setup,
						tu_teardown),
		cmocka_unit_test_setup_teardown(test_sandboxes,
						setup_sandboxes, tu_teardown),
		cmocka_unit_test(test_valid_names),
		cmocka_unit_test_setup_teardown(test_no_holders, setup,
						tu_teardown),
		cmocka_unit_test_setup_teardown(test_no_proc, setup,
						tu_teardown),
	};

	return cmocka_run_group_tests_name("holders", tests, NULL, NULL);
}
