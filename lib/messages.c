/* SPDX-License-Identifier: Apache-2.0 */
/*
 * messages: the catalogue. Review it as a member of staff would: short,
 * plain, kind, and always saying what to do next.
 */
#include <stdlib.h>
#include <string.h>

#include "messages.h"
#include "util.h"

static const struct check_words encryption = {
	.id = "encryption",
	.name = "Disk encryption",
	.fail_title = "Your laptop's disk isn't encrypted",
	.warn_title = "Your laptop's encryption needs a look",
	.resolved_title = "Disk encryption: all sorted, thank you",
	.looks_at =
		"Whether the disk that holds your files and the system is "
		"encrypted (LUKS), so that nobody can read it if the laptop "
		"is lost or stolen. It follows every layer between each "
		"folder the policy names and the physical disk.",
	.gnome =
		"1. Save your work and back up anything not already on the "
		"school's storage.\n"
		"2. Encrypting an existing disk means reinstalling the laptop: "
		"this is a job for IT support.\n"
		"3. Contact IT support, say \"endpointd says my disk is not "
		"encrypted\", and arrange a time to hand the laptop in.",
	.kde = NULL,	/* the same on every desktop */
	.xfce = NULL,
};

static const struct check_words screen_lock = {
	.id = "screen_lock",
	.name = "Screen lock",
	.fail_title = "Your screen doesn't lock when you step away",
	.warn_title = "Your screen takes too long to lock",
	.resolved_title = "Screen lock: all sorted, thank you",
	.looks_at =
		"Whether every account has a password and nobody is signed "
		"in without one (automatic or guest sign-in, on the login "
		"screen or a text console); whether the screen locks by "
		"itself after a few idle minutes (the policy sets how many), "
		"with the settings your desktop really uses: your own, IT's "
		"(once IT has applied them) and your desktop's defaults; "
		"whether it asks for a password as soon as it locks and when "
		"the laptop wakes from sleep; and whether a session is left "
		"unlocked and idle for longer than that. The system's own "
		"idle lock counts only on desktops that tell it when you are "
		"idle (GNOME, Cinnamon, MATE): on KDE Plasma and Xfce a "
		"session left unlocked cannot be seen, and the details say "
		"so. An application keeping the screen awake (a "
		"presentation, a call) is named when it does so for long. "
		"An account whose encrypted home folder is closed is checked "
		"when it next signs in.",
	.gnome =
		"1. Open Settings (click the top-right corner, then the gear "
		"icon).\n"
		"2. Choose Privacy, then Screen Lock (on older versions: "
		"Screen).\n"
		"3. Switch Automatic Screen Lock on.\n"
		"4. Set Blank Screen Delay to 5 minutes or less, and Automatic "
		"Screen Lock Delay to \"Screen Turns Off\".\n"
		"5. Whenever you leave the laptop, press Super+L to lock it "
		"straight away.",
	.kde =
		"1. Open System Settings.\n"
		"2. Choose Screen Locking (under Workspace Behavior, or "
		"Security & Privacy).\n"
		"3. Tick \"Lock screen automatically\" and set it to 5 minutes "
		"or less.\n"
		"4. Tick \"Lock after waking from sleep\".\n"
		"5. Click Apply. Whenever you leave the laptop, press "
		"Meta+L to lock it straight away.",
	.xfce =
		"1. Open the Settings Manager, then Power Manager.\n"
		"2. On the Security tab, set \"Automatically lock the session\" "
		"to \"When the screensaver is activated\".\n"
		"3. Open Screensaver and set it to start after 5 minutes or "
		"less, with \"Lock Screen\" enabled.\n"
		"4. Whenever you leave the laptop, press Ctrl+Alt+L to lock it "
		"straight away.",
};

static const struct check_words usb_storage = {
	.id = "usb_storage",
	.name = "USB storage",
	.fail_title = "A USB stick the school doesn't allow is plugged in",
	.warn_title = "An unencrypted USB stick is plugged in",
	.resolved_title = "USB storage: all sorted, thank you",
	.looks_at =
		"USB memory sticks and disks as they are plugged in: whether "
		"they are encrypted, and whether the school allows them. "
		"Depending on the policy, a stick that is not allowed is "
		"switched off or you are warned. Only the device's make, "
		"model and serial number are looked at, never your files.",
	.gnome =
		"1. Eject the stick (the eject arrow next to it in Files) and "
		"unplug it.\n"
		"2. Use the school's storage, or an encrypted stick from IT "
		"support, instead.\n"
		"3. To encrypt a stick of your own, ask IT support: it erases "
		"everything on it.",
	.kde =
		"1. Click the Disks & Devices icon in the panel, eject the "
		"stick and unplug it.\n"
		"2. Use the school's storage, or an encrypted stick from IT "
		"support, instead.\n"
		"3. To encrypt a stick of your own, ask IT support: it erases "
		"everything on it.",
	.xfce =
		"1. In the file manager, right-click the stick, choose Eject, "
		"and unplug it.\n"
		"2. Use the school's storage, or an encrypted stick from IT "
		"support, instead.\n"
		"3. To encrypt a stick of your own, ask IT support: it erases "
		"everything on it.",
};

static const struct check_words camera = {
	.id = "camera",
	.name = "Camera",
	.fail_title = "An app the school hasn't approved is using the camera",
	.warn_title = "The camera is being used by an app the school hasn't "
		      "approved",
	.resolved_title = "Camera: all sorted, thank you",
	.looks_at =
		"Which application opens the camera, when, and for how long, "
		"so that pictures of pupils are taken only with apps the "
		"school has approved. Never a picture, a window title or a "
		"web address.",
	.gnome =
		"1. Close the app that is using the camera.\n"
		"2. To take pictures or video for school, use an app the "
		"school has approved (ask IT support which ones).\n"
		"3. If you think an approved app was reported, tell IT "
		"support its name.",
	.kde = NULL,
	.xfce = NULL,
};

static const struct check_words *const all[] = {
	&encryption, &screen_lock, &usb_storage, &camera, NULL,
};

const struct check_words *messages_check(const char *id)
{
	for (size_t i = 0; id && all[i]; i++)
		if (strcmp(all[i]->id, id) == 0)
			return all[i];
	return NULL;
}

const struct check_words *const *messages_checks(void)
{
	return all;
}

/* Edit distance (insertions, deletions, substitutions). */
static size_t distance(const char *a, const char *b)
{
	size_t n = strlen(b), prev[64], cur[64];

	if (n >= 64 || strlen(a) >= 64)
		return 64;
	for (size_t j = 0; j <= n; j++)
		prev[j] = j;
	for (size_t i = 1; a[i - 1]; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= n; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins)
					   : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (n + 1) * sizeof(*prev));
	}
	return prev[n];
}

const char *messages_suggest(const char *id)
{
	const char *best = NULL;
	size_t best_d = 4;	/* further than 3 edits is no suggestion */

	for (size_t i = 0; all[i]; i++) {
		size_t d = distance(id, all[i]->id);

		if (strstr(all[i]->id, id) && strlen(id) >= 3)
			d = 1;
		if (d < best_d) {
			best_d = d;
			best = all[i]->id;
		}
	}
	return best;
}
