/* SPDX-License-Identifier: Apache-2.0 */
/*
 * users: passwd parsed field by field (fgetpwent would read the file as
 * the C library sees it, not below the root prefix, and knows nothing of
 * login.defs); NSS only in production, where the root is the machine's;
 * homed's records with jansson; home folders by their owner; mounts with
 * libmount.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libmount.h>
#include <linux/fscrypt.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "users.h"
#include "util.h"

#define PASSWD_MAX (4 * 1024 * 1024)
#define IDENTITY_MAX (64 * 1024)
#define HOMED_DIR "/var/lib/systemd/home"
#define MAX_USERS 4096

struct list {
	struct user *v;
	int n;
	unsigned long min, max;	/* UID_MIN, UID_MAX */
};

/* UID_MIN and UID_MAX from login.defs, or Debian's defaults. */
static void uid_range(const struct host *h, unsigned long *min,
		      unsigned long *max)
{
	_cleanup_free_ char *buf = NULL;
	char *line, *save = NULL;

	*min = 1000;
	*max = 60000;
	if (host_read(h, "/etc/login.defs", 1024 * 1024, &buf) < 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long v;
		char key[16];

		if (sscanf(line, " %15s %lu", key, &v) != 2)
			continue;
		if (strcmp(key, "UID_MIN") == 0)
			*min = v;
		else if (strcmp(key, "UID_MAX") == 0)
			*max = v;
	}
}

static bool shell_can_login(const char *shell)
{
	const char *base = strrchr(shell, '/');

	base = base ? base + 1 : shell;
	return *shell && strcmp(base, "nologin") != 0 &&
	       strcmp(base, "false") != 0;
}

/* Split a passwd line into its 7 fields in place. */
static bool split_fields(char *line, char *f[7])
{
	for (int i = 0; i < 7; i++) {
		f[i] = line;
		line = strchr(line, ':');
		if (!line)
			return i == 6;
		*line++ = '\0';
	}
	return false;	/* more than 7 fields */
}

/* A person's uid outside /etc/passwd: at least UID_MIN, but network
 * accounts (SSSD's and Active Directory's id mapping) and homed's
 * (60001-60513) lie above login.defs' UID_MAX; not nobody, not
 * systemd's dynamic users. */
static bool person_uid(const struct list *l, unsigned long uid)
{
	return uid >= l->min && uid < 0x7fffffffUL && uid != 65534 &&
	       !(uid >= 61184 && uid <= 65519);
}

static bool known(const struct list *l, uid_t uid)
{
	for (int i = 0; i < l->n; i++)
		if (l->v[i].uid == uid)
			return true;
	return false;
}

static void add(struct list *l, const char *name, uid_t uid, gid_t gid,
		const char *home, const char *source)
{
	if (known(l, uid) || l->n >= MAX_USERS)
		return;
	l->v = xrealloc(l->v, (size_t)(l->n + 1) * sizeof(*l->v));
	l->v[l->n] = (struct user){ .name = xstrdup(name), .uid = uid,
				    .gid = gid, .home = xstrdup(home),
				    .source = source };
	l->n++;
}

static bool home_exists(const struct host *h, const char *home)
{
	_cleanup_free_ char *p = host_path(h, home);

	return home[0] == '/' && access(p, F_OK) == 0;
}

static int from_passwd(const struct host *h, struct list *l)
{
	_cleanup_free_ char *buf = NULL;
	char *line, *save = NULL;
	int r = host_read(h, "/etc/passwd", PASSWD_MAX, &buf);

	if (r < 0)
		return r;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long uid, gid;
		char *f[7], *end;

		if (!split_fields(line, f) || !*f[0])
			continue;
		uid = strtoul(f[2], &end, 10);
		if (*end || uid < l->min || uid > l->max)
			continue;
		gid = strtoul(f[3], &end, 10);
		if (*end || !shell_can_login(f[6]) || !home_exists(h, f[5]))
			continue;
		add(l, f[0], (uid_t)uid, (gid_t)gid, f[5], "passwd");
	}
	return 0;
}

/* Every account NSS enumerates: SSSD or LDAP where they do, homed's
 * through nss-systemd. Only with the machine's own root: NSS cannot be
 * pointed at a fixture tree. Only accounts with a home on this laptop
 * (a directory may list a whole trust). */
