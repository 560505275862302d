/* SPDX-License-Identifier: Apache-2.0 */
/*
 * privacy: the privacy account, what a report can carry in plain
 * words, and the filter that keeps every report to it. Write each entry
 * for a member of staff who wants to know what is recorded about them:
 * say what it is, and say so when it names them.
 */
#include <string.h>

#include "privacy.h"
#include "utf8.h"
#include "util.h"

const char privacy_never[] =
	"endpointd never sends the contents of your files, anything on your "
	"screen, images or sound from the camera, window titles, web "
	"addresses, what you type, your passwords or where the laptop is. "
	"Your login name is sent where the list below says so.";

static const struct privacy_field report_fields[] = {
	{ "schema", "The format of the report." },
	{ "seq", "A number that goes up by one with each report, so that "
		 "none is lost or counted twice." },
	{ "generated_at", "When the report was made." },
	{ NULL, NULL },
};

static const struct privacy_field device_fields[] = {
	{ "machine_id", "A random number given to this laptop's system when "
			"it was installed (/etc/machine-id). It names the "
			"laptop, not you." },
	{ "hostname", "The laptop's network name." },
	{ "{vendor,model,serial}", "The laptop's maker, model and serial "
				   "number (as on its label)." },
	{ "os", "The operating system and its version." },
	{ "agent_version", "The version of endpointd." },
	{ NULL, NULL },
};

static const struct privacy_field policy_fields[] = {
	{ "{name,version,sha256}", "The name, version and fingerprint of the "
				   "school's rules the laptop was checked "
				   "against." },
	{ NULL, NULL },
};

static const struct privacy_field check_fields[] = {
	{ "id", "Which check." },
	{ "status", "Its result: pass, warn, fail or unknown." },
	{ "severity", "How serious the school considers a failure." },
	{ "clause", "The words of the code of conduct it checks." },
	{ "summary", "The one-line result, as you see it on the desktop. A "
		     "screen-lock summary can name your login name (whose "
		     "session was left unlocked, or whose settings fall "
		     "short); a USB one names the stick. On the laptop, "
		     "only root and you read your name: other users see "
		     "\"another user\"." },
	{ "remedy", "What to do to put it right." },
	{ "evidence", "The details behind the result, for IT support, "
		      "listed below for each check." },
	{ "evidence.error", "Why the check could not look, when it could "
			    "not." },
	{ NULL, NULL },
};

static const struct privacy_field encryption_fields[] = {
	{ "targets[].{kind,what}", "Each part of the disk that is checked: "
				   "the folders the school names (such as "
				   "/ and /home), the swap space and the "
				   "hibernation space." },
	{ "targets[].{verdict,reason}", "Whether it is encrypted, or why "
					"that could not be told." },
	{ "targets[].chain", "How the disk is built up under it, in one "
			     "line (partitions, encryption, volumes)." },
	{ "targets[].layers[].{device,name,type,cipher,mode,key_bits,pbkdf,"
	  "error}", "The settings of each encryption layer: the method, the "
		    "key length and how the passphrase is protected. Never "
		    "the passphrase or the key." },
	{ "targets[].layers[].unlock", "How each encrypted disk can be "
				       "unlocked (passphrase, TPM2, FIDO2 "
				       "key, recovery key), as its header "
				       "lists them. Never a PIN, key or "
				       "passphrase." },
	{ "targets[].layers[].key_source", "For swap space, that it gets "
					   "a new random key at every boot "
					   "(never the key)." },
	{ "targets[].layers[].{encryption_root,keyformat,keylocation}",
	  "For ZFS: which dataset holds the key, whether it is a passphrase "
	  "or a key file, and where it is read from at start-up (a file's "
	  "path, never the key)." },
	{ "targets[].problems", "Weak settings found, in words." },
	{ "encrypted_homes[].{user,encryption}", "When the disk is not "
	  "encrypted: the people whose home folders are, and how." },
	{ "{min_key_bits,allowed_ciphers}", "The school's requirements they "
					    "were compared with." },
	{ NULL, NULL },
};

