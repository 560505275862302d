/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api: collectord's HTTP API (docs/api.md): /healthz, /metrics and
 * /api/v1/ (enrol, reports, summary, ...), and the dashboard's pages
 * through web.h. api_dispatch is the server's dispatcher
 * (server_config.dispatch).
 */
#ifndef COLLECTORD_API_H
#define COLLECTORD_API_H

#include <microhttpd.h>
#include <stddef.h>

/* Make the answers reports share. Returns 0. */
/* policy_pem: the key that signs each group's policy (store.h's
 * store_signing_key). Returns 0 or -EINVAL. */
int api_init(const char *policy_pem);
/* Let them go (after server_exit). */
void api_exit(void);

/* Answer one complete request. body is NUL-terminated at len. */
struct request;
enum MHD_Result api_dispatch(struct MHD_Connection *c, struct request *rq,
			     const char *url, const char *method,
			     const char *body, size_t len);

#endif
