/* SPDX-License-Identifier: Apache-2.0 */
/*
 * appid: the forms an application's name takes in the policy's
 * allowed_apps beside a program path: flatpak:ID and snap:NAME.
 */
#ifndef ENDPOINTD_APPID_H
#define ENDPOINTD_APPID_H

#include <stdbool.h>

/* Whether s is a Flatpak application ID as flatpak accepts one
 * (org.example.App: three or more dot-separated elements). */
bool appid_flatpak_valid(const char *s);

/* Whether s is a snap name as snapd accepts one, with an optional
 * instance key (zoom-client, zoom-client_work). */
bool appid_snap_valid(const char *s);

#endif
