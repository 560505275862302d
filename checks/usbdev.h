/* SPDX-License-Identifier: Apache-2.0 */
/*
 * usbdev: the USB devices on the laptop, from libudev: found at start,
 * then followed through the udev monitor in the event loop (no polling,
 * no waiting for sysfs files). Each device is classified by its
 * interfaces, and each disk and partition beneath a storage device is
 * probed read-only with libblkid.
 *
 * Strings a device reports (serial, manufacturer, product) are
 * attacker-controlled: they are cut to USBDEV_STRING_MAX bytes here and
 * must be escaped wherever they are shown.
 */
#ifndef ENDPOINTD_USBDEV_H
#define ENDPOINTD_USBDEV_H

#include <stdbool.h>
#include <sys/types.h>

#include "check.h"

#define USBDEV_STRING_MAX 128

/* Interface classes seen on a device. */
enum {
	USB_CLASS_STORAGE = 1 << 0,	/* 08 */
	USB_CLASS_IMAGE = 1 << 1,	/* 06: PTP cameras and phones */
	USB_CLASS_MTP = 1 << 2,		/* vendor interface "MTP" */
	USB_CLASS_VIDEO = 1 << 3,	/* 0e: UVC webcams */
	USB_CLASS_HUB = 1 << 4,		/* 09 */
};

/* What is on a part in which libblkid finds nothing, from its first MiB. */
enum usb_content {
	USB_CONTENT_UNREAD,	/* a signature was found, or nothing read */
	USB_CONTENT_BLANK,	/* every byte the same, 00 or FF */
	USB_CONTENT_RANDOM,	/* high entropy: VeraCrypt, or random data */
	USB_CONTENT_DATA,	/* something else endpointd cannot name */
};

/* One entry of a disk's partition table, as libblkid reads it. */
struct usb_pentry {
	int partno;
	char *type;		/* GPT type GUID (upper case) or "0x83" */
};

struct usb_part {
	char *name;		/* "sdb1" */
	char *devnode;		/* "/dev/sdb1" */
	char *disk;		/* of a partition: its disk's name, "sdb" */
	int partno;		/* of a partition: its number */
	dev_t devnum;
	bool whole;		/* the disk itself */
	bool empty;		/* no medium: a card reader without a card */
	int probe_err;		/* 0, or -errno from libblkid */
	char *type;		/* what libblkid found, or NULL */
	enum usb_content content;
	double entropy;		/* bits per byte of what was read */
	struct usb_pentry *table;	/* of a disk: its partition table */
	size_t ntable;
	char *holder;		/* a dm-crypt device open on it, "dm-0" */
	char *holder_kind;	/* its kind from the dm uuid, "TCRYPT" */
	char **mounts;		/* mount points at start, NULL-terminated */
};

struct usb_dev {
	char *syspath;		/* of the usb_device */
	char *bus_path;		/* "1-2.3": bus and ports */
	char vid[5], pid[5];
	char *serial, *manufacturer, *product;	/* cut, may hold anything */
	unsigned classes;
	struct usb_part *parts;
	size_t nparts;
	/* For the check: */
	int verdict;		/* its own codes; 0 not judged yet */
	bool blocked;		/* authorized written to 0 */
	unsigned retries;	/* switch-off attempts that failed */
	struct usb_dev *next;
};

enum usbdev_change { USBDEV_ADDED, USBDEV_CHANGED, USBDEV_REMOVED };

/* Called after a device was added, gained an interface or a block
 * device, or is about to be removed (d is freed after the call); with d
 * NULL when events were lost and the table must be reconciled. */
typedef void (*usbdev_fn)(struct usb_dev *d, enum usbdev_change what,
			  void *data);

/* Fill the table with every USB device present, and the mount points of
 * their block devices (from the host's mountinfo). Returns 0 or -errno. */
int usbdev_scan(struct host *h);
/* Look at every USB device again and merge what is found into the table
 * (new devices added, known ones updated, nothing dropped). For after lost
 * udev events. Returns 0 or -errno. */
int usbdev_rescan(void);
/* Follow udev events from now on, calling fn. Returns 0 or -errno. */
int usbdev_watch(struct host *h, usbdev_fn fn, void *data);
void usbdev_unwatch(void);
/* Empty the table. */
void usbdev_clear(void);

/* Drop the devices whose sysfs directory is gone (their remove event was
 * lost), calling gone for each first. Returns how many. */
int usbdev_reconcile(usbdev_fn gone, void *data);

/* The table, in the order devices appeared. */
struct usb_dev *usbdev_list(void);

/* The partition table type of partition p of device d, or NULL. */
const char *usbdev_part_type(const struct usb_dev *d,
			     const struct usb_part *p);

/* Fill in identity that libudev could not give, from sysfs directly. */
void usbdev_reidentify(struct usb_dev *d);

/* Deauthorise the device through sysfs, as USBGuard does: the kernel
 * unbinds its drivers and it stays off until replugged. */
int usbdev_deauthorize(struct usb_dev *d);

#endif