static const struct privacy_field screen_lock_fields[] = {
	{ "logind_idle_lock.{enforced,idle_action_seconds}",
	  "Whether the system itself locks idle sessions, and after how "
	  "long." },
	{ "logins[].{kind,detail,file}",
	  "Ways in without a password (automatic or guest sign-in, an "
	  "account with no password): what it is, the settings file, and "
	  "the account's login name. Never a password." },
	{ "users[].user", "The login name of each account on the laptop." },
	{ "users[].{source,home_encryption,home_closed}",
	  "Where the account was found (the laptop's own list, the school's "
	  "directory, a signed-in session or a home folder), and whether its "
	  "home folder is encrypted and closed while signed out." },
	{ "users[].desktops[].{desktop,lock_enabled,lock_after_seconds,"
	  "desktop_lock_seconds,idle_hint_after_seconds,obeys_logind_lock,"
	  "logind_lock_seconds,lock_grace_seconds,asks_password,"
	  "lock_on_suspend,locked_by_it,error}",
	  "For each account, its desktop's screen-lock settings: on or off, "
	  "after how long (by the desktop itself or by the system), how long "
	  "after locking it still opens without a password, whether it asks "
	  "for one, on going to sleep, and whether IT has fixed them." },
	{ "users[].desktops[].settings[].{key,value,from,locked}",
	  "The screen-lock settings that decided it, each with its value and "
	  "where it came from (your own settings, IT's, or the default). "
	  "Only screen-lock, idle and sleep settings are read." },
	{ "dconf.{profile,notes}", "Which of IT's settings databases the "
				   "desktop reads." },
	{ "dconf.databases[].{name,file,compiled,problem}",
	  "Each of those databases: its file, whether it is compiled, and "
	  "whether IT's latest settings in it are in force." },
	{ "{sessions,unattended}[].{id,user,type,idle,locked,idle_seconds,"
	  "desktop}",
	  "Each signed-in session (all of them, and those left idle and "
	  "unlocked too long): its number, its login name, whether it is on "
	  "the screen or a text console, and whether and for how long it "
	  "has been idle or locked. Not what is on the screen or what you "
	  "are doing." },
	{ "{problems,unknown}", "What falls short, and what could not be "
				"read, in words, with the login name of the "
				"account concerned." },
	{ "unwatched", "Sessions whose desktop does not tell the system when "
		       "it is idle, so that a laptop left unlocked is not "
		       "noticed there, in words with the login name." },
	{ "idle_inhibitors[].{who,why,uid,pid,user,held_minutes}",
	  "Applications keeping the screen from locking (a presentation, a "
	  "video call): the application's name and the reason it gives, the "
	  "account and process running it, and for how long so far." },
	{ "{max_idle_minutes,max_inhibit_minutes}", "The school's limits." },
	{ NULL, NULL },
};

static const struct privacy_field usb_storage_fields[] = {
	{ "devices[].{vendor_id,product_id,manufacturer,product,serial}",
	  "Each USB storage device plugged in: its maker and model, as "
	  "numbers and names, and its serial number." },
	{ "devices[].bus_path", "The USB port it is plugged into." },
	{ "devices[].{verdict,blocked}", "Whether it is encrypted or allowed, "
					 "and whether it was switched off." },
	{ "devices[].parts[].{name,whole,type}",
	  "Each part of it and what it holds: encrypted, or the kind of file "
	  "system. Never the names or contents of your files." },
	{ "devices[].parts[].{part_type,reserved,content,entropy,unlocked_as}",
	  "Why a part was judged so: its partition type (such as Windows' "
	  "reserved partition), whether it is blank or looks encrypted (a "
	  "measure of how random its first megabyte is, never the bytes "
	  "themselves), and whether you unlocked it." },
	{ "devices[].parts[].mounted_at",
	  "Where it is opened, such as /media/your-login-name/STICK-NAME: "
	  "this shows your login name and the name of the stick." },
	{ "action", "What the school's rules say to do with such a device." },
	{ NULL, NULL },
};

static const struct privacy_field camera_fields[] = {
	{ "cameras[].{device,name}", "Each camera: its device and name." },
	{ "cameras[].sessions[].{device,application,exe,pid,started_at}",
	  "Each program using a camera now: its name, its program file (a "
	  "path such as /usr/bin/cheese, or one in your home folder when it "
	  "runs from there), its process number and since when." },
	{ "cameras[].sessions[].user", "The login name of who runs it." },
	{ "cameras[].sessions[].{approved,media_server}",
	  "Whether the school approved the program, and whether it is the "
	  "desktop's media service (which passes the camera on)." },
	{ "cameras[].sessions[].{app_id,note}",
	  "For a Flatpak or Snap application, its name (such as "
	  "flatpak:us.zoom.Zoom); and \"upgraded while running\" when its "
	  "program was updated while in use." },
	{ "cameras[].sessions[].via",
	  "\"pipewire\" when the program gets the camera through the "
	  "desktop's media service rather than opening it itself." },
	{ "privacy", "A reminder of what is never recorded: no image, window "
		     "title or web address." },
	{ NULL, NULL },
};

