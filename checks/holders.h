/* SPDX-License-Identifier: Apache-2.0 */
/*
 * holders: which processes hold a device node open, found through
 * /proc/PID/fd below the host's root (so a fake /proc tree serves in
 * tests), with each one's executable, command name and user.
 *
 * Privacy: only the fact that a process holds the node is read; never
 * what flows through it, never a window title or a URL.
 */
#ifndef ENDPOINTD_HOLDERS_H
#define ENDPOINTD_HOLDERS_H

#include <stdbool.h>
#include <sys/types.h>

#include "check.h"

struct holder {
	pid_t pid;
	uid_t uid;
	char *exe;	/* resolved executable path, or NULL if unreadable */
	bool exe_verified;	/* exe, seen from here, is the very file the
				 * process runs (same device and inode): not
				 * a renamed copy, not a namespace's bind mount */
	bool upgraded;	/* exe was replaced while the process ran: the
			 * running file is deleted and exe now holds the
			 * package's new file (holders.c says how that is
			 * told); exe is then the path without " (deleted)" */
	char *app_id;	/* "flatpak:ID" or "snap:NAME" when the process is
			 * in such a sandbox (sandbox.h), or NULL */
	char *comm;	/* command name: the process sets it, so it is shown,
			 * never trusted */
	char *user;	/* account name, or NULL */
	const char *via;	/* "pipewire": the process consumes the camera
				 * through that media server, which holds the
				 * node; NULL when it holds the node itself */
};

/* The processes holding node (a path as on the machine, "/dev/video0").
 * A /proc/PID/fd link matches when it names node, or when the file it
 * leads to is the same device (st_rdev) or file (st_dev, st_ino), as a
 * bind mount of the node elsewhere would be. Returns how many, or -errno
 * when /proc cannot be read. */
int holders_find(const struct host *h, const char *node,
		 struct holder **out);
void holders_free(struct holder *v, int n);

/* The process pid described as holders_find() describes a holder (the
 * caller has found its use some other way). Returns 0, or -ESRCH when
 * it is gone. Free with holders_free_one(). */
int holders_describe(const struct host *h, pid_t pid, struct holder *out);
void holders_free_one(struct holder *hd);

/* Whether the holder is a media server that holds cameras for its
 * clients (PipeWire, WirePlumber), which hides the real application: the
 * system's own binary, verified, not anything named so. */
bool holders_is_media_server(const struct holder *hd);

#endif
