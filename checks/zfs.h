/* SPDX-License-Identifier: Apache-2.0 */
/*
 * zfs: a ZFS dataset's native encryption as OpenZFS's own zfs tool tells
 * it (`zfs get -Hp`): its cipher, how its key is given (passphrase typed
 * at boot, a key file, a network server) and whether the key is loaded.
 * Nothing of ZFS's on-disk format is parsed here.
 */
#ifndef ENDPOINTD_ZFS_H
#define ENDPOINTD_ZFS_H

#include "check.h"

/* ZFS_MAX_DATASET_NAME_LEN: 256 with the terminating NUL. */
#define ZFS_NAME_MAX 256

struct zfs_crypt {
	char cipher[32];	/* "aes-256-gcm", or "off" */
	char keyformat[16];	/* "passphrase", "raw", "hex", or "none" */
	char keystatus[16];	/* "available", "unavailable", or "-" */
	char encroot[ZFS_NAME_MAX];	/* the encryption root, or "-" */
	/* The encryption root's: "prompt", "file:///…", "https://…" */
	char keylocation[4096];
};

/* Is name a dataset name the tool may be asked about (never an option)? */
bool zfs_name_ok(const char *name);

/* From `zfs get -Hp -o name,property,value,source PROPS NAMES…` output,
 * the properties of dataset, with the key's location taken from its
 * encryption root when that is among the names. Returns 0, or -EINVAL
 * when the output is not the tool's or lacks a property. */
int zfs_parse(const char *text, const char *dataset, struct zfs_crypt *c);

/* Ask the system's zfs tool about dataset (and its parents, for the
 * encryption root). Returns 0, or -errno with the reason in words in
 * *why (the caller frees): -ENOPKG when the tool is not installed,
 * -ENODEV when the kernel's ZFS module is not loaded, -ENOTSUP below a
 * root prefix other than "/" (the tool reads only the running kernel). */
int zfs_read(const struct host *h, const char *dataset, struct zfs_crypt *c,
	     char **why);

/* Why a run of the tool that returned r (-errno) and said err on stderr
 * failed, in words (the caller frees). */
char *zfs_failure(int r, const char *err, const char *dataset);

/* The key's way in, for people: "passphrase typed at boot", "key file
 * /etc/zfs/key"... */
const char *zfs_unlock_kind(const struct zfs_crypt *c);
/* The key file's path when the key is read from a local file, or NULL. */
const char *zfs_key_file(const struct zfs_crypt *c);
/* Does the key reach the machine with nobody typing it? */
bool zfs_unlocks_by_itself(const struct zfs_crypt *c);

/* The cipher ("aes"), its mode ("gcm") and its key size in bits, from
 * the tool's "aes-256-gcm". Returns 0, or -EINVAL. */
int zfs_cipher(const struct zfs_crypt *c, char cipher[static 16],
	       char mode[static 16], int *bits);

#endif
