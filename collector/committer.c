/* SPDX-License-Identifier: Apache-2.0 */
/*
 * committer: the queue between the worker threads (committer_put, from
 * the report handler in api.c) and the committer threads, which store
 * each batch with store_report_put_batch (store_ingest.c). One committer
 * on SQLite, several on PostgreSQL (committer_init).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "committer.h"
#include "log.h"
#include "secret.h"
#include "util.h"

#define BATCH_MAX 512

#define MAX_COMMITTERS 8

/* A report waiting for, or back from, the committer. */
struct committer_job {
	struct MHD_Connection *conn;
	char token_hash[SECRET_HASH_LEN + 1];
	struct store_put put;
	struct committer_job *next;
};

static char *db_url;
static pthread_t committers[MAX_COMMITTERS];
static unsigned ncommitters;
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_cond = PTHREAD_COND_INITIALIZER;
static struct committer_job *queue_head, *queue_tail;
static bool committer_running, committer_stop;

static bool on_sqlite(void)
{
	return strncmp(db_url, "sqlite:", 7) == 0;
}

/* Store a batch on the committer's connection, opened if need be; a
 * connection that fails is closed. 0 or -EIO. */
static int put_batch(struct store **s, struct store_put *puts, size_t n)
{
	_cleanup_free_ char *err = NULL;

	if (!*s && (*s = store_open(db_url, false, &err)))
		store_remember(*s);
	else if (!*s)
		log_errx("%s", err);
	if (*s && store_report_put_batch(*s, puts, n) == 0)
		return 0;
	store_close(*s);
	*s = NULL;
	return -EIO;
}

static void commit_batch(struct store **s, struct committer_job **jobs,
			 size_t n)
{
	struct store_put puts[BATCH_MAX];

	for (size_t i = 0; i < n; i++)
		puts[i] = jobs[i]->put;
	/* A PostgreSQL connection broken since the last batch (the server
	 * restarted) fails this one: it is tried once more on a new
	 * connection before it is answered 503. Nothing was stored by the
	 * failed try, or, if its commit went through unseen, the retry finds
	 * every report stored before (200). On SQLite a failure is the write
	 * lock held past its wait: no second wait. */
	if (put_batch(s, puts, n) < 0 && (on_sqlite() ||
					  put_batch(s, puts, n) < 0))
		for (size_t i = 0; i < n; i++)
			puts[i].result = -EIO;
	for (size_t i = 0; i < n; i++) {
		jobs[i]->put.result = puts[i].result;
		MHD_resume_connection(jobs[i]->conn);
	}
}

static void *committer_main(void *arg)
{
	struct committer_job *jobs[BATCH_MAX];
	struct store *s = NULL;

	(void)arg;
	for (;;) {
		size_t n = 0;

		pthread_mutex_lock(&queue_lock);
		while (!queue_head && !committer_stop)
			pthread_cond_wait(&queue_cond, &queue_lock);
		if (!queue_head) {
			/* Stopping, and nothing waits: from now on workers
			 * store their reports themselves. */
			committer_running = false;
			pthread_cond_broadcast(&queue_cond);
			pthread_mutex_unlock(&queue_lock);
			break;
		}
		while (queue_head && n < BATCH_MAX) {
			jobs[n++] = queue_head;
			queue_head = queue_head->next;
		}
		if (!queue_head)
			queue_tail = NULL;
		pthread_mutex_unlock(&queue_lock);
		commit_batch(&s, jobs, n);
	}
	store_close(s);
	return NULL;
}

int committer_put(struct MHD_Connection *c, struct store *s, int64_t id,
		  const char *token_hash, const json_t *report,
		  const char *body, size_t len, struct committer_job **job)
{
	struct committer_job *j;

	*job = NULL;
	pthread_mutex_lock(&queue_lock);
	if (!committer_running) {
		pthread_mutex_unlock(&queue_lock);
		return s ? store_report_put(s, id, token_hash, report, body, len)
			 : -EIO;
	}
	j = xcalloc(1, sizeof(*j));
	j->conn = c;
	snprintf(j->token_hash, sizeof(j->token_hash), "%s", token_hash);
	j->put = (struct store_put){ id, j->token_hash, report, body, len, 0 };
	MHD_suspend_connection(c);
	if (queue_tail)
		queue_tail->next = j;
	else
		queue_head = j;
	queue_tail = j;
	pthread_cond_signal(&queue_cond);
	pthread_mutex_unlock(&queue_lock);
	*job = j;
	return -EINPROGRESS;
}

int committer_result(const struct committer_job *job)
{
	return job->put.result;
}

void committer_job_free(void *job)
{
	free(job);
}

int committer_init(const char *url, unsigned threads)
{
	db_url = xstrdup(url);
	/* SQLite has one writer: one committer. On PostgreSQL a committer
	 * spends most of its time waiting for the server's answers, and the
	 * server for the next statement: as many committers as worker
	 * threads (2,400 to 7,400-7,900 reports/s with two on two cores;
	 * four did 6,500). Their batches lock device rows in id order and
	 * change the counts in key order, as several instances' do, so they
	 * wait for each other but cannot deadlock. */
	committer_stop = false;
	ncommitters = on_sqlite() ? 1
		      : threads < MAX_COMMITTERS ? threads : MAX_COMMITTERS;
	for (unsigned i = 0; i < ncommitters; i++) {
		if (pthread_create(&committers[i], NULL, committer_main,
				   NULL) != 0) {
			ncommitters = i;
			break;
		}
	}
	committer_running = ncommitters > 0;
	if (!committer_running)
		log_warnx("no committer thread: each report commits alone");
	return 0;
}

void committer_exit(void)
{
	/* Every waiting report is committed and answered first: the
	 * daemon must not stop with connections suspended. */
	pthread_mutex_lock(&queue_lock);
	committer_stop = true;
	pthread_cond_broadcast(&queue_cond);
	pthread_mutex_unlock(&queue_lock);
	for (unsigned i = 0; i < ncommitters; i++)
		pthread_join(committers[i], NULL);
	ncommitters = 0;
	free(db_url);
	db_url = NULL;
}
