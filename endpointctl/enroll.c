/* SPDX-License-Identifier: Apache-2.0 */
/*
 * endpointctl enroll: enrol this laptop with the collector (IT runs it as
 * root; the only command that talks to the network). The collector's URL
 * and the enrolment secret come from the command line or from the
 * enrolment file IT drops in place for unattended enrolment
 * (PATH_ENROL_CONFIG, read with inih); the laptop's identity from
 * checks/device.c; the answer, a device token, goes to the uploader's
 * enrolment file (lib/http.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device.h"
#include "devkey.h"
#include "endpointctl.h"
#include "http.h"
#include "inifile.h"
#include "paths.h"
#include "policy.h"
#include "util.h"

#define UPLOAD_USER "endpointd-upload"
#define ENROL_ANSWER_MAX (64 * 1024)

struct enroll_options {
	const char *collector, *secret_file, *group, *policy, *state_dir;
	const char *upload_dir, *user, *root, *config;
	/* From the enrolment file: the secret itself, or where it is. */
	char *secret, *file_collector, *file_group, *file_secret_file;
};

/* The policy whose [report] TLS settings apply: the collector's copy when
 * one is in force, else the given file. */
static struct policy *enroll_policy(const struct enroll_options *o)
{
	_cleanup_free_ char *errors = NULL, *copy = NULL;
	struct policy *p = NULL;

	if (!o->policy) {
		copy = xasprintf("%s/%s", o->state_dir, COLLECTOR_POLICY_NAME);
		if (access(copy, F_OK) == 0 && policy_load(copy, &p, &errors) == 0)
			return p;
		free(errors);
		errors = NULL;
	}
	if (policy_load(o->policy ? o->policy : PATH_POLICY,
			&p, &errors) < 0) {
		fputs(errors, stderr);
		return NULL;
	}
	return p;
}

/* An enrolment secret is the hex line collectord --new-enrol-secret
 * printed; where names the file it came from. */
static int check_secret(char *text, const char *where)
{
	strrstrip(text);
	if (!text[0] || strlen(text) > 256 ||
	    strspn(text, "0123456789abcdefABCDEF") != strlen(text)) {
		fprintf(stderr, "endpointctl: %s: not an enrolment secret (the "
				"hex line collectord --new-enrol-secret printed)\n",
			where);
		return -EINVAL;
	}
	return 0;
}

static int read_secret(const char *path, char **out)
{
	_cleanup_free_ char *text = NULL;
	int r = read_file(path, 4096, &text, NULL);

	if (r < 0) {
		fprintf(stderr, "endpointctl: %s: %s\n", path, strerror(-r));
		return r;
	}
	if (check_secret(text, path) < 0)
		return -EINVAL;
	*out = text;
	text = NULL;
	return 0;
}

/* --- the enrolment file IT drops in place for unattended enrolment --- */

struct enrol_file {
	struct enroll_options *o;
	const char *path;
	int errors;
};

static int enrol_file_key(void *user, const char *section, const char *name,
			  const char *value)
{
	struct enrol_file *f = user;
	char **slot = NULL;

	if (strcmp(section, "enrol") == 0) {
		if (strcmp(name, "collector") == 0)
			slot = &f->o->file_collector;
		else if (strcmp(name, "group") == 0)
			slot = &f->o->file_group;
		else if (strcmp(name, "secret") == 0)
			slot = &f->o->secret;
		else if (strcmp(name, "secret_file") == 0)
			slot = &f->o->file_secret_file;
	}
	if (!slot) {
		fprintf(stderr, "endpointctl: %s: [%s] %s: unknown setting (the "
				"keys are collector, group, secret and "
				"secret_file, in [enrol])\n", f->path, section,
			name);
		f->errors++;
		return 1;
	}
	if (*slot) {
		fprintf(stderr, "endpointctl: %s: %s is set twice\n", f->path,
			name);
		f->errors++;
		return 1;
	}
	*slot = xstrdup(value);
	return 1;
}

/* Read the enrolment file: [enrol] collector, group, and secret (or
 * secret_file). It holds a secret, so it must be readable by its owner
 * only. Returns 0, -ENOENT when it does not exist, or -EINVAL (said). */
