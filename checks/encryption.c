/*
 * encryption: is the data on this laptop's disks encrypted at rest?
 *
 * For /, every mount the policy lists, every active swap and the
 * hibernation resume device, the block-device stack is walked through
 * sysfs from the mount's device down to the physical disks. Data is
 * encrypted when a dm-crypt layer sits on every path from the mount to a
 * disk. Each LUKS layer's header is read with libcryptsetup and judged
 * against the policy's ciphers and minimum key size, and its tokens say
 * how it unlocks (passphrase, TPM2, FIDO2...); what sits on a device with
 * no dm-crypt above it is named with libblkid. A plain dm-crypt swap that
 * /etc/crypttab keys from the kernel's random generator at every boot is
 * encrypted: its contents die at power-off. eCryptfs mounts are their own
 * layer. When / is plain but some home folders are encrypted (eCryptfs,
 * fscrypt, systemd-homed), the summary says so.
 */
#include <dirent.h>
#include <errno.h>
#include <libmount/libmount.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "blockdev.h"
#include "check.h"
#include "messages.h"
#include "users.h"
#include "zfs.h"
#include "util.h"

/* A stack deeper than this is a loop in the fixture or the kernel. */
#define MAX_DEPTH 16
/* /etc/crypttab is a few lines; more than this is not a crypttab. */
#define CRYPTTAB_MAX (256 * 1024)

enum verdict { V_ENCRYPTED, V_PLAIN, V_UNKNOWN, V_MEMORY };

static const char *const verdict_names[] = {
	[V_ENCRYPTED] = "encrypted", [V_PLAIN] = "not encrypted",
	[V_UNKNOWN] = "unknown", [V_MEMORY] = "in memory",
};

/* What was read from one device during one evaluation: many mounts sit on
 * one LUKS container, and reading its header is the costly part. */
struct seen {
	char *name;
	bool read;		/* the sysfs facts below are filled in */
	int nslaves;		/* blockdev_slaves() result */
	char **slaves;
	char *uuid, *dmname, *level, *backing;
	int luks_r;		/* blockdev_luks() result; 1: not read yet */
	struct luks_info luks;
	int probe_r;		/* blockdev_probe() result; 1: not yet */
	char *probe;
	struct seen *next;
};

struct walk {
	const struct host *h;
	const struct policy *p;
	struct libmnt_table *mounts;
	FILE *chain;		/* the stack as text, for IT */
	char *chain_buf;
	size_t chain_len;
	json_t *layers;		/* every dm-crypt layer met */
	json_t *problems;	/* weak settings, in words */
	json_t *preboot;	/* disks that unlock by themselves */
	char *unknown;		/* why the verdict is unknown */
	unsigned quiet;		/* below a crypt layer: describe only */
	struct seen *seen;
};

static struct seen *seen_get(struct walk *w, const char *name)
{
	struct seen *s;

	for (s = w->seen; s; s = s->next)
		if (strcmp(s->name, name) == 0)
			return s;
	s = xcalloc(1, sizeof(*s));
	s->name = xstrdup(name);
	s->luks_r = s->probe_r = 1;
	s->next = w->seen;
	w->seen = s;
	return s;
}

static void seen_free(struct walk *w)
{
	while (w->seen) {
		struct seen *s = w->seen;

		w->seen = s->next;
		free(s->name);
		blockdev_strv_free(s->slaves);
		free(s->uuid);
		free(s->dmname);
		free(s->level);
		free(s->backing);
		free(s->probe);
		free(s);
	}
}

/* A device's sysfs facts, read once per evaluation. */
static struct seen *device(struct walk *w, const char *name)
{
	struct seen *s = seen_get(w, name);

	if (s->read)
		return s;
	s->read = true;
	s->nslaves = blockdev_slaves(w->h, name, &s->slaves);
	blockdev_attr(w->h, name, "dm/uuid", &s->uuid);
	blockdev_attr(w->h, name, "dm/name", &s->dmname);
	blockdev_attr(w->h, name, "md/level", &s->level);
	blockdev_attr(w->h, name, "loop/backing_file", &s->backing);
	return s;
}

static int read_luks(struct walk *w, const char *name, struct luks_info *li)
{
	struct seen *s = seen_get(w, name);

	if (s->luks_r == 1)
		s->luks_r = blockdev_luks(w->h, name, &s->luks);
	*li = s->luks;
	return s->luks_r;
}

/* What libblkid sees on name, or NULL (not to be freed). */
static const char *probe(struct walk *w, const char *name)
{
	struct seen *s = seen_get(w, name);

	if (s->probe_r == 1)
		s->probe_r = blockdev_probe(w->h, name, &s->probe);
	return s->probe_r == 0 ? s->probe : NULL;
}

