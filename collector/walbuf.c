/* SPDX-License-Identifier: Apache-2.0 */
/*
 * walbuf: a SQLite VFS that is the default one (unix) except that a
 * write-ahead log's writes are gathered in memory and written together
 * when the log is synced.
 *
 * SQLite writes each frame of the log as two writes, its 24-byte header
 * and then its page, so a frame dirties parts of two or three pages of the
 * kernel's cache and costs two system calls; a commit of a few dozen
 * reports writes about a hundred frames. Gathered, they are one write of
 * whole pages: about 4.4 to 1.3 us of CPU a frame, with its sync, on the
 * machine of docs/performance.md.
 *
 * What is gathered is written before the log is synced, read, truncated,
 * measured or closed, and before any write that does not follow it; a
 * write that fails when it is finally made fails the sync, and so the
 * commit. Other connections read only frames that a commit has made
 * visible, after its sync: hence the one condition of using this VFS,
 * that the connection syncs at every commit (synchronous=FULL, which
 * db_sqlite.c sets). Every other file is the unix VFS's own, untouched.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <string.h>

#include "walbuf.h"

/* Bytes gathered at most before they are written: the unix VFS writes at
 * most 128 KiB at a time (it fails a larger write as a full disk). */
#define GATHER (64 << 10)

struct wal_file {
	sqlite3_file base;
	sqlite3_file *real;	/* the unix VFS's file, just after this */
	unsigned char *buf;
	sqlite3_int64 at;	/* the offset in the file of buf[0] */
	size_t len;
};

static sqlite3_vfs *unix_vfs;
static sqlite3_vfs walbuf_vfs_;
static const sqlite3_io_methods wal_methods;

static int flush(struct wal_file *w)
{
	size_t len = w->len;

	w->len = 0;
	if (!len)
		return SQLITE_OK;
	return w->real->pMethods->xWrite(w->real, w->buf, (int)len, w->at);
}

static int wal_close(sqlite3_file *f)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc = flush(w), rc2 = w->real->pMethods->xClose(w->real);

	sqlite3_free(w->buf);
	w->buf = NULL;
	return rc != SQLITE_OK ? rc : rc2;
}

static int wal_read(sqlite3_file *f, void *out, int n, sqlite3_int64 off)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc = flush(w);

	return rc != SQLITE_OK ? rc
			       : w->real->pMethods->xRead(w->real, out, n, off);
}

static int wal_write(sqlite3_file *f, const void *data, int n,
		     sqlite3_int64 off)
{
	struct wal_file *w = (struct wal_file *)f;
	size_t k = (size_t)n;
	int rc;

	/* Within what is gathered (a frame written again), or just after
	 * it, and room for it: kept. */
	if (w->len && off >= w->at &&
	    (size_t)(off - w->at) <= w->len &&
	    (size_t)(off - w->at) + k <= GATHER) {
		size_t at = (size_t)(off - w->at);

		memcpy(w->buf + at, data, k);
		if (at + k > w->len)
			w->len = at + k;
		return SQLITE_OK;
	}
	rc = flush(w);
	if (rc != SQLITE_OK)
		return rc;
	if (!w->buf && k < GATHER)
		w->buf = sqlite3_malloc(GATHER);
	if (!w->buf || k >= GATHER)
		return w->real->pMethods->xWrite(w->real, data, n, off);
	memcpy(w->buf, data, k);
	w->at = off;
	w->len = k;
	return SQLITE_OK;
}

static int wal_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc = flush(w);

	return rc != SQLITE_OK ? rc
			       : w->real->pMethods->xTruncate(w->real, size);
}

static int wal_sync(sqlite3_file *f, int flags)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc = flush(w);

	return rc != SQLITE_OK ? rc : w->real->pMethods->xSync(w->real, flags);
}

static int wal_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc = flush(w);

	return rc != SQLITE_OK ? rc
			       : w->real->pMethods->xFileSize(w->real, size);
}

static int wal_lock(sqlite3_file *f, int level)
{
	struct wal_file *w = (struct wal_file *)f;

	return w->real->pMethods->xLock(w->real, level);
}

static int wal_unlock(sqlite3_file *f, int level)
{
	struct wal_file *w = (struct wal_file *)f;

	return w->real->pMethods->xUnlock(w->real, level);
}

static int wal_reserved(sqlite3_file *f, int *out)
{
	struct wal_file *w = (struct wal_file *)f;

	return w->real->pMethods->xCheckReservedLock(w->real, out);
}

