/* SPDX-License-Identifier: Apache-2.0 */
/*
 * blockdev: sysfs, libblkid and libcryptsetup behind the root prefix.
 *
 * Devices are followed by kernel name through /sys/class/block/NAME, so
 * a fixture tree needs no absolute symlinks: /sys/dev/block/M:m and each
 * slaves/ entry only have to name the device.
 */
#include <blkid.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <libcryptsetup.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "blockdev.h"
#include "log.h"
#include "util.h"

/* Kernel block device names: no slash, nothing odd. */
static bool name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n < 64 && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0 &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:!+") == n;
}

/* The last path component a sysfs link points at. */
static int link_name(const char *path, char **name)
{
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	const char *base;

	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (!name_ok(base))
		return -EINVAL;
	*name = xstrdup(base);
	return 0;
}

int blockdev_name_from_devno(const struct host *h, unsigned maj,
			     unsigned min, char **name)
{
	_cleanup_free_ char *rel = xasprintf("/sys/dev/block/%u:%u", maj, min);
	_cleanup_free_ char *path = host_path(h, rel);

	return link_name(path, name);
}

int blockdev_attr(const struct host *h, const char *name, const char *attr,
		  char **value)
{
	_cleanup_free_ char *rel = NULL;

	if (!name_ok(name))
		return -EINVAL;
	rel = xasprintf("/sys/class/block/%s/%s", name, attr);
	return host_read_line(h, rel, value);
}

static bool exists(const struct host *h, const char *name)
{
	_cleanup_free_ char *rel = xasprintf("/sys/class/block/%s", name);
	_cleanup_free_ char *path = host_path(h, rel);

	return access(path, F_OK) == 0;
}

/* The dm device whose dm/name is dmname. */
static int name_from_dm_name(const struct host *h, const char *dmname,
			     char **name)
{
	_cleanup_free_ char *dir = host_path(h, "/sys/class/block");
	DIR *d = opendir(dir);
	struct dirent *de;
	int r = -ENODEV;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		_cleanup_free_ char *v = NULL;

		if (strncmp(de->d_name, "dm-", 3) != 0)
			continue;
		if (blockdev_attr(h, de->d_name, "dm/name", &v) == 0 &&
		    strcmp(v, dmname) == 0) {
			*name = xstrdup(de->d_name);
			r = 0;
			break;
		}
	}
	closedir(d);
	return r;
}

