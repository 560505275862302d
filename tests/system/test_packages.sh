#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The Debian packages, as IT installs them: built with debhelper (make deb),
# lintian clean, installed with dpkg --root into a throwaway copy of this
# machine (an overlay over /, with its own /run where no systemd runs, as in
# a chroot), enrolled unattended from /etc/endpointd/enrol.ini against the
# packaged collectord, upgraded, removed and purged. Then the units: verified
# by systemd-analyze, and their exposure scores held to docs/deploy.md; the
# udev rule and the autostart entry validated; the manual pages rendered.
. "$(dirname "$0")/lib.sh"
export LC_ALL=C.UTF-8

[ "$(id -u)" -eq 0 ] || die "needs root: dpkg --root and mount"
DEB="$T/deb"
R="$T/root"

sh installer/deb.sh "$DEB" >/dev/null || die "make deb failed"
AGENT=$(ls "$DEB"/endpointd_*.deb)
COLL=$(ls "$DEB"/endpointd-collector_*.deb)
ok "built $(basename "$AGENT") and $(basename "$COLL")"

# lintian: clean, pedantic tags included (its only remark is that it runs
# as root).
lint=$(lintian --pedantic "$AGENT" "$COLL" 2>&1 | grep -v 'root privileges' || true)
[ -z "$lint" ] || die "lintian: $lint"
ok "lintian --pedantic: no tags"

unmount_root() {
	for m in "$R/tmp" "$R/run" "$R/sys" "$R/proc" "$R/dev" "$R" "$T/upper"; do
		mountpoint -q "$m" && umount -R "$m"
	done
	return 0
}
trap 'unmount_root; [ -z "${CPID:-}" ] || kill "$CPID" 2>/dev/null; cleanup' EXIT

# The throwaway root: this machine's files, copy-on-write into a tmpfs.
mkdir -p "$T/upper" "$R"
mount -t tmpfs tmpfs "$T/upper" || die "cannot mount a tmpfs"
mkdir "$T/upper/up" "$T/upper/work"
mount -t overlay overlay \
	-o "lowerdir=/,upperdir=$T/upper/up,workdir=$T/upper/work" "$R" ||
	die "cannot mount an overlay over / (the kernel needs overlayfs)"
mount --rbind /dev "$R/dev"
mount -t proc proc "$R/proc"
mount --bind /sys "$R/sys"
mount -t tmpfs tmpfs "$R/run"	# no /run/systemd/system: systemd not running
mount -t tmpfs tmpfs "$R/tmp"
in_root() { chroot "$R" "$@"; }
# setpriv execs: the process started is collectord itself, not a parent.
as_collectord() {
	in_root setpriv --reuid=collectord --regid=collectord --init-groups "$@"
}
in_root getent passwd endpointd-upload >/dev/null &&
	die "this machine already has the user endpointd-upload"

# --- install ---------------------------------------------------------------
dpkg --root="$R" -i "$AGENT" "$COLL" >"$T/dpkg.log" 2>&1 ||
	{ cat "$T/dpkg.log" >&2; die "dpkg -i failed"; }
in_root dpkg-query -W -f='${Status}\n' endpointd endpointd-collector |
	grep -vx 'install ok installed' && die "not fully installed"
ok "installed without systemd running (postinst did not fail)"

# mode owner group path, as the root sees them.
expect_stat() {
	got=$(in_root stat -c '%a %U %G' "$4") || die "$4 is missing"
	[ "$got" = "$1 $2 $3" ] || die "$4: $got, expected $1 $2 $3"
}
expect_stat 755 root root /usr/sbin/endpointd
expect_stat 755 root root /usr/sbin/endpointd-upload
expect_stat 755 root root /usr/bin/endpointctl
expect_stat 755 root root /usr/bin/endpoint-notify
expect_stat 755 root root /usr/sbin/collectord
expect_stat 644 root root /etc/endpointd/policy.ini
expect_stat 711 root root /var/lib/endpointd
expect_stat 2770 root endpointd-upload /var/lib/endpointd/spool
expect_stat 700 endpointd-upload endpointd-upload /var/lib/endpointd-upload
expect_stat 700 collectord collectord /var/lib/collectord
expect_stat 640 root collectord /etc/collectord/collectord.ini
for u in endpointd-upload collectord; do
	line=$(in_root getent passwd "$u") || die "no user $u"
	uid=$(echo "$line" | cut -d: -f3)
	[ "$uid" -lt 1000 ] || die "$u is not a system user: $line"
	case "$line" in *:/usr/sbin/nologin) ;; *) die "$u can log in: $line" ;; esac
