/*
 * secret: getrandom, OpenSSL's SHA-256 and CRYPTO_memcmp, libcrypt.
 */
#include <crypt.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/random.h>

#include "secret.h"
#include "util.h"

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
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	explicit_bzero(raw, sizeof(raw));
	return 0;
}

void secret_hash(const char *s, char out[static SECRET_HASH_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL) || n != 32)
		abort();
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

bool secret_matches(const char *s, const char *stored_hash)
{
	char h[SECRET_HASH_LEN + 1];

	if (strlen(stored_hash) != SECRET_HASH_LEN)
		return false;
	secret_hash(s, h);
	return CRYPTO_memcmp(h, stored_hash, SECRET_HASH_LEN) == 0;
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
