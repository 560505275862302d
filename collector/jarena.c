/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jarena: values bumped out of 16 KiB chunks; a larger value gets its
 * own chunk.
 */
#include <jansson.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "jarena.h"

#if defined(__SANITIZE_ADDRESS__)
#define CHUNK 0		/* every value its own chunk */
#else
#define CHUNK 16384
#endif

struct jarena_chunk {
	struct jarena_chunk *next;
	alignas(max_align_t) char data[];
};

static __thread struct jarena *open_arena;

static void *arena_alloc(struct jarena *a, size_t n)
{
	const size_t align = alignof(max_align_t);
	struct jarena_chunk *c;
	void *v;

	n = n ? (n + align - 1) & ~(align - 1) : align;
	if (n > a->left) {
		size_t size = n > CHUNK / 4 ? n : CHUNK;

		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->next = a->chunks;
		a->chunks = c;
		if (size == n)
			return c->data;	/* keeps the chunk being bumped */
		a->next = c->data;
		a->left = size;
	}
	v = a->next;
	a->next += n;
	a->left -= n;
	return v;
}

static void *jarena_malloc(size_t n)
{
	return open_arena ? arena_alloc(open_arena, n) : malloc(n);
}

/* What jansson frees while an arena is open is the arena's (the rules in
 * jarena.h): jarena_free lets it go. */
static void jarena_release(void *p)
{
	if (!open_arena)
		free(p);
}

void jarena_setup(void)
{
	json_set_alloc_funcs(jarena_malloc, jarena_release);
}

void jarena_open(struct jarena *a)
{
	open_arena = a;
}

void jarena_close(void)
{
	open_arena = NULL;
}

void jarena_free(struct jarena *a)
{
	struct jarena_chunk *c = a->chunks, *next;

	for (; c; c = next) {
		next = c->next;
		free(c);
	}
	*a = (struct jarena){ 0 };
}