static enum verdict judge_path(struct walk *w, const char *path,
			       unsigned depth);

static void set_unknown(struct walk *w, const char *fmt, ...) _printf_(2, 3);

static void set_unknown(struct walk *w, const char *fmt, ...)
{
	va_list ap;

	if (w->quiet || w->unknown)
		return;
	va_start(ap, fmt);
	if (vasprintf(&w->unknown, fmt, ap) < 0)
		w->unknown = NULL;
	va_end(ap);
}

static void problem(struct walk *w, const char *fmt, ...) _printf_(2, 3);

static void problem(struct walk *w, const char *fmt, ...)
{
	va_list ap;

	if (w->quiet)
		return;
	va_start(ap, fmt);
	json_array_append_new(w->problems, json_lossy_vprintf(fmt, ap));
	va_end(ap);
}

/* Worst of two verdicts on parallel paths. */
static enum verdict combine(enum verdict a, enum verdict b)
{
	if (a == V_PLAIN || b == V_PLAIN)
		return V_PLAIN;
	if (a == V_UNKNOWN || b == V_UNKNOWN)
		return V_UNKNOWN;
	if (a == V_ENCRYPTED || b == V_ENCRYPTED)
		return V_ENCRYPTED;
	return V_MEMORY;
}

/* "aes-xts" for aes/xts-plain64; "adiantum" for xchacha12,aes/adiantum. */
static char *cipher_family(const char *cipher, const char *mode)
{
	size_t n = strcspn(mode, "-");

	if (strncmp(mode, "adiantum", 8) == 0)
		return xstrdup("adiantum");
	return xasprintf("%s-%.*s", cipher, (int)n, mode);
}

static void judge_layer(struct walk *w, const char *name,
			const struct luks_info *li)
{
	_cleanup_free_ char *family = cipher_family(li->cipher, li->mode);
	const struct policy *p = w->p;

	if (!policy_list_has(&p->encryption.allowed_ciphers, family))
		problem(w, "%s: cipher %s-%s is not one the policy allows",
			name, li->cipher, li->mode);
	if (li->key_bits < (int)p->encryption.min_key_bits)
		problem(w, "%s: %d-bit key is below the policy's minimum of "
			   "%u bits", name, li->key_bits,
			p->encryption.min_key_bits);
}

/* How the layer unlocks, into its evidence; under require_preboot_auth a
 * way that needs nobody at the keyboard is a finding. */
static void judge_unlock(struct walk *w, json_t *layer, const char *name,
			 unsigned unlock)
{
	json_t *ways = json_array();
	_cleanup_free_ char *autos = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&autos, &len);

	if (!f)
		abort();
	for (unsigned bit = 1; bit <= UNLOCK_LAST; bit <<= 1) {
		if (!(unlock & bit))
			continue;
		json_array_append_new(ways,
				      json_string(blockdev_unlock_name(bit)));
		if (bit & UNLOCK_AUTOMATIC)
			fprintf(f, "%s%s", len ? ", " : "",
				blockdev_unlock_name(bit));
		fflush(f);
	}
	fclose(f);
	json_object_set_new(layer, "unlock", ways);
	if (w->quiet || !w->p->encryption.require_preboot_auth || !len)
		return;
	json_lossy_append(w->preboot, "%s unlocks by itself at power-on (%s)",
			  name, autos);
}

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
static bool crypttab_device_is(struct walk *w, const char *field,
			       const char *under)
{
	_cleanup_free_ char *name = NULL;

	if (strncmp(field, "/dev/", 5) != 0)
		return strchr(field, '=') != NULL;
	return blockdev_name_from_path(w->h, field, &name) == 0 &&
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

/* Whether /etc/crypttab maps dmname over device under with a key read
 * from the kernel's random generator and the swap option (a new key and
 * mkswap at every boot): the Debian installer's "random key" and
 * Ubuntu's ecryptfs-setup-swap. *li gets cipher= and size= when both
 * are given (*settings). */
static bool random_key_swap(struct walk *w, const char *dmname,
			    const char *under, struct luks_info *li,
			    bool *settings)
{
	_cleanup_free_ char *buf = NULL;
	char *line, *save = NULL;

	if (host_read(w->h, "/etc/crypttab", CRYPTTAB_MAX, &buf) < 0)
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
		    !crypttab_device_is(w, f[1], under))
			return false;
		*settings = crypttab_settings(f[3], li);
		return true;
	}
	return false;
}

/* The chain's words and the evidence for a layer whose settings were
 * read, and their judgement. */
