/* SPDX-License-Identifier: Apache-2.0 */
/*
 * camera: which application uses the camera, for whom, and whether the
 * school has approved it.
 *
 * V4L2 capture devices come from udev (ID_V4L_CAPABILITIES holding
 * ":capture:"; metadata-only nodes are not cameras), at start and on
 * hotplug. Each node is watched with inotify in the event loop: an open or
 * a close makes endpointd look, through /proc/PID/fd, at who holds it. A
 * hold becomes a session once it has lasted min_session_seconds (media
 * servers and desktops probe devices briefly); its start and end are
 * events. An unapproved application holding the camera is a fail while it
 * lasts (action = warn).
 *
 * When the holder is a media server (PipeWire), the applications
 * consuming the camera's stream are found in each user's PipeWire graph
 * (pipewire.h) and judged in its place, their sessions marked "via":
 * "pipewire"; the graph's changes are events too.
 *
 * Privacy: only the fact of use is recorded: device, application, user,
 * times. Never a frame, never a window title, never a URL.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "holders.h"
#include "log.h"
#include "loop.h"
#include "messages.h"
#include "pipewire.h"
#include "util.h"

#define PRIVACY "Only the fact of use is recorded: device, application, " \
		"user and times. Never an image, a window title or a URL."

struct cam;

struct session {
	struct cam *cam;
	struct holder who;		/* owns its strings */
	char started_at[32];
	time_t started;
	bool confirmed;
	struct loop_source *confirm;	/* until min_session_seconds */
	struct session *next;
};

struct cam {
	char *syspath, *devnode, *name;
	int wd;
	bool dirty;		/* opened or closed since the last look */
	struct session *sessions;
	struct cam *next;
};

static struct {
	struct host *h;
	const struct policy *p;
	bool watching;
	bool stopping;		/* sessions end, but nothing is re-judged */
	int ifd;
	struct loop_source *isrc, *msrc, *rescan_timer;
	struct udev_monitor *mon;
	struct cam *cams;
	char *problem;		/* what kept the check from seeing */
} cm = { .ifd = -1 };

#define RESCAN_DELAY_MS 20	/* a burst of opens and closes: one look */

static void set_problem(const char *fmt, ...) _printf_(1, 2);

static void set_problem(const char *fmt, ...)
{
	va_list ap;

	free(cm.problem);
	va_start(ap, fmt);
	if (vasprintf(&cm.problem, fmt, ap) < 0)
		cm.problem = NULL;
	va_end(ap);
	log_warnx("camera: %s", cm.problem ? cm.problem : "error");
}

static bool approved(const struct policy *p, const struct holder *w)
{
	const struct policy_list *l = &p->camera.allowed_apps;
	const char *exe = w->exe;

	/* A sandboxed application by its name ("flatpak:ID", "snap:NAME"),
	 * which only its sandbox gives it (sandbox.h). */
	for (size_t i = 0; w->app_id && i < l->n; i++)
		if (strcmp(w->app_id, l->v[i]) == 0)
			return true;
	/* Only the file itself, seen from here, or the package's new file
	 * at its path after an upgrade: not a copy or a bind mount that
	 * merely has the path. */
	if (!exe || !(w->exe_verified || w->upgraded))
		return false;
	for (size_t i = 0; i < l->n; i++) {
		size_t n = strlen(l->v[i]);

		if (l->v[i][0] != '/')
			continue;
		if (strcmp(exe, l->v[i]) == 0 ||
		    (l->v[i][n - 1] == '/' && strncmp(exe, l->v[i], n) == 0))
			return true;
	}
	return false;
}

