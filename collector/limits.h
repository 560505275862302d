/* SPDX-License-Identifier: Apache-2.0 */
/*
 * limits: what one collectord instance remembers, in bounded memory, to
 * slow down abuse without writing to the database: the delay before the
 * next sign-in for a name from an address (never for a name alone, nor
 * an address alone: a stranger cannot slow the admin down), and the
 * events each device has sent today. Kept per instance: several instances behind one name
 * each keep their own (docs/security.md).
 */
#ifndef COLLECTORD_LIMITS_H
#define COLLECTORD_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Failed sign-ins allowed for one name from one address before each
 * further one makes the next wait: 2 s, 4 s, 8 s... up to the cap. */
#define LIMITS_SIGNIN_FREE 5
#define LIMITS_SIGNIN_CAP_S 300
/* Events a device may send in a UTC day. */
#define LIMITS_EVENTS_PER_DAY 10000

/* A sign-in for name from addr: 0 when it may be tried now (and the try
 * is counted as a failure until limits_signin_ok says otherwise), or the
 * seconds to wait. Reads nothing but memory. */
unsigned limits_signin_try(const char *name, const char *addr);
/* The right password: name from addr starts afresh. */
void limits_signin_ok(const char *name, const char *addr);

/* Take n events from device id's budget for today: true, or false with
 * the seconds until it is refilled (the next UTC midnight) in *retry. */
bool limits_events_take(int64_t id, size_t n, unsigned *retry);

#endif
