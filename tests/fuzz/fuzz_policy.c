/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_policy: the policy loader (endpointd, and collectord's PUT
 * /policy, which uses the same parser), and the udev rule written from
 * what it accepted.
 *
 * Invariants: a policy is either accepted whole or refused with at least
 * one "policy.ini:LINE: message" error; the udev rule made from an
 * accepted policy is comment lines and endpointd's own rule lines only,
 * each with balanced quotes: nothing in a policy can add a rule of its
 * own.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "policy.h"
#include "usb_storage.h"

static const char *const rule_starts[] = {
	"#", "ACTION!=", "SUBSYSTEM!=", "ENV{ID_BUS}!=", "ENV{ID_FS_TYPE}==",
	"ENV{ID_VENDOR_ID}==", "ENV{UDISKS_IGNORE}=", "LABEL=",
};

static void check_rule(const char *rule)
{
	const char *line = rule, *nl;

	for (; *line; line = nl + 1) {
		size_t quotes = 0, k;
		bool known = false;

		nl = strchr(line, '\n');
		if (!nl)
			fuzz_fail("the udev rule does not end with a newline");
		for (k = 0; k < sizeof(rule_starts) / sizeof(*rule_starts); k++)
			known |= strncmp(line, rule_starts[k],
					 strlen(rule_starts[k])) == 0;
		if (!known)
			fuzz_fail("a udev rule line endpointd does not write: "
				  "%.*s", (int)(nl - line), line);
		for (const char *c = line; c < nl; c++) {
			if ((unsigned char)*c < 0x20 && *c != '\t')
				fuzz_fail("a control character in the udev "
					  "rule");
			quotes += *c == '"';
		}
		if (line[0] != '#' && quotes % 2)
			fuzz_fail("unbalanced quotes in a udev rule line: %.*s",
				  (int)(nl - line), line);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy *p = NULL;
	char *errors = NULL;
	int r;

	r = policy_parse("policy.ini", (const char *)data, size, &p, &errors);
	if (r < 0) {
		if (p)
			fuzz_fail("a refused policy was returned");
		if (!errors || strncmp(errors, "policy.ini:", 11) != 0)
			fuzz_fail("a policy refused without a FILE:LINE error: "
				  "%s", errors ? errors : "(none)");
		free(errors);
		return 0;
	}
	if (!p || !p->name || !p->version)
		fuzz_fail("an accepted policy without its name or version");
	if (errors)
		fuzz_fail("an accepted policy with errors: %s", errors);
	/* The same rule whatever the action; the blocking one carries the
	 * allow-lists. */
	{
		char *rule = usb_storage_udev_rule(p);

		check_rule(rule);
		free(rule);
		if (p->usb_storage.s.enabled) {
			p->usb_storage.action = USB_ACTION_BLOCK;
			rule = usb_storage_udev_rule(p);
			check_rule(rule);
			free(rule);
		}
	}
	policy_free(p);
	return 0;
}