done
ok "files, owners and modes; system users that cannot log in"
in_root dpkg-query -W -f='${Conffiles}\n' endpointd | grep -q ' /etc/endpointd/policy.ini ' ||
	die "policy.ini is not a conffile"
in_root dpkg-query -W -f='${Conffiles}\n' endpointd-collector |
	grep -q ' /etc/collectord/collectord.ini ' || die "collectord.ini is not a conffile"
for u in endpointd endpointd-upload endpointd-enrol collectord; do
	[ -L "$R/etc/systemd/system/multi-user.target.wants/$u.service" ] ||
		die "$u.service is not enabled"
done
[ -f "$R/usr/lib/tmpfiles.d/endpointd.conf" ] || die "no tmpfiles.d entry"
[ -d "$R/run/udev/rules.d" ] || die "postinst did not make /run/udev/rules.d"
ok "conffiles; every unit enabled for the next boot; /run/udev/rules.d made"

# --- unattended enrolment, against the packaged collectord ------------------
in_root /usr/sbin/endpointd --check >/dev/null || die "the shipped policy is invalid"
DB=sqlite:/var/lib/collectord/collectord.db
secret=$(as_collectord /usr/sbin/collectord \
	--config /etc/collectord/collectord.ini --new-enrol-secret \
	--group "St Example's Primary") || die "collectord --new-enrol-secret"
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Started directly, so that $! is collectord itself.
chroot "$R" setpriv --reuid=collectord --regid=collectord --init-groups \
	/usr/sbin/collectord --config /etc/collectord/collectord.ini \
	--listen "127.0.0.1:$PORT" 2>"$T/collectord.log" &
CPID=$!
wait_for "collectord" curl -sf "http://127.0.0.1:$PORT/healthz"
expect_stat 644 collectord collectord /var/lib/collectord/collectord.db

# What IT drops in place, from the packaged example.
sed -e "s|^collector = .*|collector = http://127.0.0.1:$PORT|" \
	-e "s|^secret = .*|secret = $secret|" \
	"$R/usr/share/doc/endpointd/examples/enrol.ini" >"$R/etc/endpointd/enrol.ini"
chmod 0644 "$R/etc/endpointd/enrol.ini"
in_root endpointctl enroll 2>"$T/enrol.err" && die "a world-readable enrol.ini was used"
grep -q 'must be mode 0600' "$T/enrol.err" || die "enroll: $(cat "$T/enrol.err")"
chmod 0600 "$R/etc/endpointd/enrol.ini"
in_root chown nobody "/etc/endpointd/enrol.ini"
in_root endpointctl enroll 2>"$T/enrol.err" && die "an enrol.ini owned by nobody was used"
grep -q 'owned by root' "$T/enrol.err" || die "enroll: $(cat "$T/enrol.err")"
in_root chown root "/etc/endpointd/enrol.ini"
# A mistyped file is refused, naming what is wrong, before any request.
bad_enrol() {	# bad_enrol EXPECTED LINE...
	want=$1
	shift
	printf '%s\n' "$@" >"$R/tmp/bad.ini"
	chmod 0600 "$R/tmp/bad.ini"
	in_root endpointctl enroll --config /tmp/bad.ini 2>"$T/enrol.err" &&
		die "enroll took a bad file: $*"
	grep -q "$want" "$T/enrol.err" || die "enroll: $(cat "$T/enrol.err")"
}
bad_enrol 'colector: unknown setting' '[enrol]' 'colector = http://127.0.0.1:1'
bad_enrol 'not an enrolment secret' '[enrol]' 'collector = http://127.0.0.1:1' 'secret = xyz'
bad_enrol 'not both' '[enrol]' 'collector = http://127.0.0.1:1' "secret = $secret" 'secret_file = /x'
bad_enrol 'is set twice' '[enrol]' 'group = a' 'group = b'
bad_enrol 'or the enrolment file /tmp/bad.ini' '[enrol]' 'collector = http://127.0.0.1:1'
in_root endpointctl enroll --config /tmp/none.ini 2>"$T/enrol.err" && die "enroll without a file"
grep -q 'or the enrolment file /tmp/none.ini' "$T/enrol.err" || die "enroll: $(cat "$T/enrol.err")"
in_root endpointctl enroll >"$T/enrol.out" 2>&1 ||
	die "endpointctl enroll: $(cat "$T/enrol.out")"
