/* SPDX-License-Identifier: Apache-2.0 */
/*
 * getty: text consoles that log someone in without a password. The getty
 * units (getty@ and its alias autovt@, serial-getty@, container-getty@,
 * console-getty) are resolved as systemd loads them, and the agetty
 * command line each is left with is read as agetty reads it.
 */
#ifndef ENDPOINTD_GETTY_H
#define ENDPOINTD_GETTY_H

#include <jansson.h>

#include "check.h"

/* Append to problems one object {"kind": "autologin", "detail", "file"}
 * for each getty unit that logs someone in without a password ("the text
 * console tty1 logs alice in automatically, with no password"; file: the
 * one whose ExecStart= line does it). What cannot be seen (a file or
 * folder that cannot be read, a getty other than agetty) is a string
 * appended to unknown. */
void getty_check(const struct host *h, json_t *problems, json_t *unknown);

#endif
