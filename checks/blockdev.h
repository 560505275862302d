/* SPDX-License-Identifier: Apache-2.0 */
/*
 * blockdev: block devices as sysfs shows them, read through the host's
 * root prefix: resolving a device number, a /dev path or a dm name to its
 * kernel name, reading its attributes and the devices beneath it
 * (slaves/), and what a device holds (libblkid) or which LUKS header it
 * carries (libcryptsetup).
 */
#ifndef ENDPOINTD_BLOCKDEV_H
#define ENDPOINTD_BLOCKDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "check.h"

/* The largest number of devices beneath one device that is followed; a
 * real stack has a handful. */
#define BLOCKDEV_MAX_SLAVES 64

/* The kernel name ("dm-1", "nvme0n1p3") of the block device with number
 * maj:min, from /sys/dev/block. Returns 0 or -errno. */
int blockdev_name_from_devno(const struct host *h, unsigned maj,
			     unsigned min, char **name);

/* The kernel name of the device at a /dev path as /proc/swaps or
 * mountinfo write it: /dev/NAME, /dev/mapper/DMNAME, or a node whose
 * device number sysfs knows. Returns 0 or -errno. */
int blockdev_name_from_path(const struct host *h, const char *path,
			    char **name);

/* An attribute of /sys/class/block/NAME ("dm/uuid", "loop/backing_file"),
 * first line, white space trimmed. Returns 0 or -errno. */
int blockdev_attr(const struct host *h, const char *name, const char *attr,
		  char **value);

/* Every device of the btrfs filesystem that has device name, from
 * /sys/fs/btrfs/UUID/devices/. Returns how many, or 0 when not found. */
int blockdev_btrfs_devices(const struct host *h, const char *name,
			   char ***devs);

/* The valid device names in directory path (a full path, already below
 * the root), sorted. Returns how many or -errno. */
int blockdev_names_in(const char *path, char ***names);

/* The kernel names of the devices beneath NAME (its slaves/), sorted.
 * Returns how many (0 for a physical device) or -errno. */
int blockdev_slaves(const struct host *h, const char *name, char ***slaves);
void blockdev_strv_free(char **v);

/* What libblkid finds on /dev/NAME below the root: "ext4",
 * "crypto_LUKS", "BitLocker", "swap"...; NULL when nothing is recognised.
 * Returns 0 or -errno (the device could not be read). */
int blockdev_probe(const struct host *h, const char *name, char **type);
/* The same for a device node path as given (udev's, not below the root). */
int blockdev_probe_path(const char *path, char **type);

/* How a LUKS volume can be unlocked: its LUKS2 tokens as systemd-cryptenroll
 * and clevis write them, and every active key slot no token claims (a
 * passphrase or key file). */
enum blockdev_unlock {
	UNLOCK_PASSPHRASE = 1 << 0,
	UNLOCK_TPM2 = 1 << 1,		/* systemd-tpm2, "tpm2-pin" false */
	UNLOCK_TPM2_PIN = 1 << 2,	/* systemd-tpm2, "tpm2-pin" true */
	UNLOCK_FIDO2 = 1 << 3,		/* systemd-fido2 */
	UNLOCK_RECOVERY = 1 << 4,	/* systemd-recovery */
	UNLOCK_PKCS11 = 1 << 5,		/* systemd-pkcs11 */
	UNLOCK_CLEVIS_TPM2 = 1 << 6,	/* clevis, "tpm2" pin */
	UNLOCK_CLEVIS_TANG = 1 << 7,	/* clevis, "tang" pin */
	UNLOCK_CLEVIS_OTHER = 1 << 8,	/* clevis, "sss" or unreadable */
	UNLOCK_OTHER = 1 << 9,		/* a token of another type */
	UNLOCK_LAST = UNLOCK_OTHER,
};

/* The ways that need nobody at the keyboard at power-on. */
#define UNLOCK_AUTOMATIC \
	(UNLOCK_TPM2 | UNLOCK_CLEVIS_TPM2 | UNLOCK_CLEVIS_TANG | \
	 UNLOCK_CLEVIS_OTHER)

/* "passphrase", "TPM2 only", "TPM2 with PIN"... for one UNLOCK_ bit. */
const char *blockdev_unlock_name(unsigned bit);

/* A LUKS header as libcryptsetup reads it. */
struct luks_info {
	char type[16];		/* "LUKS1", "LUKS2" */
	char cipher[64];	/* "aes" */
	char mode[64];		/* "xts-plain64" */
	int key_bits;		/* volume key size */
	char pbkdf[32];		/* of the first active key slot; "" if none */
	unsigned unlock;	/* UNLOCK_ bits; 0 when not read */
};

/* Read the LUKS header on /dev/NAME below the root. Returns 0 or -errno
 * (-EINVAL: no LUKS header there). */
int blockdev_luks(const struct host *h, const char *name,
		  struct luks_info *info);

/* The active dm-crypt mapping DMNAME as the kernel has it (plain dm-crypt
 * has no header to read). Only the real machine has one: with a root
 * prefix other than "/" this returns -ENOTSUP. */
int blockdev_active_crypt(const struct host *h, const char *dmname,
			  struct luks_info *info);

#endif
