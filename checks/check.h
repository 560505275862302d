/*
 * check: the interface every check implements, the host handle through
 * which it reads the machine, and the finding it returns.
 *
 * A check reads the machine only through struct host (its root prefix is
 * "/" in production and a fixture tree in tests), never touches the
 * network, the spool or the status socket, and says "unknown" with a
 * reason when it cannot tell: it never passes what it could not see.
 */
#ifndef ENDPOINTD_CHECK_H
#define ENDPOINTD_CHECK_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <libudev.h>
#include <systemd/sd-bus.h>

#include "policy.h"
#include "util.h"

enum check_status { CHECK_PASS, CHECK_WARN, CHECK_FAIL, CHECK_UNKNOWN };

struct host;

/* One check's result: what the report's "checks" entries carry. */
struct finding {
	const char *check;	/* id: the check's policy section name */
	enum check_status status;
	enum severity severity;	/* from the policy */
	char *clause;		/* from the policy */
	char *summary;		/* one line a member of staff understands */
	char *remedy;		/* what to do; NULL when nothing is needed */
	json_t *evidence;	/* key/values for IT; always an object */
};

struct check_ops {
	const char *id;		/* policy section name: "encryption" */
	const char *title;	/* for people: "Disk encryption" */
	/* Optional: start watching the machine (register sources with the
	 * loop); call host_changed() when a re-evaluation is due. */
	int (*start)(struct host *h, const struct policy *p);
	void (*stop)(struct host *h);
	/* Look at the machine and fill f: status, summary, remedy and
	 * evidence. Returns 0, or -errno when it could not look at all (f
	 * then becomes "unknown" with that reason). */
	int (*evaluate)(struct host *h, const struct policy *p,
			struct finding *f);
};

/* The product's checks, NULL-terminated. Only real checks are listed. */
extern const struct check_ops *const check_registry[];

/* The check with that id in registry, or NULL. */
const struct check_ops *check_find(const struct check_ops *const *registry,
				   const char *id);

/* Run one check under policy p into a fresh finding (caller frees). A
 * check that fails, or returns without a summary, yields "unknown". */
struct finding *check_run(const struct check_ops *ops, struct host *h,
			  const struct policy *p);

const char *check_status_name(enum check_status s);
/* Parse a status name; returns false for anything else. */
bool check_status_parse(const char *name, enum check_status *out);

/* --- findings --- */

/* Set status and the texts (remedy may be NULL). Replaces earlier ones. */
void finding_set(struct finding *f, enum check_status status,
		 const char *summary, const char *remedy);
/* Add evidence; strings from the machine may hold any bytes. */
void finding_evidence_str(struct finding *f, const char *key,
			  const char *value);
void finding_evidence_int(struct finding *f, const char *key, long long v);
/* Takes ownership of v. */
void finding_evidence_json(struct finding *f, const char *key, json_t *v);
/* The finding as the report's check object. */
json_t *finding_to_json(const struct finding *f);
void finding_free(struct finding *f);

/* --- the host handle --- */

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

/* A JSON string for text from the machine: invalid UTF-8 repaired. */
json_t *json_string_lossy(const char *s);
/* json_string_lossy() of a formatted string. */
json_t *json_lossy_vprintf(const char *fmt, va_list ap) _printf_(1, 0);
/* Append json_lossy_vprintf()'s string to array. */
void json_lossy_append(json_t *array, const char *fmt, ...) _printf_(2, 3);
/* A file or folder that is there but cannot be read hides a setting:
 * when r (from host_read(), host_list()) is an error other than its
 * absence (-ENOENT, -ENOTDIR), append "cannot <verb> <path> (<reason>)"
 * to unknown. Returns r. */
int check_unreadable(json_t *unknown, int r, const char *verb,
		     const char *path);

#endif
