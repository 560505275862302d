/* SPDX-License-Identifier: Apache-2.0 */
/*
 * usb_storage: USB memory sticks must be encrypted; phones and cameras are
 * their own class. Judged at start and on every udev event; what the
 * policy forbids is logged, warned about or blocked (deauthorised through
 * sysfs, as USBGuard does) within the add event.
 */
#ifndef ENDPOINTD_USB_STORAGE_H
#define ENDPOINTD_USB_STORAGE_H

#include "policy.h"

/* The udev rule that keeps desktop automounters (udisks) away from USB
 * storage the policy blocks, so it is never mounted even for the moment
 * before endpointd judges it. Caller frees. */
char *usb_storage_udev_rule(const struct policy *p);

/* Put that rule where the host says (nothing when it names no place), and
 * when it changed ask udev to apply it again to the USB disks plugged in.
 * Called whenever a policy comes into force, the check enabled or not: a
 * policy without it must replace a rule that hides sticks. */
struct host;
void usb_storage_write_rule(struct host *h, const struct policy *p);

#endif
