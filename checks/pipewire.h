/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pipewire: which applications consume a camera's stream when PipeWire,
 * not the application, holds the camera's node.
 *
 * As root, endpointd connects to each user's PipeWire socket
 * (/run/user/UID/pipewire-0 below the host's root; its peer must be that
 * user) and reads the registry: nodes, links, clients and devices, never
 * a stream. The camera's source node is the node whose object.path (or
 * its device's) is "v4l2:" and the camera's device node, owned by the
 * server itself or by a verified media server; each link from it leads to
 * a consuming node, whose client's pipewire.sec.pid is the kernel's
 * credential of the connection (SO_PEERCRED), which the client cannot
 * change. application.process.id, which the client sets, is never read.
 *
 * The registry's global and global_remove events arrive on one pw_loop
 * whose fd is registered with endpointd's loop; nothing polls. A server
 * that hangs up is dropped; sockets are looked for again on every
 * pipewire_connect_users().
 */
#ifndef ENDPOINTD_PIPEWIRE_H
#define ENDPOINTD_PIPEWIRE_H

#include <sys/types.h>

#include "check.h"

/* Called after any change of a node, link, client or device. */
typedef void (*pipewire_changed_fn)(void *data);

/* Start: a connection to every user's socket found now, on a pw_loop
 * registered with endpointd's loop when the first socket is found (none,
 * no loop and no PipeWire context). Returns 0, -ENOTSUP when built
 * without PipeWire, or -errno. */
int pipewire_watch(struct host *h, pipewire_changed_fn fn, void *data);
/* Drop every connection and the pw_loop. */
void pipewire_unwatch(void);

/* Connect to the sockets below /run/user not yet connected. */
void pipewire_connect_users(void);

/* The pids of the clients consuming the camera devnode ("/dev/video0")
 * through uid's PipeWire, each once. Returns how many (0: none seen), or
 * -ENOTCONN when there is no connection to uid's server. */
int pipewire_consumers(uid_t uid, const char *devnode, pid_t **out);

#endif
