/* SPDX-License-Identifier: Apache-2.0 */
/*
 * zfs: a dataset's native encryption through the zfs tool; see zfs.h.
 *
 * Only the encryption root holds where the key comes from: its children
 * show keylocation "none". So one run asks about the dataset and every
 * parent of it (the encryption root is one of them), and the key's
 * location is the encryption root's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"
#include "util.h"
#include "zfs.h"

/* Where Debian's and Ubuntu's zfsutils-linux put the tool. */
static char *const zfs_tools[] = { "/sbin/zfs", "/usr/sbin/zfs" };
#define ZFS_PROPS "encryption,keyformat,keylocation,keystatus,encryptionroot"
/* A dataset's name has at most this many components to ask about. */
#define ZFS_DEPTH_MAX 32

bool zfs_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= ZFS_NAME_MAX || name[0] == '-' || name[0] == '/')
		return false;
	/* zfs_namecheck.c: alphanumerics, "-_.: " and '/', '@', '#'. */
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789-_.: /@#") == n;
}

static int copy(char *dst, size_t size, const char *src, size_t n)
{
	if (n >= size)
		return -EINVAL;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

/* One "name\tproperty\tvalue\tsource" line into c when name is want.
 * Returns 1 when it was want's, 0 for another name or a property not
 * asked for, -EINVAL when malformed. */
static int parse_line(const char *line, size_t len, const char *want,
		      struct zfs_crypt *c, unsigned *have)
{
	const struct {
		const char *name;
		char *dst;
		size_t size;
	} props[] = {
		{ "encryption", c->cipher, sizeof(c->cipher) },
		{ "keyformat", c->keyformat, sizeof(c->keyformat) },
		{ "keylocation", c->keylocation, sizeof(c->keylocation) },
		{ "keystatus", c->keystatus, sizeof(c->keystatus) },
		{ "encryptionroot", c->encroot, sizeof(c->encroot) },
	};
	const char *t1, *t2, *end;
	size_t i;

	t1 = memchr(line, '\t', len);
	t2 = t1 ? memchr(t1 + 1, '\t', len - (size_t)(t1 + 1 - line)) : NULL;
	end = t2 ? memchr(t2 + 1, '\t', len - (size_t)(t2 + 1 - line)) : NULL;
	if (!end || memchr(end + 1, '\t', len - (size_t)(end + 1 - line)))
		return -EINVAL;
	if ((size_t)(t1 - line) != strlen(want) ||
	    memcmp(line, want, (size_t)(t1 - line)) != 0)
		return 0;
	for (i = 0; i < sizeof(props) / sizeof(props[0]); i++) {
		if ((size_t)(t2 - t1 - 1) != strlen(props[i].name) ||
		    memcmp(t1 + 1, props[i].name, strlen(props[i].name)) != 0)
			continue;
		*have |= 1u << i;
		return copy(props[i].dst, props[i].size, t2 + 1,
			    (size_t)(end - t2 - 1)) < 0 ? -EINVAL : 1;
	}
	return 0;
}

/* Every property of want, from text. Returns 0 or -EINVAL. */
static int parse_one(const char *text, const char *want, struct zfs_crypt *c)
{
	const char *line = text;
	unsigned have = 0;

	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		int r = parse_line(line, len, want, c, &have);

		if (r < 0)
			return r;
		line += len + (nl ? 1 : 0);
	}
	return have == 31 ? 0 : -EINVAL;
}

int zfs_parse(const char *text, const char *dataset, struct zfs_crypt *c)
{
	struct zfs_crypt root;
	int r;

	memset(c, 0, sizeof(*c));
	r = parse_one(text, dataset, c);
	if (r < 0 || strcmp(c->cipher, "off") == 0 ||
	    strcmp(c->encroot, dataset) == 0)
		return r;
	/* A child of its encryption root: the root's key. */
	if (!zfs_name_ok(c->encroot) || parse_one(text, c->encroot, &root) < 0)
		return -EINVAL;
	memcpy(c->keylocation, root.keylocation, sizeof(c->keylocation));
	memcpy(c->keyformat, root.keyformat, sizeof(c->keyformat));
	return 0;
}

