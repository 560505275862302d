/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loop: the one event loop. It owns the epoll instance; every other module
 * registers a file descriptor, a timer or a set of signals with a callback
 * (chrony's SCH_AddFileHandler). Nothing polls: between events the process
 * sleeps in epoll_wait.
 */
#ifndef ENDPOINTD_LOOP_H
#define ENDPOINTD_LOOP_H

#include <stdint.h>

struct loop_source;

typedef void (*loop_fd_fn)(int fd, uint32_t events, void *data);
typedef void (*loop_timer_fn)(void *data);
typedef void (*loop_signal_fn)(int signo, void *data);

/* Create the epoll instance. Returns 0 or -errno. */
int loop_init(void);
/* Free every source still registered and close epoll. */
void loop_exit(void);

/* Call fn whenever fd reports any of events (EPOLLIN, ...). The caller
 * keeps ownership of fd. Returns the source or NULL with errno set. */
struct loop_source *loop_add_fd(int fd, uint32_t events, loop_fd_fn fn,
				void *data);

/* Change the events an fd source waits for. Returns 0 or -errno. */
int loop_fd_modify(struct loop_source *s, uint32_t events);

/* A timer (timerfd, CLOCK_BOOTTIME so time asleep counts) that first fires
 * after first_ms and then every interval_ms (0: once). */
struct loop_source *loop_add_timer(uint64_t first_ms, uint64_t interval_ms,
				   loop_timer_fn fn, void *data);
/* Re-arm a timer source; 0 for both disarms it. Returns 0 or -errno. */
int loop_timer_set(struct loop_source *s, uint64_t first_ms,
		   uint64_t interval_ms);

/* Block the given signals (terminated by 0) and deliver them through a
 * signalfd to fn. */
struct loop_source *loop_add_signals(const int *signals, loop_signal_fn fn,
				     void *data);

/* Unregister a source. Safe from inside any callback, including its own;
 * closes the fds the loop created (timerfd, signalfd), not the caller's. */
void loop_remove(struct loop_source *s);

/* Dispatch events until loop_quit(). Returns the status given to it, or
 * -errno when epoll fails. */
int loop_run(void);
/* Make loop_run() return status after the current callback. */
void loop_quit(int status);

#endif
