/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the event loop: fds, timers, signals, and removal of sources
 * from inside callbacks.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <cmocka.h>

#include "loop.h"

static int calls;

static int setup(void **state)
{
	(void)state;
	calls = 0;
	return loop_init();
}

static int teardown(void **state)
{
	(void)state;
	loop_exit();
	return 0;
}

static void quit_after_3(void *data)
{
	(void)data;
	if (++calls == 3)
		loop_quit(42);
}

static void test_periodic_timer(void **state)
{
	(void)state;
	assert_non_null(loop_add_timer(1, 1, quit_after_3, NULL));
	assert_int_equal(loop_run(), 42);
	assert_int_equal(calls, 3);
}

static void count(void *data)
{
	(void)data;
	calls++;
}

static void quit(void *data)
{
	(void)data;
	loop_quit(0);
}

static void test_one_shot_and_disarm(void **state)
{
	struct loop_source *once, *disarmed;

	(void)state;
	once = loop_add_timer(1, 0, count, NULL);
	disarmed = loop_add_timer(5, 0, count, NULL);
	assert_non_null(once);
	assert_non_null(disarmed);
	assert_int_equal(loop_timer_set(disarmed, 0, 0), 0);
	loop_add_timer(30, 0, quit, NULL);
	assert_int_equal(loop_run(), 0);
	assert_int_equal(calls, 1);
}

static void on_pipe(int fd, uint32_t events, void *data)
{
	char c;

	(void)data;
	assert_true(events & EPOLLIN);
	assert_int_equal(read(fd, &c, 1), 1);
	assert_int_equal(c, 'x');
	calls++;
	loop_quit(0);
}

static void test_fd(void **state)
{
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_non_null(loop_add_fd(p[0], EPOLLIN, on_pipe, NULL));
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(loop_run(), 0);
	assert_int_equal(calls, 1);
	close(p[0]);
	close(p[1]);
}

/* Both pipes are ready in one batch; whichever runs first removes both
 * sources, so the other must not run. */
struct pair {
	struct loop_source *a, *b;
};

static void remover(int fd, uint32_t events, void *data)
{
	struct pair *pr = data;

	(void)fd;
	(void)events;
	calls++;
	loop_remove(pr->a);
	loop_remove(pr->b);
}

static void test_remove_in_callback(void **state)
{
	struct pair pr;
	int p[2], q[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(q), 0);
	pr.a = loop_add_fd(p[0], EPOLLIN, remover, &pr);
	pr.b = loop_add_fd(q[0], EPOLLIN, remover, &pr);
	assert_non_null(pr.a);
	assert_non_null(pr.b);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(write(q[1], "x", 1), 1);
	loop_add_timer(30, 0, quit, NULL);
	assert_int_equal(loop_run(), 0);
	assert_int_equal(calls, 1);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

static void on_signal(int signo, void *data)
{
	(void)data;
	assert_int_equal(signo, SIGUSR1);
	calls++;
	loop_quit(0);
}

static void test_signal(void **state)
{
	static const int sigs[] = { SIGUSR1, 0 };

	(void)state;
	assert_non_null(loop_add_signals(sigs, on_signal, NULL));
	assert_int_equal(raise(SIGUSR1), 0);
	assert_int_equal(loop_run(), 0);
	assert_int_equal(calls, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_periodic_timer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_shot_and_disarm, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_in_callback, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_signal, setup, teardown),
	};

	return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
