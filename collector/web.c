/*
 * web: the dashboard's files, each included byte for byte by the
 * assembler (.incbin) from collector/web/; the Makefile rebuilds this
 * object when one of them changes.
 */
#include <stdbool.h>
#include <string.h>

#include "util.h"
#include "web.h"

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

const struct web_file *web_file(const char *path)
{
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		if (strcmp(path, files[i].path) == 0)
			return &files[i];
	return NULL;
}

const struct web_file *web_page(void)
{
	return web_file("/static/index.html");
}

bool web_is_page(const char *path)
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
