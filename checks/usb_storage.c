/* SPDX-License-Identifier: Apache-2.0 */
/*
 * usb_storage: judging USB devices against [usb_storage].
 *
 * A storage device passes when it is on an allow list, or when every
 * partition (or the whole disk) holding data is LUKS or BitLocker. A disk
 * holding only a partition table is a container, a reader with no card
 * holds nothing; both wait for their partitions or medium. A reserved
 * partition (Windows' Microsoft Reserved) and a blank one hold no data.
 * Where libblkid recognises nothing, a part opened as dm-crypt is
 * encrypted; otherwise its first MiB tells "blank" (every byte the same)
 * from "unrecognised" (random-looking, as VeraCrypt is, or other data).
 * Every udev change on a stick (a new partition table, a filesystem made,
 * a dm-crypt device opened on it) judges it again at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <libudev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "check.h"
#include "log.h"
#include "loop.h"
#include "messages.h"
#include "usb_storage.h"
#include "usbdev.h"
#include "util.h"

enum verdict {
	V_NONE,		/* not judged yet */
	V_PENDING,	/* storage, nothing to judge yet */
	V_EMPTY,	/* no medium */
	V_ENCRYPTED,
	V_ALLOWED,
	V_PLAIN,
	V_UNRECOGNISED,
	V_BLANK,
	V_PHONE,
	V_VIDEO,
	V_OTHER,
};

static const char *const verdict_names[] = {
	[V_NONE] = "not judged", [V_PENDING] = "waiting for its partitions",
	[V_EMPTY] = "no medium", [V_ENCRYPTED] = "encrypted",
	[V_ALLOWED] = "on the allow list", [V_PLAIN] = "not encrypted",
	[V_UNRECOGNISED] = "unrecognised", [V_BLANK] = "blank",
	[V_PHONE] = "phone or camera",
	[V_VIDEO] = "video capture", [V_OTHER] = "other",
};

static const char *const taken_names[] = { "logged", "warned", "blocked" };

static struct {
	struct host *h;
	const struct policy *p;
	bool watching;
	struct loop_source *refresh;	/* re-evaluate after the table changed */
	struct loop_source *retry;	/* switch-offs to try again */
} us;

#define BLOCK_TRIES 3
#define BLOCK_RETRY_MS 50

static bool allowed(const struct policy *p, const struct usb_dev *d)
{
	char model[10], dev[10 + USBDEV_STRING_MAX + 1];

	snprintf(model, sizeof(model), "%s:%s", d->vid, d->pid);
	for (size_t i = 0; i < p->usb_storage.allow_models.n; i++)
		if (strcasecmp(p->usb_storage.allow_models.v[i], model) == 0)
			return true;
	if (!d->serial)
		return false;
	snprintf(dev, sizeof(dev), "%s:%s", model, d->serial);
	for (size_t i = 0; i < p->usb_storage.allow_devices.n; i++) {
		const char *a = p->usb_storage.allow_devices.v[i];

		if (strncasecmp(a, dev, 9) == 0 && strcmp(a + 9, dev + 9) == 0)
			return true;
	}
	return false;
}

static bool encrypted_type(const char *t)
{
	return strcmp(t, "crypto_LUKS") == 0 || strcmp(t, "BitLocker") == 0;
}

/* Microsoft Reserved: an empty partition Windows puts on every GPT disk
 * it initialises (16 MB on Windows 10 and 11, 128 MB before). */
#define GPT_MSR "E3C9E316-0B5C-4DB8-817D-F92DF00215AE"

static bool reserved(const struct usb_dev *d, const struct usb_part *pt)
{
	const char *t = usbdev_part_type(d, pt);

	return t && strcmp(t, GPT_MSR) == 0;
}

static enum verdict judge_storage(const struct usb_dev *d)
{
	unsigned plain = 0, unrec = 0, enc = 0, empty = 0, blank = 0;

