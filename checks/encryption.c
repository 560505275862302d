/* SPDX-License-Identifier: Apache-2.0 */
/*
 * encryption: is the data on this laptop's disks encrypted at rest?
 *
 * Judged: /, every mount the policy lists, every active swap and the
 * hibernation resume device, each walked down its block-device stack to
 * the disks by cryptwalk.c. This file decides what is walked, gathers the
 * verdicts, and writes the finding: not encrypted, weaker than the policy,
 * unlocking by itself (under require_preboot_auth), unknown, or encrypted.
 * When / is plain but some home folders are encrypted (eCryptfs, fscrypt,
 * systemd-homed), the summary says so.
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
#include "cryptwalk.h"
#include "messages.h"
#include "users.h"
#include "util.h"

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

/* Append to list each string of more that it does not hold yet. */
static void add_new(json_t *list, const json_t *more)
{
	size_t i, j;
	json_t *s, *t;

	json_array_foreach(more, i, s) {
		json_array_foreach(list, j, t)
			if (json_equal(s, t))
				break;
		if (j == json_array_size(list))
			json_array_append(list, s);
	}
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
		      cryptwalk_verdict_name(v), "chain",
		      json_string_lossy(w->chain_buf), "layers", w->layers,
		      "problems", w->problems);
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
	/* Datasets sharing one key share its problem: said once. */
	add_new(res->weak, w->problems);
	add_new(res->preboot, w->preboot);
	/* The target's problems are w->problems: preboot joins them now. */
	json_array_extend(json_object_get(t, "problems"), w->preboot);
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
		struct libmnt_fs *fs = cryptwalk_mount_of(w->mounts, path);
		enum verdict v;

		if (fs && judged(res, mnt_fs_get_target(fs)))
			continue;
		walk_begin(w);
		if (fs) {
			v = cryptwalk_mount(w, fs, 0);
		} else {
			cryptwalk_unknown(w, "no mount holds %s", path);
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
		cryptwalk_unknown(w, "cannot read /proc/swaps (%s)",
				  strerror(-r));
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
			v = cryptwalk_path(w, src, 1);
		} else if ((e = blockdev_name_from_path(w->h, src, &name)) == 0) {
			v = cryptwalk_dev(w, name, 1);
		} else {
			cryptwalk_unknown(w, "cannot find the swap device "
					  "%s (%s)", src, strerror(-e));
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
		v = cryptwalk_dev(w, name, 1);
	} else {
		cryptwalk_unknown(w, "cannot find the resume device %s (%s)",
				  devno, strerror(-r));
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
		homes = users_encrypted_homes(h, list);
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
	cryptwalk_forget(&w);
	mnt_free_table(w.mounts);
	return 0;
}

const struct check_ops encryption_check = {
	.id = "encryption",
	.title = "Disk encryption",
	.evaluate = encryption_evaluate,
};