static int read_enrol_file(struct enroll_options *o, const char *path)
{
	_cleanup_free_ char *buf = NULL;
	struct enrol_file f = { o, path, 0 };
	struct stat st;
	size_t len;
	int r;

	/* Judged before it is read: whoever may write it chooses where this
	 * laptop sends its identity, so it must be root's (the caller's). */
	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		fprintf(stderr, "endpointctl: %s: %s\n", path, strerror(errno));
		return -EINVAL;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 077)) {
		fprintf(stderr, "endpointctl: %s: owner %u, mode %04o; it holds "
				"the enrolment secret, so it must be mode 0600 "
				"and owned by root\n", path, (unsigned)st.st_uid,
			(unsigned)(st.st_mode & 07777));
		return -EINVAL;
	}
	r = read_file(path, 64 * 1024, &buf, &len);
	if (r < 0) {
		fprintf(stderr, "endpointctl: %s: %s\n", path, strerror(-r));
		return -EINVAL;
	}
	if (inifile_parse(buf, len, enrol_file_key, &f) < 0) {
		fprintf(stderr, "endpointctl: %s: not an INI file\n", path);
		return -EINVAL;
	}
	if (f.errors)
		return -EINVAL;
	if (o->secret && o->file_secret_file) {
		fprintf(stderr, "endpointctl: %s: give secret or secret_file, "
				"not both\n", path);
		return -EINVAL;
	}
	if (o->secret && check_secret(o->secret, path) < 0)
		return -EINVAL;
	return 0;
}

/* The collector's base URL, without trailing slashes; NULL when it is not
 * acceptable (said). */
static char *enroll_collector(const struct enroll_options *o)
{
	const char *problem = http_url_problem(o->collector);
	char *collector;

	if (problem) {
		fprintf(stderr, "endpointctl: --collector %s %s\n",
			o->collector ? o->collector : "", problem);
		return NULL;
	}
	collector = xstrdup(o->collector);
	while (collector[0] && collector[strlen(collector) - 1] == '/')
		collector[strlen(collector) - 1] = '\0';
	return collector;
}

/* The secret: from --secret-file (or the enrolment file's secret_file),
 * else the enrolment file's own. Returns 0 or -errno (said). */
static int enroll_secret(const struct enroll_options *o, char **secret)
{
	if (o->secret_file)
		return read_secret(o->secret_file, secret);
	/* enroll_settle() made sure there is one or the other. */
	*secret = xstrdup(o->secret);
	return 0;
}

/* The user the token is given to: --user, or the uploader's when it
 * exists (*pw NULL: root keeps it). Returns 0, or -ENOENT when --user
 * names nobody (said). */
static int enroll_user(const struct enroll_options *o, struct passwd **pw)
{
	*pw = getpwnam(o->user ? o->user : UPLOAD_USER);
	if (!*pw && o->user) {
		fprintf(stderr, "endpointctl: no user %s\n", o->user);
		return -ENOENT;
	}
	if (!*pw)
		fprintf(stderr, "endpointctl: no user %s: the token stays "
				"readable by root only\n", UPLOAD_USER);
	return 0;
}

/* The public half of the laptop's key, made now in the state directory
 * if endpointd has not made it yet. Returns 0 or -errno (said). */
static int enroll_key(const struct enroll_options *o,
		      char public[DEVKEY_PUBLIC_B64 + 1])
{
	_cleanup_free_ char *path = xasprintf("%s/%s", o->state_dir,
					      DEVICE_KEY_NAME);
	struct devkey *k;
	int r;

	/* As endpointd makes it (state.c): enrolment may come first. */
	if (mkdir(o->state_dir, 0711) < 0 && errno != EEXIST)
		r = -errno;
	else
		r = devkey_open(path, &k);
	if (r < 0) {
		fprintf(stderr, "endpointctl: %s: cannot make or read the "
				"laptop's key: %s\n", path, strerror(-r));
		return r;
	}
	devkey_public(k, public);
	devkey_free(k);
	return 0;
}

/* The request: the secret, the group, this laptop's identity and its
 * key's public half, and the token it holds from this collector (which
 * lets a laptop enrolled before keys register its key); NULL when
 * jansson refuses it (a group name that is not UTF-8). */
static char *enroll_request(const struct enroll_options *o,
			    const char *collector, const char *secret,
			    const char *public)
{
	struct host *h = host_new(o->root);
	struct enrolment held = { 0 };
	json_t *req;
	char *body;

	if (enrolment_read(o->upload_dir, &held) < 0 ||
	    strcmp(held.collector, collector) != 0)
		enrolment_clear(&held);
	req = json_pack("{s:s, s:s?, s:o, s:s, s:s?}", "enrol_secret", secret,
			"group", o->group, "device", device_identity(h),
			"public_key", public, "token", held.token);
	enrolment_clear(&held);
	host_free(h);
	body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	return body;
}

/* POST body to url with p's TLS settings, the answer in a and its HTTP
 * status in *code. Returns 0 or -EIO (said). */
