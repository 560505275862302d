/* SPDX-License-Identifier: Apache-2.0 */
/*
 * messages: the words staff see, in one catalogue (docs/messages.md is
 * the same catalogue for review). Plain, without blame, each naming what
 * to do: the titles, explanations and step-by-step fixes (messages.c),
 * and what each check says in its finding (the SAY_ texts below).
 */
#ifndef ENDPOINTD_MESSAGES_H
#define ENDPOINTD_MESSAGES_H

#include <stddef.h>

struct check_words {
	const char *id;		/* "encryption" */
	const char *name;	/* "Disk encryption" */
	const char *fail_title;	/* a notification's title when it fails */
	const char *warn_title;
	const char *resolved_title;
	const char *looks_at;	/* what the check looks at (explain) */
	/* How to put it right, step by step, per desktop. */
	const char *gnome, *kde, *xfce;
};

/* The words of check id, or NULL for a check this build does not know. */
const struct check_words *messages_check(const char *id);
/* Every check's words, NULL-terminated. */
const struct check_words *const *messages_checks(void);

/* The closest known check id to a misspelt one, or NULL. */
const char *messages_suggest(const char *id);

/*
 * What each check says: its one-line summary and what to do. The %s, %u
 * and %ld are the facts of the moment (what is not encrypted, a stick's
 * name, a number of minutes); a reason a check could not see, for IT
 * support, is the check's own words inside the "could not tell" lines.
 * docs/messages.md has every one of these (a test checks it).
 */

/* Any check that could not see. */
#define SAY_UNKNOWN_DO "Contact IT support if this message stays."
#define SAY_BROKEN "This check could not look at the laptop (%s)."
#define SAY_BROKEN_DO "Ask IT support to look at the endpointd service."
#define SAY_NO_RESULT "This check gave no result."

#define SAY_ENCRYPTION_PLAIN \
	"Your laptop's disk is not encrypted, so anyone who has the laptop " \
	"can read its files (not encrypted: %s)."
#define SAY_ENCRYPTION_PLAIN_DO \
	"Please keep pupils' and staff data off this laptop for now, and " \
	"contact IT support: it needs reinstalling with full-disk " \
	"encryption (LUKS)."
#define SAY_ENCRYPTION_SWAP \
	"Your laptop's disk is encrypted, but its swap or hibernation space " \
	"is not: copies of open documents can be read from it (not " \
	"encrypted: %s)."
#define SAY_ENCRYPTION_SWAP_DO \
	"Contact IT support: the swap space must be encrypted too (swap " \
	"inside the encrypted disk, or a random key in /etc/crypttab). No " \
	"reinstall is needed."
#define SAY_ENCRYPTION_WEAK \
	"Your laptop's disk is encrypted, but with weaker settings than the " \
	"school requires (%s)."
#define SAY_ENCRYPTION_WEAK_DO \
	"Contact IT support: the disk must be re-encrypted with the " \
	"settings the policy requires (cryptsetup reencrypt can do it in " \
	"place)."
#define SAY_ENCRYPTION_HOME_ONLY \
	"On this laptop only %s encrypted; the rest of the disk is not, so " \
	"anyone who has the laptop can read everything else on it (not " \
	"encrypted: %s)."
#define SAY_ENCRYPTION_PREBOOT \
	"Your laptop's disk is encrypted, but it unlocks by itself when the " \
	"laptop is switched on, so a thief could start it up as far as the " \
	"login screen (%s)."
#define SAY_ENCRYPTION_PREBOOT_DO \
	"Contact IT support: the disk must ask for a PIN or passphrase " \
	"before it unlocks (systemd-cryptenroll --tpm2-with-pin=yes). No " \
	"reinstall is needed."
#define SAY_ENCRYPTION_UNKNOWN \
	"endpointd could not tell whether everything on this laptop is " \
	"encrypted: %s."
#define SAY_ENCRYPTION_PASS "Your laptop's disk is encrypted."

#define SAY_SCREEN_LOCK_UNATTENDED \
	"This laptop has been left unlocked: the session of %s has been " \
	"idle for %lld minutes and is not locked."
#define SAY_SCREEN_LOCK_UNATTENDED_DO \
	"Lock the screen whenever you step away from the laptop (Super+L, " \
	"or Ctrl+Alt+L), even for a moment."
#define SAY_SCREEN_LOCK_PROBLEM \
	"This laptop is not protected when left alone: %s%s."
#define SAY_SCREEN_LOCK_MORE " (and more: see the details)"
#define SAY_SCREEN_LOCK_NEVER "%s never locks the screen for %s"
#define SAY_SCREEN_LOCK_NOT_IDLE \
	"%s does not lock the screen of %s when the laptop is left idle"
#define SAY_SCREEN_LOCK_TOO_LATE \
	"%s locks the screen of %s only after %ld minutes idle (the school " \
	"allows %u)"
#define SAY_SCREEN_LOCK_NOT_ON_SLEEP \
	"%s does not lock the screen of %s when the laptop goes to sleep"
#define SAY_SCREEN_LOCK_NOT_FIXED \
	"IT has not locked %s's screen-lock settings for %s, so they can be " \
	"turned off"
