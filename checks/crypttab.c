/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crypttab: /etc/crypttab, read for what no header on the disk can say: a
 * plain dm-crypt swap keyed from the kernel's random generator at every
 * boot (the Debian installer's "random key", Ubuntu's
 * ecryptfs-setup-swap), whose contents die at power-off.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blockdev.h"
#include "crypttab.h"
#include "util.h"

/* /etc/crypttab is a few lines; more than this is not a crypttab. */
#define CRYPTTAB_MAX (256 * 1024)

/* "aes-xts-plain64" into cipher "aes" and mode "xts-plain64". */
static bool split_cipher(const char *spec, struct luks_info *li)
{
	const char *dash = strchr(spec, '-');

	if (!dash || dash == spec ||
	    (size_t)(dash - spec) >= sizeof(li->cipher) ||
	    strlen(dash + 1) >= sizeof(li->mode))
		return false;
	snprintf(li->cipher, sizeof(li->cipher), "%.*s", (int)(dash - spec),
		 spec);
	snprintf(li->mode, sizeof(li->mode), "%s", dash + 1);
	return true;
}

/* The settings a crypttab entry's options give: cipher= and size=,
 * which is cryptsetup's plain-mode default (256 bits, `cryptsetup
 * --help`) when not given. Without cipher= they are not known. */
static bool crypttab_settings(char *opts, struct luks_info *li)
{
	char *o, *save = NULL;
	bool cipher = false;

	memset(li, 0, sizeof(*li));
	li->key_bits = 256;
	snprintf(li->type, sizeof(li->type), "PLAIN");
	for (o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		if (strncmp(o, "cipher=", 7) == 0)
			cipher = split_cipher(o + 7, li);
		else if (strncmp(o, "size=", 5) == 0)
			li->key_bits = atoi(o + 5);
	}
	return cipher && li->key_bits > 0;
}

/* Whether the crypttab device field names the device beneath the
 * mapping. UUID=, PARTUUID= and LABEL= name a partition by what is on
 * it, which a random-key swap overwrites at every boot: the mapping's
 * name must do. */
static bool crypttab_device_is(const struct host *h, const char *field,
			       const char *under)
{
	_cleanup_free_ char *name = NULL;

	if (strncmp(field, "/dev/", 5) != 0)
		return strchr(field, '=') != NULL;
	return blockdev_name_from_path(h, field, &name) == 0 &&
	       strcmp(name, under) == 0;
}

static bool has_option(const char *opts, const char *want)
{
	size_t n = strlen(want);

	for (const char *o = opts; o; o = strchr(o, ',')) {
		o += *o == ',';
		if (strncmp(o, want, n) == 0 && (o[n] == ',' || o[n] == '\0'))
			return true;
	}
	return false;
}

bool crypttab_random_swap(const struct host *h, const char *dmname,
			  const char *under, struct luks_info *li,
			  bool *settings)
{
	_cleanup_free_ char *buf = NULL;
	char *line, *save = NULL;

	if (host_read(h, "/etc/crypttab", CRYPTTAB_MAX, &buf) < 0)
		return false;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[4], *fsave = NULL;

		line[strcspn(line, "#")] = '\0';
		for (int i = 0; i < 4; i++)
			f[i] = strtok_r(i ? NULL : line, " \t", &fsave);
		if (!f[0] || !f[1] || !f[2] || !f[3] ||
		    strcmp(f[0], dmname) != 0)
			continue;
		if ((strcmp(f[2], "/dev/urandom") != 0 &&
		     strcmp(f[2], "/dev/random") != 0) ||
		    !has_option(f[3], "swap") ||
		    !crypttab_device_is(h, f[1], under))
			return false;
		*settings = crypttab_settings(f[3], li);
		return true;
	}
	return false;
}
