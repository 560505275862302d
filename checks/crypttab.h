/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crypttab: a plain dm-crypt swap on a random key per boot, from
 * /etc/crypttab as systemd-cryptsetup reads it.
 */
#ifndef ENDPOINTD_CRYPTTAB_H
#define ENDPOINTD_CRYPTTAB_H

#include <stdbool.h>

#include "blockdev.h"
#include "check.h"

/* Whether /etc/crypttab maps dmname over device under with a key read
 * from the kernel's random generator and the swap option (a new key and
 * mkswap at every boot). *li gets cipher= and size= (cryptsetup's
 * plain-mode 256 bits when no size=), and *settings says whether cipher=
 * was there to give them. */
bool crypttab_random_swap(const struct host *h, const char *dmname,
			  const char *under, struct luks_info *li,
			  bool *settings);

#endif
