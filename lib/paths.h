/* SPDX-License-Identifier: Apache-2.0 */
/*
 * paths: where endpointd's programs keep their files once installed, from
 * the Makefile's directories (SYSCONFDIR, LOCALSTATEDIR, RUNSTATEDIR), and
 * the names of the files two programs share. Spelled here once, so the
 * daemon, the uploader, endpointctl and endpoint-notify cannot disagree.
 * The spool's own names are in spool.h, the enrolment file's in http.h.
 */
#ifndef ENDPOINTD_PATHS_H
#define ENDPOINTD_PATHS_H

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif

/* IT's policy, and the enrolment settings endpointctl enroll --config
 * reads. */
#define PATH_POLICY SYSCONFDIR "/endpointd/policy.ini"
#define PATH_ENROL_CONFIG SYSCONFDIR "/endpointd/enrol.ini"
/* endpointd's state (seq, the spool below it), root's. */
#define PATH_STATE_DIR LOCALSTATEDIR "/lib/endpointd"
/* The uploader's own directory (enrolment.json), its user's. */
#define PATH_UPLOAD_DIR LOCALSTATEDIR "/lib/endpointd-upload"
/* endpointd's status socket, read by endpointctl and endpoint-notify. */
#define PATH_STATUS_SOCKET RUNSTATEDIR "/endpointd/status.sock"
/* The udev rule endpointd writes for the USB storage check. */
#define PATH_UDEV_RULE \
	RUNSTATEDIR "/udev/rules.d/90-endpointd-usb-storage.rules"
/* In the state directory: the last policy the collector sent that
 * endpointd accepted, kept across restarts. */
#define COLLECTOR_POLICY_NAME "collector-policy.ini"
/* In the state directory: the laptop's Ed25519 key (devkey.h), root's
 * alone. */
#define DEVICE_KEY_NAME "device.key"
/* In the state directory: the public half of the collector's policy key,
 * pinned at enrolment (base64); endpointd applies only policies it signed. */
#define COLLECTOR_KEY_NAME "collector-key.pub"

#endif