	for (size_t i = 0; i < d->nparts; i++) {
		const struct usb_part *pt = &d->parts[i];

		if (pt->empty)
			empty++;
		else if (pt->type && strncmp(pt->type, "partition table", 15) == 0)
			continue;	/* a container: its partitions count */
		else if (!pt->type && reserved(d, pt))
			continue;	/* holds no data */
		else if (!pt->type && pt->holder_kind)
			enc++;		/* unlocked through dm-crypt */
		else if (!pt->type && pt->content == USB_CONTENT_BLANK)
			blank++;
		else if (!pt->type)
			unrec++;	/* random, other data, or unreadable */
		else if (encrypted_type(pt->type))
			enc++;
		else
			plain++;
	}
	if (plain)
		return V_PLAIN;
	if (unrec)
		return V_UNRECOGNISED;
	if (enc)
		return V_ENCRYPTED;
	if (blank)
		return V_BLANK;
	return empty ? V_EMPTY : V_PENDING;
}

static enum verdict judge(const struct policy *p, const struct usb_dev *d)
{
	/* What a device can store is judged first: a gadget that also
	 * claims to be a hub is still a stick. */
	if ((d->classes & (USB_CLASS_STORAGE | USB_CLASS_IMAGE | USB_CLASS_MTP)) &&
	    allowed(p, d))
		return V_ALLOWED;
	if (d->classes & (USB_CLASS_IMAGE | USB_CLASS_MTP))
		return V_PHONE;
	if (d->classes & USB_CLASS_STORAGE)
		return judge_storage(d);
	if (d->classes & USB_CLASS_VIDEO)
		return V_VIDEO;
	return V_OTHER;	/* hubs, keyboards, mice */
}

/* What the policy says to do; -1 for nothing. */
static int action_for(const struct policy *p, enum verdict v)
{
	switch (v) {
	case V_PLAIN:
		return (int)p->usb_storage.action;
	case V_UNRECOGNISED:
		return (int)p->usb_storage.unrecognised;
	case V_BLANK:
		return (int)p->usb_storage.blank;
	case V_PHONE:
		return (int)p->usb_storage.phones;
	default:
		return -1;
	}
}

static bool reportable(enum verdict v)
{
	return v != V_NONE && v != V_PENDING && v != V_OTHER;
}

/* A name staff can read: the product string, printable, cut short. */
static char *display_name(const struct usb_dev *d)
{
	const char *src = d->product && *d->product ? d->product : NULL;
	char *s;

	if (!src)
		return xasprintf("%s:%s", d->vid, d->pid);
	s = xstrndup(src, 48);
	for (unsigned char *c = (unsigned char *)s; *c; c++)
		if (*c < 0x20 || *c == 0x7f || *c == '\'' || *c == '"')
			*c = '?';
	return s;
}

static const char *const content_names[] = {
	[USB_CONTENT_UNREAD] = NULL, [USB_CONTENT_BLANK] = "blank",
	[USB_CONTENT_RANDOM] = "random", [USB_CONTENT_DATA] = "data",
};

/* Why a part was judged as it was, beyond libblkid's type. */
static void part_detail_json(json_t *po, const struct usb_dev *d,
			     const struct usb_part *pt)
{
	const char *ptype = usbdev_part_type(d, pt);

	if (ptype)
		json_object_set_new(po, "part_type", json_string_lossy(ptype));
	if (!pt->type && reserved(d, pt))
		json_object_set_new(po, "reserved", json_true());
	if (content_names[pt->content]) {
		json_object_set_new(po, "content",
				    json_string(content_names[pt->content]));
		/* One decimal: enough to tell 8 (random) from text. */
		json_object_set_new(po, "entropy",
				    json_real((double)(long)(pt->entropy * 10 +
							     0.5) / 10));
	}
	if (pt->holder_kind)
		json_object_set_new(po, "unlocked_as",
				    json_string_lossy(pt->holder_kind));
}