int blockdev_name_from_path(const struct host *h, const char *path,
			    char **name)
{
	_cleanup_free_ char *full = NULL;
	const char *base;
	struct stat st;

	if (strncmp(path, "/dev/mapper/", 12) == 0)
		return name_from_dm_name(h, path + 12, name);
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (strncmp(path, "/dev/", 5) == 0 && name_ok(base) &&
	    exists(h, base)) {
		*name = xstrdup(base);
		return 0;
	}
	/* /dev/disk/by-uuid/..., /dev/vg/lv: follow the node's number. */
	full = host_path(h, path);
	if (stat(full, &st) < 0)
		return -errno;
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	return blockdev_name_from_devno(h, major(st.st_rdev),
					minor(st.st_rdev), name);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void blockdev_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

int blockdev_names_in(const char *path, char ***names)
{
	char **v = xcalloc(1, sizeof(*v));
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(path);

	if (!d) {
		free(v);
		return -errno;
	}
	while ((de = readdir(d)) && n < BLOCKDEV_MAX_SLAVES) {
		if (de->d_name[0] == '.' || !name_ok(de->d_name))
			continue;
		v = xrealloc(v, (n + 2) * sizeof(*v));
		v[n++] = xstrdup(de->d_name);
		v[n] = NULL;
	}
	closedir(d);
	qsort(v, n, sizeof(*v), cmp_str);
	*names = v;
	return (int)n;
}

int blockdev_slaves(const struct host *h, const char *name, char ***slaves)
{
	_cleanup_free_ char *rel = NULL, *dir = NULL;
	int r;

	if (!name_ok(name))
		return -EINVAL;
	rel = xasprintf("/sys/class/block/%s/slaves", name);
	dir = host_path(h, rel);
	r = blockdev_names_in(dir, slaves);
	/* No slaves/ directory: a partition. But the device itself must
	 * exist, or sysfs is not there to read. */
	if (r == -ENOENT) {
		_cleanup_free_ char *drel = xasprintf("/sys/class/block/%s", name);
		_cleanup_free_ char *ddir = host_path(h, drel);

		if (access(ddir, F_OK) < 0)
			return -errno;
		*slaves = xcalloc(1, sizeof(**slaves));
		return 0;
	}
	return r;
}

/* /dev/NAME below the root, or NULL for a name that is no device name. */
static char *dev_node(const struct host *h, const char *name)
{
	_cleanup_free_ char *rel = NULL;

	if (!name_ok(name))
		return NULL;
	rel = xasprintf("/dev/%s", name);
	return host_path(h, rel);
}

static void probe_freep(blkid_probe *pr)
{
	if (*pr)
		blkid_free_probe(*pr);
}

int blockdev_probe(const struct host *h, const char *name, char **type)
{
	_cleanup_free_ char *path = dev_node(h, name);

	return path ? blockdev_probe_path(path, type) : -EINVAL;
}

int blockdev_probe_path(const char *path, char **type)
{
	_cleanup_(probe_freep) blkid_probe pr = NULL;
	const char *t = NULL;
	int r;

	errno = 0;
	pr = blkid_new_probe_from_filename(path);
	if (!pr)
		return errno ? -errno : -EIO;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
	blkid_probe_enable_partitions(pr, 1);
	r = blkid_do_safeprobe(pr);
	if (r == -2) {
		*type = xstrdup("ambivalent");
		return 0;
	}
	if (r < 0)
		return -EIO;
	if (r == 0 && blkid_probe_lookup_value(pr, "TYPE", &t, NULL) == 0)
		*type = xstrdup(t);
	else if (r == 0 &&
		 blkid_probe_lookup_value(pr, "PTTYPE", &t, NULL) == 0)
		*type = xasprintf("partition table (%s)", t);
	else
		*type = NULL;
	return 0;
}

static void crypt_freep(struct crypt_device **cd)
{
	if (*cd)
		crypt_free(*cd);
}

static void cryptsetup_log(int level, const char *msg, void *usrptr)
{
	(void)level;
	(void)usrptr;
	log_debug("libcryptsetup: %s", msg);
}

const char *blockdev_unlock_name(unsigned bit)
{
	switch (bit) {
	case UNLOCK_PASSPHRASE: return "passphrase";
	case UNLOCK_TPM2: return "TPM2 only";
	case UNLOCK_TPM2_PIN: return "TPM2 with PIN";
	case UNLOCK_FIDO2: return "FIDO2 security key";
	case UNLOCK_RECOVERY: return "recovery key";
	case UNLOCK_PKCS11: return "PKCS#11 smart card";
	case UNLOCK_CLEVIS_TPM2: return "clevis TPM2";
	case UNLOCK_CLEVIS_TANG: return "clevis tang server";
	case UNLOCK_CLEVIS_OTHER: return "clevis";
	default: return "other token";
	}
}

/* LUKS2's number of key slots, and of tokens (libcryptsetup's
 * LUKS2_KEYSLOTS_MAX and LUKS2_TOKENS_MAX, not in its public header). */
#define LUKS2_SLOTS 32

/* A JWE protected header is base64url without padding; at most 4 KB of
 * it is read. */
static json_t *b64url_json(const char *in)
{
	size_t n = strnlen(in, 4096), padded = (n + 3) / 4 * 4;
	_cleanup_free_ char *b64 = NULL;
	_cleanup_free_ unsigned char *out = NULL;
	int len;

	if (n == 0 || n == 4096)
		return NULL;
	b64 = xcalloc(1, padded + 1);
	for (size_t i = 0; i < padded; i++)
		b64[i] = i >= n ? '=' : in[i] == '-' ? '+' :
			 in[i] == '_' ? '/' : in[i];
	out = xcalloc(1, padded);
	len = EVP_DecodeBlock(out, (unsigned char *)b64, (int)padded);
	if (len < 0)
		return NULL;
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	while (len > 0 && out[len - 1] == '\0')
		len--;
	return json_loadb((const char *)out, (size_t)len, 0, NULL);
}

/* clevis keeps its pin's name in the JWE's protected header:
 * {"clevis": {"pin": "tang", ...}, ...}. */
static unsigned clevis_unlock(const json_t *tok)
{
	const char *prot = json_string_value(json_object_get(
		json_object_get(tok, "jwe"), "protected"));
	json_t *hdr = prot ? b64url_json(prot) : NULL;
	const char *pin = json_string_value(json_object_get(
		json_object_get(hdr, "clevis"), "pin"));
	unsigned u = UNLOCK_CLEVIS_OTHER;

	if (pin && strcmp(pin, "tpm2") == 0)
		u = UNLOCK_CLEVIS_TPM2;
	else if (pin && strcmp(pin, "tang") == 0)
		u = UNLOCK_CLEVIS_TANG;
	json_decref(hdr);
	return u;
}

/* What one token's JSON says: the way it unlocks. */
static unsigned token_unlock(const json_t *tok)
{
	const char *type = json_string_value(json_object_get(tok, "type"));

	if (!type)
		return UNLOCK_OTHER;
	if (strcmp(type, "systemd-tpm2") == 0)
		/* systemd reads an absent "tpm2-pin" as false. */
		return json_is_true(json_object_get(tok, "tpm2-pin"))
			       ? UNLOCK_TPM2_PIN : UNLOCK_TPM2;
	if (strcmp(type, "systemd-fido2") == 0)
		return UNLOCK_FIDO2;
	if (strcmp(type, "systemd-recovery") == 0)
		return UNLOCK_RECOVERY;
	if (strcmp(type, "systemd-pkcs11") == 0)
		return UNLOCK_PKCS11;
	if (strcmp(type, "clevis") == 0)
		return clevis_unlock(tok);
	return UNLOCK_OTHER;
}

static bool slot_active(struct crypt_device *cd, int slot)
{
	crypt_keyslot_info ks = crypt_keyslot_status(cd, slot);

	return ks == CRYPT_SLOT_ACTIVE || ks == CRYPT_SLOT_ACTIVE_LAST;
}

/* One token: its way of unlocking, when one of its key slots is active
 * (a token left behind by a wiped slot opens nothing); the slots it
 * claims are marked. */
static unsigned token_slots(struct crypt_device *cd, const json_t *tok,
			    bool claimed[LUKS2_SLOTS])
{
	bool active = false;
	json_t *ks;
	size_t i;

	json_array_foreach(json_object_get(tok, "keyslots"), i, ks) {
		const char *k = json_string_value(ks);
		char *end;
		long slot = k ? strtol(k, &end, 10) : -1;

		if (!k || *end || slot < 0 || slot >= LUKS2_SLOTS)
			continue;
		claimed[slot] = true;
		active |= slot_active(cd, (int)slot);
	}
	return active ? token_unlock(tok) : 0;
}

/* The LUKS2 tokens, and the active key slots none of them claims. */
static unsigned read_unlock(struct crypt_device *cd)
{
	bool claimed[LUKS2_SLOTS] = { false };
	unsigned u = 0;

	for (int t = 0; t < LUKS2_SLOTS; t++) {
		const char *text;
		json_t *tok;

		if (crypt_token_json_get(cd, t, &text) < 0)
			continue;
		tok = json_loads(text, 0, NULL);
		u |= token_slots(cd, tok, claimed);
		json_decref(tok);
	}
	for (int i = 0; i < LUKS2_SLOTS; i++)
		if (!claimed[i] && slot_active(cd, i))
			u |= UNLOCK_PASSPHRASE;
	return u;
}

static void fill_info(struct crypt_device *cd, struct luks_info *info)
{
	const char *s;

	memset(info, 0, sizeof(*info));
	s = crypt_get_type(cd);
	snprintf(info->type, sizeof(info->type), "%s", s ? s : "");
	s = crypt_get_cipher(cd);
	snprintf(info->cipher, sizeof(info->cipher), "%s", s ? s : "");
	s = crypt_get_cipher_mode(cd);
	snprintf(info->mode, sizeof(info->mode), "%s", s ? s : "");
	info->key_bits = crypt_get_volume_key_size(cd) * 8;
	for (int i = 0; i < crypt_keyslot_max(crypt_get_type(cd)); i++) {
		struct crypt_pbkdf_type pbkdf;
		crypt_keyslot_info ks = crypt_keyslot_status(cd, i);

		if (ks != CRYPT_SLOT_ACTIVE && ks != CRYPT_SLOT_ACTIVE_LAST)
			continue;
		if (crypt_keyslot_get_pbkdf(cd, i, &pbkdf) == 0 && pbkdf.type)
			snprintf(info->pbkdf, sizeof(info->pbkdf), "%s",
				 pbkdf.type);
		break;
	}
	if (strcmp(info->type, CRYPT_LUKS2) == 0)
		info->unlock = read_unlock(cd);
	else if (strcmp(info->type, CRYPT_LUKS1) == 0)
		info->unlock = UNLOCK_PASSPHRASE;	/* LUKS1 has no tokens */
}

int blockdev_luks(const struct host *h, const char *name,
		  struct luks_info *info)
{
	_cleanup_(crypt_freep) struct crypt_device *cd = NULL;
	_cleanup_free_ char *path = dev_node(h, name);
	int r;

	if (!path)
		return -EINVAL;
	crypt_set_log_callback(NULL, cryptsetup_log, NULL);
	r = crypt_init(&cd, path);
	if (r < 0)
		return r;
	crypt_set_log_callback(cd, cryptsetup_log, NULL);
	/* Reading a header takes no lock and changes nothing. */
	crypt_metadata_locking(cd, 0);
	r = crypt_load(cd, CRYPT_LUKS, NULL);
	if (r < 0)
		return r;
	fill_info(cd, info);
	return 0;
}

int blockdev_active_crypt(const struct host *h, const char *dmname,
			  struct luks_info *info)
{
	_cleanup_(crypt_freep) struct crypt_device *cd = NULL;
	int r;

	/* The kernel's mappings are not below a fixture root. */
	if (strcmp(host_root(h), "/") != 0)
		return -ENOTSUP;
	crypt_set_log_callback(NULL, cryptsetup_log, NULL);
	r = crypt_init_by_name(&cd, dmname);
	if (r < 0)
		return r;
	fill_info(cd, info);
	return 0;
}

int blockdev_btrfs_devices(const struct host *h, const char *name,
			   char ***devs)
{
	_cleanup_free_ char *base = host_path(h, "/sys/fs/btrfs");
	DIR *d = opendir(base);
	struct dirent *de;
	int n = 0;

	*devs = NULL;
	if (!d)
		return 0;
	while (n == 0 && (de = readdir(d))) {
		_cleanup_free_ char *dir = NULL, *probe = NULL;

		if (de->d_name[0] == '.')
			continue;
		dir = xasprintf("%s/%s/devices", base, de->d_name);
		probe = xasprintf("%s/%s", dir, name);
		if (access(probe, F_OK) != 0)
			continue;
		n = blockdev_names_in(dir, devs);
		if (n < 0)
			n = 0;
	}
	closedir(d);
	return n;
}
