/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inifile: INI-style text (the machine's logind.conf, display-manager
 * settings, KDE rc files, dconf keyfiles; enrol.ini) read with inih.
 *
 * inih cuts a line longer than its buffer and parses the rest as a new
 * line; in a file another user controls, that rest could pose as a
 * setting. Lines too long for inih are dropped whole instead.
 */
#ifndef ENDPOINTD_INIFILE_H
#define ENDPOINTD_INIFILE_H

#include <ini.h>
#include <stdbool.h>
#include <stddef.h>

/* Largest configuration file read; real ones are a few KB. */
#define INIFILE_MAX (1024 * 1024)

/* Parse buf[0..len) calling fn for each key. Returns 0 or -EINVAL when
 * inih reported a syntax error (the keys before and after it were still
 * passed to fn). */
int inifile_parse(const char *buf, size_t len, ini_handler fn, void *user);

/* Called with each line (number from 1, its bytes with the newline)
 * before inih parses it; fits is false when the line is longer than inih
 * takes (max bytes before the newline), and inih then gets an empty line
 * whatever the answer. Returns whether inih may parse it (false: an empty
 * line instead). */
typedef bool (*inifile_line_fn)(void *user, unsigned number, const char *line,
				size_t len, bool fits, size_t max);

/* inifile_parse() with check run on every line; user goes to both fn and
 * check. Returns 0, the number of the first line inih found wrong, or
 * -EINVAL. */
int inifile_parse_checked(const char *buf, size_t len, ini_handler fn,
			  inifile_line_fn check, void *user);

/* An INI boolean (true/false, yes/no, on/off, 1/0): 1, 0, or -1. */
int inifile_bool(const char *v);

#endif