static json_t *holder_json(const char *devnode, const struct holder *w)
{
	json_t *o = json_pack("{s:o, s:o, s:o, s:i, s:o, s:b, s:b}",
			      "device", json_string_lossy(devnode),
			      "application", json_string_lossy(w->comm),
			      "exe", json_string_lossy(w->exe),
			      "pid", (int)w->pid,
			      "user", json_string_lossy(w->user),
			      "approved", approved(cm.p, w),
			      "media_server", holders_is_media_server(w));

	/* Only when there is something to say: the usual holder's
	 * evidence stays as it was. */
	if (w->app_id)
		json_object_set_new(o, "app_id", json_string(w->app_id));
	if (w->via)
		json_object_set_new(o, "via", json_string(w->via));
	if (w->upgraded)
		json_object_set_new(o, "note",
				    json_string("upgraded while running"));
	return o;
}

static json_t *session_json(const struct session *s)
{
	json_t *o = holder_json(s->cam->devnode, &s->who);

	json_object_set_new(o, "started_at", json_string(s->started_at));
	return o;
}

static void session_event(struct session *s, const char *action)
{
	json_t *ev = session_json(s);

	json_object_set_new(ev, "type", json_string("camera_session"));
	json_object_set_new(ev, "action", json_string(action));
	json_object_set_new(ev, "check", json_string("camera"));
	if (strcmp(action, "end") == 0)
		json_object_set_new(ev, "duration_seconds",
				    json_integer(time(NULL) - s->started));
	host_event(cm.h, ev);
}

static void session_free(struct session *s)
{
	loop_remove(s->confirm);
	free(s->who.exe);
	free(s->who.comm);
	free(s->who.user);
	free(s->who.app_id);
	free(s);
}

static void on_confirm(void *data)
{
	struct session *s = data;

	/* Still held (a close would have ended it): a session now. */
	loop_remove(s->confirm);
	s->confirm = NULL;
	s->confirmed = true;
	session_event(s, "start");
	host_changed(cm.h, "camera");
}

static void session_start(struct cam *c, struct holder *w)
{
	struct session *s = xcalloc(1, sizeof(*s));

	s->cam = c;
	s->who = *w;
	memset(w, 0, sizeof(*w));	/* strings now the session's */
	s->started = time(NULL);
	time_rfc3339(s->started_at);
	s->next = c->sessions;
	c->sessions = s;
	s->confirm = loop_add_timer(
		(uint64_t)cm.p->camera.min_session_seconds * 1000 + 1, 0,
		on_confirm, s);
	if (!s->confirm)
		on_confirm(s);
}

static void session_end(struct session **pp)
{
	struct session *s = *pp;

	*pp = s->next;
	if (s->confirmed) {
		session_event(s, "end");
		if (!cm.stopping)
			host_changed(cm.h, "camera");
	}
	session_free(s);
}

static void add_consumer(struct holder **v, int *n, pid_t pid)
{
	for (int i = 0; i < *n; i++)
		if ((*v)[i].pid == pid)
			return;
	*v = xrealloc(*v, (size_t)(*n + 1) * sizeof(**v));
	if (holders_describe(cm.h, pid, &(*v)[*n]) < 0)
		return;		/* gone already */
	(*v)[(*n)++].via = "pipewire";
}

/* A media server holding the camera stands for the applications that
 * consume its stream in its user's PipeWire; while none is seen (no
 * connection, nothing linked yet), the media server stays the holder. */
static void through_media_server(struct cam *c, struct holder **v, int *n)
{
	int held = *n, k = 0;

	for (int i = 0; i < held; i++) {
		pid_t *pids = NULL;
		int m;

		if (!holders_is_media_server(&(*v)[i]))
			continue;
		m = pipewire_consumers((*v)[i].uid, c->devnode, &pids);
		if (m == -ENOTCONN)	/* a user logged in since: its graph
					 * comes as events, before the hold
					 * is a session */
			pipewire_connect_users();
		for (int j = 0; j < m; j++)
			add_consumer(v, n, pids[j]);
		free(pids);
		if (m > 0)
			holders_free_one(&(*v)[i]);	/* pid 0: dropped */
	}
	for (int i = 0; i < *n; i++)
		if ((*v)[i].pid > 0)
			(*v)[k++] = (*v)[i];
	*n = k;
}