grep -q "in group St Example's Primary" "$T/enrol.out" || die "$(cat "$T/enrol.out")"
expect_stat 600 endpointd-upload endpointd-upload /var/lib/endpointd-upload/enrolment.json
ok "endpointctl enroll from /etc/endpointd/enrol.ini: the token file is 0600, the uploader's"

# --- the units, the udev rule, the autostart entry, the manual pages --------
UNITS="endpointd endpointd-upload endpointd-enrol collectord"
for u in $UNITS; do
	in_root systemd-analyze verify "/lib/systemd/system/$u.service" \
		>"$T/verify.out" 2>&1 || die "systemd-analyze verify $u: $(cat "$T/verify.out")"
	[ ! -s "$T/verify.out" ] || die "systemd-analyze verify $u: $(cat "$T/verify.out")"
done
ok "systemd-analyze verify: $UNITS"

# Exposure scores, each held to the figure docs/deploy.md gives it.
for u in endpointd endpointd-upload collectord; do
	score=$(in_root systemd-analyze security --offline=yes \
		"/lib/systemd/system/$u.service" 2>&1 |
		sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
	limit=$(sed -n "s/^| \`$u.service\` | \([0-9.]*\) |.*/\1/p" docs/deploy.md)
	[ -n "$score" ] || die "no exposure score for $u"
	[ -n "$limit" ] || die "docs/deploy.md gives no score for $u.service"
	echo "    $u.service: exposure $score (documented $limit)"
	awk -v s="$score" -v l="$limit" 'BEGIN { exit !(s <= l) }' ||
		die "$u.service's exposure rose to $score, above the documented $limit"
done
for u in endpointd-upload collectord; do
	limit=$(sed -n "s/^| \`$u.service\` | \([0-9.]*\) |.*/\1/p" docs/deploy.md)
	awk -v l="$limit" 'BEGIN { exit !(l <= 2.5) }' ||
		die "docs/deploy.md allows $u.service $limit; the limit is 2.5"
done
ok "exposure scores at or below docs/deploy.md's"

desktop-file-validate "$R/etc/xdg/autostart/endpoint-notify.desktop" ||
	die "the autostart entry does not validate"
ok "desktop-file-validate: the autostart entry"

# The packaged udev rule is the rule endpointd writes for a policy that
# blocks with no allow list, so udev reads the one form the USB tests
# drive through umockdev.
RULE="$R/lib/udev/rules.d/90-endpointd-usb-storage.rules"
sed '/^\[usb_storage\]/,/^\[/ s/^action = .*/action = block/' \
	"$R/etc/endpointd/policy.ini" >"$T/block.ini"
grep -q '^allow_models = *$' "$T/block.ini" || die "the shipped policy allows models"
"$B/endpointd" --print-udev-rule --policy "$T/block.ini" | grep -v '^#' >"$T/gen.rules" ||
	die "endpointd --print-udev-rule"
grep -v '^#' "$RULE" | diff -u "$T/gen.rules" - ||
	die "the packaged udev rule differs from the one endpointd writes"
if udevadm verify --help >/dev/null 2>&1; then
	udevadm verify "$RULE" || die "udevadm verify: the udev rule"
	ok "udevadm verify and endpointd agree on the udev rule"
else
	ok "the packaged udev rule is endpointd's own (this udevadm has no verify)"
fi

# Every manual page renders without a warning from groff, and the names IT
# types find them.
for page in endpointd.8 endpointd-upload.8 endpointctl.1 endpoint-notify.1 \
	endpointd-policy.5 collectord.8; do
	sec=${page##*.}
	in_root man --warnings -l "/usr/share/man/man$sec/$page.gz" \
		>"$T/man.out" 2>"$T/man.err" || die "man -l $page failed"
	[ ! -s "$T/man.err" ] || die "man -l $page: $(cat "$T/man.err")"
	grep -q '@[A-Z_]*@' "$T/man.out" && die "$page has a placeholder left"
done
in_root man -P cat endpointd.policy 2>/dev/null | grep -q 'ENDPOINTD-POLICY' ||
	die "man endpointd.policy does not find endpointd-policy(5)"
ok "man -l renders all six pages; man endpointd.policy finds the policy page"
# endpointd-policy(5) names every key of policy.ini (commented ones too).
in_root man -P cat endpointd-policy >"$T/policy.man" 2>/dev/null
keys=$(sed -n 's/^[;#]* *\([a-z_][a-z_]*\) *=.*/\1/p' policy.ini | sort -u)
[ "$(echo "$keys" | wc -l)" -gt 20 ] || die "policy.ini's keys were not found"
for k in $keys; do
	grep -q "\b$k\b" "$T/policy.man" || die "endpointd-policy(5) does not describe $k"
done
ok "endpointd-policy(5) describes all $(echo "$keys" | wc -l) keys of policy.ini"

# A report as endpointd spools it, for the upgrade to keep.
printf '{}\n' >"$R/var/lib/endpointd/spool/00000000000000000007.json"
echo 6 >"$R/var/lib/endpointd/seq"
echo "; changed by IT" >>"$R/etc/endpointd/policy.ini"
before=$(cd "$R" && sha256sum var/lib/endpointd-upload/enrolment.json \
	var/lib/endpointd/spool/00000000000000000007.json var/lib/endpointd/seq \
	etc/endpointd/policy.ini)

# --- upgrade (the same version again) ---------------------------------------
kill "$CPID"; wait "$CPID" 2>/dev/null || true; CPID=
dpkg --root="$R" -i "$AGENT" "$COLL" >"$T/dpkg.log" 2>&1 ||
	{ cat "$T/dpkg.log" >&2; die "the upgrade failed"; }
after=$(cd "$R" && sha256sum var/lib/endpointd-upload/enrolment.json \
	var/lib/endpointd/spool/00000000000000000007.json var/lib/endpointd/seq \
	etc/endpointd/policy.ini)
[ "$before" = "$after" ] || die "the upgrade changed the state: $before / $after"
expect_stat 600 endpointd-upload endpointd-upload /var/lib/endpointd-upload/enrolment.json
expect_stat 2770 root endpointd-upload /var/lib/endpointd/spool
as_collectord /usr/sbin/collectord \
	--config /etc/collectord/collectord.ini --revoke-enrol-secret "$secret" \
	>/dev/null || die "the collector's database did not survive the upgrade"
ok "upgrade keeps the enrolment, the spool, the sequence number, IT's policy and the database"

# --- remove, then purge ------------------------------------------------------
mkdir -p "$R/run/udev/rules.d"
echo '# from endpointd' >"$R/run/udev/rules.d/90-endpointd-usb-storage.rules"
dpkg --root="$R" -r endpointd endpointd-collector >"$T/dpkg.log" 2>&1 ||
	{ cat "$T/dpkg.log" >&2; die "dpkg -r failed"; }
for f in /usr/sbin/endpointd /usr/sbin/endpointd-upload /usr/sbin/collectord \
	/lib/systemd/system/endpointd.service /run/udev/rules.d/90-endpointd-usb-storage.rules; do
	[ ! -e "$R$f" ] || die "remove left $f"
done
[ -f "$R/etc/endpointd/policy.ini" ] || die "remove took the conffile"
[ -f "$R/var/lib/endpointd-upload/enrolment.json" ] || die "remove took the enrolment"
ok "remove: programs, units and endpointd's udev rule gone; settings and state kept"

dpkg --root="$R" -P endpointd endpointd-collector >"$T/dpkg.log" 2>&1 ||
	{ cat "$T/dpkg.log" >&2; die "dpkg -P failed"; }
for f in /var/lib/endpointd /var/lib/endpointd-upload /var/lib/collectord \
	/etc/endpointd /etc/collectord \
	/etc/systemd/system/multi-user.target.wants/endpointd.service; do
	[ ! -e "$R$f" ] || die "purge left $f"
done
in_root getent passwd endpointd-upload >/dev/null && die "purge left the user endpointd-upload"
in_root getent passwd collectord >/dev/null && die "purge left the user collectord"
in_root getent group endpointd-upload >/dev/null && die "purge left the group endpointd-upload"
ok "purge: state, settings, enrolment and users gone"