static void layer_settings(struct walk *w, json_t *layer, const char *name,
			   const char *kind, const struct luks_info *li,
			   bool random)
{
	fprintf(w->chain, "%s (%s %s-%s %d-bit%s%s%s)", name,
		li->type[0] ? li->type : kind, li->cipher, li->mode,
		li->key_bits, li->pbkdf[0] ? ", " : "", li->pbkdf,
		random ? ", encrypted with a new random key at every boot"
		       : "");
	json_object_update_new(layer, json_pack(
		"{s:s, s:s, s:i, s:s}", "cipher", li->cipher, "mode",
		li->mode, "key_bits", li->key_bits, "pbkdf", li->pbkdf));
	if (li->type[0])
		json_object_set_new(layer, "type", json_string(li->type));
	if (li->unlock)
		judge_unlock(w, layer, name, li->unlock);
	judge_layer(w, name, li);
}

/* A dm-crypt layer: read its settings and judge them. Returns whether
 * they could be read (a random-key swap whose cipher is unread is not
 * known to be strong). */
static bool crypt_layer(struct walk *w, const struct seen *d)
{
	const char *name = d->name, *dmname = d->dmname;
	char **slaves = d->slaves;
	int nslaves = d->nslaves;
	char kind[16] = "";
	struct luks_info li, tab;
	bool plain, random = false, tab_read = false;
	json_t *layer;
	int r = -ENODEV;

	sscanf(d->uuid, "CRYPT-%15[A-Z0-9]", kind);
	plain = strcmp(kind, "PLAIN") == 0;
	/* In the header: LUKS version, cipher, key size and PBKDF. */
	if (strncmp(kind, "LUKS", 4) == 0 && nslaves == 1)
		r = read_luks(w, slaves[0], &li);
	if (r < 0 && dmname)
		r = blockdev_active_crypt(w->h, dmname, &li);
	if (plain && dmname && nslaves == 1)
		random = random_key_swap(w, dmname, slaves[0], &tab, &tab_read);
	/* The kernel's table first; crypttab's words where it is unread. */
	if (r < 0 && random && tab_read) {
		li = tab;
		r = 0;
	}
	layer = json_pack("{s:s, s:s}", "device", name, "type",
			  plain ? "plain dm-crypt" : kind);
	if (dmname)
		json_object_set_new(layer, "name", json_string_lossy(dmname));
	if (random)
		json_object_set_new(layer, "key_source", json_string(
			"a new random key at every boot (/etc/crypttab)"));
	if (plain && !random && !w->p->encryption.allow_plain_dmcrypt)
		problem(w, "%s: plain dm-crypt (no LUKS header) is not allowed "
			   "by the policy", name);
	if (r < 0) {
		fprintf(w->chain, "%s (%s dm-crypt, settings unreadable%s)",
			name, kind, random ? ", encrypted with a new random "
					     "key at every boot" : "");
		json_object_set_new(layer, "error",
				    json_string(strerror(-r)));
		/* A random key does not make an unknown cipher strong. */
		set_unknown(w, "%s is encrypted%s, but its settings could "
			       "not be read (%s)", name,
			    random ? " with a new random key at every boot" : "",
			    strerror(-r));
	} else {
		layer_settings(w, layer, name, kind, &li, random);
	}
	if (!w->quiet)
		json_array_append_new(w->layers, layer);
	else
		json_decref(layer);
	return r == 0;
}

static enum verdict walk_dev(struct walk *w, const char *name,
			     unsigned depth);

/* The devices beneath a layer: every one must be encrypted. */
static enum verdict walk_slaves(struct walk *w, char **slaves, int n,
				unsigned depth)
{
	enum verdict v = V_MEMORY;

	fputs(" -> ", w->chain);
	if (n > 1)
		fputc('[', w->chain);
	for (int i = 0; i < n; i++) {
		if (i)
			fputs(" + ", w->chain);
		v = combine(v, walk_dev(w, slaves[i], depth + 1));
	}
	if (n > 1)
		fputc(']', w->chain);
	return v;
}

/* A device with nothing beneath it in sysfs. */
static enum verdict walk_leaf(struct walk *w, const struct seen *d,
			      unsigned depth)
{
	const char *name = d->name, *backing = d->backing;
	const char *type;

	if (backing && backing[0]) {
		/* A loop device's data is in a file: judge where that is
		 * (below a crypt layer there is nothing left to judge). */
		fprintf(w->chain, "%s (file %s)", name, backing);
		if (w->quiet)
			return V_ENCRYPTED;
		fputs(" -> ", w->chain);
		return judge_path(w, backing, depth + 1);
	}
	if (strncmp(name, "zram", 4) == 0) {
		fprintf(w->chain, "%s (compressed memory)", name);
		return V_MEMORY;
	}
	type = probe(w, name);
	if (type)
		fprintf(w->chain, "%s (%s)", name, type);
	else
		fputs(name, w->chain);
	return V_PLAIN;
}

