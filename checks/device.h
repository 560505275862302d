/* SPDX-License-Identifier: Apache-2.0 */
/*
 * device: the laptop's identity (machine_id, hostname, vendor, model,
 * serial, os, agent_version), read through the host's root prefix, for
 * the report and for endpointctl enroll.
 */
#ifndef ENDPOINTD_DEVICE_H
#define ENDPOINTD_DEVICE_H

#include <jansson.h>

#include "check.h"

/* The device identity read through h; what cannot be read is null. */
json_t *device_identity(const struct host *h);

#endif
