/*
 * inifile: INI-style files of the machine (logind.conf, display-manager
 * configuration, KDE rc files, dconf keyfiles) read with inih.
 *
 * inih cuts a line longer than its buffer and parses the rest as a new
 * line; in a file another user controls, that rest could pose as a
 * setting. Lines too long for inih are dropped whole instead.
 */
#ifndef ENDPOINTD_INIFILE_H
#define ENDPOINTD_INIFILE_H

#include <ini.h>
#include <stddef.h>

#include "check.h"

/* Largest configuration file read; real ones are a few KB. */
#define INIFILE_MAX (1024 * 1024)

/* Parse buf[0..len) calling fn for each key. Returns 0 or -EINVAL when
 * inih reported a syntax error (the keys before and after it were still
 * passed to fn). */
int inifile_parse(const char *buf, size_t len, ini_handler fn, void *user);

/* Read path below the host's root and parse it. Returns 0 or -errno. */
int inifile_read(const struct host *h, const char *path, ini_handler fn,
		 void *user);

/* inifile_read() of a file in a user's home: host_read_user() rules. */
int inifile_read_user(const struct host *h, const char *path, ini_handler fn,
		      void *user);

/* Parse every regular file in directory dir below the root whose name ends
 * in suffix (NULL: any name not starting with '.'), in name order, as
 * drop-ins are. Returns how many were read, or -errno. */
int inifile_read_dir(const struct host *h, const char *dir,
		     const char *suffix, ini_handler fn, void *user);

/* An INI boolean (true/false, yes/no, on/off, 1/0): 1, 0, or -1. */
int inifile_bool(const char *v);

#endif
