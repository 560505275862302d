/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the report: device identity read through the root prefix,
 * hostile strings from the machine still giving valid JSON, and the
 * privacy account's paths and filter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "privacy.h"
#include "device.h"
#include "report.h"
#include "testutil.h"
#include "utf8.h"
#include "util.h"


static const char *get(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static void test_fixture_identity(void **state)
{
	struct host *h = host_new("tests/fixtures/laptop");
	json_t *dev = device_identity(h);

	(void)state;
	assert_string_equal(get(dev, "machine_id"),
			    "0123456789abcdef0123456789abcdef");
	assert_string_equal(get(dev, "hostname"), "staff-laptop-017");
	assert_string_equal(get(dev, "vendor"), "LENOVO");
	assert_string_equal(get(dev, "model"), "20XWCTO1WW");
	assert_string_equal(get(dev, "serial"), "PF3ABCDE");
	assert_string_equal(get(dev, "os"), "Debian GNU/Linux 12 (bookworm)");
	assert_non_null(get(dev, "agent_version"));
	json_decref(dev);
	host_free(h);
}

static void test_missing_identity_is_null(void **state)
{
	struct host *h = host_new(tu_dir);
	json_t *dev = device_identity(h);

	(void)state;
	assert_true(json_is_null(json_object_get(dev, "machine_id")));
	assert_true(json_is_null(json_object_get(dev, "serial")));
	assert_true(json_is_null(json_object_get(dev, "os")));
	json_decref(dev);
	host_free(h);
}

static void test_hostile_strings(void **state)
{
	static const char evil[] = "lab\"pc\\\x01\x1b]0;pwned\x07\xff\xfe"
				   "\xed\xa0\x80\xc0\xaf</script>";
	_cleanup_free_ char *path = NULL, *text = NULL, *errors = NULL;
	struct host *h = host_new(tu_dir);
	struct policy *p = NULL;
	json_t *report, *back;
	const char *hn;

	(void)state;
	free(tu_write(tu_dir, "proc/sys/kernel/hostname", evil, sizeof(evil) - 1));
	free(tu_write(tu_dir, "sys/class/dmi/id/product_serial", "S\0N\n", 4));
	free(tu_writes(tu_dir, "usr/lib/os-release",
		       "PRETTY_NAME='Evil \x80 OS'\n"));
	path = tu_writes(tu_dir, "p.ini", "[policy]\nname = N\nversion = 1\n");
	assert_int_equal(policy_load(path, &p, &errors), 0);
	report = report_build(h, p, 5, json_array(), json_array());
	text = json_dumps(report, JSON_COMPACT);
	assert_non_null(text);
	back = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(back);
	hn = get(json_object_get(back, "device"), "hostname");
	assert_non_null(hn);
	/* Quotes and control bytes kept (escaped in the text); each invalid
	 * byte (including surrogate and overlong forms) replaced. */
	assert_non_null(strstr(hn, "lab\"pc\\\x01\x1b]0;pwned\x07"));
	assert_non_null(strstr(hn, "\xef\xbf\xbd"));
	assert_null(strstr(hn, "\xff"));
	/* A NUL ends the string, as in any C string read from sysfs. */
	assert_string_equal(get(json_object_get(back, "device"), "serial"),
			    "S");
	assert_string_equal(get(json_object_get(back, "device"), "os"),
			    "Evil \xef\xbf\xbd OS");
	assert_string_equal(get(back, "schema"), "endpointd.report/1");
	assert_int_equal(json_integer_value(json_object_get(back, "seq")), 5);
	assert_string_equal(get(json_object_get(back, "policy"), "sha256"),
			    p->sha256);
	json_decref(back);
	json_decref(report);
	policy_free(p);
	host_free(h);
}

static void test_account_paths(void **state)
{
	static const char *const yes[] = {
		"schema", "device", "device.serial", "checks", "checks[camera]",
		"checks[encryption].evidence",
		"checks[encryption].evidence.targets",
		"checks[encryption].evidence.targets[].layers[].pbkdf",
		"checks[screen_lock].evidence.unattended[].idle_seconds",
		"checks[usb_storage].evidence.devices[].parts[].mounted_at",
		"checks[x].summary", "checks[?].evidence.error",
		"events[reports_dropped].count", "events[camera_session].user",
		"events[usb_device].device.parts[].type",
	};
	static const char *const no[] = {
		"device.mac", "devices", "checks[encryption].evidence.read",
		"checks[encryption].evidence.targets[].layers[].key",
		"checks[camera].evidence.targets", "checks[x].evidence.cameras",
		"checks[encryption].evidence.error.x", "events[report_dropped].count",
		"events[usb_device].device.parts[].files", "events.count",
		"checks.summary", "{vendor,model,serial}", "device.{vendor}",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
		if (!privacy_declared(yes[i]))
			fail_msg("%s should be declared", yes[i]);
	for (size_t i = 0; i < ARRAY_SIZE(no); i++)
		if (privacy_declared(no[i]))
			fail_msg("%s should not be declared", no[i]);
	/* Every part says what it holds. */
	for (const struct privacy_part *const *p = privacy_parts(); *p; p++) {
		assert_non_null((*p)->title);
		assert_non_null((*p)->fields[0].path);
		for (const struct privacy_field *f = (*p)->fields; f->path; f++)
			assert_true(strlen(f->what) > 8);
	}
}

static void seen(const char *path, void *data)
{
	json_array_append_new(data, json_string(path));
}

static void test_account_filter(void **state)
{
	json_t *r = json_loads(
		"{\"schema\": \"endpointd.report/1\", \"secret\": 1,"
		" \"device\": {\"hostname\": \"h\", \"mac\": \"00:11\", \"\": 1},"
		" \"checks\": [{\"id\": \"camera\", \"status\": \"pass\","
		"  \"evidence\": {\"cameras\": [{\"name\": \"c\", \"frame\":"
		"  \"JPEG\", \"sessions\": [{\"user\": \"u\", \"title\": \"t\"}]}]}},"
		"  {\"id\": \"Bad id\", \"summary\": \"s\", \"evidence\":"
		"  {\"devices\": []}},"
		"  {\"id\": \"encryption\", \"evidence\": {\"targets\":"
		"  [[{\"x\": 1}], {\"kind\": \"swap\"}],"
		"  \"allowed_ciphers\": [\"aes-xts\"]}}],"
		" \"events\": [{\"type\": \"usb_device\", \"at\": \"t\","
		"  \"device\": {\"serial\": \"S\", \"files\": [\"a\"]}},"
		"  {\"type\": \"keystrokes\", \"at\": \"t\", \"keys\": \"k\"}]}",
		0, NULL);
	json_t *removed = json_array();
	_cleanup_free_ char *text = NULL, *got = NULL;

	(void)state;
	assert_non_null(r);
	assert_int_equal(privacy_filter(r, seen, removed), 9);
	got = json_dumps(removed, JSON_COMPACT);
	assert_string_equal(got,
		"[\"secret\",\"device.mac\",\"device.\","
		"\"checks[camera].evidence.cameras[].frame\","
		"\"checks[camera].evidence.cameras[].sessions[].title\","
		"\"checks[?].evidence.devices\","
		"\"checks[encryption].evidence.targets[]\","
		"\"events[usb_device].device.files\","
		"\"events[keystrokes].keys\"]");
	text = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text,
		"{\"checks\":[{\"evidence\":{\"cameras\":[{\"name\":\"c\","
		"\"sessions\":[{\"user\":\"u\"}]}]},\"id\":\"camera\","
		"\"status\":\"pass\"},{\"evidence\":{},\"id\":\"Bad id\","
		"\"summary\":\"s\"},{\"evidence\":{\"allowed_ciphers\":"
		"[\"aes-xts\"],\"targets\":[{\"kind\":\"swap\"}]},\"id\":"
		"\"encryption\"}],\"device\":{\"hostname\":\"h\"},"
		"\"events\":[{\"at\":\"t\",\"device\":{\"serial\":\"S\"},"
		"\"type\":\"usb_device\"},{\"at\":\"t\",\"type\":"
		"\"keystrokes\"}],\"schema\":\"endpointd.report/1\"}");
	json_decref(removed);
	json_decref(r);
}

static void test_account_terms(void **state)
{
	static const char *const bad[] = {
		"[]", "{}", "{\"retention_days\": 0, \"access\": \"ICT staff\"}",
		"{\"retention_days\": 3651, \"access\": \"ICT staff\"}",
		"{\"retention_days\": \"90\", \"access\": \"ICT staff\"}",
		"{\"retention_days\": 90, \"access\": \"\"}",
		"{\"retention_days\": 90, \"access\": \"a\\nb\"}",
		"{\"retention_days\": 90, \"access\": \"a\\u0000b\"}",
		"{\"retention_days\": 90, \"access\": \"ICT\", "
		"\"dashboard_accounts\": -1}",
		"{\"retention_days\": 90, \"access\": 5}",
	};
	json_t *in, *t;
	_cleanup_free_ char *text = NULL;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		in = json_loads(bad[i], JSON_ALLOW_NUL, NULL);
		assert_non_null(in);
		if ((t = privacy_terms(in)))
			fail_msg("terms accepted: %s", bad[i]);
		json_decref(in);
	}
	/* Only the three fields are kept. */
	in = json_loads("{\"retention_days\": 30, \"access\": \"Ms Khan\", "
			"\"dashboard_accounts\": null, \"extra\": 1}", 0, NULL);
	t = privacy_terms(in);
	assert_non_null(t);
	text = json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"access\":\"Ms Khan\","
			    "\"dashboard_accounts\":null,\"retention_days\":30}");
	json_decref(t);
	json_decref(in);
}

