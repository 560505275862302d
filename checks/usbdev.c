/* SPDX-License-Identifier: Apache-2.0 */
/*
 * usbdev: libudev enumeration and monitor, one table of USB devices.
 */
#include <blkid/blkid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libmount/libmount.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "blockdev.h"
#include "log.h"
#include "loop.h"
#include "usbdev.h"
#include "util.h"

static struct usb_dev *devs;
static struct udev_monitor *mon;
static struct loop_source *mon_src;
static usbdev_fn watch_fn;
static void *watch_data;

struct usb_dev *usbdev_list(void)
{
	return devs;
}

/* A device-supplied string, cut to a bound. */
static char *bounded(const char *s)
{
	return s ? xstrndup(s, USBDEV_STRING_MAX) : NULL;
}

static void copy_hex4(char out[5], const char *s)
{
	out[0] = '\0';
	if (s && strlen(s) == 4 && strspn(s, "0123456789abcdefABCDEF") == 4)
		memcpy(out, s, 5);
}

static void table_free(struct usb_part *p)
{
	for (size_t i = 0; i < p->ntable; i++)
		free(p->table[i].type);
	free(p->table);
	p->table = NULL;
	p->ntable = 0;
}

static void part_free(struct usb_part *p)
{
	free(p->name);
	free(p->devnode);
	free(p->disk);
	free(p->type);
	free(p->holder);
	free(p->holder_kind);
	table_free(p);
	blockdev_strv_free(p->mounts);
}

static void dev_free(struct usb_dev *d)
{
	for (size_t i = 0; i < d->nparts; i++)
		part_free(&d->parts[i]);
	free(d->parts);
	free(d->syspath);
	free(d->bus_path);
	free(d->serial);
	free(d->manufacturer);
	free(d->product);
	free(d);
}

void usbdev_clear(void)
{
	while (devs) {
		struct usb_dev *d = devs;

		devs = d->next;
		dev_free(d);
	}
}

static struct usb_dev *find(const char *syspath)
{
	for (struct usb_dev *d = devs; d; d = d->next)
		if (strcmp(d->syspath, syspath) == 0)
			return d;
	return NULL;
}

/* Identity from sysfs; what could not be read yet is read again with the
 * device's next event. */
static void dev_identify(struct usb_dev *d, struct udev_device *ud)
{
	if (!d->vid[0])
		copy_hex4(d->vid, udev_device_get_sysattr_value(ud, "idVendor"));
	if (!d->pid[0])
		copy_hex4(d->pid, udev_device_get_sysattr_value(ud, "idProduct"));
	if (!d->serial)
		d->serial = bounded(udev_device_get_sysattr_value(ud, "serial"));
	if (!d->manufacturer)
		d->manufacturer = bounded(
			udev_device_get_sysattr_value(ud, "manufacturer"));
	if (!d->product)
		d->product = bounded(udev_device_get_sysattr_value(ud, "product"));
}

/* An attribute read straight from sysfs, bounded. */
static char *attr_direct(const struct usb_dev *d, const char *name)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", d->syspath, name);
	char *v = NULL;

	if (read_file(path, 4096, &v, NULL) < 0)
		return NULL;
	strrstrip(v);
	if (strlen(v) > USBDEV_STRING_MAX)
		v[USBDEV_STRING_MAX] = '\0';
	return v;
}

void usbdev_reidentify(struct usb_dev *d)
{
	_cleanup_free_ char *vid = NULL, *pid = NULL;

	/* libudev keeps an attribute it once failed to read as missing;
	 * sysfs itself may have it by now. */
	if (!d->vid[0] && (vid = attr_direct(d, "idVendor")))
		copy_hex4(d->vid, vid);
	if (!d->pid[0] && (pid = attr_direct(d, "idProduct")))
		copy_hex4(d->pid, pid);
	if (!d->serial)
		d->serial = attr_direct(d, "serial");
	if (!d->manufacturer)
		d->manufacturer = attr_direct(d, "manufacturer");
	if (!d->product)
		d->product = attr_direct(d, "product");
}

static struct usb_dev *dev_add(struct udev_device *ud)
{
	const char *cls = udev_device_get_sysattr_value(ud, "bDeviceClass");
	struct usb_dev *d = find(udev_device_get_syspath(ud)), **pp;