static bool is_crypt(const char *uuid)
{
	/* dm-verity and dm-integrity are cryptsetup's, but do not encrypt. */
	return uuid && strncmp(uuid, "CRYPT-", 6) == 0 &&
	       strncmp(uuid, "CRYPT-VERITY", 12) != 0 &&
	       strncmp(uuid, "CRYPT-INTEGRITY", 15) != 0 &&
	       strncmp(uuid, "CRYPT-SUBDEV", 12) != 0;
}

static enum verdict walk_dev(struct walk *w, const char *name,
			     unsigned depth)
{
	const struct seen *d;
	enum verdict v;

	if (depth > MAX_DEPTH) {
		set_unknown(w, "the device stack is deeper than %d layers",
			    MAX_DEPTH);
		return V_UNKNOWN;
	}
	d = device(w, name);
	if (d->nslaves < 0) {
		fputs(name, w->chain);
		set_unknown(w, "cannot read the devices beneath %s (%s)", name,
			    strerror(-d->nslaves));
		return V_UNKNOWN;
	}
	if (is_crypt(d->uuid)) {
		/* Encrypted, but unverified settings are not a pass. */
		v = crypt_layer(w, d) ? V_ENCRYPTED : V_UNKNOWN;
		/* What lies beneath is described, not judged. */
		w->quiet++;
		if (d->nslaves > 0)
			walk_slaves(w, d->slaves, d->nslaves, depth);
		w->quiet--;
		return v;
	}
	if (d->nslaves == 0)
		return walk_leaf(w, d, depth);
	if (d->uuid && strncmp(d->uuid, "LVM-", 4) == 0)
		fprintf(w->chain, "%s (LVM %s)", name,
			d->dmname ? d->dmname : "?");
	else if (d->uuid || d->dmname)
		fprintf(w->chain, "%s (device-mapper %s)", name,
			d->dmname ? d->dmname : d->uuid);
	else if (d->level)
		fprintf(w->chain, "%s (%s)", name, d->level);
	else
		fputs(name, w->chain);
	return walk_slaves(w, d->slaves, d->nslaves, depth);
}

/* --- mounts --- */

static bool fstype_in(const char *type, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(type, *list) == 0)
			return true;
	return false;
}

static const char *const memory_fs[] = { "tmpfs", "ramfs", "devtmpfs",
					 "hugetlbfs", NULL };
static const char *const network_fs[] = {
	"nfs", "nfs4", "cifs", "smb3", "smbfs", "ncpfs", "9p", "ceph",
	"glusterfs", "afs", "davfs", "fuse.sshfs", "fuse.glusterfs",
	"fuse.s3fs", "fuse.rclone", "fuse.davfs2", "fuse.gvfsd-fuse", NULL,
};

/* The mount that holds path: the longest matching target, and of
 * several mounts on one target the last (it hides the others). */
static struct libmnt_fs *mount_of(struct libmnt_table *tb, const char *path)
{
	struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
	struct libmnt_fs *fs, *best = NULL;
	size_t best_len = 0;

	while (mnt_table_next_fs(tb, it, &fs) == 0) {
		const char *t = mnt_fs_get_target(fs);
		size_t n = t ? strlen(t) : 0;

		if (!t || strncmp(path, t, n) != 0)
			continue;
		if (n > 1 && path[n] != '/' && path[n] != '\0')
			continue;
		if (n >= best_len) {
			best = fs;
			best_len = n;
		}
	}
	mnt_free_iter(it);
	return best;
}

/* Every device of the btrfs filesystem that has device name, from
 * /sys/fs/btrfs/UUID/devices/. Returns how many, or 0 when not found. */