static int enroll_post(const struct policy *p, const char *url,
		       const char *body, struct http_answer *a, long *code)
{
	_cleanup_free_ char *pins = http_pins(
		(const char *const *)p->report.pinned_pubkey.v,
		p->report.pinned_pubkey.n);
	struct curl_slist *hdrs = NULL;
	CURL *curl = curl_easy_init();
	CURLcode cc;

	if (!curl || http_setup(curl, p->report.ca_file.n
					      ? p->report.ca_file.v[0]
					      : NULL, pins) < 0) {
		fprintf(stderr, "endpointctl: libcurl refused the TLS "
				"settings\n");
		curl_easy_cleanup(curl);
		return -EIO;
	}
	http_answer_start(curl, a, ENROL_ANSWER_MAX);
	http_post_json(curl, url, body, strlen(body), &hdrs);
	cc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, code);
	curl_easy_cleanup(curl);
	curl_slist_free_all(hdrs);
	if (cc != CURLE_OK) {
		fprintf(stderr, "endpointctl: %s: %s\n", url,
			curl_easy_strerror(cc));
		return -EIO;
	}
	return 0;
}

/* The collector's answer: a device id and a token; NULL when it refused
 * or said something else (said). */
static json_t *enroll_answer(long code, const struct http_answer *a)
{
	json_t *ans;
	const char *token;

	if (code != 201) {
		_cleanup_free_ char *why = http_error_text(
			http_answer_text(a), a->len);

		fprintf(stderr, "endpointctl: the collector refused the "
				"enrolment (%ld): %s\n", code, why);
		return NULL;
	}
	ans = json_loadb(http_answer_text(a), a->len, 0, NULL);
	token = json_string_value(json_object_get(ans, "token"));
	if (!token || strlen(token) > 256 ||
	    !json_is_integer(json_object_get(ans, "device_id"))) {
		fprintf(stderr, "endpointctl: the collector's answer has no "
				"device_id and token\n");
		json_decref(ans);
		return NULL;
	}
	return ans;
}

/* The uploader's directory, made for pw when it is new. Returns 0 or
 * -errno (said). */
static int enroll_dir(const struct enroll_options *o, const struct passwd *pw)
{
	int fd, r = 0;

	if (mkdir(o->upload_dir, 0700) < 0 || !pw)
		return 0;
	/* By descriptor: a symlink put at the name after mkdir() must not
	 * make root chown what it points to. */
	fd = open(o->upload_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				 O_CLOEXEC);
	if (fd < 0 || fchown(fd, pw->pw_uid, pw->pw_gid) < 0)
		r = -errno;
	if (fd >= 0)
		close(fd);
	if (r < 0)
		fprintf(stderr, "endpointctl: %s: %s\n", o->upload_dir,
			strerror(-r));
	return r;
}

/* Write the token where the uploader reads it, owned by pw when there is
 * one. Returns 0 or -errno (said). */
/* Pin the collector's policy key where endpointd reads it, root's: from
 * now on it applies only policies signed with it. A collector from before
 * signed policies gives none, and the pin made by an earlier enrolment
 * goes. Returns 0 or -errno (said). */
static int enroll_pin(const struct enroll_options *o, const char *key)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", o->state_dir,
					      COLLECTOR_KEY_NAME);
	int r;

	if (!key) {
		r = unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	} else if (!devkey_public_ok(key)) {
		fprintf(stderr, "endpointctl: the collector's policy_key is not "
				"an Ed25519 public key\n");
		return -EINVAL;
	} else {
		r = write_file_atomic(path, key, strlen(key), 0644);
	}
	if (r < 0)
		fprintf(stderr, "endpointctl: %s: %s\n", path, strerror(-r));
	return r;
}

static int enroll_save(const struct enroll_options *o, const char *collector,
		       const struct passwd *pw, const json_t *ans)
{
	struct enrolment e = { 0 };
	_cleanup_free_ char *etag = NULL;
	int r = enroll_dir(o, pw);

	if (r < 0)
		return r;
	e.collector = (char *)(uintptr_t)collector;
	e.device_id = json_integer_value(json_object_get(ans, "device_id"));
	e.token = (char *)(uintptr_t)json_string_value(
		json_object_get(ans, "token"));
	e.group = (char *)(uintptr_t)o->group;
	r = enrolment_write(o->upload_dir, &e, pw ? pw->pw_uid : (uid_t)-1,
			    pw ? pw->pw_gid : (gid_t)-1);
	if (r < 0) {
		fprintf(stderr, "endpointctl: %s/%s: %s\n", o->upload_dir,
			ENROLMENT_NAME, strerror(-r));
		return r;
	}
	r = enroll_pin(o, json_string_value(json_object_get(ans,
							    "policy_key")));
	if (r < 0)
		return r;
	/* A new enrolment fetches the group's policy afresh. */
	etag = xasprintf("%s/policy.etag", o->upload_dir);
	unlink(etag);
	printf("Enrolled with %s as device %lld%s%s.\n"
	       "The token is in %s/%s; the uploader sends reports from now "
	       "on.\n", collector, (long long)e.device_id,
	       o->group ? " in group " : "", o->group ? o->group : "",
	       o->upload_dir, ENROLMENT_NAME);
	return 0;
}