static int wal_control(sqlite3_file *f, int op, void *arg)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc = flush(w);

	return rc != SQLITE_OK ? rc
			       : w->real->pMethods->xFileControl(w->real, op,
								 arg);
}

static int wal_sector_size(sqlite3_file *f)
{
	struct wal_file *w = (struct wal_file *)f;

	return w->real->pMethods->xSectorSize(w->real);
}

static int wal_device(sqlite3_file *f)
{
	struct wal_file *w = (struct wal_file *)f;

	return w->real->pMethods->xDeviceCharacteristics(w->real);
}

/* Version 1 only: SQLite maps and shares the database file's memory, never
 * the log's, and without these methods reads the log by xRead. */
static const sqlite3_io_methods wal_methods = {
	.iVersion = 1,
	.xClose = wal_close,
	.xRead = wal_read,
	.xWrite = wal_write,
	.xTruncate = wal_truncate,
	.xSync = wal_sync,
	.xFileSize = wal_file_size,
	.xLock = wal_lock,
	.xUnlock = wal_unlock,
	.xCheckReservedLock = wal_reserved,
	.xFileControl = wal_control,
	.xSectorSize = wal_sector_size,
	.xDeviceCharacteristics = wal_device,
};

/* A log is wrapped; any other file is the unix VFS's, opened in place
 * (szOsFile leaves it room) with its own methods. */
static int vfs_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f,
		    int flags, int *out_flags)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc;

	(void)vfs;
	if (!(flags & SQLITE_OPEN_WAL))
		return unix_vfs->xOpen(unix_vfs, name, f, flags, out_flags);
	memset(w, 0, sizeof(*w));
	w->real = (sqlite3_file *)(w + 1);
	rc = unix_vfs->xOpen(unix_vfs, name, w->real, flags, out_flags);
	w->base.pMethods = rc == SQLITE_OK ? &wal_methods : NULL;
	return rc;
}

static int vfs_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs;
	return unix_vfs->xDelete(unix_vfs, name, sync_dir);
}

static int vfs_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return unix_vfs->xAccess(unix_vfs, name, flags, out);
}

static int vfs_full_pathname(sqlite3_vfs *vfs, const char *name, int n,
			     char *out)
{
	(void)vfs;
	return unix_vfs->xFullPathname(unix_vfs, name, n, out);
}

static void *vfs_dlopen(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return unix_vfs->xDlOpen(unix_vfs, name);
}

static void vfs_dlerror(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	unix_vfs->xDlError(unix_vfs, n, out);
}

static void (*vfs_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	(void)vfs;
	return unix_vfs->xDlSym(unix_vfs, h, sym);
}

static void vfs_dlclose(sqlite3_vfs *vfs, void *h)
{
	(void)vfs;
	unix_vfs->xDlClose(unix_vfs, h);
}

static int vfs_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return unix_vfs->xRandomness(unix_vfs, n, out);
}

static int vfs_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return unix_vfs->xSleep(unix_vfs, us);
}

static int vfs_current_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return unix_vfs->xCurrentTime(unix_vfs, out);
}

static int vfs_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return unix_vfs->xGetLastError(unix_vfs, n, out);
}

static int vfs_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return unix_vfs->xCurrentTimeInt64(unix_vfs, out);
}

static void walbuf_register(void)
{
	unix_vfs = sqlite3_vfs_find("unix");
	if (!unix_vfs || unix_vfs->iVersion < 2)
		return;
	walbuf_vfs_ = (sqlite3_vfs){
		.iVersion = 2,
		.szOsFile = (int)sizeof(struct wal_file) + unix_vfs->szOsFile,
		.mxPathname = unix_vfs->mxPathname,
		.zName = WALBUF_VFS,
		.xOpen = vfs_open,
		.xDelete = vfs_delete,
		.xAccess = vfs_access,
		.xFullPathname = vfs_full_pathname,
		.xDlOpen = vfs_dlopen,
		.xDlError = vfs_dlerror,
		.xDlSym = vfs_dlsym,
		.xDlClose = vfs_dlclose,
		.xRandomness = vfs_randomness,
		.xSleep = vfs_sleep,
		.xCurrentTime = vfs_current_time,
		.xGetLastError = vfs_last_error,
		.xCurrentTimeInt64 = vfs_current_time64,
	};
	if (sqlite3_vfs_register(&walbuf_vfs_, 0) != SQLITE_OK)
		unix_vfs = NULL;
}

const char *walbuf_vfs(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, walbuf_register);
	return unix_vfs ? WALBUF_VFS : NULL;
}