static json_t *device_json(const struct usb_dev *d)
{
	json_t *parts = json_array();
	json_t *o;

	for (size_t i = 0; i < d->nparts; i++) {
		const struct usb_part *pt = &d->parts[i];
		json_t *po = json_pack("{s:o, s:b, s:o}", "name",
				       json_string_lossy(pt->name), "whole",
				       pt->whole, "type",
				       pt->empty ? json_string("no medium")
						 : json_string_lossy(pt->type));

		part_detail_json(po, d, pt);
		if (pt->mounts) {
			json_t *m = json_array();

			for (char **mp = pt->mounts; *mp; mp++)
				json_array_append_new(m, json_string_lossy(*mp));
			json_object_set_new(po, "mounted_at", m);
		}
		json_array_append_new(parts, po);
	}
	o = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:s, s:o}",
		      "vendor_id", d->vid, "product_id", d->pid,
		      "serial", json_string_lossy(d->serial),
		      "manufacturer", json_string_lossy(d->manufacturer),
		      "product", json_string_lossy(d->product),
		      "bus_path", json_string_lossy(d->bus_path),
		      "verdict", verdict_names[d->verdict], "parts", parts);
	if (d->blocked)
		json_object_set_new(o, "blocked", json_true());
	return o;
}

/* Judge a device after a change, act on the verdict, record the event. */
static void on_device(struct usb_dev *d, enum usbdev_change what, void *data)
{
	enum verdict v;
	bool again;
	int act;

	(void)data;
	loop_timer_set(us.refresh, 1, 0);
	if (!d) {
		/* Events were lost: look at every device again, judge what
		 * is new; the refresh drops what is gone. */
		if (usbdev_rescan() < 0)
			log_warnx("usb_storage: cannot look at USB devices again");
		for (struct usb_dev *x = usbdev_list(); x; x = x->next)
			on_device(x, USBDEV_CHANGED, NULL);
		return;
	}
	if (what == USBDEV_REMOVED) {
		if (reportable(d->verdict))
			host_event(us.h, json_pack("{s:s, s:s, s:s, s:o}", "type",
						   "usb_device", "check",
						   "usb_storage", "action",
						   "remove", "device",
						   device_json(d)));
		return;
	}
	/* A blocked device loses its disks; its verdict stands. */
	if (d->blocked)
		return;
	/* The allow lists need the device's identity. */
	if (!d->vid[0] || !d->pid[0])
		usbdev_reidentify(d);
	v = judge(us.p, d);
	/* Disks going away before their device leave its verdict standing. */
	if (v == (enum verdict)d->verdict ||
	    (!reportable(v) && reportable(d->verdict)))
		return;
	/* Judged before: formatted, repartitioned or unlocked since. */
	again = reportable(d->verdict);
	d->verdict = v;
	if (!reportable(v))
		return;
	act = action_for(us.p, v);
	if (act == USB_ACTION_BLOCK) {
		int r = usbdev_deauthorize(d);

		/* A device that has just appeared may not show its
		 * authorized attribute yet: try again shortly before
		 * settling for a warning. */
		if (r < 0 && ++d->retries < BLOCK_TRIES) {
			d->verdict = V_NONE;
			loop_timer_set(us.retry, BLOCK_RETRY_MS, 0);
			return;
		}
		if (r < 0) {
			log_errx("usb_storage: cannot switch off %s: %s",
				 d->bus_path, strerror(-r));
			act = USB_ACTION_WARN;
		}
	}
	host_event(us.h, json_pack("{s:s, s:s, s:s, s:o, s:s}", "type",
				   "usb_device", "check", "usb_storage",
				   "action", again ? "change" : "add",
				   "device", device_json(d),
				   "taken", act < 0 ? "none" : taken_names[act]));
}

static void on_retry(void *data)
{
	(void)data;
	for (struct usb_dev *d = usbdev_list(); d; d = d->next)
		if (d->verdict == V_NONE && d->retries)
			on_device(d, USBDEV_CHANGED, NULL);
}

static void on_refresh(void *data)
{
	(void)data;
	host_changed(us.h, "usb_storage");
}

/* --- the finding --- */

