/* SPDX-License-Identifier: Apache-2.0 */
/*
 * walbuf: SQLite's unix VFS with a write-ahead log's writes gathered until
 * the log is synced (walbuf.c).
 */
#ifndef COLLECTORD_WALBUF_H
#define COLLECTORD_WALBUF_H

#define WALBUF_VFS "collectord-walbuf"

/* The VFS's name, registered on the first call, for sqlite3_open_v2; NULL
 * when it cannot be (SQLite's default VFS is then used). A connection
 * opened with it must sync at every commit (synchronous=FULL). */
const char *walbuf_vfs(void);

#endif