static int btrfs_devices(const struct host *h, const char *name,
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

static enum verdict judge_btrfs(struct walk *w, const char *name,
				unsigned depth)
{
	char **devs = NULL;
	int n = btrfs_devices(w->h, name, &devs);
	enum verdict v;

	if (n <= 1) {
		blockdev_strv_free(devs);
		return walk_dev(w, name, depth + 1);
	}
	fprintf(w->chain, "btrfs on %d devices", n);
	v = walk_slaves(w, devs, n, depth);
	blockdev_strv_free(devs);
	return v;
}

/* eCryptfs encrypts each file into a lower directory: the mount is the
 * layer, judged on its mount options (the kernel shows ecryptfs_cipher
 * and ecryptfs_key_bytes; its files are CBC), and the lower directory's
 * filesystem is described beneath it. */
static enum verdict judge_ecryptfs(struct walk *w, struct libmnt_fs *fs,
				   unsigned depth)
{
	const char *src = mnt_fs_get_srcpath(fs);
	const char *target = mnt_fs_get_target(fs);
	struct luks_info li = { .type = "eCryptfs", .cipher = "aes",
				.mode = "cbc", .key_bits = 128 };
	char *val = NULL;
	size_t len = 0;

	if (mnt_fs_get_option(fs, "ecryptfs_cipher", &val, &len) == 0 && val &&
	    len > 0 && len < sizeof(li.cipher))
		snprintf(li.cipher, sizeof(li.cipher), "%.*s", (int)len, val);
	if (mnt_fs_get_option(fs, "ecryptfs_key_bytes", &val, &len) == 0 &&
	    val && len < 8)
		li.key_bits = atoi(val) * 8;
	fprintf(w->chain, "ecryptfs (%s-%s %d-bit) on %s", li.cipher, li.mode,
		li.key_bits, src ? src : "?");
	if (!w->quiet)
		json_array_append_new(w->layers, json_pack(
			"{s:s, s:s, s:s, s:s, s:i}", "device", target, "type",
			"eCryptfs", "cipher", li.cipher, "mode", li.mode,
			"key_bits", li.key_bits));
	judge_layer(w, target, &li);
	if (src && src[0] == '/') {
		fputs(" -> ", w->chain);
		w->quiet++;
		judge_path(w, src, depth + 1);
		w->quiet--;
	}
	return V_ENCRYPTED;
}

/* A ZFS dataset is its own layer: its native encryption, from the zfs
 * tool. A key read from a file is as safe as the place it is kept, so
 * that mount is judged too (Ubuntu keeps it in a LUKS keystore on a
 * zvol; a key file on a plain disk gives the data to whoever has it). */
static enum verdict judge_zfs(struct walk *w, struct libmnt_fs *fs,
			      unsigned depth)
{
	const char *name = mnt_fs_get_source(fs);
	const char *key;
	struct luks_info li = { .type = "ZFS" };
	_cleanup_free_ char *why = NULL;
	struct zfs_crypt c;
	enum verdict v;

	name = name ? name : "";
	fprintf(w->chain, "zfs %s", name);
	if (zfs_read(w->h, name, &c, &why) < 0) {
		set_unknown(w, "%s is on ZFS (%s): %s", mnt_fs_get_target(fs),
			    name, why);
		return V_UNKNOWN;
	}
	if (strcmp(c.cipher, "off") == 0) {
		fputs(" (not encrypted)", w->chain);
		return V_PLAIN;
	}
	if (zfs_cipher(&c, li.cipher, li.mode, &li.key_bits) < 0) {
		set_unknown(w, "%s: ZFS encryption \"%s\" is not one known",
			    name, c.cipher);
		return V_UNKNOWN;
	}
	fprintf(w->chain, " (%s, key %s, %s)", c.cipher, c.keystatus,
		zfs_unlock_kind(&c));
	if (!w->quiet)
		json_array_append_new(w->layers, json_pack(
			"{s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:[s]}",
			"device", name, "type", "ZFS", "cipher", li.cipher,
			"mode", li.mode, "key_bits", li.key_bits,
			"encryption_root", c.encroot, "keyformat",
			c.keyformat, "keylocation", c.keylocation, "unlock",
			zfs_unlock_kind(&c)));
	judge_layer(w, name, &li);
	key = zfs_key_file(&c);
	if (key && key[0] == '/') {
		fprintf(w->chain, ", key file %s -> ", key);
		v = judge_path(w, key, depth + 1);
		if (v == V_PLAIN)
			problem(w, "%s: its key is read at boot from %s, on a "
				   "disk that is not encrypted: whoever has the "
				   "disk has the key", name, key);
		if (v == V_UNKNOWN)
			return V_UNKNOWN;
	} else if (zfs_unlocks_by_itself(&c) && !w->quiet &&
		   w->p->encryption.require_preboot_auth) {
		json_lossy_append(w->preboot, "%s unlocks by itself at "
				  "power-on (%s)", name, c.keylocation);
	}
	return V_ENCRYPTED;
}

static enum verdict judge_mount(struct walk *w, struct libmnt_fs *fs,
				unsigned depth)
{
	const char *type = mnt_fs_get_fstype(fs);
	const char *src = mnt_fs_get_srcpath(fs);
	dev_t devno = mnt_fs_get_devno(fs);
	_cleanup_free_ char *name = NULL, *upper = NULL;
	size_t len = 0;
	char *val = NULL;
	int r;

	type = type ? type : "?";
	fprintf(w->chain, "%s -> ", mnt_fs_get_target(fs));
	if (depth > MAX_DEPTH) {
		set_unknown(w, "mounts nest deeper than %d", MAX_DEPTH);
		return V_UNKNOWN;
	}
	if (fstype_in(type, memory_fs)) {
		fprintf(w->chain, "%s (in memory)", type);
		return V_MEMORY;
	}
	if (fstype_in(type, network_fs)) {
		fprintf(w->chain, "%s %s (network)", type, src ? src : "");
		set_unknown(w, "%s is a network filesystem (%s): its data is "
			       "stored and encrypted, or not, on the server",
			    mnt_fs_get_target(fs), type);
		return V_UNKNOWN;
	}
	if (strcmp(type, "overlay") == 0) {
		if (mnt_fs_get_option(fs, "upperdir", &val, &len) == 0 && val) {
			upper = xstrndup(val, len);
			fprintf(w->chain, "overlay upper %s -> ", upper);
			return judge_path(w, upper, depth + 1);
		}
		fputs("overlay", w->chain);
		set_unknown(w, "%s is an overlay with no upper layer",
			    mnt_fs_get_target(fs));
		return V_UNKNOWN;
	}
	if (strcmp(type, "ecryptfs") == 0)
		return judge_ecryptfs(w, fs, depth);
	if (strcmp(type, "zfs") == 0)
		return judge_zfs(w, fs, depth);
	r = major(devno) ? blockdev_name_from_devno(w->h, major(devno),
						    minor(devno), &name)
			 : -ENODEV;
	/* btrfs shows an anonymous device number: follow its source. */
	if (r < 0 && src && src[0] == '/')
		r = blockdev_name_from_path(w->h, src, &name);
	if (r < 0) {
		fprintf(w->chain, "%s %s", type, src ? src : "");
		set_unknown(w, "cannot find the block device of %s (%s %s)",
			    mnt_fs_get_target(fs), type, strerror(-r));
		return V_UNKNOWN;
	}
	if (strcmp(type, "btrfs") == 0)
		return judge_btrfs(w, name, depth);
	return walk_dev(w, name, depth + 1);
}

static enum verdict judge_path(struct walk *w, const char *path,
			       unsigned depth)
{
	struct libmnt_fs *fs = mount_of(w->mounts, path);

	if (!fs) {
		set_unknown(w, "no mount holds %s", path);
		return V_UNKNOWN;
	}
	return judge_mount(w, fs, depth);
}

/* --- targets: what is judged, and the finding --- */

enum target_kind { T_MOUNT, T_SWAP, T_RESUME };

struct result {
	json_t *targets;	/* evidence, one object each */
	json_t *judged;		/* mount targets done: no repeats */
	unsigned plain_main, plain_other, unknown;
	json_t *plain;		/* what is not encrypted, for the summary */
	json_t *weak;		/* every weak setting, in words */
	json_t *preboot;	/* every disk that unlocks by itself */
	char *why_unknown;
};

static void walk_begin(struct walk *w)
{
	w->chain = open_memstream(&w->chain_buf, &w->chain_len);
	if (!w->chain)
		abort();
	w->layers = json_array();
	w->problems = json_array();
	w->preboot = json_array();
	w->unknown = NULL;
}

/* Close a walk over one target and add it to the result. */
static void walk_end(struct walk *w, struct result *res, enum target_kind k,
		     const char *what, enum verdict v)
{
	static const char *const kinds[] = { "mount", "swap", "resume" };
	json_t *t;

	fclose(w->chain);
	t = json_pack("{s:s, s:o, s:s, s:o, s:o, s:o}", "kind", kinds[k],
		      "what", json_string_lossy(what), "verdict",
		      verdict_names[v], "chain", json_string_lossy(w->chain_buf),
		      "layers", w->layers, "problems", w->problems);
	if (v == V_UNKNOWN)
		json_object_set_new(t, "reason", json_string_lossy(
				       w->unknown ? w->unknown : "unknown"));
	json_array_append_new(res->targets, t);
	if (v == V_PLAIN) {
		if (k == T_MOUNT)
			res->plain_main++;
		else
			res->plain_other++;
		json_array_append_new(res->plain, json_string_lossy(what));
	} else if (v == V_UNKNOWN) {
		res->unknown++;
		if (!res->why_unknown)
			res->why_unknown = xstrdup(w->unknown ? w->unknown
							      : what);
	}
	json_array_extend(res->weak, w->problems);
	json_array_extend(json_object_get(t, "problems"), w->preboot);
	json_array_extend(res->preboot, w->preboot);
	json_decref(w->preboot);
	free(w->chain_buf);
	free(w->unknown);
	w->chain_buf = w->unknown = NULL;
}

static bool judged(struct result *res, const char *target)
{
	size_t i;
	json_t *t;

	json_array_foreach(res->judged, i, t)
		if (strcmp(json_string_value(t), target) == 0)
			return true;
	json_array_append_new(res->judged, json_string_lossy(target));
	return false;
}

/* /, then the policy's mounts; a path that is not a mount of its own is
 * covered by the mount that holds it. */
static void judge_mounts(struct walk *w, struct result *res)
{
	const struct policy_list *l = &w->p->encryption.mounts;

	for (size_t i = 0; i <= l->n; i++) {
		const char *path = i == 0 ? "/" : l->v[i - 1];
		struct libmnt_fs *fs = mount_of(w->mounts, path);
		enum verdict v;

		if (fs && judged(res, mnt_fs_get_target(fs)))
			continue;
		walk_begin(w);
		if (fs) {
			v = judge_mount(w, fs, 0);
		} else {
			set_unknown(w, "no mount holds %s", path);
			v = V_UNKNOWN;
		}
		walk_end(w, res, T_MOUNT, fs ? mnt_fs_get_target(fs) : path, v);
	}
}

static void judge_swaps(struct walk *w, struct result *res)
{
	_cleanup_free_ char *path = host_path(w->h, "/proc/swaps");
	struct libmnt_table *tb = mnt_new_table();
	struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
	struct libmnt_fs *fs;
	int r;

	r = mnt_table_parse_swaps(tb, path);
	if (r < 0) {
		walk_begin(w);
		set_unknown(w, "cannot read /proc/swaps (%s)", strerror(-r));
		walk_end(w, res, T_SWAP, "/proc/swaps", V_UNKNOWN);
	}
	while (r == 0 && mnt_table_next_fs(tb, it, &fs) == 0) {
		const char *src = mnt_fs_get_srcpath(fs);
		const char *type = mnt_fs_get_swaptype(fs);
		_cleanup_free_ char *name = NULL;
		enum verdict v;
		int e;

		if (!src)
			continue;
		walk_begin(w);
		fprintf(w->chain, "swap %s -> ", src);
		if (type && strcmp(type, "file") == 0) {
			v = judge_path(w, src, 1);
		} else if ((e = blockdev_name_from_path(w->h, src, &name)) == 0) {
			v = walk_dev(w, name, 1);
		} else {
			set_unknown(w, "cannot find the swap device %s (%s)",
				    src, strerror(-e));
			v = V_UNKNOWN;
		}
		walk_end(w, res, T_SWAP, src, v);
	}
	mnt_free_iter(it);
	mnt_free_table(tb);
}

/* The hibernation image goes to /sys/power/resume ("0:0" when none). */
static void judge_resume(struct walk *w, struct result *res)
{
	_cleanup_free_ char *devno = NULL, *name = NULL;
	unsigned maj, min;
	enum verdict v;
	int r;

	if (host_read_line(w->h, "/sys/power/resume", &devno) < 0 ||
	    sscanf(devno, "%u:%u", &maj, &min) != 2 || (maj == 0 && min == 0))
		return;
	walk_begin(w);
	fputs("resume -> ", w->chain);
	r = blockdev_name_from_devno(w->h, maj, min, &name);
	if (r == 0) {
		v = walk_dev(w, name, 1);
	} else {
		set_unknown(w, "cannot find the resume device %s (%s)", devno,
			    strerror(-r));
		v = V_UNKNOWN;
	}
	walk_end(w, res, T_RESUME, devno, v);
}

static char *joined(const json_t *arr, const char *sep)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);
	json_t *s;

	if (!f)
		abort();
	json_array_foreach(arr, i, s)
		fprintf(f, "%s%s", i ? sep : "", json_string_value(s));
	fclose(f);
	return buf;
}