/* The dataset and each of its parents, as the tool's arguments (the
 * caller frees them). */
static size_t with_parents(const char *dataset, char **argv, size_t max)
{
	char *name = xstrndup(dataset, strcspn(dataset, "@#"));
	char *slash;
	size_t n = 0;

	argv[n++] = xstrdup(dataset);
	if (strcmp(name, dataset) != 0)
		argv[n++] = xstrdup(name);
	while (n < max && (slash = strrchr(name, '/'))) {
		*slash = '\0';
		argv[n++] = xstrdup(name);
	}
	free(name);
	return n;
}

char *zfs_failure(int r, const char *err, const char *dataset)
{
	size_t n = strcspn(err ? err : "", "\n");

	if (r == -ENOENT)
		return xstrdup("the zfs tool (zfsutils-linux) is not installed");
	if (err && strstr(err, "modules are not loaded"))
		return xstrdup("the kernel's ZFS module is not loaded");
	if (n)
		return xasprintf("zfs get %s failed: %.*s", dataset, (int)n,
				 err);
	return xasprintf("zfs get %s failed: %s", dataset, strerror(-r));
}

int zfs_read(const struct host *h, const char *dataset, struct zfs_crypt *c,
	     char **why)
{
	char *env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
	char *argv[8 + ZFS_DEPTH_MAX] = { NULL, "get", "-Hp", "-o",
					  "name,property,value,source", ZFS_PROPS,
					  "--" };
	_cleanup_free_ char *out = NULL, *err = NULL;
	struct tool t = { argv, env, false, 0, 0, -1 };
	size_t n, i;
	int r = -ENOENT;

	*why = NULL;
	if (strcmp(host_root(h), "/") != 0) {
		*why = xstrdup("the zfs tool reads only the running machine's "
			       "pools");
		return -ENOTSUP;
	}
	if (!zfs_name_ok(dataset)) {
		*why = xasprintf("\"%s\" is not a ZFS dataset's name", dataset);
		return -EINVAL;
	}
	n = with_parents(dataset, argv + 7, ZFS_DEPTH_MAX);
	for (i = 0; i < sizeof(zfs_tools) / sizeof(zfs_tools[0]) &&
		    r == -ENOENT; i++) {
		argv[0] = zfs_tools[i];
		free(out);
		free(err);
		r = tool_run(&t, &out, &err);
	}
	for (i = 0; i < n; i++)
		free(argv[7 + i]);
	if (r == 0 && zfs_parse(out, dataset, c) == 0)
		return 0;
	*why = r < 0 ? zfs_failure(r, err, dataset)
		     : xasprintf("zfs get %s answered in a form not "
				 "understood", dataset);
	return r == -ENOENT ? -ENOPKG : r == 0 ? -EINVAL : r;
}

const char *zfs_key_file(const struct zfs_crypt *c)
{
	return strncmp(c->keylocation, "file://", 7) == 0 ? c->keylocation + 7
							  : NULL;
}

const char *zfs_unlock_kind(const struct zfs_crypt *c)
{
	if (strcmp(c->keylocation, "prompt") == 0)
		return strcmp(c->keyformat, "passphrase") == 0
			       ? "passphrase typed at boot"
			       : "key typed or piped in at boot";
	if (zfs_key_file(c))
		return "key file";
	if (strncmp(c->keylocation, "https://", 8) == 0 ||
	    strncmp(c->keylocation, "http://", 7) == 0)
		return "key fetched from a web server";
	return "unknown";
}

bool zfs_unlocks_by_itself(const struct zfs_crypt *c)
{
	return strcmp(c->keylocation, "prompt") != 0;
}

int zfs_cipher(const struct zfs_crypt *c, char cipher[static 16],
	       char mode[static 16], int *bits)
{
	int n = 0;

	if (sscanf(c->cipher, "%15[a-z]-%d-%15[a-z]%n", cipher, bits, mode,
		   &n) != 3 || c->cipher[n] != '\0' || *bits <= 0)
		return -EINVAL;
	return 0;
}
