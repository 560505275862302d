/* SPDX-License-Identifier: Apache-2.0 */
/*
 * web: the dashboard's files, each included byte for byte by the
 * assembler (.incbin) from collector/web/; the Makefile rebuilds this
 * object when one of them changes. And its pages: the page for a
 * signed-in admin (auth.c says who is), the sign-in page for anyone
 * else; the data come from the API.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "server.h"
#include "util.h"
#include "web.h"

struct web_file {
	const char *path;	/* "/static/app.js" */
	const char *type;	/* Content-Type */
	const char *data, *end;	/* the bytes, and one past the last */
};

#define ASSET(sym, file)                                                   \
	__asm__(".pushsection .rodata\n"                                   \
		".global " #sym "\n.hidden " #sym "\n" #sym ":\n"          \
		".incbin \"" file "\"\n"                                   \
		".global " #sym "_end\n.hidden " #sym "_end\n" #sym "_end:\n" \
		".byte 0\n.popsection\n");                                 \
	extern const char sym[], sym##_end[]

ASSET(web_index_html, "collector/web/index.html");
ASSET(web_app_js, "collector/web/app.js");
ASSET(web_app_css, "collector/web/app.css");
ASSET(web_icon_svg, "collector/web/icon.svg");

static const struct web_file files[] = {
	{ "/static/index.html", "text/html; charset=utf-8", web_index_html,
	  web_index_html_end },
	{ "/static/app.js", "text/javascript; charset=utf-8", web_app_js,
	  web_app_js_end },
	{ "/static/app.css", "text/css; charset=utf-8", web_app_css,
	  web_app_css_end },
	{ "/static/icon.svg", "image/svg+xml", web_icon_svg, web_icon_svg_end },
};

/* The file served at path, or NULL. */
static const struct web_file *web_file(const char *path)
{
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		if (strcmp(path, files[i].path) == 0)
			return &files[i];
	return NULL;
}

/* The page every dashboard address loads (its script draws the rest). */
static const struct web_file *web_page(void)
{
	return web_file("/static/index.html");
}

/* Whether path is one of the dashboard's pages ("/", "/laptops",
 * "/laptops/17", ...); "/login" is not: it needs no session. */
static bool web_is_page(const char *path)
{
	static const char *const pages[] = { "/", "/laptops", "/events",
					     "/policy", "/report" };

	for (size_t i = 0; i < ARRAY_SIZE(pages); i++)
		if (strcmp(path, pages[i]) == 0)
			return true;
	/* "/laptops/ID" */
	return strncmp(path, "/laptops/", 9) == 0 && path[9] &&
	       strspn(path + 9, "0123456789") == strlen(path + 9) &&
	       strlen(path + 9) <= 18;
}

/* --- the dashboard's pages --- */

static enum MHD_Result send_file(struct MHD_Connection *c,
				 const struct web_file *f)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		(size_t)(f->end - f->data), (void *)(uintptr_t)f->data,
		MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", f->type);
	/* Small, and new with every collectord: always revalidated. */
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	server_secure_headers(r);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result redirect(struct MHD_Connection *c, const char *to)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		0, NULL, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Location", to);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	server_secure_headers(r);
	ret = MHD_queue_response(c, MHD_HTTP_SEE_OTHER, r);
	MHD_destroy_response(r);
	return ret;
}

/* A page of the dashboard: the page for a signed-in admin, the sign-in
 * page for anyone else. The data come from the API, which checks the
 * session again on every request. */
static enum MHD_Result page(struct MHD_Connection *c, const char *url)
{
	_cleanup_free_ char *name = NULL, *csrf = NULL;
	struct store *s = server_store();
	int r;

	if (strcmp(url, "/login") == 0)
		return send_file(c, web_page());
	if (!s)
		return server_unavailable(c);
	r = auth_session_of(c, s, &name, &csrf);
	/* url is one of the pages (web_is_page): letters, digits, '/'. */
	if (r == -ENOENT && strcmp(url, "/") == 0)
		return redirect(c, "/login");
	if (r == -ENOENT) {
		_cleanup_free_ char *to = xasprintf("/login?next=%s", url);

		return redirect(c, to);
	}
	if (r < 0)
		return server_unavailable(c);
	return send_file(c, web_page());
}

bool web_serves(const char *url)
{
	const struct web_file *f = web_file(url);

	return web_is_page(url) || strcmp(url, "/login") == 0 ||
	       (f && strcmp(url, "/static/index.html") != 0) ||
	       strcmp(url, "/favicon.ico") == 0;
}

enum MHD_Result web_answer(struct MHD_Connection *c, const char *url)
{
	if (web_is_page(url) || strcmp(url, "/login") == 0)
		return page(c, url);
	if (strcmp(url, "/favicon.ico") == 0)
		return send_file(c, web_file("/static/icon.svg"));
	return send_file(c, web_file(url));
}
