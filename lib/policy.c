/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy: table-driven validation of policy.ini on top of inih.
 *
 * Every key is one row of key_defs: its section, type, place in struct
 * policy, default (written as text and parsed like the file, so defaults
 * and the file take one path), range or choices. inih's handler sees no
 * line numbers, so the file is fed to inih line by line through a reader
 * that counts them and rejects what inih would silently mangle (lines over
 * its buffer, NUL bytes, stray text).
 */
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "appid.h"
#include "inifile.h"
#include "policy.h"
#include "utf8.h"
#include "util.h"

#define MAX_ERRORS 50

enum key_type { KEY_STRING, KEY_BOOL, KEY_UINT, KEY_ENUM, KEY_LIST };

/* Checks one list item; returns what is wrong with it, or NULL. */
typedef const char *(*item_check_fn)(const char *item);

struct section_def {
	const char *name;
	ptrdiff_t common;	/* offset of struct policy_section, or -1 */
};

static const struct section_def section_defs[] = {
	{ "policy", -1 },
	{ "report", -1 },
	{ "notify", -1 },
	{ "encryption", offsetof(struct policy, encryption.s) },
	{ "screen_lock", offsetof(struct policy, screen_lock.s) },
	{ "usb_storage", offsetof(struct policy, usb_storage.s) },
	{ "camera", offsetof(struct policy, camera.s) },
};

struct key_def {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;
	const char *def;		/* NULL: required */
	unsigned min, max;		/* KEY_UINT range; KEY_STRING max len;
					 * KEY_LIST max items */
	const char *const *choices;	/* KEY_ENUM, NULL-terminated */
	item_check_fn item_check;	/* KEY_LIST */
};

static const char *item_path(const char *item)
{
	if (item[0] != '/')
		return "is not an absolute path";
	if (strlen(item) > 1024)
		return "is too long";
	return NULL;
}

/* A camera application: an executable path, "flatpak:ID" or "snap:NAME". */
static const char *item_app(const char *item)
{
	if (strncmp(item, "flatpak:", 8) == 0)
		return appid_flatpak_valid(item + 8) ? NULL :
		       "is not flatpak:ID with a Flatpak application ID "
		       "(as flatpak:us.zoom.Zoom)";
	if (strncmp(item, "snap:", 5) == 0)
		return appid_snap_valid(item + 5) ? NULL :
		       "is not snap:NAME with a snap name (as snap:zoom-client)";
	if (item[0] != '/')
		return "is not an absolute path, flatpak:ID or snap:NAME";
	return item_path(item);
}

static bool is_hex4(const char *s)
{
	return strspn(s, "0123456789abcdefABCDEF") == 4;
}

/* VID:PID, four hex digits each. */
static const char *item_model(const char *item)
{
	if (strlen(item) != 9 || !is_hex4(item) || item[4] != ':' ||
	    !is_hex4(item + 5))
		return "is not VID:PID (four hex digits each, as 0951:1666)";
	return NULL;
}

/* VID:PID:SERIAL; serials go into a udev rule, so only plain ones. */
static const char *item_device(const char *item)
{
	size_t n = strlen(item);

	if (n < 11 || n > 9 + 1 + 64 || item[9] != ':' || !is_hex4(item) ||
	    item[4] != ':' || !is_hex4(item + 5))
		return "is not VID:PID:SERIAL";
	if (strspn(item + 10, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			      "0123456789._-") != n - 10)
		return "has a serial with characters other than letters, "
		       "digits, '.', '_' and '-'";
	return NULL;
}

/* A public-key pin as curl takes it: sha256// and 44 base64 characters. */
static const char *item_pin(const char *item)
{
	if (strlen(item) != 8 + 44 || strncmp(item, "sha256//", 8) != 0 ||
	    strspn(item + 8, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			     "0123456789+/=") != 44 || item[8 + 43] != '=')
		return "is not a public-key pin (sha256// and the key's "
		       "SHA-256 in base64, 44 characters)";
	return NULL;
}

