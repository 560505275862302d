/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_udev: what endpointd makes of a USB device's strings and of a
 * stick's first bytes. Each input describes one device: sysfs attributes
 * the device itself supplies (idVendor, idProduct, serial, manufacturer,
 * product, bDeviceClass), its interface's class and name, its block
 * device's kernel name and size, a webcam's udev properties
 * (ID_V4L_CAPABILITIES, ID_V4L_PRODUCT), and the content of the block
 * device node. The harness turns it into a umockdev testbed (so the real
 * libudev enumerates it, and the real libblkid probes the node), then runs
 * the usb_storage and camera checks on it as endpointd does.
 *
 * Input: the fields, one a line, in the order of FIELDS below; a field
 * left out is an attribute the device lacks. What follows the last
 * field's newline is the node's content. Run under umockdev-wrapper.
 *
 * Invariants: both checks conclude (pass, warn or fail: never unknown for
 * devices they could read), their findings are valid JSON, and no string
 * in them is longer than the bound device strings are cut to.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/resource.h>

#include <jansson.h>
#include <umockdev.h>

#include "check.h"
#include "fuzz.h"
#include "policy.h"
#include "usbdev.h"
#include "utf8.h"
#include "util.h"

extern const struct check_ops usb_storage_check;
extern const struct check_ops camera_check;

enum { F_VID, F_PID, F_SERIAL, F_MANUFACTURER, F_PRODUCT, F_DEVCLASS,
       F_IFCLASS, F_IFNAME, F_BLOCKNAME, F_SIZE, F_V4L_CAPS, F_V4L_PRODUCT,
       F_COUNT };

static UMockdevTestbed *tb;
static struct host *host;
static struct policy *policy;

static const char policy_text[] =
	"[policy]\nname = fuzz\nversion = 1\n"
	"[usb_storage]\nclause = USB flash drives only if encrypted.\n"
	"action = block\nunrecognised = warn\nphones = warn\n"
	"allow_models = 0951:1666\n"
	"allow_devices = 0781:5581:4C530001\n"
	"[camera]\nclause = Images of pupils only on school equipment.\n"
	"allowed_apps = /usr/bin/cheese\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct rlimit rl;
	char *errors = NULL;

	(void)argc;
	(void)argv;
	if (!getenv("UMOCKDEV_DIR") && !getenv("LD_PRELOAD"))
		fuzz_fail("run this under umockdev-wrapper");
	/* umockdev (0.17) keeps an eventfd and a socket of every testbed
	 * after it is gone, two per input: as many descriptors as allowed. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (policy_parse("fuzz.ini", policy_text, sizeof(policy_text) - 1,
			 &policy, &errors) < 0)
		fuzz_fail("the harness's policy: %s", errors);
	host = host_new("/");
	return 0;
}

static void hex(FILE *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02X", p[i]);
}

/* A binary attribute line ("H:"), or nothing when the field is absent. */
static void attr(FILE *f, const char *name, const uint8_t *v, size_t n,
		 bool present)
{
	if (!present)
		return;
	fprintf(f, "H: %s=", name);
	hex(f, v, n);
	fputs("0A\n", f);	/* sysfs ends an attribute with a newline */
}

/* A udev property ("E:"), at most 255 bytes. umockdev reads its
 * description as UTF-8 text, so the value is made valid UTF-8 by
 * endpointd's own repair (which also replaces a NUL byte, which udev's
 * database cannot hold either). */
static void prop(FILE *f, const char *name, const uint8_t *v, size_t n,
		 bool present)
{
	char *text;

	if (!present)
		return;
	/* umockdev sends each device's properties in one uevent of bounded
	 * size, as the kernel does: a V4L card name is 32 bytes at most. */
	text = utf8_repair((const char *)v, n > 255 ? 255 : n);
	fprintf(f, "E: %s=", name);
	/* umockdev's description parser also refuses \r, \v and \f in a
	 * value: they become another control character. */
	for (const char *c = text; *c; c++)
		fputc(*c == '\r' || *c == '\v' || *c == '\f' ? 1 : *c, f);
	fputc('\n', f);
	free(text);
}

/* A kernel name from the field: the characters kernel block names use. */
static void kernel_name(char out[33], const uint8_t *v, size_t n)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789!._-:";
	size_t k;

	out[0] = 's';
	for (k = 0; k < n && k < 31; k++)
		out[k + 1] = chars[v[k] % (sizeof(chars) - 1)];
	out[k + 1] = '\0';
}

static void check_strings(json_t *v)
{
	const char *key;
	json_t *x;
	size_t i;

	if (json_is_string(v) && json_string_length(v) > 4 * USBDEV_STRING_MAX +
							     1024)
		fuzz_fail("a string of %zu bytes in the finding",
			  json_string_length(v));
	json_object_foreach(v, key, x)
		check_strings(x);
	json_array_foreach(v, i, x)
		check_strings(x);
}

