/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loop: epoll, timerfd and signalfd behind one small interface.
 *
 * Sources removed while a batch of events is being dispatched are marked
 * dead and freed after the batch, so a pointer epoll handed back for the
 * same batch never dangles.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "util.h"

enum source_kind { SRC_FD, SRC_TIMER, SRC_SIGNAL };

struct loop_source {
	enum source_kind kind;
	int fd;
	bool dead;
	union {
		loop_fd_fn fd_fn;
		loop_timer_fn timer_fn;
		loop_signal_fn signal_fn;
	};
	void *data;
	sigset_t sigs;			/* SRC_SIGNAL: to unblock on removal */
	struct loop_source *next;	/* all sources, or the graveyard */
};

static int loop_epfd = -1;
static struct loop_source *loop_sources;
static struct loop_source *loop_graveyard;
static bool loop_quitting;
static int loop_status;

int loop_init(void)
{
	loop_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop_epfd < 0)
		return -errno;
	loop_quitting = false;
	loop_status = 0;
	return 0;
}

static void source_free(struct loop_source *s)
{
	if (s->kind == SRC_SIGNAL)
		sigprocmask(SIG_UNBLOCK, &s->sigs, NULL);
	if (s->kind != SRC_FD && s->fd >= 0)
		close(s->fd);
	free(s);
}

static void reap(void)
{
	while (loop_graveyard) {
		struct loop_source *s = loop_graveyard;

		loop_graveyard = s->next;
		source_free(s);
	}
}

void loop_exit(void)
{
	while (loop_sources)
		loop_remove(loop_sources);
	reap();
	if (loop_epfd >= 0)
		close(loop_epfd);
	loop_epfd = -1;
}

static struct loop_source *source_add(enum source_kind kind, int fd,
				      uint32_t events, void *data)
{
	struct epoll_event ev = { .events = events };
	struct loop_source *s = xcalloc(1, sizeof(*s));

	s->kind = kind;
	s->fd = fd;
	s->data = data;
	ev.data.ptr = s;
	if (epoll_ctl(loop_epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int saved = errno;

		free(s);
		errno = saved;
		return NULL;
	}
	s->next = loop_sources;
	loop_sources = s;
	return s;
}

struct loop_source *loop_add_fd(int fd, uint32_t events, loop_fd_fn fn,
				void *data)
{
	struct loop_source *s = source_add(SRC_FD, fd, events, data);

	if (s)
		s->fd_fn = fn;
	return s;
}

int loop_fd_modify(struct loop_source *s, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = s };

	return epoll_ctl(loop_epfd, EPOLL_CTL_MOD, s->fd, &ev) < 0 ? -errno : 0;
}

static struct timespec ms_to_ts(uint64_t ms)
{
	return (struct timespec){ .tv_sec = ms / 1000,
				  .tv_nsec = (ms % 1000) * 1000000 };
}

int loop_timer_set(struct loop_source *s, uint64_t first_ms,
		   uint64_t interval_ms)
{
	struct itimerspec its = { .it_value = ms_to_ts(first_ms),
				  .it_interval = ms_to_ts(interval_ms) };

	/* it_value of zero would disarm; "now" is the next nanosecond. */
	if (first_ms == 0 && interval_ms != 0)
		its.it_value.tv_nsec = 1;
	return timerfd_settime(s->fd, 0, &its, NULL) < 0 ? -errno : 0;
}

struct loop_source *loop_add_timer(uint64_t first_ms, uint64_t interval_ms,
				   loop_timer_fn fn, void *data)
{
	struct loop_source *s;
	int fd, saved;

	fd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	s = source_add(SRC_TIMER, fd, EPOLLIN, data);
	if (!s) {
		saved = errno;
		close(fd);
		errno = saved;
		return NULL;
	}
	s->timer_fn = fn;
	if (loop_timer_set(s, first_ms, interval_ms) < 0) {
		saved = errno;
		loop_remove(s);
		errno = saved;
		return NULL;
	}
	return s;
}

struct loop_source *loop_add_signals(const int *signals, loop_signal_fn fn,
				     void *data)
{
	struct loop_source *s;
	sigset_t set;
	int fd, saved;

	sigemptyset(&set);
	for (; *signals; signals++)
		sigaddset(&set, *signals);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return NULL;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		goto failed;
	s = source_add(SRC_SIGNAL, fd, EPOLLIN, data);
	if (!s) {
		close(fd);
		goto failed;
	}
	s->signal_fn = fn;
	s->sigs = set;
	return s;
failed:
	saved = errno;
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	errno = saved;
	return NULL;
}

void loop_remove(struct loop_source *s)
{
	struct loop_source **pp;

	if (!s || s->dead)
		return;
	for (pp = &loop_sources; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	epoll_ctl(loop_epfd, EPOLL_CTL_DEL, s->fd, NULL);
	s->dead = true;
	s->next = loop_graveyard;
	loop_graveyard = s;
}

static void dispatch_timer(struct loop_source *s)
{
	uint64_t expirations;

	/* Several missed expirations (after suspend) run the callback once. */
	if (read(s->fd, &expirations, sizeof(expirations)) !=
	    sizeof(expirations))
		return;
	s->timer_fn(s->data);
}

static void dispatch_signal(struct loop_source *s)
{
	struct signalfd_siginfo si;

	while (read(s->fd, &si, sizeof(si)) == sizeof(si)) {
		s->signal_fn((int)si.ssi_signo, s->data);
		if (s->dead)
			return;
	}
}

static void dispatch(struct loop_source *s, uint32_t events)
{
	if (s->dead)
		return;
	switch (s->kind) {
	case SRC_FD:
		s->fd_fn(s->fd, events, s->data);
		break;
	case SRC_TIMER:
		dispatch_timer(s);
		break;
	case SRC_SIGNAL:
		dispatch_signal(s);
		break;
	}
}

int loop_run(void)
{
	struct epoll_event evs[16];

	while (!loop_quitting) {
		int n = epoll_wait(loop_epfd, evs, ARRAY_SIZE(evs), -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (int i = 0; i < n && !loop_quitting; i++)
			dispatch(evs[i].data.ptr, evs[i].events);
		reap();
	}
	loop_quitting = false;
	return loop_status;
}

void loop_quit(int status)
{
	loop_status = status;
	loop_quitting = true;
}