	if (d) {
		dev_identify(d, ud);
		return d;
	}
	d = xcalloc(1, sizeof(*d));
	d->syspath = xstrdup(udev_device_get_syspath(ud));
	d->bus_path = bounded(udev_device_get_sysname(ud));
	dev_identify(d, ud);
	if (cls && strcmp(cls, "09") == 0)
		d->classes |= USB_CLASS_HUB;
	/* libmtp's udev rules mark phones that speak MTP. */
	if (udev_device_get_property_value(ud, "ID_MTP_DEVICE"))
		d->classes |= USB_CLASS_MTP;
	for (pp = &devs; *pp; pp = &(*pp)->next)
		;
	*pp = d;
	return d;
}

static void interface_add(struct usb_dev *d, struct udev_device *ui)
{
	const char *cls = udev_device_get_sysattr_value(ui, "bInterfaceClass");
	const char *name = udev_device_get_sysattr_value(ui, "interface");

	if (!cls)
		return;
	if (strcmp(cls, "08") == 0)
		d->classes |= USB_CLASS_STORAGE;
	else if (strcmp(cls, "06") == 0)
		d->classes |= USB_CLASS_IMAGE;
	else if (strcmp(cls, "0e") == 0)
		d->classes |= USB_CLASS_VIDEO;
	else if (strcmp(cls, "09") == 0)
		d->classes |= USB_CLASS_HUB;
	else if (strcmp(cls, "ff") == 0 && name && strcmp(name, "MTP") == 0)
		d->classes |= USB_CLASS_MTP;
}

static struct usb_part *part_find(struct usb_dev *d, const char *name)
{
	for (size_t i = 0; i < d->nparts; i++)
		if (strcmp(d->parts[i].name, name) == 0)
			return &d->parts[i];
	return NULL;
}

/* How much of a part is read to tell blank from random: a MiB, as
 * VeraCrypt's header and the filesystems libblkid knows lie within it. */
#define CONTENT_READ_MAX (1024 * 1024)
/* Below this, a byte histogram says little. */
#define CONTENT_READ_MIN 4096
/* Bits per byte above which data looks random (8 is the most). */
#define RANDOM_ENTROPY 7.9

/* log2(n) for n >= 1, without libm: the integer part from the highest set
 * bit, the fraction bit by bit by squaring the mantissa. */
static double log2_count(unsigned long n)
{
	int ip = 63 - __builtin_clzl(n);
	double m = (double)n / (double)(1UL << ip), r = ip, bit = 0.5;

	for (int i = 0; i < 24; i++, bit /= 2) {
		m *= m;
		if (m >= 2) {
			m /= 2;
			r += bit;
		}
	}
	return r;
}

/* Shannon entropy of a byte histogram, bits per byte. */
static double entropy_of(const unsigned long hist[256], unsigned long n)
{
	double sum = 0;

	for (int i = 0; i < 256; i++)
		if (hist[i])
			sum += (double)hist[i] * log2_count(hist[i]);
	return log2_count(n) - sum / (double)n;
}

/* What is on a part that libblkid does not recognise, read from its first
 * MiB: blank (one byte repeated), random-looking, or other data. */
static void content_probe(struct usb_part *p)
{
	_cleanup_close_ int fd = open(p->devnode, O_RDONLY | O_CLOEXEC |
						  O_NOCTTY | O_NOFOLLOW);
	_cleanup_free_ unsigned char *buf = NULL;
	unsigned long hist[256] = { 0 };
	size_t n = 0;
	ssize_t r;

	if (fd < 0)
		return;
	buf = xmalloc(CONTENT_READ_MAX);
	while (n < CONTENT_READ_MAX &&
	       (r = pread(fd, buf + n, CONTENT_READ_MAX - n, (off_t)n)) > 0)
		n += (size_t)r;
	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		hist[buf[i]]++;
	p->entropy = entropy_of(hist, n);
	if (hist[0] == n || hist[0xff] == n)
		p->content = USB_CONTENT_BLANK;
	else if (n >= CONTENT_READ_MIN && p->entropy > RANDOM_ENTROPY)
		p->content = USB_CONTENT_RANDOM;
	else
		p->content = USB_CONTENT_DATA;
}

static void blkid_freep(blkid_probe *pr)
{
	if (*pr)
		blkid_free_probe(*pr);
}

/* A disk's partition table: each entry's number and type (a GPT type GUID
 * or an MBR code), so that a reserved partition is known as such. */
