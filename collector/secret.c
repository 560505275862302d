/* SPDX-License-Identifier: Apache-2.0 */
/*
 * secret: getrandom, OpenSSL's SHA-256 and CRYPTO_memcmp, libcrypt.
 */
#include <crypt.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>

#include "secret.h"
#include "util.h"

static void hex(const unsigned char *raw, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[raw[i] >> 4];
		out[2 * i + 1] = digits[raw[i] & 15];
	}
	out[2 * n] = '\0';
}

int secret_new(char out[static SECRET_HEX_LEN + 1])
{
	unsigned char raw[SECRET_HEX_LEN / 2];
	size_t got = 0;

	while (got < sizeof(raw)) {
		ssize_t r = getrandom(raw + got, sizeof(raw) - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		got += (size_t)r;
	}
	hex(raw, sizeof(raw), out);
	explicit_bzero(raw, sizeof(raw));
	return 0;
}

/* SHA-256 fetched from its provider once: EVP_sha256() makes OpenSSL 3
 * look it up again at every digest, a third of the cost of hashing a
 * device's token on each report. */
static EVP_MD *sha256;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void fetch_sha256(void)
{
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void secret_hash(const char *s, char out[static SECRET_HASH_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	pthread_once(&sha256_once, fetch_sha256);
	if (!sha256 || !EVP_Digest(s, strlen(s), md, &n, sha256, NULL) ||
	    n != 32)
		abort();
	hex(md, 32, out);
}

bool secret_hash_equal(const char *a, const char *b)
{
	return a && b && strlen(a) == SECRET_HASH_LEN &&
	       strlen(b) == SECRET_HASH_LEN &&
	       CRYPTO_memcmp(a, b, SECRET_HASH_LEN) == 0;
}

char *password_hash(const char *password)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data data;
	char *out;

	/* NULL entropy: libcrypt reads the system's random source. */
	if (!crypt_gensalt_rn("$y$", 0, NULL, 0, setting, sizeof(setting)))
		return NULL;
	memset(&data, 0, sizeof(data));
	out = crypt_r(password, setting, &data);
	if (!out || out[0] == '*')
		return NULL;
	out = xstrdup(out);
	explicit_bzero(&data, sizeof(data));
	return out;
}

bool password_matches(const char *password, const char *stored)
{
	struct crypt_data data;
	const char *out;
	bool ok;

	memset(&data, 0, sizeof(data));
	out = crypt_r(password, stored, &data);
	ok = out && out[0] != '*' && strlen(out) == strlen(stored) &&
	     CRYPTO_memcmp(out, stored, strlen(stored)) == 0;
	explicit_bzero(&data, sizeof(data));
	return ok;
}
