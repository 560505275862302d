/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_signed: what reads signatures and keys that cross a boundary: the
 * spool's and a policy's signature line (spool_split: the uploader writes
 * those files, endpointd and the uploader read them), a public key and a
 * signature from the network (devkey_public_ok, devkey_verify: the
 * enrolment request, every report's Endpointd-Signature header, the
 * policy key pinned at enrolment).
 *
 * Input: a file's text as given to spool_split; its first 44 bytes, when
 * there are so many, are also tried as a public key, and the signature
 * the split found (or the next 88 bytes) as a signature of the rest.
 *
 * Invariants: spool_split accepts text that does not start with the
 * signature prefix as unsigned, whole; text that does is accepted only
 * with exactly 88 bytes before a newline, and the body is what follows
 * it; a signature is 0 or 88 characters. No input verifies against the
 * fixed key made here (an input that did would be a forgery), and a
 * malformed key or signature is -EINVAL, never a crash.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "devkey.h"
#include "fuzz.h"
#include "spool.h"
#include "util.h"

static struct devkey *key;
static char public[DEVKEY_PUBLIC_B64 + 1];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	_cleanup_free_ char *pem = NULL;

	(void)argc;
	(void)argv;
	if (devkey_new_pem(&pem) < 0 || devkey_from_pem(pem, &key) < 0)
		fuzz_fail("no key");
	devkey_public(key, public);
	return 0;
}

static void check_split(const char *text, size_t len)
{
	size_t pre = strlen(SPOOL_SIG_PREFIX), body_len = 0;
	char sig[DEVKEY_SIG_B64 + 1];
	const char *body = NULL;
	int r = spool_split(text, len, sig, &body, &body_len);
	bool prefixed = len >= pre && memcmp(text, SPOOL_SIG_PREFIX, pre) == 0;

	if (!prefixed && (r != 0 || sig[0] || body != text || body_len != len))
		fuzz_fail("unsigned text not taken whole");
	if (prefixed && r == 0 &&
	    (strlen(sig) != DEVKEY_SIG_B64 ||
	     text[pre + DEVKEY_SIG_B64] != '\n' ||
	     body != text + pre + DEVKEY_SIG_B64 + 1 ||
	     body_len != len - pre - DEVKEY_SIG_B64 - 1))
		fuzz_fail("a signed text split wrong");
	if (prefixed && r != 0 && r != -EINVAL)
		fuzz_fail("spool_split: %d", r);
	if (r == 0 && sig[0] &&
	    devkey_verify(public, body, body_len, sig) == 0)
		fuzz_fail("an input verified against the fuzzer's own key");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *text = xstrndup((const char *)data, size);
	size_t len = strlen(text);
	char k[DEVKEY_PUBLIC_B64 + 1], s[DEVKEY_SIG_B64 + 1];
	int r;

	check_split(text, len);
	if (len < DEVKEY_PUBLIC_B64 + DEVKEY_SIG_B64)
		return 0;
	memcpy(k, text, DEVKEY_PUBLIC_B64);
	k[DEVKEY_PUBLIC_B64] = '\0';
	memcpy(s, text + DEVKEY_PUBLIC_B64, DEVKEY_SIG_B64);
	s[DEVKEY_SIG_B64] = '\0';
	r = devkey_verify(k, text, len, s);
	if (r != -EINVAL && !devkey_public_ok(k))
		fuzz_fail("a key devkey_public_ok refuses was used");
	if (r != 0 && r != -EINVAL && r != -EBADMSG)
		fuzz_fail("devkey_verify: %d", r);
	if (devkey_verify(public, text, len, s) == 0)
		fuzz_fail("an input verified against the fuzzer's own key");
	return 0;
}
