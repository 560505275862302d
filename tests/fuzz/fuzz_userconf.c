/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_userconf: the screen-lock check's readers of files a user controls
 * and root reads: KDE's ~/.config/kscreenlockerrc and kdeglobals (kde.c's
 * own KConfig reader), her xfconf channels xfce4-power-manager.xml and
 * xfce4-screensaver.xml (expat, in xfce.c), and her runtime dconf profile
 * /run/user/UID/dconf/profile (gsettings.c).
 *
 * Input: the files' contents one after the other, split at each line that
 * is "--8<--": kscreenlockerrc, then xfce4-power-manager.xml, then the
 * dconf profile; then, optionally, kdeglobals, xfce4-screensaver.xml and
 * Plasma's version (each line VERSION of it a library
 * /usr/lib/x86_64-linux-gnu/libKScreenLocker.so.VERSION, as Plasma
 * installs it). A part the input does not reach is a file that does not
 * exist; a part that is there, even empty, is written.
 *
 * The fixture root, made once below /tmp, has alice in etc/passwd with
 * this process's own uid (nothing needs setuid) and home /home/alice, and
 * Xfce with xfce4-screensaver but not light-locker, so xfce.c reads her
 * channels and runs no gsettings tool. gsettings.c runs `dconf dump` only
 * for a file-db: line naming a file that exists below the root (a path of
 * the fixture, or the root itself for "file-db:/"); that fork is made to
 * fail here (-Wl,--wrap=fork), so no input runs anything.
 *
 * Invariants: every field of both lockconfs is in its documented range
 * (the flags 1, 0 or -1, the times at least -1; a desktop that locks
 * after some time is one whose lock is enabled); each desktop's settings
 * are a list of {key, value, from, locked} that json_dumps() writes; the
 * dconf evidence is written too, uses her profile exactly when she has one
 * that can be read, and never repeats a line of it that names no
 * database (marker lines the harness adds to every profile never show);
 * and nothing is forked unless the profile has a file-db: line naming a
 * file that exists.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "check.h"
#include "desktop.h"
#include "fuzz.h"
#include "gsettings.h"
#include "kde.h"
#include "users.h"
#include "util.h"
#include "xfce.h"

#define SEPARATOR "--8<--"
#define XFCONF "/home/alice/.config/xfce4/xfconf/xfce-perchannel-xml"
#define LIBDIR "/usr/lib/x86_64-linux-gnu"
/* gsettings.c's PROFILE_MAX: a larger profile is not read. */
#define PROFILE_MAX (64 * 1024)
/* Plasma's libraries made from one input, at most. */
#define PLASMA_LIBS 4

enum { P_KDERC, P_POWER, P_PROFILE, P_KDEGLOBALS, P_SAVER, P_PLASMA,
       P_COUNT };

/* Where each file part goes, as on the machine; the profile's path (with
 * her uid) is profile_path. */
static const char *const part_path[P_COUNT] = {
	[P_KDERC] = "/home/alice/.config/kscreenlockerrc",
	[P_POWER] = XFCONF "/xfce4-power-manager.xml",
	[P_KDEGLOBALS] = "/home/alice/.config/kdeglobals",
	[P_SAVER] = XFCONF "/xfce4-screensaver.xml",
};

/* A line that names no database, in each form dconf ignores or this check
 * does not read: none may reach the evidence. */
#define MARKER "fuzz-userconf-marker"
static const char marker_head[] = MARKER "\nuser-db:" MARKER "/x\n"
				  "  service-db:" MARKER " # a comment\n";
static const char marker_tail[] = "system-db:." MARKER "\nfile-db:" MARKER
				  "\n" MARKER " \t\r\n";

static char dir[] = "/tmp/fuzz-userconf.XXXXXX";
static char profile_path[64];
static struct host *host;
static struct user alice = { .name = "alice", .home = "/home/alice",
			     .source = "passwd" };