static void table_probe(struct usb_part *p)
{
	_cleanup_(blkid_freep) blkid_probe pr = NULL;
	blkid_partlist pl;
	int n;

	table_free(p);
	pr = blkid_new_probe_from_filename(p->devnode);
	if (!pr)
		return;
	blkid_probe_enable_superblocks(pr, 0);
	blkid_probe_enable_partitions(pr, 1);
	pl = blkid_probe_get_partitions(pr);
	n = pl ? blkid_partlist_numof_partitions(pl) : 0;
	if (n <= 0)
		return;
	p->table = xcalloc((size_t)n, sizeof(*p->table));
	for (int i = 0; i < n; i++) {
		blkid_partition bp = blkid_partlist_get_partition(pl, i);
		const char *t = bp ? blkid_partition_get_type_string(bp) : NULL;
		struct usb_pentry *e = &p->table[p->ntable];

		if (!bp)
			continue;
		e->partno = blkid_partition_get_partno(bp);
		e->type = t ? xstrndup(t, 64)
			    : xasprintf("0x%x", blkid_partition_get_type(bp));
		for (char *c = e->type; *c; c++)
			if (*c >= 'a' && *c <= 'f')
				*c = (char)(*c - 'a' + 'A');
		p->ntable++;
	}
}

/* Probe a disk or partition: what is on it, read-only. */
static void part_probe(struct usb_part *p, struct udev_device *ub)
{
	const char *size = udev_device_get_sysattr_value(ub, "size");

	free(p->type);
	p->type = NULL;
	p->probe_err = 0;
	p->content = USB_CONTENT_UNREAD;
	p->entropy = 0;
	table_free(p);
	/* A card reader with no card reports a size of 0. */
	p->empty = size && strcmp(size, "0") == 0;
	if (p->empty || !p->devnode)
		return;
	p->probe_err = blockdev_probe_path(p->devnode, &p->type);
	if (p->probe_err == 0 && !p->type)
		content_probe(p);
	else if (p->whole && p->type &&
		 strncmp(p->type, "partition table", 15) == 0)
		table_probe(p);
}

const char *usbdev_part_type(const struct usb_dev *d,
			     const struct usb_part *p)
{
	if (p->whole || !p->disk)
		return NULL;
	for (size_t i = 0; i < d->nparts; i++) {
		const struct usb_part *disk = &d->parts[i];

		if (!disk->whole || strcmp(disk->name, p->disk) != 0)
			continue;
		for (size_t j = 0; j < disk->ntable; j++)
			if (disk->table[j].partno == p->partno)
				return disk->table[j].type;
	}
	return NULL;
}

/* A partition's disk and number, to find its partition table entry. */
static void part_locate(struct usb_part *p, struct udev_device *ub)
{
	struct udev_device *disk = udev_device_get_parent(ub);
	const char *no = udev_device_get_sysattr_value(ub, "partition");

	free(p->disk);
	p->disk = disk && udev_device_get_sysname(disk)
			  ? xstrdup(udev_device_get_sysname(disk)) : NULL;
	p->partno = no ? atoi(no) : 0;
}

static void part_add(struct usb_dev *d, struct udev_device *ub)
{
	const char *name = udev_device_get_sysname(ub);
	const char *type = udev_device_get_devtype(ub);
	const char *node = udev_device_get_devnode(ub);
	struct usb_part *p = part_find(d, name);

	if (!p) {
		d->parts = xrealloc(d->parts, (d->nparts + 1) * sizeof(*p));
		p = &d->parts[d->nparts++];
		memset(p, 0, sizeof(*p));
		p->name = xstrdup(name);
	}
	free(p->devnode);
	p->devnode = node ? xstrdup(node) : NULL;
	p->devnum = udev_device_get_devnum(ub);
	p->whole = type && strcmp(type, "disk") == 0;
	if (!p->whole)
		part_locate(p, ub);
	d->classes |= USB_CLASS_STORAGE;
	part_probe(p, ub);
}

static void part_remove(struct usb_dev *d, const char *name)
{
	struct usb_part *p = part_find(d, name);

	if (!p)
		return;
	part_free(p);
	memmove(p, p + 1, (size_t)(d->parts + d->nparts - p - 1) * sizeof(*p));
	d->nparts--;
}

static struct usb_part *part_anywhere(const char *name, struct usb_dev **dp)
{
	for (struct usb_dev *d = devs; d; d = d->next) {
		struct usb_part *p = part_find(d, name);

		if (p) {
			*dp = d;
			return p;
		}
	}
	return NULL;
}

/* A device-mapper device: when it is dm-crypt (cryptsetup's uuid
 * "CRYPT-KIND-...") opened on a USB disk or partition, the stick is
 * shown to be encrypted, whatever libblkid could name; the kind is kept
 * once the mapping closes. Returns the stick, or NULL. */