static void from_nss(const struct host *h, struct list *l)
{
	struct passwd *pw;

	if (strcmp(host_root(h), "/") != 0)
		return;
	setpwent();
	while ((pw = getpwent())) {
		if (!person_uid(l, pw->pw_uid) ||
		    !pw->pw_dir || !shell_can_login(pw->pw_shell ? pw->pw_shell : "") ||
		    !home_exists(h, pw->pw_dir))
			continue;
		add(l, pw->pw_name, pw->pw_uid, pw->pw_gid, pw->pw_dir, "NSS");
	}
	endpwent();
}

/* homed's records (/var/lib/systemd/home/NAME.identity, JSON user
 * records): the user exists even while her home is closed. */
static void from_homed(const struct host *h, struct list *l)
{
	_cleanup_free_ char *dir = host_path(h, HOMED_DIR);
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		_cleanup_free_ char *path = NULL, *buf = NULL, *home = NULL;
		size_t n = strlen(de->d_name);
		json_t *rec, *uid, *gid;
		const char *name, *hd;

		if (n < 10 || strcmp(de->d_name + n - 9, ".identity") != 0)
			continue;
		path = xasprintf(HOMED_DIR "/%s", de->d_name);
		if (host_read(h, path, IDENTITY_MAX, &buf) < 0 ||
		    !(rec = json_loads(buf, JSON_REJECT_DUPLICATES, NULL)))
			continue;
		name = json_string_value(json_object_get(rec, "userName"));
		uid = json_object_get(rec, "uid");
		gid = json_object_get(rec, "gid");
		hd = json_string_value(json_object_get(rec, "homeDirectory"));
		if (name && *name && !strchr(name, '/') && json_is_integer(uid) &&
		    json_integer_value(uid) > 0 &&
		    person_uid(l, (unsigned long)json_integer_value(uid))) {
			home = hd && hd[0] == '/' ? xstrdup(hd)
						  : xasprintf("/home/%s", name);
			add(l, name, (uid_t)json_integer_value(uid),
			    json_is_integer(gid) ? (gid_t)json_integer_value(gid)
						 : (gid_t)json_integer_value(uid),
			    home, "systemd-homed");
		}
		json_decref(rec);
	}
	closedir(d);
}

/* Users logind has sessions for: a network account signed in now. Her
 * home comes from NSS in production; below a fixture root, /home/NAME. */
static void from_logind(const struct host *h, struct list *l,
			const json_t *signed_in)
{
	size_t i;
	json_t *u;

	json_array_foreach(signed_in, i, u) {
		const char *name = json_string_value(json_object_get(u, "name"));
		json_int_t uid = json_integer_value(json_object_get(u, "uid"));
		struct passwd *pw = NULL;
		_cleanup_free_ char *home = NULL;

		if (!name || !*name || strchr(name, '/') || uid < 0 ||
		    !person_uid(l, (unsigned long)uid) || known(l, (uid_t)uid))
			continue;
		if (strcmp(host_root(h), "/") == 0)
			pw = getpwuid((uid_t)uid);
		home = pw && pw->pw_dir ? xstrdup(pw->pw_dir)
					: xasprintf("/home/%s", name);
		add(l, name, (uid_t)uid, pw ? pw->pw_gid : (gid_t)uid, home,
		    "logind");
	}
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcmp(s + n - m, suffix) == 0;
}

/* The owners of home folders no account names: network accounts that
 * signed in here before, whose settings are on this laptop. homed's
 * closed homes (NAME.home images, NAME.homedir) are found through its
 * records. */
static void from_homes(const struct host *h, struct list *l)
{
	_cleanup_free_ char *dir = host_path(h, "/home");
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		_cleanup_free_ char *home = NULL;
		struct stat st;

		if (de->d_name[0] == '.' || ends_with(de->d_name, ".home") ||
		    ends_with(de->d_name, ".homedir") ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode) || !person_uid(l, st.st_uid))
			continue;
		home = xasprintf("/home/%s", de->d_name);
		add(l, de->d_name, st.st_uid, st.st_gid, home, "home folder");
	}
	closedir(d);
}

/* ---------- encrypted homes ---------- */

static bool mounted_at(struct libmnt_table *mounts, const char *home,
		       const char *fstype)
{
	struct libmnt_fs *fs = mnt_table_find_target(mounts, home,
						     MNT_ITER_BACKWARD);

	return fs && (!fstype || strcmp(mnt_fs_get_fstype(fs) ?: "", fstype) == 0);
}

static bool path_exists(const struct host *h, const char *path)
{
	_cleanup_free_ char *p = host_path(h, path);

	return access(p, F_OK) == 0;
}