static int forks;

pid_t __wrap_fork(void);

/* gsettings.c's only way to run a tool: refused, as a machine out of
 * processes would. */
pid_t __wrap_fork(void)
{
	forks++;
	errno = EAGAIN;
	return -1;
}

/* ---------- the fixture root ---------- */

static void make_dirs(const char *path)
{
	_cleanup_free_ char *full = host_path(host, path);

	for (char *s = full + strlen(dir) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(full, 0755) < 0 && errno != EEXIST)
			fuzz_fail("mkdir %s: %s", full, strerror(errno));
		*s = '/';
	}
	if (mkdir(full, 0755) < 0 && errno != EEXIST)
		fuzz_fail("mkdir %s: %s", full, strerror(errno));
}

/* Write path (as on the machine) below the root; data NULL: remove it. */
static void put(const char *path, const void *data, size_t len)
{
	_cleanup_free_ char *full = host_path(host, path);
	int fd;

	if (!data) {
		if (unlink(full) < 0 && errno != ENOENT)
			fuzz_fail("unlink %s: %s", full, strerror(errno));
		return;
	}
	fd = open(full, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		fuzz_fail("writing %s: %s", full, strerror(errno));
	close(fd);
}

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void cleanup(void)
{
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	_cleanup_free_ char *passwd = NULL, *run = NULL;

	(void)argc;
	(void)argv;
	if (!mkdtemp(dir))
		fuzz_fail("mkdtemp: %s", strerror(errno));
	atexit(cleanup);
	host = host_new(dir);
	alice.uid = getuid();
	alice.gid = getgid();
	snprintf(profile_path, sizeof(profile_path),
		 "/run/user/%u/dconf/profile", (unsigned)alice.uid);
	passwd = xasprintf("root:x:0:0:root:/root:/bin/bash\n"
			   "alice:x:%u:%u:Alice:/home/alice:/bin/bash\n",
			   (unsigned)alice.uid, (unsigned)alice.gid);
	make_dirs("/etc");
	make_dirs(XFCONF);
	make_dirs(LIBDIR);
	make_dirs("/usr/bin");
	run = xasprintf("/run/user/%u/dconf", (unsigned)alice.uid);
	make_dirs(run);
	put("/etc/passwd", passwd, strlen(passwd));
	put("/home/alice/.profile", "", 0);
	put("/usr/bin/plasmashell", "", 0);
	put("/usr/bin/xfce4-session", "", 0);
	put("/usr/bin/xfce4-screensaver", "", 0);
	return 0;
}

/* ---------- the input ---------- */

/* Split data at the separator lines; returns how many parts there are
 * (the last one takes whatever follows). */
static int split(const uint8_t *data, size_t size, const uint8_t **part,
		 size_t *len)
{
	size_t start = 0, sep = strlen(SEPARATOR);
	int n = 0;

	for (size_t i = 0; i + sep <= size && n < P_COUNT - 1; i++) {
		if ((i > 0 && data[i - 1] != '\n') ||
		    memcmp(data + i, SEPARATOR, sep) != 0 ||
		    (i + sep < size && data[i + sep] != '\n'))
			continue;
		part[n] = data + start;
		len[n++] = i - start;
		start = i + sep + (i + sep < size);
		i = start - 1;
	}
	part[n] = data + start;
	len[n++] = size - start;
	return n;
}

/* Plasma's libraries: one per line of text, none when text is NULL. */
static void set_plasma(const uint8_t *text, size_t len)
{
	_cleanup_free_ char *lib = host_path(host, LIBDIR);
	const uint8_t *end = text ? text + len : NULL, *nl;
	struct dirent **names;
	int n = scandir(lib, &names, NULL, NULL), made = 0;

	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			_cleanup_free_ char *p = xasprintf(
				"%s/%s", LIBDIR, names[i]->d_name);

			put(p, NULL, 0);
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	for (; text && text < end && made < PLASMA_LIBS; text = nl) {
		const uint8_t *eol = memchr(text, '\n', (size_t)(end - text));
		size_t l = (size_t)((eol ? eol : end) - text);
		_cleanup_free_ char *p = NULL;

		nl = eol ? eol + 1 : end;
		/* What a file name can hold. */
		if (l == 0 || l > 200 || memchr(text, '/', l) ||
		    memchr(text, '\0', l))
			continue;
		p = xasprintf("%s/libKScreenLocker.so.%.*s", LIBDIR, (int)l,
			      (const char *)text);
		put(p, "", 0);
		made++;
	}
}

/* The profile as written: the marker lines around the input's part. */
static char *profile_text(const uint8_t *part, size_t len, size_t *out_len)
{
	size_t head = strlen(marker_head), tail = strlen(marker_tail);
	char *t = xmalloc(head + len + 1 + tail + 1);
	size_t n = head;

	memcpy(t, marker_head, head);
	memcpy(t + n, part, len);
	n += len;
	if (len > 0 && part[len - 1] != '\n')
		t[n++] = '\n';
	memcpy(t + n, marker_tail, tail);
	n += tail;
	t[n] = '\0';
	*out_len = n;
	return t;
}

/* Whether a line of the profile is a file-db: one naming a file that
 * exists below the root: the only thing that may make gsettings.c fork.
 * Lines are cut as gsettings.c cuts them. */
static bool names_existing_db(const char *text)
{
	_cleanup_free_ char *copy = xstrdup(text);
	char *line, *save = NULL;

	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *hash = strchr(line, '#');
		struct stat st;

		if (hash)
			*hash = '\0';
		strrstrip(line);
		while (*line == ' ' || *line == '\t')
			line++;
		if (strncmp(line, "file-db:/", 9) == 0) {
			_cleanup_free_ char *p = host_path(host, line + 8);

			if (stat(p, &st) == 0)
				return true;
		}
	}
	return false;
}