/* Who holds the node now: new holders start sessions, gone ones end. */
static void rescan(struct cam *c)
{
	struct holder *v = NULL;
	int n = holders_find(cm.h, c->devnode, &v);

	if (n < 0) {
		set_problem("cannot look at /proc for the camera's users (%s)",
			    strerror(-n));
		return;
	}
	through_media_server(c, &v, &n);
	log_debug("camera: %s held by %d process(es)", c->devnode, n);
	for (struct session **pp = &c->sessions; *pp;) {
		bool held = false;

		for (int i = 0; i < n; i++)
			held |= v[i].pid == (*pp)->who.pid;
		if (held)
			pp = &(*pp)->next;
		else
			session_end(pp);
	}
	for (int i = 0; i < n; i++) {
		bool known = false;

		for (struct session *s = c->sessions; s; s = s->next)
			known |= s->who.pid == v[i].pid;
		if (!known)
			session_start(c, &v[i]);
	}
	holders_free(v, n);
}

static void on_inotify(int fd, uint32_t events, void *data)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t len;

	(void)events;
	(void)data;
	/* Mark what changed; one look after the burst (a program opening
	 * and closing in a loop cannot keep endpointd scanning /proc). */
	while ((len = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + len;) {
			const struct inotify_event *ev = (const void *)p;

			for (struct cam *c = cm.cams; c; c = c->next)
				if (c->wd == ev->wd || (ev->mask & IN_Q_OVERFLOW))
					c->dirty = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	loop_timer_set(cm.rescan_timer, RESCAN_DELAY_MS, 0);
}

static void on_rescan(void *data)
{
	(void)data;
	for (struct cam *c = cm.cams; c; c = c->next) {
		if (c->dirty)
			rescan(c);
		c->dirty = false;
	}
}

/* The PipeWire graph changed: look again at the cameras it may concern,
 * those a media server holds. */
static void on_pipewire(void *data)
{
	bool any = false;

	(void)data;
	for (struct cam *c = cm.cams; c; c = c->next)
		for (const struct session *s = c->sessions; s; s = s->next)
			if (s->who.via || holders_is_media_server(&s->who))
				any = c->dirty = true;
	if (any)
		loop_timer_set(cm.rescan_timer, RESCAN_DELAY_MS, 0);
}

static bool is_capture(struct udev_device *ud)
{
	const char *caps = udev_device_get_property_value(ud,
							  "ID_V4L_CAPABILITIES");

	return caps && strstr(caps, ":capture:") && udev_device_get_devnode(ud);
}

static struct cam *cam_add(struct udev_device *ud)
{
	const char *product = udev_device_get_property_value(ud, "ID_V4L_PRODUCT");
	struct cam *c = xcalloc(1, sizeof(*c));

	c->syspath = xstrdup(udev_device_get_syspath(ud));
	c->devnode = xstrdup(udev_device_get_devnode(ud));
	c->name = product ? xstrndup(product, 128) : NULL;
	c->wd = -1;
	if (cm.ifd >= 0) {
		_cleanup_free_ char *path = host_path(cm.h, c->devnode);

		c->wd = inotify_add_watch(cm.ifd, path, IN_OPEN | IN_CLOSE);
		if (c->wd < 0)
			set_problem("cannot watch %s (%s)", c->devnode,
				    strerror(errno));
		else
			log_debug("camera: watching %s", path);
	}
	c->next = cm.cams;
	cm.cams = c;
	return c;
}

static void cam_free(struct cam *c)
{
	while (c->sessions)
		session_end(&c->sessions);
	if (cm.ifd >= 0 && c->wd >= 0)
		inotify_rm_watch(cm.ifd, c->wd);
	free(c->syspath);
	free(c->devnode);
	free(c->name);
	free(c);
}

static void cams_clear(void)
{
	while (cm.cams) {
		struct cam *c = cm.cams;

		cm.cams = c->next;
		cam_free(c);
	}
}

static int cams_scan(struct host *h)
{
	struct udev *udev = host_udev(h);
	struct udev_enumerate *e;
	struct udev_list_entry *l;
	int r;

	if (!udev)
		return -ENOMEM;
	e = udev_enumerate_new(udev);
	if (!e)
		return -ENOMEM;
	udev_enumerate_add_match_subsystem(e, "video4linux");
	r = udev_enumerate_scan_devices(e);
	udev_list_entry_foreach(l, udev_enumerate_get_list_entry(e)) {
		struct udev_device *ud = udev_device_new_from_syspath(
			udev, udev_list_entry_get_name(l));

		if (ud && is_capture(ud))
			cam_add(ud);
		udev_device_unref(ud);
	}
	udev_enumerate_unref(e);
	return r < 0 ? r : 0;
}

static void on_udev(int fd, uint32_t events, void *data)
{
	struct udev_device *ud;

	(void)fd;
	(void)events;
	(void)data;
	while ((ud = udev_monitor_receive_device(cm.mon))) {
		const char *action = udev_device_get_action(ud);
		const char *sp = udev_device_get_syspath(ud);

		for (struct cam **pp = &cm.cams; *pp; pp = &(*pp)->next) {
			if (strcmp((*pp)->syspath, sp) == 0) {
				struct cam *c = *pp;

				*pp = c->next;
				cam_free(c);	/* sessions on it end */
				break;
			}
		}
		if (action && strcmp(action, "remove") != 0 && is_capture(ud))
			rescan(cam_add(ud));
		udev_device_unref(ud);
		host_changed(cm.h, "camera");
	}
}

/* --- the finding --- */

struct seen {
	json_t *cams;
	char *bad;		/* the first unapproved application, in words */
	unsigned media;		/* holds by a media server */
};

static void consider(struct seen *v, const struct policy *p,
		     const struct holder *w, json_t *list, const char *dev)
{
	json_array_append_new(list, holder_json(dev, w));
	if (holders_is_media_server(w))
		v->media++;
	else if (!approved(p, w) && !v->bad)
		v->bad = xasprintf("%s (%s)", w->comm ? w->comm : "an application",
				   w->exe ? w->exe : "unknown program");
}

static void conclude(struct finding *f, const struct policy *p,
		     const struct seen *v, const char *problem)
{
	_cleanup_free_ char *s = NULL;

	if (v->bad && p->camera.action == CAMERA_ACTION_WARN) {
		s = xasprintf(SAY_CAMERA_UNAPPROVED, v->bad);
		finding_set(f, CHECK_FAIL, s, SAY_CAMERA_UNAPPROVED_DO);
	} else if (problem) {
		s = xasprintf(SAY_CAMERA_UNKNOWN, problem);
		finding_set(f, CHECK_UNKNOWN, s, SAY_UNKNOWN_DO);
	} else if (v->media) {
		finding_set(f, CHECK_UNKNOWN, SAY_CAMERA_MEDIA_SERVER, NULL);
	} else {
		finding_set(f, CHECK_PASS, SAY_CAMERA_PASS, NULL);
	}
}

/* --once: whoever holds a camera now; no sessions, no events. */
static char *look_now(struct host *h, const struct policy *p,
		      struct seen *v)
{
	char *problem = NULL;
	int r;

	cm.h = h;
	r = cams_scan(h);
	if (r < 0)
		problem = xasprintf("cannot list the cameras (%s)", strerror(-r));
	for (struct cam *c = cm.cams; c; c = c->next) {
		json_t *list = json_array();
		struct holder *w = NULL;
		int n = holders_find(h, c->devnode, &w);

		if (n < 0 && !problem)
			problem = xasprintf("cannot look at /proc (%s)",
					    strerror(-n));
		for (int i = 0; i < n; i++)
			consider(v, p, &w[i], list, c->devnode);
		holders_free(w, n < 0 ? 0 : n);
		json_array_append_new(v->cams, json_pack(
			"{s:o, s:o, s:o}", "device", json_string_lossy(c->devnode),
			"name", json_string_lossy(c->name), "sessions", list));
	}
	cams_clear();
	return problem;
}

static void look_sessions(const struct policy *p, struct seen *v)
{
	for (struct cam *c = cm.cams; c; c = c->next) {
		json_t *list = json_array();

		for (const struct session *s = c->sessions; s; s = s->next) {
			if (!s->confirmed)
				continue;
			consider(v, p, &s->who, list, c->devnode);
			json_object_set_new(json_array_get(list,
							   json_array_size(list) - 1),
					    "started_at",
					    json_string(s->started_at));
		}
		json_array_append_new(v->cams, json_pack(
			"{s:o, s:o, s:o}", "device", json_string_lossy(c->devnode),
			"name", json_string_lossy(c->name), "sessions", list));
	}
}

static int camera_evaluate(struct host *h, const struct policy *p,
			   struct finding *f)
{
	struct seen v = { .cams = json_array() };
	_cleanup_free_ char *problem = NULL;

	cm.p = p;
	if (cm.watching) {
		pipewire_connect_users();	/* a user who logged in since */
		look_sessions(p, &v);
		problem = cm.problem ? xstrdup(cm.problem) : NULL;
	} else {
		problem = look_now(h, p, &v);
	}
	conclude(f, p, &v, problem);
	finding_evidence_json(f, "cameras", v.cams);
	finding_evidence_str(f, "privacy", PRIVACY);
	free(v.bad);
	return 0;
}

static int camera_start(struct host *h, const struct policy *p)
{
	struct udev *udev = host_udev(h);
	int r;

	cm.h = h;
	cm.p = p;
	cm.ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (cm.ifd < 0)
		return -errno;
	cm.isrc = loop_add_fd(cm.ifd, EPOLLIN, on_inotify, NULL);
	if (!cm.isrc || !udev)
		return -errno ? -errno : -ENOMEM;
	cm.mon = udev_monitor_new_from_netlink(udev, "udev");
	if (!cm.mon)
		return -errno ? -errno : -EIO;
	r = udev_monitor_filter_add_match_subsystem_devtype(cm.mon,
							     "video4linux", NULL);
	if (r >= 0)
		r = udev_monitor_enable_receiving(cm.mon);
	if (r < 0)
		return r;
	cm.msrc = loop_add_fd(udev_monitor_get_fd(cm.mon), EPOLLIN, on_udev,
			      NULL);
	if (!cm.msrc)
		return -errno;
	cm.rescan_timer = loop_add_timer(0, 0, on_rescan, NULL);
	if (!cm.rescan_timer)
		return -errno;
	/* Room for a burst of uevents before the kernel drops any. */
	udev_monitor_set_receive_buffer_size(cm.mon, 1 << 20);
	cm.watching = true;
	r = pipewire_watch(h, on_pipewire, NULL);
	if (r < 0 && r != -ENOTSUP)
		log_warnx("camera: PipeWire's users of the camera unseen (%s)",
			  strerror(-r));
	r = cams_scan(h);
	if (r < 0)
		set_problem("cannot list the cameras (%s)", strerror(-r));
	/* A camera already in use when endpointd starts. */
	for (struct cam *c = cm.cams; c; c = c->next)
		rescan(c);
	return r;
}

static void camera_stop(struct host *h)
{
	(void)h;
	cm.stopping = true;
	cams_clear();
	cm.stopping = false;
	pipewire_unwatch();
	loop_remove(cm.isrc);
	loop_remove(cm.msrc);
	loop_remove(cm.rescan_timer);
	cm.isrc = cm.msrc = cm.rescan_timer = NULL;
	free(cm.problem);
	cm.problem = NULL;
	cm.mon = udev_monitor_unref(cm.mon);
	if (cm.ifd >= 0)
		close(cm.ifd);
	cm.ifd = -1;
	cm.watching = false;
}

const struct check_ops camera_check = {
	.id = "camera",
	.title = "Camera use",
	.start = camera_start,
	.stop = camera_stop,
	.evaluate = camera_evaluate,
};
