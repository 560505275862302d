/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pipewire: the registry of each user's PipeWire, kept as a list of the
 * objects that matter (nodes, links, clients, devices) with the few
 * properties read from them, and the camera's consumers found in it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/fsuid.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <pipewire/pipewire.h>

#include "holders.h"
#include "log.h"
#include "loop.h"
#include "pipewire.h"
#include "util.h"

#define NONE SPA_ID_INVALID

enum kind { NODE, LINK, CLIENT, DEVICE };

struct obj {
	uint32_t id;
	enum kind kind;
	uint32_t a, b;		/* node: client.id, device.id; link: out, in */
	char *path;		/* node, device: object.path */
	bool v4l2;		/* device: device.api = v4l2 */
	pid_t pid;		/* client: pipewire.sec.pid, or 0 */
	struct obj *next;
};

struct conn {
	uid_t uid;
	struct pw_core *core;
	struct pw_registry *reg;
	struct spa_hook core_hook, reg_hook;
	bool dead;		/* hung up: dropped after the iteration */
	struct obj *objs;
	struct conn *next;
};

static struct {
	struct host *h;
	bool watching;
	pipewire_changed_fn fn;
	void *data;
	struct pw_loop *loop;
	struct pw_context *ctx;
	struct loop_source *src;
	struct conn *conns;
} pw;

static uint32_t prop_id(const struct spa_dict *props, const char *key)
{
	const char *s = props ? spa_dict_lookup(props, key) : NULL;
	char *end;
	unsigned long v;

	if (!s || !*s)
		return NONE;
	errno = 0;
	v = strtoul(s, &end, 10);
	return *end || errno || v >= NONE ? NONE : (uint32_t)v;
}

static char *prop_str(const struct spa_dict *props, const char *key)
{
	const char *s = props ? spa_dict_lookup(props, key) : NULL;

	return s ? xstrndup(s, 256) : NULL;
}

static struct obj *obj_find(struct conn *c, uint32_t id, enum kind kind)
{
	for (struct obj *o = c->objs; o; o = o->next)
		if (o->id == id && o->kind == kind)
			return o;
	return NULL;
}

static bool kind_of(const char *type, enum kind *k)
{
	static const struct { const char *type; enum kind kind; } kinds[] = {
		{ PW_TYPE_INTERFACE_Node, NODE },
		{ PW_TYPE_INTERFACE_Link, LINK },
		{ PW_TYPE_INTERFACE_Client, CLIENT },
		{ PW_TYPE_INTERFACE_Device, DEVICE },
	};

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (strcmp(type, kinds[i].type) == 0) {
			*k = kinds[i].kind;
			return true;
		}
	return false;
}

static void read_props(struct obj *o, const struct spa_dict *props)
{
	const char *api = props ? spa_dict_lookup(props, PW_KEY_DEVICE_API) : NULL;
	uint32_t pid;

	switch (o->kind) {
	case NODE:
		o->a = prop_id(props, PW_KEY_CLIENT_ID);
		o->b = prop_id(props, PW_KEY_DEVICE_ID);
		o->path = prop_str(props, PW_KEY_OBJECT_PATH);
		break;
	case LINK:
		o->a = prop_id(props, PW_KEY_LINK_OUTPUT_NODE);
		o->b = prop_id(props, PW_KEY_LINK_INPUT_NODE);
		break;
	case CLIENT:
		/* Set by the server from SO_PEERCRED; a client's update of
		 * any pipewire.sec.* key is refused (impl-client.c). */
		pid = prop_id(props, PW_KEY_SEC_PID);
		o->pid = pid == NONE || pid > INT32_MAX ? 0 : (pid_t)pid;
		break;
	case DEVICE:
		o->path = prop_str(props, PW_KEY_OBJECT_PATH);
		o->v4l2 = api && strcmp(api, "v4l2") == 0;
		break;
	}
}

static void on_global(void *data, uint32_t id, uint32_t permissions,
		      const char *type, uint32_t version,
		      const struct spa_dict *props)
{
	struct conn *c = data;
	struct obj *o;
	enum kind k;

	(void)permissions;
	(void)version;
	if (!type || !kind_of(type, &k) || obj_find(c, id, k))
		return;
	o = xcalloc(1, sizeof(*o));
	o->id = id;
	o->kind = k;
	read_props(o, props);
	o->next = c->objs;
	c->objs = o;
	pw.fn(pw.data);
}

static void on_global_remove(void *data, uint32_t id)
{
	struct conn *c = data;

	for (struct obj **pp = &c->objs; *pp; pp = &(*pp)->next) {
		struct obj *o = *pp;

		if (o->id != id)
			continue;
		*pp = o->next;
		free(o->path);
		free(o);
		pw.fn(pw.data);
		return;
	}
}

