/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check: the interface every check implements (its finding is declared in
 * finding.h, the host handle it reads the machine through in host.h), the
 * registry of the product's checks, and running one.
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

#include "finding.h"
#include "host.h"
#include "policy.h"
#include "utf8.h"
#include "util.h"

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
	/* Optional: called whenever a policy comes into force, the check
	 * enabled or not, to put in place what it needs outside endpointd
	 * (the USB storage check's udev rule, which a policy without it must
	 * replace). */
	void (*policy_applied)(struct host *h, const struct policy *p);
	/* Optional: the udev rule the check needs under p (caller frees),
	 * for endpointd --print-udev-rule. */
	char *(*udev_rule)(const struct policy *p);
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

/* A file or folder that is there but cannot be read hides a setting:
 * when r (from host_read(), host_list()) is an error other than its
 * absence (-ENOENT, -ENOTDIR), append "cannot <verb> <path> (<reason>)"
 * to unknown. Returns r. */
int check_unreadable(json_t *unknown, int r, const char *verb,
		     const char *path);

#endif
