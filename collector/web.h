/*
 * web: the dashboard's files (collector/web/), built into collectord at
 * compile time, so that it works on a school network with no internet
 * access and has no files to install or keep in step.
 */
#ifndef COLLECTORD_WEB_H
#define COLLECTORD_WEB_H

#include <stddef.h>

struct web_file {
	const char *path;	/* "/static/app.js" */
	const char *type;	/* Content-Type */
	const char *data, *end;	/* the bytes, and one past the last */
};

/* The file served at path, or NULL. */
const struct web_file *web_file(const char *path);
/* The page every dashboard address loads (its script draws the rest). */
const struct web_file *web_page(void);
/* Whether path is one of the dashboard's pages ("/", "/laptops",
 * "/laptops/17", ...); "/login" is not: it needs no session. */
bool web_is_page(const char *path);

#endif