#define SAY_SCREEN_LOCK_NO_PASSWORD "an account on this laptop has no password"
#define SAY_SCREEN_LOCK_NO_PASSWORD_ASKED \
	"%s's lock screen never asks %s for a password"
#define SAY_SCREEN_LOCK_GRACE \
	"%s unlocks the screen of %s without a password for %ld seconds " \
	"after it locks"
#define SAY_SCREEN_LOCK_LOGIN_DO \
	"Contact IT support: every account needs a password, and the laptop " \
	"must ask for it at start-up (no automatic or guest login)."
#define SAY_SCREEN_LOCK_GNOME_DO \
	"Open Settings, Privacy, Screen Lock: turn \"Automatic Screen Lock\" " \
	"on, and in Settings, Power, set \"Screen Blank\" to %u minutes or " \
	"less."
#define SAY_SCREEN_LOCK_KDE_DO \
	"Open System Settings, Screen Locking: tick \"Lock screen " \
	"automatically\" after %u minutes or less and \"After waking from " \
	"sleep\", and set \"Allow unlocking without password for\" to 60 " \
	"seconds or less."
#define SAY_SCREEN_LOCK_XFCE_DO \
	"Open Settings, Screensaver: turn the screensaver on after %u " \
	"minutes or less, and on the Lock Screen tab turn \"Enable Lock " \
	"Screen\" on."
#define SAY_SCREEN_LOCK_LIGHTLOCKER_DO \
	"Open Settings, Power Manager: on the Display tab set \"Blank " \
	"after\" to under %u minutes (on battery and plugged in); on the " \
	"Security tab set \"Automatically lock the session\" to \"When the " \
	"screensaver is activated\", \"Delay locking after screensaver " \
	"for\" to a few seconds, and tick \"Lock screen when system is " \
	"going to sleep\"."
#define SAY_SCREEN_LOCK_MATE_DO \
	"Open Control Center, Screensaver: \"Regard the computer as idle " \
	"after\" %u minutes or less, and tick \"Lock screen when screensaver " \
	"is active\"."
#define SAY_SCREEN_LOCK_CINNAMON_DO \
	"Open System Settings, Screensaver: lock the computer after %u " \
	"minutes or less when the screen turns off."
#define SAY_SCREEN_LOCK_INHIBITED \
	"%s has kept this laptop's screen from locking for %lld minutes."
#define SAY_SCREEN_LOCK_INHIBITED_DO \
	"If you are not presenting or on a call, close that application or " \
	"turn off its \"keep awake\" setting, so the screen locks when you " \
	"step away."
#define SAY_SCREEN_LOCK_UNKNOWN \
	"endpointd could not tell whether this laptop locks itself: %s."
#define SAY_SCREEN_LOCK_PASS \
	"This laptop locks itself when left alone and asks for a password."

#define SAY_USB_PASS \
	"No USB storage device that the school's policy forbids is connected."
#define SAY_USB_SWITCHED_OFF " and has been switched off"
#define SAY_USB_PHONE \
	"A phone or camera ('%s') is connected%s. Pupils' images and school " \
	"data must not go on personal phones or cameras."
#define SAY_USB_PHONE_DO \
	"Unplug it. Take pictures of pupils only with school equipment, for " \
	"purposes the school has authorised."
#define SAY_USB_UNRECOGNISED \
	"The USB stick '%s'%s may not be encrypted: endpointd cannot tell " \
	"what is on it (it may use an encryption it does not know, such as " \
	"VeraCrypt)."
#define SAY_USB_UNRECOGNISED_OFF " has been switched off: it"
#define SAY_USB_UNRECOGNISED_DO \
	"Unplug it and ask IT support to check it, or use an encrypted " \
	"stick from IT."
#define SAY_USB_BLANK \
	"The USB stick '%s' is blank%s. Anything copied onto it would not " \
	"be encrypted."
#define SAY_USB_BLANK_DO \
	"Unplug it, or encrypt it before use: in Disks, choose Format and " \
	"\"Password protect volume (LUKS)\", or ask IT support to do it."
#define SAY_USB_PLAIN \
	"The USB stick '%s' is not encrypted%s. School data must only go on " \
	"encrypted sticks."
#define SAY_USB_PLAIN_DO \
	"Unplug it and copy nothing onto it. To carry school data, use an " \
	"encrypted stick from IT, or encrypt this one: in Disks, choose " \
	"Format and \"Password protect volume (LUKS)\" (this erases it), or " \
	"ask IT support to do it."

#define SAY_CAMERA_UNAPPROVED \
	"The camera is being used by %s, which the school has not approved " \
	"for the camera."
#define SAY_CAMERA_UNAPPROVED_DO \
	"Close that application. Use the camera only in the applications " \
	"the school has approved, for purposes it has authorised; ask IT " \
	"support if you need another one approved."
#define SAY_CAMERA_UNKNOWN "endpointd could not see who uses the camera: %s."
#define SAY_CAMERA_MEDIA_SERVER \
	"The camera is in use through the desktop's media server " \
	"(PipeWire); endpointd cannot tell which application receives the " \
	"picture."
#define SAY_CAMERA_PASS \
	"No application the school has not approved is using the camera."

#endif
