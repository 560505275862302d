/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pipewire_stub: the PipeWire camera attribution for programs built
 * without libpipewire (every program but endpointd, and the unit tests):
 * nothing is watched, and a media server holding a camera stays the
 * holder (pipewire.h).
 */
#include <errno.h>

#include "pipewire.h"

int pipewire_watch(struct host *h, pipewire_changed_fn fn, void *data)
{
	(void)h;
	(void)fn;
	(void)data;
	return -ENOTSUP;
}

void pipewire_unwatch(void)
{
}

void pipewire_connect_users(void)
{
}

int pipewire_consumers(uid_t uid, const char *devnode, pid_t **out)
{
	(void)uid;
	(void)devnode;
	*out = NULL;
	return -ENOTCONN;
}
