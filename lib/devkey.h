/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkey: the laptop's own Ed25519 key, with OpenSSL. endpointd (root)
 * makes it once in its state directory (DEVICE_KEY_NAME, mode 0600, never
 * readable by the uploader) and signs every report with it; enrolment
 * registers its public half with the collector, which verifies every
 * report against it. So the uploader carries reports it can neither
 * forge nor alter, and a copy of the collector's database forges none.
 *
 * Keys and signatures travel as base64 of their raw bytes: a public key
 * is 32 bytes (44 characters), a signature 64 (88 characters).
 */
#ifndef ENDPOINTD_DEVKEY_H
#define ENDPOINTD_DEVKEY_H

#include <stdbool.h>
#include <stddef.h>

#define DEVKEY_PUBLIC_B64 44
#define DEVKEY_SIG_B64 88

struct devkey;

/* The key in path, made there first (O_EXCL, 0600) when there is none.
 * Returns 0 or -errno (-EINVAL: the file is not an Ed25519 key). */
int devkey_open(const char *path, struct devkey **out);
/* The key in path, never made. Returns 0, -ENOENT or -errno. */
int devkey_load(const char *path, struct devkey **out);
void devkey_free(struct devkey *k);

/* A new key as PKCS#8 PEM text (caller frees), for a key kept elsewhere
 * than a file of its own: collectord's policy key, in its database.
 * Returns 0 or -EIO. */
int devkey_new_pem(char **pem);
/* The key in PEM text. Returns 0 or -EINVAL. */
int devkey_from_pem(const char *pem, struct devkey **out);

/* The public half, base64, NUL-terminated. */
void devkey_public(const struct devkey *k, char out[DEVKEY_PUBLIC_B64 + 1]);

/* The signature of data[0..len), base64, NUL-terminated. Returns 0 or
 * -EIO. */
int devkey_sign(const struct devkey *k, const void *data, size_t len,
		char out[DEVKEY_SIG_B64 + 1]);

/* Whether text is a public key as devkey_public() writes it. */
bool devkey_public_ok(const char *text);

/* Whether sig (base64) is public's (base64) signature of data[0..len).
 * Returns 0, -EBADMSG when it is not, -EINVAL when either is malformed. */
int devkey_verify(const char *public, const void *data, size_t len,
		  const char *sig);

#endif