static const struct pw_registry_events registry_events = {
	PW_VERSION_REGISTRY_EVENTS,
	.global = on_global,
	.global_remove = on_global_remove,
};

static void on_core_error(void *data, uint32_t id, int seq, int res,
			  const char *message)
{
	struct conn *c = data;

	(void)seq;
	if (id != PW_ID_CORE || res != -EPIPE)
		return;
	log_debug("camera: PipeWire of uid %u hung up (%s)", (unsigned)c->uid,
		  message ? message : "");
	c->dead = true;
}

static const struct pw_core_events core_events = {
	PW_VERSION_CORE_EVENTS,
	.error = on_core_error,
};

static void conn_free(struct conn *c)
{
	while (c->objs) {
		struct obj *o = c->objs;

		c->objs = o->next;
		free(o->path);
		free(o);
	}
	spa_hook_remove(&c->reg_hook);
	spa_hook_remove(&c->core_hook);
	if (c->reg)
		pw_proxy_destroy((struct pw_proxy *)c->reg);
	if (c->core)
		pw_core_disconnect(c->core);
	free(c);
}

/* Drop the connections whose server hung up; their consumers go too. */
static void drop_dead(void)
{
	bool dropped = false;

	for (struct conn **pp = &pw.conns; *pp;) {
		struct conn *c = *pp;

		if (!c->dead) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		conn_free(c);
		dropped = true;
	}
	if (dropped)
		pw.fn(pw.data);
}

static void on_readable(int fd, uint32_t events, void *data)
{
	(void)fd;
	(void)events;
	(void)data;
	pw_loop_iterate(pw.loop, 0);
	drop_dead();
}

/* connect() with the file system's permission checks made as uid
 * (CAP_SETUID): the user's socket, often writable by its owner alone,
 * is reachable without CAP_DAC_OVERRIDE, and a link the user put there
 * leads nowhere the user could not go. */
static int connect_as(int fd, const struct sockaddr_un *sa, uid_t uid)
{
	int old = setfsuid(uid), r;

	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 ? -errno : 0;
	setfsuid((uid_t)old);
	return r;
}

/* A socket connected to path whose peer is uid (its PipeWire, not a
 * program another user left there). Returns the fd or -errno. */