static const struct privacy_field event_fields[] = {
	{ "at", "When it happened." },
	{ "type", "What kind of event." },
	{ "check", "The check it belongs to." },
	{ NULL, NULL },
};

static const struct privacy_field status_change_fields[] = {
	{ "{old,new}", "The check's result before and after." },
	{ NULL, NULL },
};

static const struct privacy_field policy_loaded_fields[] = {
	{ "policy.{name,version,sha256}", "Which rules." },
	{ "source", "Where they came from: the file on the laptop or the "
		    "collector." },
	{ NULL, NULL },
};

static const struct privacy_field policy_error_fields[] = {
	{ "error", "What is wrong with them; the rules before stay in "
		   "force." },
	{ NULL, NULL },
};

static const struct privacy_field dropped_fields[] = {
	{ "count", "How many." },
	{ NULL, NULL },
};

static const struct privacy_field rejected_fields[] = {
	{ "{seq,http_status,error}", "Which report, and the collector's "
				     "answer." },
	{ NULL, NULL },
};

static const struct privacy_field spool_fields[] = {
	{ "{count,error,since}", "How many, why and since when." },
	{ NULL, NULL },
};

static const struct privacy_field usb_event_fields[] = {
	{ "action", "Plugged in, changed (formatted or unlocked) or "
		    "removed." },
	{ "taken", "What was done: logged, a warning, or switched off." },
	{ "device.{vendor_id,product_id,manufacturer,product,serial,bus_path,"
	  "verdict,blocked}",
	  "The device, as in the USB storage check above: maker, model, "
	  "serial number, port, and whether it is encrypted or allowed." },
	{ "device.parts[].{name,whole,type,mounted_at}",
	  "Its parts and where they were opened (which shows your login "
	  "name and the stick's name)." },
	{ "device.parts[].{part_type,reserved,content,entropy,unlocked_as}",
	  "Why each part was judged so, as in the USB storage check above." },
	{ NULL, NULL },
};

static const struct privacy_field camera_event_fields[] = {
	{ "action", "Started or ended." },
	{ "{device,application,exe,pid,started_at,duration_seconds}",
	  "The camera, the program and its program file, its process "
	  "number, when it started and, at the end, how many seconds it "
	  "lasted." },
	{ "user", "The login name of who ran the program." },
	{ "{approved,media_server}", "Whether the school approved the "
				     "program." },
	{ "{app_id,note}", "A Flatpak or Snap application's name, and "
			   "whether its program was updated while in use." },
	{ "via", "Whether the program got the camera through the desktop's "
		 "media service (PipeWire)." },
	{ NULL, NULL },
};

static const struct privacy_field unattended_fields[] = {
	{ "{session,user}", "The session's number and its login name." },
	{ "idle_minutes", "How long it had been idle." },
	{ NULL, NULL },
};

#define PART(p, t, w, f) \
	static const struct privacy_part part_##f = { p, t, w, f }

PART("", "The report itself", NULL, report_fields);
PART("device", "This laptop", NULL, device_fields);
PART("policy", "The school's rules in force", NULL, policy_fields);
PART("checks[*]", "Each check's result", NULL, check_fields);
PART("checks[encryption].evidence", "Disk encryption: the details", NULL,
     encryption_fields);
PART("checks[screen_lock].evidence", "Screen lock: the details", NULL,
     screen_lock_fields);
PART("checks[usb_storage].evidence", "USB storage: the details", NULL,
     usb_storage_fields);
PART("checks[camera].evidence", "Camera use: the details", NULL,
     camera_fields);
PART("events[*]", "Events: what happened since the last report", NULL,
     event_fields);
PART("events[status_change]", "A check's result changed", NULL,
     status_change_fields);
PART("events[policy_loaded]", "New rules were put in force", NULL,
     policy_loaded_fields);
PART("events[policy_error]", "New rules were refused", NULL,
     policy_error_fields);
PART("events[{events_dropped,reports_dropped}]",
     "Events or reports were dropped because too many were waiting", NULL,
     dropped_fields);
PART("events[report_rejected]", "The collector refused a report", NULL,
     rejected_fields);
PART("events[spool_write_failed]", "Reports could not be saved on the "
     "laptop (a full disk)", NULL, spool_fields);
PART("events[usb_device]", "A USB storage device was plugged in or "
     "removed", "storage only: not a keyboard, mouse or other device",
     usb_event_fields);
PART("events[camera_session]", "A program started or stopped using a "
     "camera", NULL, camera_event_fields);
