/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jarena: a report's jansson values in one arena, let go of at once.
 *
 * A report is about seventy jansson values. Freeing them one by one
 * (json_decref) after the committer has read them was 7% of collectord's
 * CPU under load: each value's count is changed with an atomic
 * instruction on a cache line the committer's core last held. Values
 * built while a thread has an arena open come from it instead, and
 * jarena_free lets go of them all without visiting one (workers about
 * 3 us a report less in paired runs).
 *
 * The rules, since jansson does not know:
 * - jarena_setup runs before the threads that use jansson start
 *   (server_init calls it); outside an open arena jansson allocates
 *   with malloc as before.
 * - A value built in an arena is only read once the arena is closed:
 *   never set into, deleted from, or decref'd but for a reference the
 *   reader took itself; the arena's jarena_free lets it go.
 * - While an arena is open its thread builds only values that belong to
 *   it (whatever jansson frees then is the arena's).
 * In a sanitizer build each value is its own malloc, so that a value
 * read after jarena_free, or freed by jansson outside its arena, is
 * caught.
 */
#ifndef COLLECTORD_JARENA_H
#define COLLECTORD_JARENA_H

#include <stddef.h>

struct jarena_chunk;

struct jarena {
	struct jarena_chunk *chunks;
	char *next;
	size_t left;
};

/* jansson's allocation functions: malloc, or the open arena. */
void jarena_setup(void);

/* Build this thread's jansson values in a (zeroed or freed) until
 * jarena_close. */
void jarena_open(struct jarena *a);
void jarena_close(void);

/* Let go of every value built in a; a can be opened again. */
void jarena_free(struct jarena *a);

#endif