static const char *item_cipher(const char *item)
{
	if (strspn(item, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
	    strlen(item))
		return "is not a cipher and mode such as aes-xts";
	return NULL;
}

static const char *const severities[] = { "low", "medium", "high",
					  "critical", NULL };
static const char *const usb_actions[] = { "log", "warn", "block", NULL };
static const char *const camera_actions[] = { "log", "warn", NULL };
static const char *const allow_warn_block[] = { "allow", "warn", "block",
						NULL };

#define OFF(field) offsetof(struct policy, field)
/* One row of key_defs per type; a NULL default makes the key required. */
#define STR(sec, key, field, def, maxlen) \
	{ sec, key, KEY_STRING, OFF(field), def, .min = 1, .max = maxlen }
#define BOOL(sec, key, field, def) \
	{ sec, key, KEY_BOOL, OFF(field), def, .min = 0 }
#define UINT(sec, key, field, def, lo, hi) \
	{ sec, key, KEY_UINT, OFF(field), def, .min = lo, .max = hi }
#define ENUM(sec, key, field, def, names) \
	{ sec, key, KEY_ENUM, OFF(field), def, .choices = names }
#define LIST(sec, key, field, def, lo, hi, check) \
	{ sec, key, KEY_LIST, OFF(field), def, .min = lo, .max = hi, \
	  .item_check = check }
#define CHECK_KEYS(sec, sev) \
	BOOL(#sec, "enabled", sec.s.enabled, "true"), \
	ENUM(#sec, "severity", sec.s.severity, sev, severities), \
	STR(#sec, "clause", sec.s.clause, NULL, 1000)

static const struct key_def key_defs[] = {
	STR("policy", "name", name, NULL, 100),
	STR("policy", "version", version, NULL, 64),
	UINT("policy", "interval_minutes", interval_minutes, "60", 1, 1440),
	UINT("report", "spool_max_reports", report.spool_max_reports, "1000",
	     1, 100000),
	UINT("report", "spool_max_bytes", report.spool_max_bytes, "52428800",
	     65536, 1073741824),
	UINT("report", "max_events", report.max_events, "1000", 10, 2000),
	UINT("report", "heartbeat_minutes", report.heartbeat_minutes, "15", 1,
	     1440),
	LIST("report", "ca_file", report.ca_file, "", 0, 1, item_path),
	LIST("report", "pinned_pubkey", report.pinned_pubkey, "", 0, 16,
	     item_pin),
	UINT("report", "retry_max_seconds", report.retry_max_seconds, "3600",
	     10, 86400),
	UINT("notify", "renotify_hours", notify.renotify_hours, "4", 1, 168),

	CHECK_KEYS(encryption, "high"),
	LIST("encryption", "mounts", encryption.mounts, "/, /home", 0, 64,
	     item_path),
	UINT("encryption", "min_key_bits", encryption.min_key_bits, "256",
	     128, 1024),
	LIST("encryption", "allowed_ciphers", encryption.allowed_ciphers,
	     "aes-xts, serpent-xts, twofish-xts, adiantum, aes-gcm", 1, 32,
	     item_cipher),
	BOOL("encryption", "allow_plain_dmcrypt",
	     encryption.allow_plain_dmcrypt, "false"),
	BOOL("encryption", "require_preboot_auth",
	     encryption.require_preboot_auth, "false"),

	CHECK_KEYS(screen_lock, "high"),
	UINT("screen_lock", "max_idle_minutes", screen_lock.max_idle_minutes,
	     "5", 1, 240),
	UINT("screen_lock", "grace_seconds", screen_lock.grace_seconds, "60",
	     0, 3600),
	BOOL("screen_lock", "require_lock_on_suspend",
	     screen_lock.require_lock_on_suspend, "true"),
	BOOL("screen_lock", "require_locked_settings",
	     screen_lock.require_locked_settings, "false"),
	UINT("screen_lock", "max_inhibit_minutes",
	     screen_lock.max_inhibit_minutes, "60", 1, 1440),

	CHECK_KEYS(usb_storage, "high"),
	ENUM("usb_storage", "action", usb_storage.action, "warn", usb_actions),
	ENUM("usb_storage", "unrecognised", usb_storage.unrecognised, "warn",
	     allow_warn_block),
	ENUM("usb_storage", "blank", usb_storage.blank, "allow",
	     allow_warn_block),
	ENUM("usb_storage", "phones", usb_storage.phones, "warn",
	     allow_warn_block),
	LIST("usb_storage", "allow_models", usb_storage.allow_models, "", 0,
	     256, item_model),
	LIST("usb_storage", "allow_devices", usb_storage.allow_devices, "", 0,
	     1024, item_device),

	CHECK_KEYS(camera, "medium"),
	ENUM("camera", "action", camera.action, "warn", camera_actions),
	LIST("camera", "allowed_apps", camera.allowed_apps, "", 0, 256,
	     item_app),
	UINT("camera", "min_session_seconds", camera.min_session_seconds, "2",
	     0, 300),
};

#define NSECTIONS ARRAY_SIZE(section_defs)
#define NKEYS ARRAY_SIZE(key_defs)

struct parse {
	const char *file;
	unsigned line;
	bool continuation;		/* the line being parsed */
	struct policy *p;
	int section;			/* index, -1 unknown, -2 none yet */
	const struct key_def *last_key;	/* target of continuations */
	bool cont_failed;		/* last_key's continuation failed */
	unsigned key_line[NKEYS];
	unsigned section_line[NSECTIONS];
	char *errors;
	size_t errors_len;
	unsigned nerrors;
};

static void perr(struct parse *ps, unsigned line, const char *fmt, ...)
	_printf_(3, 4);

static void perr(struct parse *ps, unsigned line, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	_cleanup_free_ char *entry = NULL;
	va_list ap;

	if (++ps->nerrors > MAX_ERRORS)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (ps->nerrors == MAX_ERRORS)
		entry = xasprintf("%s: too many errors, stopping here\n",
				  ps->file);
	else if (line)
		entry = xasprintf("%s:%u: %s\n", ps->file, line,
				  msg ? msg : "error");
	else
		entry = xasprintf("%s: %s\n", ps->file, msg ? msg : "error");
	ps->errors = xrealloc(ps->errors, ps->errors_len + strlen(entry) + 1);
	strcpy(ps->errors + ps->errors_len, entry);
	ps->errors_len += strlen(entry);
}

static int section_index(const char *name)
{
	for (size_t i = 0; i < NSECTIONS; i++)
		if (strcmp(section_defs[i].name, name) == 0)
			return (int)i;
	return -1;
}

static const struct key_def *key_find(const char *section, const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(key_defs[i].section, section) == 0 &&
		    strcmp(key_defs[i].name, name) == 0)
			return &key_defs[i];
	return NULL;
}

static bool parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = true, true;
		if (strcasecmp(v, no[i]) == 0)
			return *out = false, true;
	}
	return false;
}

/* Text is shown to staff and on the dashboard: printable UTF-8 only. */
static const char *string_problem(const char *v, unsigned maxlen)
{
	size_t n = strlen(v);

	if (n == 0)
		return "is empty";
	if (n > maxlen)
		return "is too long";
	if (!utf8_valid(v, n))
		return "is not valid UTF-8";
	for (const unsigned char *c = (const unsigned char *)v; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return "contains a control character";
	return NULL;
}

static void list_clear(struct policy_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Split v on commas into l; on error return a message in buf. */
static const char *list_set(struct policy_list *l, const struct key_def *k,
			    const char *v, char buf[static 256])
{
	_cleanup_free_ char *copy = xstrdup(v);
	struct policy_list nl = { NULL, 0 };
	char *rest = copy, *item;

	/* An empty value is the empty list; a comma may end a line that
	 * continues on the next; any other empty item is an error. */
	strrstrip(copy);
	if (*copy && copy[strlen(copy) - 1] == ',')
		copy[strlen(copy) - 1] = '\0';
	if (strspn(copy, " \t") == strlen(copy))
		rest = NULL;
	while ((item = strsep(&rest, ","))) {
		const char *problem;

		while (*item == ' ' || *item == '\t')
			item++;
		strrstrip(item);
		problem = *item ? k->item_check(item) : "is empty";
		if (!problem && nl.n >= k->max)
			problem = "is one item too many";
		if (problem) {
			snprintf(buf, 256, "%s: '%.64s' %s", k->name, item,
				 problem);
			list_clear(&nl);
			return buf;
		}
		nl.v = xrealloc(nl.v, (nl.n + 2) * sizeof(*nl.v));
		nl.v[nl.n++] = xstrdup(item);
		nl.v[nl.n] = NULL;
	}
	if (nl.n < k->min) {
		snprintf(buf, 256, "%s needs at least %u item(s)", k->name,
			 k->min);
		return buf;
	}
	list_clear(l);
	*l = nl;
	return NULL;
}

/* Store value v for key k; on error return a message (static or in *buf). */
static const char *key_set(struct policy *p, const struct key_def *k,
			   const char *v, char buf[static 256])
{
	void *field = (char *)p + k->offset;
	const char *problem;
	unsigned long n;
	char *end;

	switch (k->type) {
	case KEY_STRING:
		problem = string_problem(v, k->max);
		if (problem) {
			snprintf(buf, 256, "%s %s (at most %u bytes)", k->name,
				 problem, k->max);
			return buf;
		}
		free(*(char **)field);
		*(char **)field = xstrdup(v);
		return NULL;
	case KEY_BOOL:
		if (!parse_bool(v, field)) {
			snprintf(buf, 256, "%s must be true or false", k->name);
			return buf;
		}
		return NULL;
	case KEY_UINT:
		errno = 0;
		n = strtoul(v, &end, 10);
		if (*v < '0' || *v > '9' || *end || errno) {
			snprintf(buf, 256, "%s must be a whole number", k->name);
			return buf;
		}
		if (n < k->min || n > k->max) {
			snprintf(buf, 256, "%s = %s is out of range (%u to %u)",
				 k->name, v, k->min, k->max);
			return buf;
		}
		*(unsigned *)field = (unsigned)n;
		return NULL;
	case KEY_LIST:
		/* An empty value is an empty list (where one is allowed). */
		return list_set(field, k, v, buf);
	case KEY_ENUM:
		for (int i = 0; k->choices[i]; i++) {
			if (strcmp(v, k->choices[i]) == 0) {
				*(int *)field = i;
				return NULL;
			}
		}
		snprintf(buf, 256, "%s must be one of:", k->name);
		for (int i = 0; k->choices[i]; i++)
			snprintf(buf + strlen(buf), 256 - strlen(buf), " %s",
				 k->choices[i]);
		return buf;
	}
	return "unknown key type";
}

/* A continuation line: text is joined with a space, list items are
 * added to the list. */
static const char *key_append(struct policy *p, const struct key_def *k,
			      const char *v, char buf[static 256])
{
	void *field = (char *)p + k->offset;
	_cleanup_free_ char *joined = NULL;
	struct policy_list *l = field, more = { NULL, 0 };
	struct key_def unbounded = *k;
	const char *problem;

	if (k->type == KEY_LIST) {
		unbounded.min = 0;
		problem = list_set(&more, &unbounded, v, buf);
		if (problem)
			return problem;
		if (l->n + more.n > k->max) {
			list_clear(&more);
			snprintf(buf, 256, "%s has more than %u items", k->name,
				 k->max);
			return buf;
		}
		l->v = xrealloc(l->v, (l->n + more.n + 1) * sizeof(*l->v));
		if (more.n)	/* an empty continuation has no array */
			memcpy(l->v + l->n, more.v, more.n * sizeof(*l->v));
		l->n += more.n;
		l->v[l->n] = NULL;
		free(more.v);
		return NULL;
	}
	if (k->type != KEY_STRING || !*(char **)field)
		return "only a text or list value may continue on an "
		       "indented line";
	joined = xasprintf("%s %s", *(char **)field, v);
	return key_set(p, k, joined, buf);
}

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct parse *ps = user;
	const struct key_def *k;
	const char *problem;
	char buf[256];
	size_t idx;

	if (ps->section == -1)
		return 1;	/* unknown section: reported once, at its header */
	if (ps->section == -2) {
		perr(ps, ps->line, "key '%s' before any [section]", name);
		return 1;
	}
	k = key_find(section, name);
	if (!k) {
		perr(ps, ps->line, "unknown key '%s' in [%s]", name, section);
		ps->last_key = NULL;
		return 1;
	}
	idx = (size_t)(k - key_defs);
	if (ps->continuation) {
		/* One error for a value, not one per line that follows. */
		if (ps->cont_failed)
			return 1;
		problem = key_append(ps->p, k, value, buf);
		ps->cont_failed = problem != NULL;
	} else if (ps->key_line[idx]) {
		perr(ps, ps->line, "key '%s' repeated (first set at line %u)",
		     name, ps->key_line[idx]);
		ps->last_key = NULL;
		return 1;
	} else {
		ps->key_line[idx] = ps->line;
		ps->last_key = k;
		ps->cont_failed = false;
		problem = key_set(ps->p, k, value, buf);
	}
	if (problem)
		perr(ps, ps->line, "[%s] %s", section, problem);
	return 1;
}

static void section_start(struct parse *ps, const char *line)
{
	const char *end = strchr(line, ']');
	_cleanup_free_ char *name = NULL;
	int i;

	name = xstrndup(line + 1, (size_t)(end - line - 1));
	ps->last_key = NULL;
	i = section_index(name);
	ps->section = i;
	if (i < 0) {
		perr(ps, ps->line, "unknown section [%s]", name);
		return;
	}
	if (ps->section_line[i]) {
		perr(ps, ps->line, "section [%s] repeated (first at line %u)",
		     name, ps->section_line[i]);
		ps->section = -1;	/* its keys would all be repeats */
		return;
	}
	ps->section_line[i] = ps->line;
	if (section_defs[i].common >= 0)
		((struct policy_section *)((char *)ps->p +
					   section_defs[i].common))->present =
			true;
}

/* Classify one raw line; return false (after reporting) when inih must not
 * see it. */
static bool line_check(struct parse *ps, const char *line, size_t n)
{
	const char *s = line, *end = line + n;

	ps->continuation = false;
	if (memchr(line, '\0', n)) {
		perr(ps, ps->line, "NUL byte in line");
		return false;
	}
	/* The line is the caller's bytes, not a string: the last line of a
	 * buffer may end without a newline or a NUL after it. */
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s == end || *s == '\r' || *s == '\n' || *s == ';' || *s == '#')
		return true;
	if (s > line) {
		if (!ps->last_key) {
			perr(ps, ps->line,
			     "indented line continues no key; remove the "
			     "leading spaces");
			return false;
		}
		ps->continuation = true;
		return true;
	}
	if (*s == '[') {
		if (!memchr(s, ']', n - (size_t)(s - line))) {
			perr(ps, ps->line, "section header lacks ']'");
			return false;
		}
		section_start(ps, s);
		return true;
	}
	if (!memchr(s, '=', n - (size_t)(s - line))) {
		perr(ps, ps->line, "expected 'key = value' or '[section]'");
		ps->last_key = NULL;
		return false;
	}
	return true;
}

/* Each line before inih parses it: its number, and what inih would take
 * wrongly or not at all. */
static bool line_checked(void *user, unsigned number, const char *line,
			 size_t n, bool fits, size_t max)
{
	struct parse *ps = user;

	ps->line = number;
	/* inih cuts longer lines and parses the rest as a new line. */
	if (!fits) {
		perr(ps, ps->line,
		     "line longer than %zu bytes; continue a long value on "
		     "indented lines", max);
		ps->last_key = NULL;
		return false;
	}
	return line_check(ps, line, n);
}

static void apply_defaults(struct policy *p)
{
	char buf[256];

	for (size_t i = 0; i < NKEYS; i++)
		if (key_defs[i].def)
			key_set(p, &key_defs[i], key_defs[i].def, buf);
}

static void check_required(struct parse *ps)
{
	for (size_t i = 0; i < NSECTIONS; i++) {
		const struct section_def *sd = &section_defs[i];

		/* An absent check section disables the check; [policy] must
		 * always be there, [report] and [notify] may take their
		 * defaults. */
		if (!ps->section_line[i]) {
			if (sd->common >= 0)
				((struct policy_section *)((char *)ps->p +
							   sd->common))
					->enabled = false;
			else if (strcmp(sd->name, "policy") == 0)
				perr(ps, 0, "missing section [%s]", sd->name);
			continue;
		}
		for (size_t k = 0; k < NKEYS; k++)
			if (strcmp(key_defs[k].section, sd->name) == 0 &&
			    !key_defs[k].def && !ps->key_line[k])
				perr(ps, ps->section_line[i],
				     "[%s] missing required key '%s'", sd->name,
				     key_defs[k].name);
	}
}

static void sha256_hex(const void *data, size_t len, char out[static 65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL))
		mdlen = 0;
	for (unsigned i = 0; i < mdlen && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[2 * (mdlen < 32 ? mdlen : 32)] = '\0';
}

/* The file as it stands: read until two reads in a row agree, so that a
 * file being rewritten in place (truncated, then written, which a reader
 * may see half done) is not taken half written. -EAGAIN when it kept
 * changing. */
static int read_settled(const char *path, char **out, size_t *len)
{
	_cleanup_free_ char *prev = NULL;
	size_t prev_len = 0;
	int r;

	for (int i = 0; i < 5; i++) {
		char *buf = NULL;

		r = read_file(path, POLICY_MAX_BYTES, &buf, len);
		if (r < 0)
			return r;
		if (prev && prev_len == *len && memcmp(prev, buf, *len) == 0) {
			*out = buf;
			return 0;
		}
		free(prev);
		prev = buf;
		prev_len = *len;
	}
	return -EAGAIN;
}

int policy_load(const char *path, struct policy **out, char **errors)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	*errors = NULL;
	r = read_settled(path, &buf, &len);
	if (r == -EAGAIN) {
		*errors = xasprintf("%s: changed every time it was read; try "
				    "again once it is written\n", path);
		return -EINVAL;
	}
	if (r == -EFBIG) {
		*errors = xasprintf("%s: larger than %d bytes; not a policy\n",
				    path, POLICY_MAX_BYTES);
		return -EINVAL;
	}
	if (r < 0) {
		*errors = xasprintf("%s: %s\n", path, strerror(-r));
		return r;
	}
	return policy_parse(path, buf, len, out, errors);
}