/* utf8_valid takes eight ASCII bytes at a time: a bad byte must be seen
 * at every offset, inside or after a run of ASCII. */
static void test_utf8_valid(void **state)
{
	static const char *const bad[] = {
		"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\xe2\x82", "\x80",
	};
	char buf[64];

	(void)state;
	assert_true(utf8_valid("", 0));
	{
		static const char mixed[] =
			"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92";

		assert_true(utf8_valid(mixed, sizeof(mixed) - 1));
	}
	for (size_t at = 0; at < 24; at++) {
		for (size_t k = 0; k < sizeof(bad) / sizeof(*bad); k++) {
			size_t n = strlen(bad[k]);

			memset(buf, 'a', sizeof(buf));
			memcpy(buf + at, bad[k], n);
			assert_false(utf8_valid(buf, 40));
			/* cut short: only what n covers counts */
			assert_true(utf8_valid(buf, at));
		}
		memset(buf, 'a', sizeof(buf));
		memcpy(buf + at, "\xc3\xa9", 2);
		assert_true(utf8_valid(buf, 40));
		/* a sequence cut by the end is not UTF-8 */
		assert_false(utf8_valid(buf, at + 1));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_identity),
		cmocka_unit_test_setup_teardown(test_missing_identity_is_null,
						tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(test_hostile_strings, tu_setup,
						tu_teardown),
		cmocka_unit_test(test_account_paths),
		cmocka_unit_test(test_account_filter),
		cmocka_unit_test(test_account_terms),
		cmocka_unit_test(test_utf8_valid),
	};

	return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