/* fscrypt: a policy on the home folder, and whether its key is in the
 * kernel (v2 policies); for v1, whether the names in it can be read. */
static int fscrypt_state(const struct host *h, const struct user *u,
			 bool *closed)
{
	_cleanup_free_ char *home = host_path(h, u->home);
	_cleanup_free_ char *conf = xasprintf("%s/.config", home);
	_cleanup_close_ int fd = open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
					    O_NOFOLLOW);
	struct fscrypt_get_policy_ex_arg pol = { .policy_size =
							 sizeof(pol.policy) };
	struct fscrypt_get_key_status_arg ks = { 0 };
	struct stat st;

	if (fd < 0 || ioctl(fd, FS_IOC_GET_ENCRYPTION_POLICY_EX, &pol) < 0)
		return -ENODATA;	/* not encrypted, or no fscrypt */
	if (pol.policy.version == FSCRYPT_POLICY_V2) {
		ks.key_spec.type = FSCRYPT_KEY_SPEC_TYPE_IDENTIFIER;
		memcpy(ks.key_spec.u.identifier,
		       pol.policy.v2.master_key_identifier,
		       FSCRYPT_KEY_IDENTIFIER_SIZE);
		if (ioctl(fd, FS_IOC_GET_ENCRYPTION_KEY_STATUS, &ks) == 0) {
			*closed = ks.status != FSCRYPT_KEY_STATUS_PRESENT;
			return 0;
		}
	}
	/* Without its key, the folder's names are ciphertext. */
	*closed = stat(conf, &st) < 0 && (errno == ENOKEY || errno == ENOENT);
	return 0;
}

static void home_state(const struct host *h, struct user *u,
		       struct libmnt_table *mounts)
{
	_cleanup_free_ char *ecryptfs = xasprintf("/home/.ecryptfs/%s", u->name);
	_cleanup_free_ char *image = xasprintf("%s.home", u->home);
	_cleanup_free_ char *homedir = xasprintf("%s.homedir", u->home);
	bool closed = false;

	if (path_exists(h, ecryptfs))
		u->encryption = "eCryptfs";
	else if (strcmp(u->source, "systemd-homed") == 0 ||
		 path_exists(h, image) || path_exists(h, homedir))
		u->encryption = "systemd-homed";
	if (u->encryption && !mounts) {
		u->locked = xasprintf("whether %s's encrypted home folder is "
				      "open cannot be told (the mount table "
				      "cannot be read)", u->name);
		return;
	}
	if (u->encryption)
		closed = !mounted_at(mounts, u->home,
				     strcmp(u->encryption, "eCryptfs") == 0
					     ? "ecryptfs" : NULL);
	else if (fscrypt_state(h, u, &closed) == 0)
		u->encryption = "fscrypt";
	if (closed)
		u->locked = xasprintf("%s's home folder is encrypted (%s) and "
				      "closed while she is signed out: her "
				      "settings are read when she next signs "
				      "in", u->name, u->encryption);
}

int users_list(const struct host *h, const json_t *signed_in,
	       struct user **users)
{
	_cleanup_free_ char *mi = host_path(h, "/proc/1/mountinfo");
	struct libmnt_table *mounts;
	struct list l = { 0 };
	int r;

	uid_range(h, &l.min, &l.max);
	r = from_passwd(h, &l);
	if (r < 0)
		return r;
	from_nss(h, &l);
	from_homed(h, &l);
	from_logind(h, &l, signed_in);
	from_homes(h, &l);
	/* init's mounts: a hardened service has a namespace of its own. */
	mounts = mnt_new_table_from_file(mi);
	for (int i = 0; i < l.n; i++)
		home_state(h, &l.v[i], mounts);
	mnt_unref_table(mounts);
	*users = l.v;
	return l.n;
}

void users_free(struct user *users, int n)
{
	for (int i = 0; i < n; i++) {
		free(users[i].name);
		free(users[i].home);
		free(users[i].locked);
	}
	free(users);
}

char *users_name(const struct host *h, uid_t uid)
{
	_cleanup_free_ char *buf = NULL;
	char *line, *save = NULL;

	if (host_read(h, "/etc/passwd", PASSWD_MAX, &buf) < 0)
		return NULL;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[7], *end;
		unsigned long u;

		if (!split_fields(line, f))
			continue;
		u = strtoul(f[2], &end, 10);
		if (!*end && u == uid)
			return xstrdup(f[0]);
	}
	return NULL;
}

char *users_encrypted_homes(const struct host *h, json_t *homes)
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
