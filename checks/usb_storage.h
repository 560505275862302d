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

#endif
