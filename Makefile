# SPDX-License-Identifier: Apache-2.0
# endpointd: `make` builds every program into build/, `make check` runs
# every test, `make check-sanitize` runs them built with ASan and UBSan,
# `make run` evaluates this machine, enrols it with a collectord started for
# the purpose and shows what each side sees.
#
# On Debian, missing build or test packages are installed first by
# installer/deps.sh (idempotent; it does nothing when all are present).

VERSION := 0.1.0

.DEFAULT_GOAL := all

B ?= build
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
LOCALSTATEDIR ?= /var
RUNSTATEDIR ?= /run
DOCDIR ?= $(PREFIX)/share/doc
# Where systemd and udev look for a package's files on Debian 12.
UNITDIR ?= /lib/systemd/system
UDEVRULESDIR ?= /lib/udev/rules.d

CC ?= cc
CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wcast-qual
ifneq ($(CI),)
WARNINGS += -Werror
endif
ifeq ($(SANITIZE),1)
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
endif
# make fuzz's build (clang): the sanitizers, and libFuzzer's coverage
# instrumentation in every object.
ifeq ($(FUZZ),1)
SANFLAGS := -fsanitize=address,undefined,fuzzer-no-link \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer
endif

PKGS := inih jansson libsystemd libudev libcrypto libcryptsetup blkid mount \
	expat libsodium
TEST_PKGS := cmocka

# Expanded when a recipe runs, after the deps step has installed them.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS))
TEST_CFLAGS = $(shell pkg-config --cflags $(TEST_PKGS))
TEST_LIBS = $(shell pkg-config --libs $(TEST_PKGS))

# Each folder sees its own headers and those it depends on, no more:
# lib/ uses only libraries, checks/ uses lib/, each program uses lib/ (and
# the daemon and endpointctl, which reads the laptop's identity, checks/).
INCLUDES_lib := -Ilib
INCLUDES_checks := -Ichecks -Ilib
INCLUDES_endpointd := -Iendpointd -Ichecks -Ilib
INCLUDES_endpointctl := -Iendpointctl -Ichecks -Ilib
INCLUDES_collector := -Icollector -Ilib
INCLUDES_uploader := -Iuploader -Ilib
INCLUDES_notify := -Inotify -Ilib
INCLUDES_tests := -Itests -Iendpointd -Ichecks -Icollector -Iuploader -Ilib
INCLUDES_bench := $(INCLUDES_tests)
ALL_CPPFLAGS = -D_GNU_SOURCE -DVERSION='"$(VERSION)"' -DSYSCONFDIR='"$(SYSCONFDIR)"' \
	-DLOCALSTATEDIR='"$(LOCALSTATEDIR)"' -DRUNSTATEDIR='"$(RUNSTATEDIR)"' \
	$(CPPFLAGS)
ALL_CFLAGS = -std=gnu11 $(WARNINGS) $(SANFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)

