/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cryptwalk: one mount, swap or device followed down its block-device
 * stack through sysfs to the physical disks, each layer judged on the
 * way: dm-crypt (LUKS headers with libcryptsetup, their tokens for how
 * they unlock, plain dm-crypt, the random-key swap of crypttab.c), LVM and
 * RAID, loop devices through their backing files, btrfs volumes, overlay
 * upper layers, eCryptfs mounts and ZFS datasets (zfs.c). What sits on a
 * device with no dm-crypt above it is named with libblkid. The result of
 * one walk is a verdict, its chain in words and the layers met; the
 * encryption check (encryption.c) decides what to walk.
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
#include "cryptwalk.h"
#include "crypttab.h"
#include "util.h"
#include "zfs.h"

/* A stack deeper than this is a loop in the fixture or the kernel. */
#define MAX_DEPTH 16


static const char *const verdict_names[] = {
	[V_ENCRYPTED] = "encrypted", [V_PLAIN] = "not encrypted",
	[V_UNKNOWN] = "unknown", [V_MEMORY] = "in memory",
};

const char *cryptwalk_verdict_name(enum verdict v)
{
	return verdict_names[v];
}

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

void cryptwalk_forget(struct walk *w)
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

void cryptwalk_unknown(struct walk *w, const char *fmt, ...)
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
		random = crypttab_random_swap(w->h, dmname, slaves[0], &tab,
					       &tab_read);
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
		cryptwalk_unknown(w, "%s is encrypted%s, but its settings "
				  "could not be read (%s)", name,
				  random ? " with a new random key at every "
					   "boot" : "", strerror(-r));
	} else {
		layer_settings(w, layer, name, kind, &li, random);
	}
	if (!w->quiet)
		json_array_append_new(w->layers, layer);
	else
		json_decref(layer);
	return r == 0;
}

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
		v = combine(v, cryptwalk_dev(w, slaves[i], depth + 1));
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
		return cryptwalk_path(w, backing, depth + 1);
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

