/* SPDX-License-Identifier: Apache-2.0 */
/*
 * web: the dashboard's files (collector/web/), built into collectord at
 * compile time, so that it works on a school network with no internet
 * access and has no files to install or keep in step; and its pages,
 * which need a signed-in admin (but for the sign-in page).
 */
#ifndef COLLECTORD_WEB_H
#define COLLECTORD_WEB_H

#include <microhttpd.h>
#include <stdbool.h>

/* Whether a GET or HEAD of url is the dashboard's: one of its pages
 * ("/", "/laptops", "/laptops/17", ..., "/login"), its static files
 * (but index.html, which only comes as a page) or /favicon.ico. */
bool web_serves(const char *url);
/* Answer a GET or HEAD of url, one web_serves takes. */
enum MHD_Result web_answer(struct MHD_Connection *c, const char *url);

#endif