/* The people whose home folders are encrypted although the disk is not
 * ([{"user", "encryption"}]), and "alice's home folder is" or "alice's
 * and bob's home folders are" for the summary (NULL when none). */
static char *encrypted_homes(const struct host *h, json_t *homes)
{
	struct user *users = NULL;
	int n = users_list(h, NULL, &users), k = 0, done = 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	for (int i = 0; i < n; i++)
		k += users[i].encryption != NULL;
	if (k == 0) {
		users_free(users, n > 0 ? n : 0);
		return NULL;
	}
	f = open_memstream(&buf, &len);
	if (!f)
		abort();
	for (int i = 0; i < n; i++) {
		if (!users[i].encryption)
			continue;
		json_array_append_new(homes, json_pack(
			"{s:o, s:s}", "user", json_string_lossy(users[i].name),
			"encryption", users[i].encryption));
		/* Three names, then a count: a summary is one line. */
		if (++done > 3)
			continue;
		fprintf(f, "%s%s's", done == 1 ? "" : done == k ? " and " : ", ",
			users[i].name);
	}
	if (k > 3)
		fprintf(f, " and %d other people's", k - 3);
	fputs(k == 1 ? " home folder is" : " home folders are", f);
	fclose(f);
	users_free(users, n);
	return buf;
}