static struct usb_dev *dm_take(struct udev_device *ud, bool removing)
{
	const char *name = udev_device_get_sysname(ud);
	const char *uuid = udev_device_get_sysattr_value(ud, "dm/uuid");
	_cleanup_free_ char *dir = NULL;
	struct usb_dev *found = NULL;
	struct dirent *de;
	size_t kind_len;
	DIR *dd;

	if (removing) {
		for (struct usb_dev *d = devs; d; d = d->next)
			for (size_t i = 0; i < d->nparts; i++)
				if (d->parts[i].holder &&
				    strcmp(d->parts[i].holder, name) == 0) {
					free(d->parts[i].holder);
					d->parts[i].holder = NULL;
					found = d;
				}
		return found;
	}
	if (!uuid || strncmp(uuid, "CRYPT-", 6) != 0)
		return NULL;
	kind_len = strcspn(uuid + 6, "-");
	if (kind_len == 0 || kind_len > 16)
		return NULL;
	dir = xasprintf("%s/slaves", udev_device_get_syspath(ud));
	if (!(dd = opendir(dir)))
		return NULL;
	while ((de = readdir(dd))) {
		struct usb_dev *d;
		struct usb_part *p = part_anywhere(de->d_name, &d);

		if (!p || de->d_name[0] == '.')
			continue;
		free(p->holder);
		free(p->holder_kind);
		p->holder = xstrndup(name, 32);
		p->holder_kind = xstrndup(uuid + 6, kind_len);
		found = d;
	}
	closedir(dd);
	return found;
}

static struct udev_device *usb_parent(struct udev_device *ud)
{
	return udev_device_get_parent_with_subsystem_devtype(ud, "usb",
							     "usb_device");
}

/* One udev device, from the scan or the monitor. Returns the USB device
 * it concerns, or NULL. */
static struct usb_dev *take(struct udev_device *ud, const char *action,
			    enum usbdev_change *what)
{
	const char *subsystem = udev_device_get_subsystem(ud);
	const char *devtype = udev_device_get_devtype(ud);
	bool removing = action && strcmp(action, "remove") == 0;
	struct udev_device *parent;
	struct usb_dev *d;

	*what = USBDEV_CHANGED;
	if (!subsystem || !devtype)
		return NULL;
	if (strcmp(subsystem, "usb") == 0 && strcmp(devtype, "usb_device") == 0) {
		d = find(udev_device_get_syspath(ud));
		if (removing) {
			*what = USBDEV_REMOVED;
			return d;
		}
		if (!d)
			*what = USBDEV_ADDED;
		return dev_add(ud);
	}
	parent = usb_parent(ud);
	if (!parent && strcmp(subsystem, "block") == 0 &&
	    strncmp(udev_device_get_sysname(ud), "dm-", 3) == 0)
		return dm_take(ud, removing);
	if (!parent)
		return NULL;
	d = find(udev_device_get_syspath(parent));
	if (!d && removing)
		return NULL;
	if (!d)
		*what = USBDEV_ADDED;
	d = dev_add(parent);
	if (strcmp(subsystem, "usb") == 0 &&
	    strcmp(devtype, "usb_interface") == 0 && !removing)
		interface_add(d, ud);
	else if (strcmp(subsystem, "block") == 0 && removing)
		part_remove(d, udev_device_get_sysname(ud));
	else if (strcmp(subsystem, "block") == 0)
		part_add(d, ud);
	return d;
}

static void remove_dev(struct usb_dev *d)
{
	struct usb_dev **pp;

	for (pp = &devs; *pp; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	}
	dev_free(d);
}

static void mounts_of(struct host *h)
{
	_cleanup_free_ char *path = host_path(h, "/proc/1/mountinfo");
	struct libmnt_table *tb = mnt_new_table_from_file(path);
	struct libmnt_iter *it;
	struct libmnt_fs *fs;

	if (!tb)
		return;
	it = mnt_new_iter(MNT_ITER_FORWARD);
	while (mnt_table_next_fs(tb, it, &fs) == 0) {
		for (struct usb_dev *d = devs; d; d = d->next) {
			for (size_t i = 0; i < d->nparts; i++) {
				struct usb_part *p = &d->parts[i];
				size_t n = 0;

				if (p->devnum != mnt_fs_get_devno(fs))
					continue;
				while (p->mounts && p->mounts[n])
					n++;
				p->mounts = xrealloc(p->mounts,
						     (n + 2) * sizeof(char *));
				p->mounts[n] = xstrdup(mnt_fs_get_target(fs));
				p->mounts[n + 1] = NULL;
			}
		}
	}
	mnt_free_iter(it);
	mnt_free_table(tb);
}