static int open_socket(const char *path, uid_t uid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	r = connect_as(fd, &sa, uid);
	if (r < 0) {
		close(fd);
		return r;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		r = -errno;
	else if (cred.uid != uid)
		r = -EPERM;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

static int loop_start(void);
static void loop_stop(void);

static int conn_open(uid_t uid)
{
	_cleanup_free_ char *rel = xasprintf("/run/user/%u/pipewire-0",
					     (unsigned)uid);
	_cleanup_free_ char *path = host_path(pw.h, rel);
	struct conn *c;
	int fd = open_socket(path, uid), r;

	if (fd < 0)
		return fd;
	if ((r = loop_start()) < 0) {
		close(fd);
		return r;
	}
	c = xcalloc(1, sizeof(*c));
	c->uid = uid;
	/* Takes fd, closing it on failure too. */
	c->core = pw_context_connect_fd(pw.ctx, fd, pw_properties_new(
		PW_KEY_APP_NAME, "endpointd", NULL), 0);
	if (!c->core) {
		r = -errno;
		free(c);
		return r ? r : -EIO;
	}
	pw_core_add_listener(c->core, &c->core_hook, &core_events, c);
	c->reg = pw_core_get_registry(c->core, PW_VERSION_REGISTRY, 0);
	if (c->reg)
		pw_registry_add_listener(c->reg, &c->reg_hook, &registry_events, c);
	c->next = pw.conns;
	pw.conns = c;
	log_debug("camera: connected to PipeWire of uid %u", (unsigned)uid);
	return 0;
}

static struct conn *conn_of(uid_t uid)
{
	for (struct conn *c = pw.conns; c; c = c->next)
		if (c->uid == uid && !c->dead)
			return c;
	return NULL;
}

void pipewire_connect_users(void)
{
	_cleanup_free_ char *dir = NULL;
	struct dirent *de;
	DIR *d;

	if (!pw.watching)
		return;
	dir = host_path(pw.h, "/run/user");
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char *end;
		unsigned long uid = strtoul(de->d_name, &end, 10);
		int r;

		if (*end || de->d_name[0] < '0' || de->d_name[0] > '9' ||
		    uid >= (uid_t)-1 || conn_of((uid_t)uid))
			continue;
		r = conn_open((uid_t)uid);
		if (r < 0 && r != -ENOENT)
			log_debug("camera: no PipeWire for uid %lu (%s)", uid,
				  strerror(-r));
	}
	closedir(d);
}

/* Whether the process with pid is a verified media server. */
static bool media_server(pid_t pid)
{
	struct holder hd = { 0 };
	bool yes;

	if (pid <= 0 || holders_describe(pw.h, pid, &hd) < 0)
		return false;
	yes = holders_is_media_server(&hd);
	holders_free_one(&hd);
	return yes;
}

static bool names_dev(const char *path, const char *devnode)
{
	return path && strncmp(path, "v4l2:", 5) == 0 &&
	       strcmp(path + 5, devnode) == 0;
}

/* The node is the camera's: its object.path, or its device's, names the
 * device; and the server or a media server made it, not an application
 * (which could claim any path). */
static bool is_camera_node(struct conn *c, const struct obj *n,
			   const char *devnode)
{
	const struct obj *dev = n->b == NONE ? NULL : obj_find(c, n->b, DEVICE);
	const struct obj *cl;

	if (!names_dev(n->path, devnode) &&
	    !(dev && dev->v4l2 && names_dev(dev->path, devnode)))
		return false;
	if (n->a == NONE)
		return true;
	cl = obj_find(c, n->a, CLIENT);
	return cl && media_server(cl->pid);
}

static void add_pid(pid_t **v, int *n, pid_t pid)
{
	for (int i = 0; i < *n; i++)
		if ((*v)[i] == pid)
			return;
	*v = xrealloc(*v, (size_t)(*n + 1) * sizeof(**v));
	(*v)[(*n)++] = pid;
}

/* The client pid behind each node linked from the camera node cam. */
static void consumers_of(struct conn *c, const struct obj *cam, pid_t **v,
			 int *n)
{
	for (struct obj *l = c->objs; l; l = l->next) {
		const struct obj *in, *cl;

		if (l->kind != LINK || l->a != cam->id)
			continue;
		in = obj_find(c, l->b, NODE);
		cl = in && in->a != NONE ? obj_find(c, in->a, CLIENT) : NULL;
		if (cl && cl->pid > 0)
			add_pid(v, n, cl->pid);
	}
}

int pipewire_consumers(uid_t uid, const char *devnode, pid_t **out)
{
	struct conn *c = conn_of(uid);
	pid_t *v = NULL;
	int n = 0;

	*out = NULL;
	if (!c)
		return -ENOTCONN;
	for (struct obj *o = c->objs; o; o = o->next)
		if (o->kind == NODE && is_camera_node(c, o, devnode))
			consumers_of(c, o, &v, &n);
	*out = v;
	return n;
}

/* PipeWire's loop and context, made when the first user's socket is
 * found: a context reads its configuration and loads modules, which a
 * laptop with no PipeWire (and every policy reload) should not pay. */
static int loop_start(void)
{
	if (pw.loop)
		return 0;
	pw_init(NULL, NULL);
	pw.loop = pw_loop_new(NULL);
	if (!pw.loop)
		goto fail;
	pw_loop_enter(pw.loop);
	pw.ctx = pw_context_new(pw.loop, NULL, 0);
	if (!pw.ctx)
		goto fail;
	/* The context starts a thread for media processing; endpointd
	 * processes none, and keeps to one thread. */
	pw_data_loop_stop(pw_context_get_data_loop(pw.ctx));
	pw.src = loop_add_fd(pw_loop_get_fd(pw.loop), EPOLLIN, on_readable,
			     NULL);
	if (!pw.src)
		goto fail;
	return 0;
fail:
	log_warn("camera: cannot start PipeWire's loop");
	if (pw.loop)
		loop_stop();
	else
		pw_deinit();
	return -EIO;
}

static void loop_stop(void)
{
	if (!pw.loop)
		return;
	while (pw.conns) {
		struct conn *c = pw.conns;

		pw.conns = c->next;
		conn_free(c);
	}
	loop_remove(pw.src);
	pw.src = NULL;
	if (pw.ctx)
		pw_context_destroy(pw.ctx);
	pw_loop_leave(pw.loop);
	pw_loop_destroy(pw.loop);
	pw.ctx = NULL;
	pw.loop = NULL;
	pw_deinit();
}

int pipewire_watch(struct host *h, pipewire_changed_fn fn, void *data)
{
	pw.h = h;
	pw.fn = fn;
	pw.data = data;
	pw.watching = true;
	pipewire_connect_users();
	return 0;
}

void pipewire_unwatch(void)
{
	pw.watching = false;
	loop_stop();
}