PART("events[{unattended_session,unattended_session_end}]",
     "A session was left idle and unlocked too long, or was locked or "
     "used again", NULL, unattended_fields);

static const struct privacy_part *const parts[] = {
	&part_report_fields, &part_device_fields, &part_policy_fields,
	&part_check_fields, &part_encryption_fields,
	&part_screen_lock_fields, &part_usb_storage_fields,
	&part_camera_fields, &part_event_fields, &part_status_change_fields,
	&part_policy_loaded_fields, &part_policy_error_fields,
	&part_dropped_fields, &part_rejected_fields, &part_spool_fields,
	&part_usb_event_fields, &part_camera_event_fields,
	&part_unattended_fields, NULL,
};

const struct privacy_part *const *privacy_parts(void)
{
	return parts;
}

/* --- matching --- */

/* The next segment of a path: up to a "." outside braces. */
static size_t seg_len(const char *s)
{
	int depth = 0;
	size_t n = 0;

	for (; s[n] && (s[n] != '.' || depth); n++) {
		if (s[n] == '{')
			depth++;
		else if (s[n] == '}')
			depth--;
	}
	return n;
}

/* Whether pattern segment p (pn bytes) matches segment s (sn bytes). The
 * braces may stand for the whole segment or for the name before "[...]". */
static bool seg_match(const char *p, size_t pn, const char *s, size_t sn)
{
	const char *close, *alt;

	if (pn == 1 && p[0] == '*')
		return true;
	if (pn >= 3 && memcmp(p + pn - 3, "[*]", 3) == 0) {
		const char *b = memchr(s, '[', sn);

		return b && s[sn - 1] == ']' &&
		       seg_match(p, pn - 3, s, (size_t)(b - s));
	}
	if (pn && p[0] == '{' && (close = memchr(p, '}', pn))) {
		size_t rest = pn - (size_t)(close + 1 - p);

		/* {a,b}[x]: each alternative followed by the rest. */
		if (sn < rest || memcmp(s + sn - rest, close + 1, rest) != 0)
			return false;
		for (alt = p + 1; alt < close;) {
			const char *end = memchr(alt, ',', (size_t)(close - alt));

			if (!end)
				end = close;
			if ((size_t)(end - alt) == sn - rest &&
			    memcmp(alt, s, sn - rest) == 0)
				return true;
			alt = end + 1;
		}
		return false;
	}
	/* name[{a,b}]: the item selector's braces. */
	if (pn && p[pn - 1] == ']' && memchr(p, '{', pn)) {
		const char *b = memchr(p, '[', pn), *sb = memchr(s, '[', sn);

		return b && sb && (size_t)(b - p) == (size_t)(sb - s) &&
		       memcmp(p, s, (size_t)(b - p)) == 0 && s[sn - 1] == ']' &&
		       seg_match(b + 1, pn - (size_t)(b - p) - 2, sb + 1,
				 sn - (size_t)(sb - s) - 2);
	}
	return pn == sn && memcmp(p, s, sn) == 0;
}

/* The length of a pattern segment without its item selector: "checks"
 * of "checks[*]", "{a,b}" of "{a,b}[]". */
static size_t seg_name_len(const char *p, size_t pn)
{
	int depth = 0;

	for (size_t i = 0; i < pn; i++) {
		if (p[i] == '{')
			depth++;
		else if (p[i] == '}')
			depth--;
		else if (p[i] == '[' && !depth)
			return i;
	}
	return pn;
}

/* Match the path's segments against the pattern's, from the start. The
 * path may be shorter: a container of a declared field is declared, and
 * so is the array whose items are (the path's last segment "targets"
 * against the pattern's "targets[]"). With prefix, the path may also be
 * longer: *path is left at what follows the pattern. */
static bool path_match(const char *pat, const char **path, bool prefix)
{
	for (;;) {
		size_t pn = seg_len(pat), sn;

		if (!**path)
			return true;
		if (!*pat)
			return prefix;
		sn = seg_len(*path);
		if (!seg_match(pat, pn, *path, sn) &&
		    ((*path)[sn] || !seg_match(pat, seg_name_len(pat, pn),
					       *path, sn)))
			return false;
		pat += pn + (pat[pn] == '.');
		*path += sn + ((*path)[sn] == '.');
	}
}

static bool part_declares(const struct privacy_part *pt, const char *path)
{
	const char *rest = path;

	if (pt->prefix[0] && !path_match(pt->prefix, &rest, true))
		return false;
	if (!*rest)
		return true;	/* the part's own container */
	for (const struct privacy_field *f = pt->fields; f->path; f++) {
		const char *r = rest;

		if (path_match(f->path, &r, false))
			return true;
	}
	return false;
}

