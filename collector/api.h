/*
 * api: collectord's HTTP API (docs/api.md): /healthz, /metrics and
 * /api/v1/ (enrol, reports, summary).
 */
#ifndef COLLECTORD_API_H
#define COLLECTORD_API_H

#include <microhttpd.h>
#include <stddef.h>

/* Answer one complete request. body is NUL-terminated at len. */
struct request;
enum MHD_Result api_dispatch(struct MHD_Connection *c, struct request *rq,
			     const char *url, const char *method,
			     const char *body, size_t len);

/* Forget the cached admin verifications (at exit). */
void api_exit(void);

#endif