/* Run one check on the testbed as endpointd does, and judge its finding. */
static void conclude(const struct check_ops *check)
{
	struct finding *f = check_run(check, host, policy);
	json_t *j;
	char *dump;

	if (f->status == CHECK_UNKNOWN)
		fuzz_fail("%s could not conclude: %s", check->id, f->summary);
	j = finding_to_json(f);
	dump = json_dumps(j, 0);
	if (!dump)
		fuzz_fail("the %s finding is not valid JSON", check->id);
	check_strings(j);
	if (getenv("FUZZ_VERBOSE"))
		printf("%s\n", dump);
	free(dump);
	json_decref(j);
	finding_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[F_COUNT] = {
		"idVendor", "idProduct", "serial", "manufacturer", "product",
		"bDeviceClass", "bInterfaceClass", "interface", NULL, "size",
		"ID_V4L_CAPABILITIES", "ID_V4L_PRODUCT",
	};
	const uint8_t *field[F_COUNT] = { 0 }, *p = data, *end = data + size;
	size_t len[F_COUNT] = { 0 };
	bool have[F_COUNT] = { 0 };
	char blk[33] = "sdb", *text = NULL;
	size_t text_len;
	GError *err = NULL;
	FILE *t;

	for (int i = 0; i < F_COUNT && p < end; i++) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			break;
		field[i] = p;
		len[i] = (size_t)(nl - p);
		have[i] = true;
		p = nl + 1;
	}
	if (have[F_BLOCKNAME])
		kernel_name(blk, field[F_BLOCKNAME], len[F_BLOCKNAME]);

	tb = umockdev_testbed_new();
	t = open_memstream(&text, &text_len);
	if (!t)
		abort();
	fprintf(t, "P: /devices/pci0000:00/0000:00:14.0/usb1/1-4/1-4:1.0/"
		   "host6/target6:0:0/6:0:0:0/block/%s\nN: %s", blk, blk);
	/* A node without content would be a pseudo-terminal, which
	 * umockdev (0.17) does not give back when its testbed goes: one
	 * byte at least keeps it a file. */
	fputc('=', t);
	if (p < end)
		hex(t, p, (size_t)(end - p) > 65536 ? 65536 : (size_t)(end - p));
	else
		fputs("00", t);
	fprintf(t, "\nE: DEVNAME=/dev/%s\nE: DEVTYPE=disk\n"
		   "E: SUBSYSTEM=block\nE: ID_BUS=usb\nE: MAJOR=8\n"
		   "E: MINOR=16\nA: dev=8:16\n", blk);
	attr(t, "size", field[F_SIZE], len[F_SIZE], have[F_SIZE]);
	fputs("\nP: /devices/pci0000:00/0000:00:14.0/usb1/1-4/1-4:1.0\n"
	      "E: DEVTYPE=usb_interface\nE: SUBSYSTEM=usb\n", t);
	attr(t, names[F_IFCLASS], field[F_IFCLASS], len[F_IFCLASS],
	     have[F_IFCLASS]);
	attr(t, names[F_IFNAME], field[F_IFNAME], len[F_IFNAME],
	     have[F_IFNAME]);
	fputs("\nP: /devices/pci0000:00/0000:00:14.0/usb1/1-4\n"
	      "N: bus/usb/001/040=00\nE: DEVTYPE=usb_device\nE: SUBSYSTEM=usb\n"
	      "A: authorized=1\n", t);
	for (int i = F_VID; i <= F_DEVCLASS; i++)
		attr(t, names[i], field[i], len[i], have[i]);
	fputs("\nP: /devices/pci0000:00/0000:00:14.0/usb1/1-5/1-5:1.0/"
	      "video4linux/video0\nN: video0=00\nE: DEVNAME=/dev/video0\n"
	      "E: SUBSYSTEM=video4linux\nE: MAJOR=81\nE: MINOR=0\n"
	      "A: dev=81:0\n", t);
	prop(t, names[F_V4L_CAPS], field[F_V4L_CAPS], len[F_V4L_CAPS],
	     have[F_V4L_CAPS]);
	prop(t, names[F_V4L_PRODUCT], field[F_V4L_PRODUCT],
	     len[F_V4L_PRODUCT], have[F_V4L_PRODUCT]);
	fclose(t);

	if (!umockdev_testbed_add_from_string(tb, text, &err))
		fuzz_fail("umockdev refused the harness's description: %s\n%s",
			  err ? err->message : "?", text);
	free(text);

	conclude(&usb_storage_check);
	conclude(&camera_check);
	/* A testbed of its own for each input: umockdev (0.17) cannot serve
	 * a device node again once its testbed has been cleared. */
	g_object_unref(tb);
	return 0;
}