bool privacy_declared(const char *path)
{
	for (const struct privacy_part *const *p = parts; *p; p++)
		if (part_declares(*p, path))
			return true;
	return false;
}

/* --- the filter --- */

struct walk {
	char path[1024];
	json_t *known;		/* path -> declared, for the paths met before */
	void (*undeclared)(const char *path, void *data);
	void *data;
	size_t removed;
};

static void walk_object(struct walk *w, size_t len, json_t *obj);

/* privacy_declared(w->path), remembered: a report's events repeat the
 * same few paths. */
static bool declared(struct walk *w)
{
	json_t *v = json_object_get(w->known, w->path);
	bool yes;

	if (v)
		return json_is_true(v);
	yes = privacy_declared(w->path);
	json_object_set_new(w->known, w->path, json_boolean(yes));
	return yes;
}

/* An item's name in its array: checks[id], events[type], or []. */
static bool item_name(struct walk *w, size_t len, json_t *item, size_t *out)
{
	const char *key = NULL, *id;
	int n;

	if (strcmp(w->path, "checks") == 0)
		key = "id";
	else if (strcmp(w->path, "events") == 0)
		key = "type";
	id = key ? json_string_value(json_object_get(item, key)) : "";
	if (!id || strspn(id, "abcdefghijklmnopqrstuvwxyz_") != strlen(id) ||
	    (key && !*id))
		id = "?";
	n = snprintf(w->path + len, sizeof(w->path) - len, "[%s]", id);
	if (n < 0 || (size_t)n >= sizeof(w->path) - len)
		return false;
	*out = len + (size_t)n;
	return true;
}

static void walk_value(struct walk *w, size_t len, json_t *v)
{
	json_t *item;
	size_t i, n;

	if (json_is_object(v)) {
		walk_object(w, len, v);
		return;
	}
	if (!json_is_array(v))
		return;
	/* Items are values, or objects whose fields are judged; an array
	 * of arrays is in no report, so nothing in it is declared. */
	for (i = 0; i < json_array_size(v); i++) {
		item = json_array_get(v, i);
		if (json_is_object(item) && item_name(w, len, item, &n)) {
			walk_object(w, n, item);
		} else if (json_is_object(item) || json_is_array(item)) {
			if (w->undeclared) {
				strncat(w->path, "[]", sizeof(w->path) - len - 1);
				w->undeclared(w->path, w->data);
			}
			json_array_remove(v, i--);
			w->removed++;
		}
		w->path[len] = '\0';
	}
}

static void walk_object(struct walk *w, size_t len, json_t *obj)
{
	const char *key;
	json_t *v, *tmp;

	json_object_foreach_safe(obj, tmp, key, v) {
		int n = snprintf(w->path + len, sizeof(w->path) - len, "%s%s",
				 len ? "." : "", key);
		bool fits = n >= 0 && (size_t)n < sizeof(w->path) - len;

		if (fits && *key && !strchr(key, '.') && declared(w)) {
			walk_value(w, len + (size_t)n, v);
		} else {
			if (w->undeclared)
				w->undeclared(w->path, w->data);
			json_object_del(obj, key);
			w->removed++;
		}
		w->path[len] = '\0';
	}
}

size_t privacy_filter(json_t *report,
		      void (*undeclared)(const char *path, void *data),
		      void *data)
{
	struct walk w = { .undeclared = undeclared, .data = data,
			  .known = json_object() };

	if (json_is_object(report))
		walk_object(&w, 0, report);
	json_decref(w.known);
	return w.removed;
}

/* --- the collector's terms --- */

json_t *privacy_terms(const json_t *t)
{
	json_t *days = json_object_get(t, "retention_days");
	json_t *access = json_object_get(t, "access");
	json_t *accounts = json_object_get(t, "dashboard_accounts");
	const char *a = json_string_value(access);
	size_t n = json_string_length(access);

	if (!json_is_object(t) || !json_is_integer(days) ||
	    json_integer_value(days) < 1 || json_integer_value(days) > 3650 ||
	    !a || n < 1 || n > 400 || strlen(a) != n || !utf8_valid(a, n) ||
	    !(json_is_null(accounts) ||
	      (json_is_integer(accounts) && json_integer_value(accounts) >= 0 &&
	       json_integer_value(accounts) < 1000000)))
		return NULL;
	for (const char *c = a; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return NULL;
	return json_pack("{s:O, s:O, s:O}", "retention_days", days,
			 "access", access, "dashboard_accounts", accounts);
}