static bool judged_plain(const struct result *res, const char *what)
{
	size_t i;
	json_t *t;

	json_array_foreach(res->plain, i, t)
		if (strcmp(json_string_value(t), what) == 0)
			return true;
	return false;
}

static void conclude(const struct host *h, struct finding *f,
		     const struct result *res)
{
	_cleanup_free_ char *plain = joined(res->plain, ", ");
	_cleanup_free_ char *weak = joined(res->weak, "; ");
	_cleanup_free_ char *preboot = joined(res->preboot, "; ");
	_cleanup_free_ char *s = NULL, *homes = NULL;
	json_t *list = json_array();

	/* "The rest of the disk" is only true when / itself is plain. */
	if (res->plain_main && judged_plain(res, "/"))
		homes = encrypted_homes(h, list);
	if (homes) {
		finding_evidence_json(f, "encrypted_homes", list);
		list = NULL;
		s = xasprintf(SAY_ENCRYPTION_HOME_ONLY, homes, plain);
		finding_set(f, CHECK_FAIL, s, SAY_ENCRYPTION_PLAIN_DO);
	} else if (res->plain_main) {
		s = xasprintf(SAY_ENCRYPTION_PLAIN, plain);
		finding_set(f, CHECK_FAIL, s, SAY_ENCRYPTION_PLAIN_DO);
	} else if (res->plain_other) {
		s = xasprintf(SAY_ENCRYPTION_SWAP, plain);
		finding_set(f, CHECK_FAIL, s, SAY_ENCRYPTION_SWAP_DO);
	} else if (json_array_size(res->weak)) {
		s = xasprintf(SAY_ENCRYPTION_WEAK, weak);
		finding_set(f, CHECK_FAIL, s, SAY_ENCRYPTION_WEAK_DO);
	} else if (json_array_size(res->preboot)) {
		s = xasprintf(SAY_ENCRYPTION_PREBOOT, preboot);
		finding_set(f, CHECK_FAIL, s, SAY_ENCRYPTION_PREBOOT_DO);
	} else if (res->unknown) {
		s = xasprintf(SAY_ENCRYPTION_UNKNOWN, res->why_unknown);
		finding_set(f, CHECK_UNKNOWN, s, SAY_UNKNOWN_DO);
	} else {
		finding_set(f, CHECK_PASS, SAY_ENCRYPTION_PASS, NULL);
	}
	json_decref(list);
}

