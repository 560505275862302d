/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inifile: inih behind a reader that hands it whole lines only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "inifile.h"
#include "util.h"

struct stream {
	const char *buf;
	size_t len, pos;
};

static char *reader(char *str, int num, void *data)
{
	struct stream *s = data;
	const char *start, *nl;
	size_t n;

	if (s->pos >= s->len)
		return NULL;
	start = s->buf + s->pos;
	nl = memchr(start, '\n', s->len - s->pos);
	n = nl ? (size_t)(nl - start) + 1 : s->len - s->pos;
	s->pos += n;
	/* Too long for inih, or holding a NUL: an empty line instead. */
	if (n + 1 > (size_t)num || memchr(start, '\0', n))
		n = 0;
	memcpy(str, start, n);
	str[n] = '\0';
	return str;
}

int inifile_parse(const char *buf, size_t len, ini_handler fn, void *user)
{
	struct stream s = { buf, len, 0 };

	return ini_parse_stream(reader, &s, fn, user) == 0 ? 0 : -EINVAL;
}