/* ---------- the invariants ---------- */

/* j as JSON text; marker_allowed: the marker may be in it (the input
 * itself holds it, or j is not the dconf evidence). */
static void check_json(const json_t *j, const char *what, bool marker_allowed)
{
	char *s = json_dumps(j, 0);

	if (!s)
		fuzz_fail("%s: json_dumps failed", what);
	if (!marker_allowed && strstr(s, MARKER))
		fuzz_fail("%s repeats a line of the profile: %s", what, s);
	free(s);
}

static void check_lockconf(const struct lockconf *lc)
{
	const int flags[] = { lc->lock_enabled, lc->obeys_logind,
			      lc->asks_password, lc->lock_on_suspend,
			      lc->locked_by_it };
	const long times[] = { lc->lock_after, lc->idle_after, lc->grace };
	size_t i;
	json_t *s;

	for (i = 0; i < ARRAY_SIZE(flags); i++)
		if (flags[i] < -1 || flags[i] > 1)
			fuzz_fail("%s: flag %zu is %d", lc->desktop, i,
				  flags[i]);
	for (i = 0; i < ARRAY_SIZE(times); i++)
		if (times[i] < -1)
			fuzz_fail("%s: time %zu is %ld", lc->desktop, i,
				  times[i]);
	if (lc->lock_after > 0 && lc->lock_enabled != 1)
		fuzz_fail("%s locks after %ld s, its lock enabled %d",
			  lc->desktop, lc->lock_after, lc->lock_enabled);
	if (lc->error && !*lc->error)
		fuzz_fail("%s: an empty reason", lc->desktop);
	if (!json_is_array(lc->settings))
		fuzz_fail("%s: settings are not a list", lc->desktop);
	json_array_foreach(lc->settings, i, s)
		if (!json_is_string(json_object_get(s, "key")) ||
		    !json_is_string(json_object_get(s, "value")) ||
		    !json_is_string(json_object_get(s, "from")) ||
		    !json_is_boolean(json_object_get(s, "locked")))
			fuzz_fail("%s: setting %zu is not {key, value, from, "
				  "locked}", lc->desktop, i);
	check_json(lc->settings, lc->desktop, true);
}