static int scan_subsystem(struct udev *udev, const char *subsystem)
{
	struct udev_enumerate *e = udev_enumerate_new(udev);
	struct udev_list_entry *l;
	int r;

	if (!e)
		return -ENOMEM;
	udev_enumerate_add_match_subsystem(e, subsystem);
	r = udev_enumerate_scan_devices(e);
	udev_list_entry_foreach(l, udev_enumerate_get_list_entry(e)) {
		struct udev_device *ud = udev_device_new_from_syspath(
			udev, udev_list_entry_get_name(l));
		enum usbdev_change what;

		if (!ud)
			continue;
		take(ud, NULL, &what);
		udev_device_unref(ud);
	}
	udev_enumerate_unref(e);
	return r < 0 ? r : 0;
}

static struct host *scan_host;

int usbdev_rescan(void)
{
	struct udev *udev = scan_host ? host_udev(scan_host) : NULL;
	int r;

	if (!udev)
		return -ENOMEM;
	r = scan_subsystem(udev, "usb");
	return r == 0 ? scan_subsystem(udev, "block") : r;
}

int usbdev_scan(struct host *h)
{
	struct udev *udev = host_udev(h);
	int r;

	if (!udev)
		return -errno ? -errno : -ENOMEM;
	scan_host = h;
	usbdev_clear();
	/* usb first: devices and their interfaces, then the disks. */
	r = scan_subsystem(udev, "usb");
	if (r == 0)
		r = scan_subsystem(udev, "block");
	mounts_of(h);
	return r;
}

static void on_monitor(int fd, uint32_t events, void *data)
{
	struct udev_device *ud;

	(void)fd;
	(void)events;
	(void)data;
	errno = 0;
	while ((ud = udev_monitor_receive_device(mon)) || errno == ENOBUFS) {
		/* The kernel dropped events (a hotplug storm): the table may
		 * be wrong; the owner reconciles it at its next look. */
		if (!ud) {
			log_warnx("usb: udev events were lost; looking again");
			if (watch_fn)
				watch_fn(NULL, USBDEV_CHANGED, watch_data);
			errno = 0;
			continue;
		}
		const char *action = udev_device_get_action(ud);
		enum usbdev_change what;
		struct usb_dev *d = take(ud, action, &what);

		if (d && watch_fn)
			watch_fn(d, what, watch_data);
		if (d && what == USBDEV_REMOVED)
			remove_dev(d);
		udev_device_unref(ud);
		errno = 0;
	}
}

int usbdev_reconcile(usbdev_fn gone, void *data)
{
	int removed = 0;

	for (struct usb_dev *d = devs, *next; d; d = next) {
		_cleanup_free_ char *uevent = xasprintf("%s/uevent", d->syspath);

		next = d->next;
		if (access(uevent, F_OK) == 0)
			continue;
		if (gone)
			gone(d, USBDEV_REMOVED, data);
		remove_dev(d);
		removed++;
	}
	return removed;
}

int usbdev_watch(struct host *h, usbdev_fn fn, void *data)
{
	struct udev *udev = host_udev(h);
	int r;

	if (!udev)
		return -ENOMEM;
	mon = udev_monitor_new_from_netlink(udev, "udev");
	if (!mon)
		return -errno ? -errno : -EIO;
	r = udev_monitor_filter_add_match_subsystem_devtype(mon, "usb", NULL);
	if (r >= 0)
		r = udev_monitor_filter_add_match_subsystem_devtype(mon, "block",
								     NULL);
	if (r >= 0)
		r = udev_monitor_enable_receiving(mon);
	/* Room for a hub of sticks before the kernel drops events. */
	if (r >= 0)
		udev_monitor_set_receive_buffer_size(mon, 4 << 20);
	if (r >= 0) {
		mon_src = loop_add_fd(udev_monitor_get_fd(mon), EPOLLIN,
				      on_monitor, NULL);
		if (!mon_src)
			r = -errno;
	}
	if (r < 0) {
		usbdev_unwatch();
		return r;
	}
	watch_fn = fn;
	watch_data = data;
	return 0;
}

void usbdev_unwatch(void)
{
	loop_remove(mon_src);
	mon_src = NULL;
	mon = udev_monitor_unref(mon);
	watch_fn = NULL;
}

int usbdev_deauthorize(struct usb_dev *d)
{
	_cleanup_free_ char *path = xasprintf("%s/authorized", d->syspath);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (write(fd, "0", 1) != 1)
		return -errno;
	d->blocked = true;
	return 0;
}
