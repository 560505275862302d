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
	unsigned line;
	inifile_line_fn check;
	void *user;
};

static char *reader(char *str, int num, void *data)
{
	struct stream *s = data;
	const char *start, *nl;
	bool fits, ok = true;
	size_t n;

	if (s->pos >= s->len)
		return NULL;
	start = s->buf + s->pos;
	nl = memchr(start, '\n', s->len - s->pos);
	n = nl ? (size_t)(nl - start) + 1 : s->len - s->pos;
	s->pos += n;
	s->line++;
	fits = n + 1 <= (size_t)num;
	if (s->check)
		ok = s->check(s->user, s->line, start, n, fits, (size_t)num - 2);
	/* Too long for inih, holding a NUL, or refused: an empty line. */
	if (!ok || !fits || memchr(start, '\0', n))
		n = 0;
	memcpy(str, start, n);
	str[n] = '\0';
	return str;
}

int inifile_parse_checked(const char *buf, size_t len, ini_handler fn,
			  inifile_line_fn check, void *user)
{
	struct stream s = { buf, len, 0, 0, check, user };
	int r = ini_parse_stream(reader, &s, fn, user);

	return r == 0 ? 0 : r > 0 ? r : -EINVAL;
}

int inifile_parse(const char *buf, size_t len, ini_handler fn, void *user)
{
	return inifile_parse_checked(buf, len, fn, NULL, user) == 0 ? 0
								    : -EINVAL;
}