enum verdict cryptwalk_dev(struct walk *w, const char *name,
			   unsigned depth)
{
	const struct seen *d;
	enum verdict v;

	if (depth > MAX_DEPTH) {
		cryptwalk_unknown(w, "the device stack is deeper than %d "
				  "layers", MAX_DEPTH);
		return V_UNKNOWN;
	}
	d = device(w, name);
	if (d->nslaves < 0) {
		fputs(name, w->chain);
		cryptwalk_unknown(w, "cannot read the devices beneath %s (%s)",
				  name, strerror(-d->nslaves));
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
struct libmnt_fs *cryptwalk_mount_of(struct libmnt_table *tb,
				     const char *path)
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

static enum verdict judge_btrfs(struct walk *w, const char *name,
				unsigned depth)
{
	char **devs = NULL;
	int n = blockdev_btrfs_devices(w->h, name, &devs);
	enum verdict v;

	if (n <= 1) {
		blockdev_strv_free(devs);
		return cryptwalk_dev(w, name, depth + 1);
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
		cryptwalk_path(w, src, depth + 1);
		w->quiet--;
	}
	return V_ENCRYPTED;
}

/* A dataset whose key is read from a file at start-up is as safe as the
 * place the file is kept, which is judged in turn. A file that is not
 * there now, or is in memory, was put there by something this walk cannot
 * see (an initramfs script, a keystore since closed): unknown. */
static enum verdict judge_key_file(struct walk *w, const char *name,
				   const struct zfs_crypt *c, const char *key,
				   unsigned depth)
{
	_cleanup_free_ char *path = host_path(w->h, key);
	struct libmnt_fs *fs = cryptwalk_mount_of(w->mounts, key);
	const char *src = fs ? mnt_fs_get_source(fs) : NULL;
	enum verdict v;

	fprintf(w->chain, ", key file %s -> ", key);
	if (access(path, F_OK) != 0) {
		cryptwalk_unknown(w, "%s: its key file %s is not there now, so "
				  "where the key comes from at start-up cannot "
				  "be seen", c->encroot, key);
		return V_UNKNOWN;
	}
	if (src && strcmp(src, name) == 0) {
		cryptwalk_unknown(w, "%s: its key file %s is kept inside the "
				  "dataset it unlocks", c->encroot, key);
		return V_UNKNOWN;
	}
	v = cryptwalk_path(w, key, depth + 1);
	if (v == V_PLAIN)
		problem(w, "%s: its key is read at boot from %s, on a disk "
			   "that is not encrypted: whoever has the disk has "
			   "the key", c->encroot, key);
	if (v == V_MEMORY)
		cryptwalk_unknown(w, "%s: its key file %s is in memory, so "
				  "where the key comes from at start-up cannot "
				  "be seen", c->encroot, key);
	if (v == V_UNKNOWN || v == V_MEMORY)
		return V_UNKNOWN;
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

	name = name ? name : "";
	fprintf(w->chain, "zfs %s", name);
	if (zfs_read(w->h, name, &c, &why) < 0) {
		cryptwalk_unknown(w, "%s is on ZFS (%s): %s",
				  mnt_fs_get_target(fs), name, why);
		return V_UNKNOWN;
	}
	if (strcmp(c.cipher, "off") == 0) {
		fputs(" (not encrypted)", w->chain);
		return V_PLAIN;
	}
	if (zfs_cipher(&c, li.cipher, li.mode, &li.key_bits) < 0) {
		cryptwalk_unknown(w, "%s: ZFS encryption \"%s\" is not one "
				  "known", name, c.cipher);
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
	if (key && key[0] == '/')
		return judge_key_file(w, name, &c, key, depth);
	if (zfs_unlocks_by_itself(&c) && !w->quiet &&
	    w->p->encryption.require_preboot_auth)
		json_lossy_append(w->preboot, "%s unlocks by itself at "
				  "power-on (%s)", c.encroot, c.keylocation);
	return V_ENCRYPTED;
}

enum verdict cryptwalk_mount(struct walk *w, struct libmnt_fs *fs,
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
		cryptwalk_unknown(w, "mounts nest deeper than %d", MAX_DEPTH);
		return V_UNKNOWN;
	}
	if (fstype_in(type, memory_fs)) {
		fprintf(w->chain, "%s (in memory)", type);
		return V_MEMORY;
	}
	if (fstype_in(type, network_fs)) {
		fprintf(w->chain, "%s %s (network)", type, src ? src : "");
		cryptwalk_unknown(w, "%s is a network filesystem (%s): its "
				  "data is stored and encrypted, or not, on "
				  "the server",
				  mnt_fs_get_target(fs), type);
		return V_UNKNOWN;
	}
	if (strcmp(type, "overlay") == 0) {
		if (mnt_fs_get_option(fs, "upperdir", &val, &len) == 0 && val) {
			upper = xstrndup(val, len);
			fprintf(w->chain, "overlay upper %s -> ", upper);
			return cryptwalk_path(w, upper, depth + 1);
		}
		fputs("overlay", w->chain);
		cryptwalk_unknown(w, "%s is an overlay with no upper layer",
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
		cryptwalk_unknown(w, "cannot find the block device of %s "
				  "(%s %s)",
				  mnt_fs_get_target(fs), type, strerror(-r));
		return V_UNKNOWN;
	}
	if (strcmp(type, "btrfs") == 0)
		return judge_btrfs(w, name, depth);
	return cryptwalk_dev(w, name, depth + 1);
}

enum verdict cryptwalk_path(struct walk *w, const char *path,
			    unsigned depth)
{
	struct libmnt_fs *fs = cryptwalk_mount_of(w->mounts, path);

	if (!fs) {
		cryptwalk_unknown(w, "no mount holds %s", path);
		return V_UNKNOWN;
	}
	return cryptwalk_mount(w, fs, depth);
}
