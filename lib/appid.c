/* SPDX-License-Identifier: Apache-2.0 */
/*
 * appid: an application's name as the policy may approve it, checked as
 * the sandboxes themselves check it: a Flatpak application ID (flatpak's
 * flatpak_is_valid_name()) and a snap name (snapd's ValidateName).
 */
#include <stdbool.h>
#include <string.h>

#include "appid.h"

#define FLATPAK_ID_MAX 255
#define SNAP_NAME_MAX 40
#define SNAP_KEY_MAX 10

/* One dot-separated element of a Flatpak ID: letters, digits, '_', not
 * starting with a digit; '-' in the last element only. */
static bool valid_element(const char *s, size_t n, bool last)
{
	const char *ok = last ? "abcdefghijklmnopqrstuvwxyz"
				"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
			      : "abcdefghijklmnopqrstuvwxyz"
				"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";

	if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr(ok, s[i]) || s[i] == '\0')
			return false;
	return true;
}

bool appid_flatpak_valid(const char *s)
{
	size_t len = strlen(s), dots = 0;
	const char *p = s;

	if (len == 0 || len > FLATPAK_ID_MAX)
		return false;
	for (const char *dot; (dot = strchr(p, '.')); p = dot + 1, dots++)
		if (!valid_element(p, (size_t)(dot - p), false))
			return false;
	return dots >= 2 && valid_element(p, strlen(p), true);
}

/* snapd's ValidateName: lower-case letters, digits and single hyphens
 * inside, at least one letter, 2 to 40 characters. */
static bool valid_snap(const char *s, size_t n)
{
	bool letter = false;

	if (n < 2 || n > SNAP_NAME_MAX || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] >= 'a' && s[i] <= 'z')
			letter = true;
		else if (s[i] == '-' && s[i + 1] == '-')
			return false;
		else if (s[i] != '-' && !(s[i] >= '0' && s[i] <= '9'))
			return false;
	}
	return letter;
}

bool appid_snap_valid(const char *s)
{
	const char *key = strchr(s, '_');
	size_t klen;

	if (!key)
		return valid_snap(s, strlen(s));
	klen = strlen(key + 1);
	return valid_snap(s, (size_t)(key - s)) && klen >= 1 &&
	       klen <= SNAP_KEY_MAX &&
	       strspn(key + 1, "abcdefghijklmnopqrstuvwxyz0123456789") == klen;
}