static void conclude(struct finding *f, const struct policy *p,
		     const struct usb_dev *worst, int act)
{
	_cleanup_free_ char *name = NULL, *s = NULL;

	if (!worst) {
		finding_set(f, CHECK_PASS, SAY_USB_PASS, NULL);
		return;
	}
	name = display_name(worst);
	if (worst->verdict == V_PHONE) {
		s = xasprintf(SAY_USB_PHONE, name,
			      worst->blocked ? SAY_USB_SWITCHED_OFF : "");
		finding_set(f, CHECK_FAIL, s, SAY_USB_PHONE_DO);
	} else if (worst->verdict == V_BLANK) {
		s = xasprintf(SAY_USB_BLANK, name,
			      worst->blocked ? SAY_USB_SWITCHED_OFF : "");
		finding_set(f, CHECK_FAIL, s, SAY_USB_BLANK_DO);
	} else if (worst->verdict == V_UNRECOGNISED) {
		s = xasprintf(SAY_USB_UNRECOGNISED, name,
			      worst->blocked ? SAY_USB_UNRECOGNISED_OFF : "");
		finding_set(f, CHECK_FAIL, s, SAY_USB_UNRECOGNISED_DO);
	} else {
		s = xasprintf(SAY_USB_PLAIN, name,
			      worst->blocked ? SAY_USB_SWITCHED_OFF : "");
		finding_set(f, CHECK_FAIL, s, SAY_USB_PLAIN_DO);
	}
	(void)p;
	(void)act;
}

static int usb_evaluate(struct host *h, const struct policy *p,
			struct finding *f)
{
	json_t *devices = json_array();
	const struct usb_dev *worst = NULL;
	int worst_act = -1, r;

	if (!us.watching) {
		r = usbdev_scan(h);
		if (r < 0) {
			json_decref(devices);
			usbdev_clear();
			return r;
		}
		for (struct usb_dev *d = usbdev_list(); d; d = d->next)
			d->verdict = judge(p, d);
	}
	/* Devices whose removal was missed are removed now. */
	if (us.watching)
		usbdev_reconcile(on_device, NULL);
	for (const struct usb_dev *d = usbdev_list(); d; d = d->next) {
		int act = action_for(p, d->verdict);

		if (d->verdict != V_OTHER)
			json_array_append_new(devices, device_json(d));
		if (act >= USB_ACTION_WARN && act > worst_act) {
			worst = d;
			worst_act = act;
		}
	}
	conclude(f, p, worst, worst_act);
	finding_evidence_json(f, "devices", devices);
	finding_evidence_str(f, "action", taken_names[p->usb_storage.action]);
	if (!us.watching)
		usbdev_clear();
	return 0;
}

/* --- the udev rule --- */

char *usb_storage_udev_rule(const struct policy *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	fprintf(f, "# Written by endpointd from policy \"%s\" version %s\n"
		   "# (sha256 %s). Do not edit: it is rewritten when the "
		   "policy changes.\n", p->name, p->version, p->sha256);
	if (!p->usb_storage.s.enabled || p->usb_storage.action != USB_ACTION_BLOCK) {
		fprintf(f, "# The policy does not block unencrypted USB "
			   "storage: nothing is hidden.\n");
		fclose(f);
		return buf;
	}
	fprintf(f, "# Keeps desktop automounters (udisks) away from USB "
		   "storage that is neither\n# encrypted nor allowed, so it "
		   "is never mounted before endpointd switches it off.\n"
		   "ACTION!=\"add|change\", GOTO=\"endpointd_end\"\n"
		   "SUBSYSTEM!=\"block\", GOTO=\"endpointd_end\"\n"
		   "ENV{ID_BUS}!=\"usb\", GOTO=\"endpointd_end\"\n"
		   "ENV{ID_FS_TYPE}==\"\", GOTO=\"endpointd_end\"\n"
		   "ENV{ID_FS_TYPE}==\"crypto_LUKS|BitLocker\", "
		   "GOTO=\"endpointd_end\"\n");
	/* Allow-list items were checked by the policy parser: hex and
	 * plain serials only, nothing that could break the rule. */
	for (size_t i = 0; i < p->usb_storage.allow_models.n; i++) {
		const char *m = p->usb_storage.allow_models.v[i];

		fprintf(f, "ENV{ID_VENDOR_ID}==\"%.4s\", ENV{ID_MODEL_ID}==\"%.4s\", "
			   "GOTO=\"endpointd_end\"\n", m, m + 5);
	}
	for (size_t i = 0; i < p->usb_storage.allow_devices.n; i++) {
		const char *m = p->usb_storage.allow_devices.v[i];

		fprintf(f, "ENV{ID_VENDOR_ID}==\"%.4s\", ENV{ID_MODEL_ID}==\"%.4s\", "
			   "ENV{ID_SERIAL_SHORT}==\"%s\", GOTO=\"endpointd_end\"\n",
			m, m + 5, m + 10);
	}
	fprintf(f, "ENV{UDISKS_IGNORE}=\"1\", ENV{UDISKS_AUTO}=\"0\"\n"
		   "LABEL=\"endpointd_end\"\n");
	fclose(f);
	return buf;
}