static int encryption_evaluate(struct host *h, const struct policy *p,
			       struct finding *f)
{
	/* init's mounts, not endpointd's own: a hardened service sees /home
	 * and more through a namespace of its own. */
	_cleanup_free_ char *path = host_path(h, "/proc/1/mountinfo");
	struct result res = { 0 };
	struct walk w = { .h = h, .p = p };

	w.mounts = mnt_new_table_from_file(path);
	if (!w.mounts)
		return errno ? -errno : -EIO;
	res.targets = json_array();
	res.judged = json_array();
	res.plain = json_array();
	res.weak = json_array();
	res.preboot = json_array();
	judge_mounts(&w, &res);
	judge_swaps(&w, &res);
	judge_resume(&w, &res);
	conclude(h, f, &res);
	finding_evidence_json(f, "targets", res.targets);
	finding_evidence_int(f, "min_key_bits", p->encryption.min_key_bits);
	finding_evidence_str(f, "allowed_ciphers", NULL);
	json_object_set_new(f->evidence, "allowed_ciphers", json_array());
	for (size_t i = 0; i < p->encryption.allowed_ciphers.n; i++)
		json_array_append_new(json_object_get(f->evidence,
						      "allowed_ciphers"),
				      json_string(p->encryption.allowed_ciphers.v[i]));
	json_decref(res.judged);
	json_decref(res.plain);
	json_decref(res.weak);
	json_decref(res.preboot);
	free(res.why_unknown);
	seen_free(&w);
	mnt_free_table(w.mounts);
	return 0;
}

const struct check_ops encryption_check = {
	.id = "encryption",
	.title = "Disk encryption",
	.evaluate = encryption_evaluate,
};
