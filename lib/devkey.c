/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkey: an Ed25519 key pair through OpenSSL's EVP interface; see
 * devkey.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devkey.h"
#include "util.h"

#define ED25519_PUBLIC 32
#define ED25519_SIG 64

struct devkey {
	EVP_PKEY *pkey;
};

/* pkey as a devkey when it is an Ed25519 key. Returns 0 or -EINVAL. */
static int wrap(EVP_PKEY *pkey, struct devkey **out)
{
	*out = NULL;
	if (!pkey || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pkey);
		return -EINVAL;
	}
	*out = xcalloc(1, sizeof(**out));
	(*out)->pkey = pkey;
	return 0;
}

static int load_fd(int fd, struct devkey **out)
{
	FILE *f = fdopen(fd, "r");
	EVP_PKEY *pkey;

	if (!f) {
		close(fd);
		return -errno;
	}
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return wrap(pkey, out);
}

int devkey_load(const char *path, struct devkey **out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	*out = NULL;
	if (fd < 0)
		return -errno;
	return load_fd(fd, out);
}

/* A new key written to a new file: 0600 from the start, synced. */
static int create(const char *path)
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	int fd, r = 0;
	FILE *f;

	if (!pkey)
		return -EIO;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0) {
		r = -errno;
		EVP_PKEY_free(pkey);
		return r;
	}
	f = fdopen(fd, "w");
	if (!f || !PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) ||
	    fflush(f) != 0 || fsync(fd) < 0)
		r = -EIO;
	if (f)
		fclose(f);
	else
		close(fd);
	EVP_PKEY_free(pkey);
	if (r < 0)
		unlink(path);
	return r < 0 ? r : fsync_dir_of(path);
}

int devkey_open(const char *path, struct devkey **out)
{
	int r = devkey_load(path, out);

	if (r != -ENOENT)
		return r;
	r = create(path);
	/* Another process made it first: its key is the key. */
	if (r < 0 && r != -EEXIST)
		return r;
	return devkey_load(path, out);
}

int devkey_new_pem(char **pem)
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int r = -EIO;

	if (pkey && b &&
	    PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL)) {
		n = BIO_get_mem_data(b, &data);
		*pem = xstrndup(data, (size_t)n);
		r = 0;
	}
	BIO_free(b);
	EVP_PKEY_free(pkey);
	return r;
}

int devkey_from_pem(const char *pem, struct devkey **out)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *pkey = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)
			   : NULL;

	BIO_free(b);
	return wrap(pkey, out);
}

void devkey_free(struct devkey *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

void devkey_public(const struct devkey *k, char out[DEVKEY_PUBLIC_B64 + 1])
{
	unsigned char raw[ED25519_PUBLIC];
	size_t n = sizeof(raw);

	if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &n) != 1 ||
	    n != sizeof(raw))
		abort();
	EVP_EncodeBlock((unsigned char *)out, raw, sizeof(raw));
}

int devkey_sign(const struct devkey *k, const void *data, size_t len,
		char out[DEVKEY_SIG_B64 + 1])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char sig[ED25519_SIG];
	size_t n = sizeof(sig);
	int ok;

	if (!ctx)
		abort();
	ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
	     EVP_DigestSign(ctx, sig, &n, data, len) == 1 && n == sizeof(sig);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -EIO;
	EVP_EncodeBlock((unsigned char *)out, sig, sizeof(sig));
	return 0;
}

/* Base64 of exactly n raw bytes into raw. Returns 0 or -EINVAL. */
static int decode(const char *text, unsigned char *raw, size_t n)
{
	size_t want = (n + 2) / 3 * 4, pad = (3 - n % 3) % 3;
	unsigned char buf[ED25519_SIG + 3];

	if (strlen(text) != want || n + pad > sizeof(buf) ||
	    strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789+/=") != want ||
	    EVP_DecodeBlock(buf, (const unsigned char *)text, (int)want) !=
		    (int)(n + pad))
		return -EINVAL;
	/* "=" only as the padding it must be. */
	for (size_t i = 0; i < want; i++)
		if ((text[i] == '=') != (i >= want - pad))
			return -EINVAL;
	memcpy(raw, buf, n);
	return 0;
}

bool devkey_public_ok(const char *text)
{
	unsigned char raw[ED25519_PUBLIC];

	return text && decode(text, raw, sizeof(raw)) == 0;
}

/* Verified with libsodium, the same Ed25519 (RFC 8032): on the
 * collector's path for every report it is about twice as fast as OpenSSL
 * 3.0's (docs/performance.md). */
int devkey_verify(const char *public, const void *data, size_t len,
		  const char *sig)
{
	unsigned char pub[ED25519_PUBLIC], s[ED25519_SIG];

	if (!public || !sig || decode(public, pub, sizeof(pub)) < 0 ||
	    decode(sig, s, sizeof(s)) < 0)
		return -EINVAL;
	/* Once per process; thread-safe, and nothing after the first. */
	if (sodium_init() < 0)
		abort();
	return crypto_sign_verify_detached(s, data, len, pub) == 0 ? 0
								   : -EBADMSG;
}