/* KDE's evidence names Plasma's version whenever the files were read. */
static void check_kde(const struct lockconf *lc)
{
	size_t i;
	json_t *s;

	check_lockconf(lc);
	if (lc->error && strncmp(lc->error, "cannot read", 11) == 0)
		return;
	json_array_foreach(lc->settings, i, s)
		if (strcmp(json_string_value(json_object_get(s, "key")),
			   "Plasma") == 0)
			return;
	fuzz_fail("KDE's evidence does not name Plasma's version");
}

/* Her profile's evidence: there exactly when she has one that can be
 * read, and never a line of it. */
static void check_dconf(const struct gsettings *g,
			const struct gsettings_user *gu, bool own,
			bool with_marker)
{
	json_t *ev = gsettings_user_evidence(gu), *common;

	if (own != (ev != NULL))
		fuzz_fail("her runtime profile %s, yet %s", own ? "is readable"
			  : "is not", ev ? "it is used" : "it is not used");
	if (ev) {
		const char *p = json_string_value(json_object_get(ev,
								  "profile"));

		if (!p || strcmp(p, profile_path) != 0)
			fuzz_fail("her profile's evidence names %s",
				  p ? p : "(none)");
		check_json(ev, "her dconf evidence", with_marker);
		json_decref(ev);
	}
	common = gsettings_evidence(g);
	check_json(common, "the common dconf evidence", with_marker);
	json_decref(common);
}

static void lockconf_clear(struct lockconf *lc)
{
	free(lc->error);
	json_decref(lc->settings);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *part[P_COUNT] = { 0 };
	size_t len[P_COUNT] = { 0 }, plen = 0;
	int n;
	_cleanup_free_ char *profile = NULL;
	bool with_marker;
	struct lockconf kde_lc, xfce_lc;
	struct gsettings_user *gu;
	struct gsettings *g;
	struct kde *k;
	struct xfce *x;

	/* libFuzzer's empty input may come without a buffer. */
	if (!data)
		data = (const uint8_t *)"";
	n = split(data, size, part, len);
	with_marker = memmem(data, size, MARKER, strlen(MARKER)) != NULL;
	for (int i = 0; i < P_COUNT; i++)
		if (i != P_PROFILE && i != P_PLASMA)
			put(part_path[i], i < n ? part[i] : NULL, len[i]);
	if (n > P_PROFILE)
		profile = profile_text(part[P_PROFILE], len[P_PROFILE], &plen);
	put(profile_path, profile, plen);
	set_plasma(n > P_PLASMA ? part[P_PLASMA] : NULL, len[P_PLASMA]);

	forks = 0;
	k = kde_new(host);
	x = xfce_new(host);
	g = gsettings_new(host);
	gu = gsettings_user_new(g, &alice);
	kde_lockconf(k, &alice, &kde_lc);
	xfce_lockconf(x, &alice, gu, &xfce_lc);

	check_kde(&kde_lc);
	if (strcmp(xfce_lc.desktop, "XFCE") != 0)
		fuzz_fail("the fixture's Xfce is %s", xfce_lc.desktop);
	check_lockconf(&xfce_lc);
	check_dconf(g, gu, profile && plen <= PROFILE_MAX, with_marker);
	if (forks && !(profile && names_existing_db(profile)))
		fuzz_fail("%d fork(s) with no file-db: line naming a file "
			  "that exists", forks);

	lockconf_clear(&kde_lc);
	lockconf_clear(&xfce_lc);
	gsettings_user_free(gu);
	gsettings_free(g);
	xfce_free(x);
	kde_free(k);
	return 0;
}
