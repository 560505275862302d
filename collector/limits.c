/* SPDX-License-Identifier: Apache-2.0 */
/*
 * limits: two fixed-size tables in memory, each behind its own lock, so
 * that a flood costs neither a database write nor unbounded memory.
 *
 * Sign-ins: one entry per (name, address), in a table of SIGNIN_SLOTS
 * entries in sets of SIGNIN_WAYS, placed by a keyed hash (the key drawn at start, so a client cannot choose which
 * entries its own evict). A full set gives up its least recently failed
 * entry. An entry past its delay for a whole cap is as good as empty.
 *
 * Events: one entry per device id modulo EVENT_SLOTS; device ids are
 * given out one after another, so two devices share an entry only past
 * that many devices, and then only lose each other's count.
 */
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "limits.h"
#include "util.h"

#define SIGNIN_SLOTS 4096
#define SIGNIN_WAYS 8
#define KEY_MAX 160
#define EVENT_SLOTS 65536

struct signin_entry {
	char key[KEY_MAX];	/* "name\naddr"; "" when free */
	unsigned failures;
	time_t last, until;	/* last failure; no try before until */
};

static struct signin_entry signins[SIGNIN_SLOTS];
static pthread_mutex_t signin_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t hash_key[2];
static pthread_once_t hash_once = PTHREAD_ONCE_INIT;

static void hash_setup(void)
{
	if (RAND_bytes((unsigned char *)hash_key, sizeof(hash_key)) != 1)
		hash_key[0] = (uint64_t)time(NULL);
}

/* FNV-1a over the key's bytes, seeded with the secret key. */
static size_t set_of(const char *key)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ hash_key[0];

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 0x100000001b3ULL;
	h ^= hash_key[1];
	h *= 0x9e3779b97f4a7c15ULL;
	return (size_t)(h >> 32) % (SIGNIN_SLOTS / SIGNIN_WAYS) * SIGNIN_WAYS;
}

/* The entry of key, or (make) a fresh one in its place. */
static struct signin_entry *signin_find(const char *key, bool make)
{
	struct signin_entry *set, *oldest;

	pthread_once(&hash_once, hash_setup);
	set = &signins[set_of(key)];
	oldest = set;
	for (size_t i = 0; i < SIGNIN_WAYS; i++) {
		if (strcmp(set[i].key, key) == 0)
			return &set[i];
		if (set[i].last < oldest->last)
			oldest = &set[i];
	}
	if (!make)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	snprintf(oldest->key, sizeof(oldest->key), "%s", key);
	return oldest;
}

static void signin_key(const char *name, const char *addr,
		       char key[static KEY_MAX])
{
	/* name is at most 64 bytes, addr 63: both fit. */
	snprintf(key, KEY_MAX, "%s\n%s", name, addr);
}

static unsigned wait_of(const struct signin_entry *e, time_t now)
{
	return e && e->until > now ? (unsigned)(e->until - now) : 0;
}

/* A try is counted as a failure before the password is checked, so that
 * guesses sent in parallel count too; the right password clears it
 * (limits_signin_ok). Past the free ones, each try makes the next wait
 * twice as long as the last did, up to the cap. Quiet for a whole cap
 * after its delay, an entry starts afresh. */
unsigned limits_signin_try(const char *name, const char *addr)
{
	char key[KEY_MAX];
	struct signin_entry *e;
	time_t now = time(NULL);
	unsigned wait, over;

	signin_key(name, addr, key);
	pthread_mutex_lock(&signin_lock);
	wait = wait_of(signin_find(key, false), now);
	if (wait) {
		pthread_mutex_unlock(&signin_lock);
		return wait;
	}
	e = signin_find(key, true);
	if (e->failures && now > e->until + LIMITS_SIGNIN_CAP_S &&
	    now > e->last + LIMITS_SIGNIN_CAP_S)
		e->failures = 0;
	e->failures++;
	e->last = now;
	if (e->failures >= LIMITS_SIGNIN_FREE) {
		over = e->failures - LIMITS_SIGNIN_FREE;
		e->until = now + (over >= 8 ? LIMITS_SIGNIN_CAP_S : 2 << over);
	}
	pthread_mutex_unlock(&signin_lock);
	return 0;
}

void limits_signin_ok(const char *name, const char *addr)
{
	char key[KEY_MAX];
	struct signin_entry *e;

	signin_key(name, addr, key);
	pthread_mutex_lock(&signin_lock);
	e = signin_find(key, false);
	if (e)
		memset(e, 0, sizeof(*e));
	pthread_mutex_unlock(&signin_lock);
}

/* --- events per device and day --- */

struct event_entry {
	int64_t id;
	int64_t day;		/* days since 1970, UTC */
	size_t n;
};

static struct event_entry events[EVENT_SLOTS];
static pthread_mutex_t event_lock = PTHREAD_MUTEX_INITIALIZER;

bool limits_events_take(int64_t id, size_t n, unsigned *retry)
{
	struct event_entry *e = &events[(uint64_t)id % EVENT_SLOTS];
	time_t now = time(NULL);
	int64_t day = now / 86400;
	bool ok;

	if (n == 0)
		return true;
	pthread_mutex_lock(&event_lock);
	if (e->id != id || e->day != day)
		*e = (struct event_entry){ id, day, 0 };
	ok = e->n + n <= LIMITS_EVENTS_PER_DAY;
	if (ok)
		e->n += n;
	pthread_mutex_unlock(&event_lock);
	*retry = (unsigned)((day + 1) * 86400 - now);
	return ok;
}
