/*
 * registry: every check the product runs, one ops table per file in
 * checks/. A check is listed here only once it is real; a check the policy
 * names but this build lacks is absent from reports, never a stand-in.
 */
#include <stddef.h>

#include "check.h"

extern const struct check_ops encryption_check;
extern const struct check_ops screen_lock_check;
extern const struct check_ops usb_storage_check;
extern const struct check_ops camera_check;

const struct check_ops *const check_registry[] = {
	&encryption_check,
	&screen_lock_check,
	&usb_storage_check,
	&camera_check,
	NULL,
};