# lib/: what more than one program uses. checks/: the checks and how
# they read the machine (pipewire.c is endpointd's alone; the stub stands
# for it elsewhere). endpointd/: the daemon's own modules. Each is an
# archive, and a program links only the archives its folder may use, so
# the linker refuses a call that crosses a boundary.
COMMON_SRCS := $(sort $(wildcard lib/*.c))
CHECKS_SRCS := $(filter-out checks/pipewire.c,$(sort $(wildcard checks/*.c)))
DAEMON_SRCS := $(filter-out endpointd/main.c,$(sort $(wildcard endpointd/*.c)))
COMMON_LIB := $(B)/libcommon.a
CHECKS_LIB := $(B)/libchecks.a
DAEMON_LIB := $(B)/libdaemon.a

COLLECTOR_SRCS := collector/main.c collector/server.c collector/api.c \
	collector/auth.c collector/committer.c collector/metrics.c \
	collector/store.c collector/store_schema.c collector/store_ingest.c \
	collector/store_counts.c collector/store_query.c \
	collector/store_accounts.c collector/db.c collector/db_sqlite.c \
	collector/db_pg.c collector/reportcheck.c collector/secret.c \
	collector/web.c collector/jsonin.c collector/walbuf.c collector/jarena.c \
	collector/limits.c
COLLECTOR_OBJS := $(COLLECTOR_SRCS:%.c=$(B)/obj/%.o)
# The dashboard's files, built into collectord by the assembler (.incbin).
WEB_FILES := collector/web/index.html collector/web/app.js \
	collector/web/app.css collector/web/icon.svg
$(B)/obj/collector/web.o: $(WEB_FILES)
COLLECTOR_PKGS := libmicrohttpd sqlite3 libpq libcrypt yajl
COLLECTOR_CFLAGS = $(shell pkg-config --cflags $(COLLECTOR_PKGS))
COLLECTOR_LIBS = $(shell pkg-config --libs $(COLLECTOR_PKGS)) -lpthread
# collectord allocates with mimalloc: each report is a few hundred small
# allocations made by one worker, which glibc's 7-entry thread cache sends
# to its shared bins, and each body buffer over 1 KB consolidates them
# (docs/performance.md). mimalloc is linked first, and kept although no
# object names it, so that it is the process's malloc. Not in the
# sanitizer builds, which bring their own.
ifeq ($(SANFLAGS),)
COLLECTOR_MALLOC = -Wl,--push-state,--no-as-needed -lmimalloc -Wl,--pop-state
endif

# endpointd alone follows the camera through PipeWire (checks/pipewire.c,
# linked before the archive so that it, not pipewire_stub.c, is used).
PW_PKGS := libpipewire-0.3
# As system headers: SPA's inline functions cast away const.
PW_CFLAGS = $(patsubst -I%,-isystem %,$(shell pkg-config --cflags $(PW_PKGS)))
PW_LIBS = $(shell pkg-config --libs $(PW_PKGS))
$(B)/obj/checks/pipewire.o: EXTRA_CFLAGS = $(PW_CFLAGS)

# The uploader and endpointctl talk to the collector; endpointd links no
# network library at all.
UPLOAD_PKGS := libcurl
UPLOAD_CFLAGS = $(shell pkg-config --cflags $(UPLOAD_PKGS))
UPLOAD_LIBS = $(shell pkg-config --libs $(UPLOAD_PKGS))

TESTS := $(patsubst tests/%.c,$(B)/tests/%,$(wildcard tests/test_*.c))
PROGRAMS := $(B)/endpointd $(B)/endpointctl $(B)/collectord \
	$(B)/endpointd-upload $(B)/endpoint-notify

.PHONY: all deps man check check-sanitize bench fuzz run install \
	install-agent install-collector deb clean
# Test objects are intermediate files; keep them for incremental builds.
.SECONDARY:
all: $(PROGRAMS) man

# Manual pages: plain man macros in man/*.in, with the version and the
# directories this build uses filled in.
MAN_SRCS := $(wildcard man/*.in)
MANPAGES := $(patsubst man/%.in,$(B)/man/%,$(MAN_SRCS))
SCHEMA_VERSION := $(shell sed -n 's/^\#define SCHEMA_VERSION //p' collector/store_schema.c)
$(B)/man/%: man/%.in Makefile collector/store_schema.c
	@mkdir -p $(dir $@)
	sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		-e 's|@LOCALSTATEDIR@|$(LOCALSTATEDIR)|g' \
		-e 's|@RUNSTATEDIR@|$(RUNSTATEDIR)|g' \
		-e 's|@SCHEMA_VERSION@|$(SCHEMA_VERSION)|g' $< > $@.tmp
	@if grep -n '@[A-Z_]*@' $@.tmp; then \
		echo "$<: a placeholder make does not fill in" >&2; exit 1; fi
	mv $@.tmp $@
man: $(MANPAGES)

# Runs installer/deps.sh once, and again whenever it changes. NODEPS=1
# skips it (a package build, whose Build-Depends are already there).
$(B)/.deps-ok: installer/deps.sh
	@mkdir -p $(B)
	$(if $(NODEPS),,sh installer/deps.sh)
	@touch $@
deps: $(B)/.deps-ok

$(B)/obj/%.o: %.c | $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(INCLUDES_$(firstword $(subst /, ,$<))) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(PKG_CFLAGS) $(TEST_CFLAGS) \
		$(COLLECTOR_CFLAGS) $(UPLOAD_CFLAGS) $(EXTRA_CFLAGS) \
		-MMD -MP -c -o $@ $<

$(COMMON_LIB): $(COMMON_SRCS:%.c=$(B)/obj/%.o)
$(CHECKS_LIB): $(CHECKS_SRCS:%.c=$(B)/obj/%.o)
$(DAEMON_LIB): $(DAEMON_SRCS:%.c=$(B)/obj/%.o)
$(B)/lib%.a:
	rm -f $@
	ar rcs $@ $^

$(B)/endpointd: $(B)/obj/endpointd/main.o $(B)/obj/checks/pipewire.o \
		$(DAEMON_LIB) $(CHECKS_LIB) $(COMMON_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(PW_LIBS)

# endpointctl: main and dispatch, then a file per group of commands.
ENDPOINTCTL_CMDS := status explain privacy enroll
ENDPOINTCTL_CMD_OBJS := $(ENDPOINTCTL_CMDS:%=$(B)/obj/endpointctl/%.o)
ENDPOINTCTL_OBJS := $(B)/obj/endpointctl/endpointctl.o $(ENDPOINTCTL_CMD_OBJS)
$(B)/endpointctl: $(ENDPOINTCTL_OBJS) $(CHECKS_LIB) $(COMMON_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(UPLOAD_LIBS)

$(B)/endpointd-upload: $(B)/obj/uploader/upload.o $(COMMON_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(UPLOAD_LIBS)

# A member of staff's desktop warnings: sd-bus on the session bus.
$(B)/endpoint-notify: $(B)/obj/notify/notify.o $(COMMON_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/collectord: $(COLLECTOR_OBJS) $(COMMON_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(COLLECTOR_MALLOC) $^ $(COLLECTOR_LIBS) \
		$(PKG_LIBS)

ALL_LIBS := $(DAEMON_LIB) $(CHECKS_LIB) $(COMMON_LIB)
$(B)/tests/%: $(B)/obj/tests/%.o $(B)/obj/tests/testutil.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS)
# collectord's SQLite VFS, tested with SQLite itself.
$(B)/tests/test_walbuf: $(B)/obj/collector/walbuf.o
$(B)/tests/test_walbuf: TEST_LIBS += $(shell pkg-config --libs sqlite3) \
	-lpthread

# The arena collectord builds reports in, with its JSON reader.
$(B)/tests/test_jarena: $(B)/obj/collector/jarena.o $(B)/obj/collector/jsonin.o
$(B)/tests/test_jarena: TEST_LIBS += $(COMMON_LIB) -lyajl

# Fuzz targets (tests/fuzz/fuzz_*.c): each is linked twice, with
# libFuzzer by make fuzz, and with replay.c for make check, which runs it
# over its corpus and every input that once crashed it.
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60
FUZZ_OBJS := $(filter-out $(B)/obj/collector/main.o,$(COLLECTOR_OBJS)) \
	$(ALL_LIBS)
FUZZ_LIBS = $(COLLECTOR_LIBS) $(UPLOAD_LIBS) $(PKG_LIBS)
$(B)/obj/tests/fuzz/%.o: EXTRA_CFLAGS = -Itests/fuzz \
	$(shell pkg-config --cflags umockdev-1.0)
$(B)/fuzz/udev $(B)/fuzz-replay/udev: FUZZ_LIBS += \
	$(shell pkg-config --libs umockdev-1.0)
# The userconf target's fork() fails: no input runs dconf (fuzz_userconf.c).
$(B)/fuzz/userconf $(B)/fuzz-replay/userconf: FUZZ_LIBS += -Wl,--wrap=fork
# fuzz_status.c includes endpointctl.c (its main renamed); the commands
# it calls are in endpointctl's other files, linked after the archives,
# which are named again for them.
$(B)/fuzz/status $(B)/fuzz-replay/status: $(ENDPOINTCTL_CMD_OBJS)
$(B)/fuzz/status $(B)/fuzz-replay/status: FUZZ_LIBS += $(CHECKS_LIB) \
	$(COMMON_LIB) $(UPLOAD_LIBS) $(PKG_LIBS)
REPLAYS := $(FUZZ_TARGETS:%=$(B)/fuzz-replay/%)
$(B)/fuzz-replay/%: $(B)/obj/tests/fuzz/fuzz_%.o $(B)/obj/tests/fuzz/replay.o \
		$(FUZZ_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(FUZZ_LIBS)
$(B)/fuzz/%: $(B)/obj/tests/fuzz/fuzz_%.o $(FUZZ_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(FUZZ_LIBS)

# The desktop packages whose files the screen-lock tests build fixture
# roots from, downloaded and unpacked once for every build (not installed).
DEBS ?= build/debs
$(DEBS)/.ok: installer/deps.sh
	sh installer/deps.sh debs $(DEBS)
	touch $@

# Every unit test binary, then every system test script; a summary line
# "N passed, N failed" closes the run.
check: $(PROGRAMS) $(TESTS) $(REPLAYS) $(DEBS)/.ok
	DEBS=$(DEBS) sh tests/run.sh $(B)

# libFuzzer, with ASan and UBSan, FUZZ_SECONDS (default 60) per target;
# what it finds is kept in build/fuzz/findings (tests/fuzz/README.md).
fuzz:
	sh installer/deps.sh fuzz
	$(MAKE) B=build/fuzz FUZZ=1 CC=clang CFLAGS="-O1 -g" \
		$(FUZZ_TARGETS:%=build/fuzz/fuzz/%)
	sh tests/fuzz/run.sh build/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Benchmarks: figures, never pass/fail, measured in one run and printed as
# one table (bench/run.sh; by hand, also into docs/performance.md).
BENCHES := $(patsubst bench/%.c,$(B)/bench/%,$(wildcard bench/*.c))
$(B)/bench/%: $(B)/obj/bench/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

bench: $(PROGRAMS) $(BENCHES)
	sh installer/deps.sh bench
	sh bench/run.sh $(B)

check-sanitize:
	$(MAKE) B=build/sanitize SANITIZE=1 CFLAGS="-O1 -g" check

run: $(PROGRAMS)
	@sh tools/run-local.sh $(B)

# make install puts both sides in place; a package takes one side each
# (installer/debian). Units, the udev rule and the autostart entry go where
# Debian 12's systemd and udev read a package's files.
install: install-agent install-collector

install-agent: $(B)/endpointd $(B)/endpointd-upload $(B)/endpointctl \
		$(B)/endpoint-notify man
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
		$(DESTDIR)$(SYSCONFDIR)/endpointd \
		$(DESTDIR)$(SYSCONFDIR)/xdg/autostart $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(UDEVRULESDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(DOCDIR)/endpointd/examples
	install -m 0755 $(B)/endpointd $(B)/endpointd-upload $(DESTDIR)$(SBINDIR)/
	install -m 0755 $(B)/endpointctl $(B)/endpoint-notify $(DESTDIR)$(BINDIR)/
	install -m 0644 policy.ini $(DESTDIR)$(SYSCONFDIR)/endpointd/policy.ini
	install -m 0644 notify/endpoint-notify.desktop \
		$(DESTDIR)$(SYSCONFDIR)/xdg/autostart/endpoint-notify.desktop
	install -m 0644 installer/systemd/endpointd.service \
		installer/systemd/endpointd-upload.service \
		installer/systemd/endpointd-enrol.service $(DESTDIR)$(UNITDIR)/
	install -m 0644 installer/udev/90-endpointd-usb-storage.rules \
		$(DESTDIR)$(UDEVRULESDIR)/
	install -m 0644 installer/enrol.ini $(DESTDIR)$(DOCDIR)/endpointd/examples/
	install -m 0644 $(B)/man/endpoint-notify.1 $(B)/man/endpointctl.1 \
		$(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(B)/man/endpointd-policy.5 $(DESTDIR)$(MANDIR)/man5/
	echo '.so man5/endpointd-policy.5' > \
		$(DESTDIR)$(MANDIR)/man5/endpointd.policy.5
	install -m 0644 $(B)/man/endpointd.8 $(B)/man/endpointd-upload.8 \
		$(DESTDIR)$(MANDIR)/man8/

install-collector: $(B)/collectord man
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSCONFDIR)/collectord \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(DOCDIR)/endpointd-collector/examples
	install -m 0755 $(B)/collectord $(DESTDIR)$(SBINDIR)/
	install -m 0644 installer/collectord.ini \
		$(DESTDIR)$(SYSCONFDIR)/collectord/collectord.ini
	install -m 0644 installer/systemd/collectord.service $(DESTDIR)$(UNITDIR)/
	install -m 0644 installer/nginx/collectord.conf \
		$(DESTDIR)$(DOCDIR)/endpointd-collector/examples/nginx-collectord.conf
	install -m 0644 $(B)/man/collectord.8 $(DESTDIR)$(MANDIR)/man8/

# Debian packages of both sides, built with debhelper from a copy of the
# tree (installer/debian is its debian/), into $(B)/deb/.
deb:
	sh installer/deb.sh $(B)/deb

clean:
	rm -rf build

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