/* Ask udev to run its rules again on every USB disk already plugged in, so
 * a rule that changed (or replaced the one installed with the package,
 * which hides every unencrypted stick until endpointd runs) applies to them
 * as well, as udevadm trigger --action=change does. */
static void retrigger_usb_disks(struct host *h)
{
	struct udev *udev = host_udev(h);
	struct udev_enumerate *e = udev ? udev_enumerate_new(udev) : NULL;
	struct udev_list_entry *l;
	int n = 0;

	if (!e)
		return;
	udev_enumerate_add_match_subsystem(e, "block");
	udev_enumerate_add_match_property(e, "ID_BUS", "usb");
	if (udev_enumerate_scan_devices(e) < 0) {
		udev_enumerate_unref(e);
		return;
	}
	udev_list_entry_foreach(l, udev_enumerate_get_list_entry(e)) {
		_cleanup_free_ char *path = xasprintf(
			"%s/uevent", udev_list_entry_get_name(l));
		_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC |
						    O_NOFOLLOW);

		if (fd < 0 || write(fd, "change", 6) != 6)
			log_warnx("usb_storage: cannot ask udev to apply the "
				  "rule to %s: %s", path, strerror(errno));
		else
			n++;
	}
	udev_enumerate_unref(e);
	if (n)
		log_debug("usb_storage: udev applies the rule again to %d "
			  "USB disks", n);
}

void usb_storage_write_rule(struct host *h, const struct policy *p)
{
	const char *path = host_udev_rule(h);
	_cleanup_free_ char *rule = NULL, *old = NULL;
	int r;

	if (!path)
		return;
	rule = usb_storage_udev_rule(p);
	/* The same rule is in force already: nothing to do. */
	if (read_file(path, 1024 * 1024, &old, NULL) == 0 &&
	    strcmp(old, rule) == 0)
		return;
	r = write_file_atomic(path, rule, strlen(rule), 0644);
	if (r < 0) {
		log_warnx("usb_storage: cannot write the udev rule %s: %s",
			  path, strerror(-r));
		return;
	}
	retrigger_usb_disks(h);
}

static int usb_start(struct host *h, const struct policy *p)
{
	int r;

	us.h = h;
	us.p = p;
	us.refresh = loop_add_timer(0, 0, on_refresh, NULL);
	us.retry = loop_add_timer(0, 0, on_retry, NULL);
	if (!us.refresh || !us.retry)
		return -errno;
	r = usbdev_scan(h);
	if (r < 0)
		return r;
	r = usbdev_watch(h, on_device, NULL);
	if (r < 0)
		return r;
	us.watching = true;
	/* Judge and act on what was already plugged in. */
	for (struct usb_dev *d = usbdev_list(); d; d = d->next)
		on_device(d, USBDEV_ADDED, NULL);
	return 0;
}

static void usb_stop(struct host *h)
{
	(void)h;
	usbdev_unwatch();
	usbdev_clear();
	loop_remove(us.refresh);
	loop_remove(us.retry);
	us.refresh = us.retry = NULL;
	us.watching = false;
}

const struct check_ops usb_storage_check = {
	.id = "usb_storage",
	.title = "USB storage, phones and cameras",
	.start = usb_start,
	.stop = usb_stop,
	.evaluate = usb_evaluate,
	.policy_applied = usb_storage_write_rule,
	.udev_rule = usb_storage_udev_rule,
};