/* Enrol with the options settled: ask the collector, keep the token. */
static int enroll(const struct enroll_options *o)
{
	_cleanup_free_ char *collector = NULL, *secret = NULL, *body = NULL,
			    *url = NULL;
	_cleanup_(policy_freep) struct policy *p = NULL;
	struct http_answer answer = { 0 };
	char public[DEVKEY_PUBLIC_B64 + 1];
	struct passwd *pw;
	json_t *ans = NULL;
	long code = 0;
	int ret = EXIT_ERROR;

	collector = enroll_collector(o);
	if (!collector || enroll_secret(o, &secret) < 0)
		return EXIT_ERROR;
	p = enroll_policy(o);
	if (!p || enroll_user(o, &pw) < 0 || enroll_key(o, public) < 0)
		return EXIT_ERROR;
	body = enroll_request(o, collector, secret, public);
	if (!body) {
		fprintf(stderr, "endpointctl: cannot make the enrolment request "
				"(is the group name UTF-8?)\n");
		return EXIT_ERROR;
	}
	url = xasprintf("%s/api/v1/enrol", collector);
	if (enroll_post(p, url, body, &answer, &code) == 0)
		ans = enroll_answer(code, &answer);
	if (ans && enroll_save(o, collector, pw, ans) == 0)
		ret = EXIT_PASSED;
	json_decref(ans);
	http_answer_free(&answer);
	return ret;
}

/* enroll's options; what they leave out is for the enrolment file. */
static int enroll_options(int argc, char **argv, struct enroll_options *o,
			  bool *config_given)
{
	static const struct option longopts[] = {
		{ "collector", required_argument, NULL, 'c' },
		{ "secret-file", required_argument, NULL, 'f' },
		{ "group", required_argument, NULL, 'g' },
		{ "policy", required_argument, NULL, 'p' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "upload-dir", required_argument, NULL, 'u' },
		{ "user", required_argument, NULL, 'U' },
		{ "root", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:f:g:p:s:u:U:r:C:", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'c': o->collector = optarg; break;
		case 'f': o->secret_file = optarg; break;
		case 'g': o->group = optarg; break;
		case 'p': o->policy = optarg; break;
		case 's': o->state_dir = optarg; break;
		case 'u': o->upload_dir = optarg; break;
		case 'U': o->user = optarg; break;
		case 'r': o->root = optarg; break;
		case 'C': o->config = optarg; *config_given = true; break;
		default: return -EINVAL;
		}
	}
	return optind < argc ? -EINVAL : 0;
}

/* Unattended enrolment: what the command line does not say comes from
 * the enrolment file (which must exist when --config names it). Returns 0
 * when there is a collector and a secret, or -errno (said). */
static int enroll_settle(struct enroll_options *o, bool config_given)
{
	int r = 0;

	if (config_given || !o->collector || !o->secret_file) {
		r = read_enrol_file(o, o->config);
		if (r == -ENOENT && !config_given)
			r = 0;
	}
	if (r == 0) {
		if (!o->collector)
			o->collector = o->file_collector;
		if (!o->group)
			o->group = o->file_group;
		/* A --secret-file given wins over the file's secret. */
		if (o->secret_file) {
			free(o->secret);
			o->secret = NULL;
		} else if (!o->secret) {
			o->secret_file = o->file_secret_file;
		}
	}
	if (r == -ENOENT || (r == 0 && (!o->collector ||
					(!o->secret_file && !o->secret)))) {
		fprintf(stderr, "endpointctl: enroll needs --collector URL and "
				"--secret-file FILE, or the enrolment file %s\n",
			o->config);
		r = -EINVAL;
	}
	return r;
}

int cmd_enroll(int argc, char **argv)
{
	struct enroll_options o = {
		.state_dir = PATH_STATE_DIR,
		.upload_dir = PATH_UPLOAD_DIR,
		.root = "/",
		.config = PATH_ENROL_CONFIG,
	};
	bool config_given = false;
	int ret;

	if (enroll_options(argc, argv, &o, &config_given) < 0) {
		ctl_usage(stderr);
		return EXIT_ERROR;
	}
	ret = enroll_settle(&o, config_given) < 0 ? EXIT_ERROR : enroll(&o);
	free(o.secret);
	free(o.file_collector);
	free(o.file_group);
	free(o.file_secret_file);
	return ret;
}