int policy_parse(const char *path, const char *buf, size_t len,
		 struct policy **out, char **errors)
{
	_cleanup_(policy_freep) struct policy *p = xcalloc(1, sizeof(*p));
	struct parse ps = { .file = path, .p = p, .section = -2 };
	size_t skip;
	int r;

	*errors = NULL;
	if (len > POLICY_MAX_BYTES) {
		*errors = xasprintf("%s: larger than %d bytes; not a policy\n",
				    path, POLICY_MAX_BYTES);
		return -EINVAL;
	}
	p->path = xstrdup(path);
	sha256_hex(buf, len, p->sha256);
	apply_defaults(p);
	/* A byte-order mark, as Windows editors write, is no error. */
	skip = len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
	r = inifile_parse_checked(buf + skip, len - skip, handler,
				  line_checked, &ps);
	/* The reader catches what inih rejects; this is a safety net. */
	if (r > 0 && ps.nerrors == 0)
		perr(&ps, (unsigned)r, "syntax error");
	check_required(&ps);
	if (ps.nerrors) {
		*errors = ps.errors;
		return -EINVAL;
	}
	*out = p;
	p = NULL;
	return 0;
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < NKEYS; i++) {
		void *field = (char *)p + key_defs[i].offset;

		if (key_defs[i].type == KEY_STRING)
			free(*(char **)field);
		else if (key_defs[i].type == KEY_LIST)
			list_clear(field);
	}
	free(p->path);
	free(p);
}

void policy_freep(struct policy **p)
{
	policy_free(*p);
}

const struct policy_section *policy_section(const struct policy *p,
					    const char *id)
{
	int i = section_index(id);

	if (i < 0 || section_defs[i].common < 0)
		return NULL;
	return (const struct policy_section *)((const char *)p +
					       section_defs[i].common);
}

bool policy_list_has(const struct policy_list *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

const char *severity_name(enum severity s)
{
	return (unsigned)s < ARRAY_SIZE(severities) - 1 ? severities[s] : "?";
}
