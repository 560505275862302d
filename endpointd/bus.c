/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bus: sd-bus in endpointd's own epoll loop.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/epoll.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "bus.h"
#include "log.h"
#include "loop.h"

static sd_bus *bus;
static struct host *bus_host;
static struct loop_source *bus_src, *bus_timer;

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void rearm(void)
{
	uint64_t when, now;
	int ev = sd_bus_get_events(bus);

	if (ev >= 0)
		loop_fd_modify(bus_src, ((ev & POLLIN) ? EPOLLIN : 0) |
						((ev & POLLOUT) ? EPOLLOUT : 0));
	if (sd_bus_get_timeout(bus, &when) < 0 || when == UINT64_MAX) {
		loop_timer_set(bus_timer, 0, 0);
		return;
	}
	/* sd-bus gives an absolute CLOCK_MONOTONIC time; 0 means now. */
	now = now_usec();
	loop_timer_set(bus_timer, when > now ? (when - now + 999) / 1000 : 1,
		       0);
}

void bus_dispatch(void)
{
	static bool dispatching;
	int r;

	/* A check run from a bus callback must not process the bus again:
	 * the outer call goes on and re-arms when it is done. */
	if (!bus || dispatching)
		return;
	dispatching = true;
	while ((r = sd_bus_process(bus, NULL)) > 0)
		;
	dispatching = false;
	if (r < 0) {
		log_errx("system bus: %s; checks that need it now say unknown",
			 strerror(-r));
		bus_exit();
		return;
	}
	if (bus_src)
		rearm();
}

static void on_fd(int fd, uint32_t events, void *data)
{
	(void)fd;
	(void)events;
	(void)data;
	bus_dispatch();
}

static void on_timer(void *data)
{
	(void)data;
	bus_dispatch();
}

int bus_init(struct host *h, bool watch)
{
	int r = sd_bus_open_system(&bus);

	if (r < 0) {
		bus = NULL;
		return r;
	}
	/* A stuck logind must not hold the loop for sd-bus's default 25 s. */
	sd_bus_set_method_call_timeout(bus, 2 * 1000 * 1000);
	bus_host = h;
	host_set_bus(h, bus);
	if (!watch)
		return 0;
	bus_src = loop_add_fd(sd_bus_get_fd(bus), EPOLLIN, on_fd, NULL);
	bus_timer = loop_add_timer(0, 0, on_timer, NULL);
	if (!bus_src || !bus_timer) {
		r = -errno;
		bus_exit();
		return r;
	}
	rearm();
	return 0;
}

void bus_exit(void)
{
	loop_remove(bus_src);
	loop_remove(bus_timer);
	bus_src = bus_timer = NULL;
	if (bus_host)
		host_set_bus(bus_host, NULL);
	bus_host = NULL;
	bus = sd_bus_flush_close_unref(bus);
}
