/* SPDX-License-Identifier: Apache-2.0 */
/*
 * secret: device tokens and enrolment secrets (256 random bits, kept only
 * as SHA-256 hashes, compared in constant time) and admin passwords
 * (libcrypt's yescrypt, a memory-hard KDF).
 */
#ifndef COLLECTORD_SECRET_H
#define COLLECTORD_SECRET_H

#include <stdbool.h>

#define SECRET_HEX_LEN 64	/* 256 bits */
#define SECRET_HASH_LEN 64	/* SHA-256, hex */

/* A new random secret as lower-case hex (SECRET_HEX_LEN chars + NUL).
 * Returns 0 or -errno. */
int secret_new(char out[static SECRET_HEX_LEN + 1]);

/* SHA-256 of s as lower-case hex. */
void secret_hash(const char *s, char out[static SECRET_HASH_LEN + 1]);

/* Whether two hashes from secret_hash are the same, in constant time;
 * false if either is NULL or not a hash's length. */
bool secret_hash_equal(const char *a, const char *b);

/* A yescrypt hash of password (caller frees), or NULL with errno set. */
char *password_hash(const char *password);
/* Whether password matches a password_hash() result. */
bool password_matches(const char *password, const char *stored);

#endif
