/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cryptwalk: whether what a mount, swap or device holds is encrypted at
 * rest, found by walking its block-device stack down to the disks (see
 * cryptwalk.c). Private to the encryption check.
 */
#ifndef ENDPOINTD_CRYPTWALK_H
#define ENDPOINTD_CRYPTWALK_H

#include <libmount/libmount.h>
#include <stdio.h>

#include "check.h"

enum verdict { V_ENCRYPTED, V_PLAIN, V_UNKNOWN, V_MEMORY };

/* What one device gave during one evaluation (cryptwalk.c). */
struct seen;

/* One evaluation's walks: the machine and policy, and what the walk over
 * one target (begun and ended by the caller) found. */
struct walk {
	const struct host *h;
	const struct policy *p;
	struct libmnt_table *mounts;
	FILE *chain;		/* the stack as text, for IT */
	char *chain_buf;
	size_t chain_len;
	json_t *layers;		/* every dm-crypt layer met */
	json_t *problems;	/* weak settings, in words */
	json_t *preboot;	/* disks that unlock by themselves */
	char *unknown;		/* why the verdict is unknown */
	unsigned quiet;		/* below a crypt layer: describe only */
	struct seen *seen;
};

/* The mount that holds path in tb, or NULL. */
struct libmnt_fs *cryptwalk_mount_of(struct libmnt_table *tb,
				     const char *path);

/* Walk the mount fs, the mount holding path, or the block device named name ("dm-0"),
 * depth levels down already. */
enum verdict cryptwalk_mount(struct walk *w, struct libmnt_fs *fs,
			     unsigned depth);
enum verdict cryptwalk_path(struct walk *w, const char *path,
			    unsigned depth);
enum verdict cryptwalk_dev(struct walk *w, const char *name,
			   unsigned depth);

/* The reason a walk is unknown; the first one given stays. */
void cryptwalk_unknown(struct walk *w, const char *fmt, ...) _printf_(2, 3);

/* "encrypted", "not encrypted", "unknown", "in memory". */
const char *cryptwalk_verdict_name(enum verdict v);

/* Forget what the evaluation read from its devices. */
void cryptwalk_forget(struct walk *w);

#endif
