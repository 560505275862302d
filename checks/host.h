/* SPDX-License-Identifier: Apache-2.0 */
/*
 * host: the handle through which a check reads the machine. Every path is
 * joined to its root prefix ("/" in production, a fixture tree in tests);
 * it also carries the system bus, libudev, and the daemon's callbacks for
 * re-evaluations and events.
 */
#ifndef ENDPOINTD_HOST_H
#define ENDPOINTD_HOST_H

#include <ini.h>
#include <jansson.h>
#include <libudev.h>
#include <stddef.h>
#include <systemd/sd-bus.h>

struct host;

typedef void (*host_changed_fn)(struct host *h, const char *check_id,
				void *data);
typedef void (*host_event_fn)(struct host *h, json_t *event, void *data);

/* A host rooted at root ("/" in production). */
struct host *host_new(const char *root);
void host_free(struct host *h);
const char *host_root(const struct host *h);

/* Where the daemon wants to hear of re-evaluations and events. */
void host_set_callbacks(struct host *h, host_changed_fn changed,
			host_event_fn event, void *data);
/* libudev, created on first use; NULL when it cannot be. libudev reads
 * the real /sys (umockdev's testbed in tests), not the root prefix. */
struct udev *host_udev(struct host *h);

/* Where the generated udev rule goes (NULL: nowhere). */
void host_set_udev_rule(struct host *h, const char *path);
const char *host_udev_rule(const struct host *h);

/* The system bus, or NULL when there is none (checks then say unknown). */
void host_set_bus(struct host *h, sd_bus *bus);
sd_bus *host_bus(const struct host *h);

/* A check asks for its re-evaluation after an event. */
void host_changed(struct host *h, const char *check_id);
/* A check records an event ("type" and details; "at" is added). Takes
 * ownership of event. */
void host_event(struct host *h, json_t *event);

/* path (absolute, as on the machine) joined to the root. Caller frees. */
char *host_path(const struct host *h, const char *path);
/* Read a file of at most max bytes below the root. Returns 0 or -errno. */
int host_read(const struct host *h, const char *path, size_t max,
	      char **out);
/* host_read() of a file a user controls (in a home directory): a symlink
 * as the last component is refused, so root is not led to read another
 * file. */
int host_read_user(const struct host *h, const char *path, size_t max,
		   char **out);
/* The first line of a small file (sysfs attribute, /etc/machine-id),
 * trailing white space removed. Returns 0 or -errno. */
int host_read_line(const struct host *h, const char *path, char **out);
/* The names in folder dir below the root that fnmatch(3) pattern with
 * fnm_flags ("." and ".." never), in strcmp order (the order drop-ins are
 * applied in). *out is a NULL-terminated vector (free it with
 * strv_free()), empty when the folder cannot be read. Returns how many,
 * or -errno. */
int host_list(const struct host *h, const char *dir, const char *pattern,
	      int fnm_flags, char ***out);

/* INI-style files of the machine (logind.conf, display-manager settings,
 * KDE rc files, dconf keyfiles), parsed by inifile_parse(). Returns 0 or
 * -errno. */
int host_read_ini(const struct host *h, const char *path, ini_handler fn,
		  void *user);
/* host_read_ini() of a file in a user's home: host_read_user() rules. */
int host_read_ini_user(const struct host *h, const char *path,
		       ini_handler fn, void *user);
/* Parse every regular file in directory dir below the root whose name
 * ends in suffix (NULL: any name not starting with '.'), in name order,
 * as drop-ins are. Returns how many were read, or -errno. */
int host_read_ini_dir(const struct host *h, const char *dir,
		      const char *suffix, ini_handler fn, void *user);

#endif
