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

PKGS := inih jansson libsystemd libudev libcrypto libcryptsetup blkid mount \
	expat
TEST_PKGS := cmocka

# Expanded when a recipe runs, after the deps step has installed them.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS))
TEST_CFLAGS = $(shell pkg-config --cflags $(TEST_PKGS))
TEST_LIBS = $(shell pkg-config --libs $(TEST_PKGS))

ALL_CPPFLAGS = -D_GNU_SOURCE -Iendpointd -Ichecks -Icollector -Iuploader \
	-DVERSION='"$(VERSION)"' -DSYSCONFDIR='"$(SYSCONFDIR)"' \
	-DLOCALSTATEDIR='"$(LOCALSTATEDIR)"' -DRUNSTATEDIR='"$(RUNSTATEDIR)"' \
	$(CPPFLAGS)
ALL_CFLAGS = -std=gnu11 $(WARNINGS) $(SANFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)

# Every module but the programs' main files; tests link what they need
# from this archive.
LIB_SRCS := endpointd/util.c endpointd/log.c endpointd/utf8.c \
	endpointd/policy.c endpointd/loop.c endpointd/state.c \
	endpointd/report.c endpointd/spool.c endpointd/statsock.c \
	endpointd/agent.c endpointd/table.c endpointd/uplink.c \
	endpointd/messages.c endpointd/account.c \
	checks/host.c checks/finding.c checks/registry.c \
	checks/blockdev.c checks/encryption.c \
	checks/inifile.c checks/users.c checks/desktop.c checks/logins.c \
	checks/sessions.c checks/screen_lock.c endpointd/bus.c \
	checks/usbdev.c checks/usb_storage.c checks/holders.c checks/camera.c
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o)

COLLECTOR_SRCS := collector/main.c collector/server.c collector/api.c \
	collector/store.c collector/db.c collector/db_sqlite.c \
	collector/db_pg.c collector/reportcheck.c collector/secret.c \
	collector/web.c
COLLECTOR_OBJS := $(COLLECTOR_SRCS:%.c=$(B)/obj/%.o)
# The dashboard's files, built into collectord by the assembler (.incbin).
WEB_FILES := collector/web/index.html collector/web/app.js \
	collector/web/app.css collector/web/icon.svg
$(B)/obj/collector/web.o: $(WEB_FILES)
COLLECTOR_PKGS := libmicrohttpd sqlite3 libpq libcrypt
COLLECTOR_CFLAGS = $(shell pkg-config --cflags $(COLLECTOR_PKGS))
COLLECTOR_LIBS = $(shell pkg-config --libs $(COLLECTOR_PKGS)) -lpthread

# The uploader and endpointctl talk to the collector; endpointd links no
# network library at all.
UPLOAD_PKGS := libcurl
UPLOAD_CFLAGS = $(shell pkg-config --cflags $(UPLOAD_PKGS))
UPLOAD_LIBS = $(shell pkg-config --libs $(UPLOAD_PKGS))

TESTS := $(patsubst tests/%.c,$(B)/tests/%,$(wildcard tests/test_*.c))
PROGRAMS := $(B)/endpointd $(B)/endpointctl $(B)/collectord \
	$(B)/endpointd-upload $(B)/endpoint-notify

.PHONY: all deps check check-sanitize bench run install clean
# Test objects are intermediate files; keep them for incremental builds.
.SECONDARY:
all: $(PROGRAMS)

# Runs installer/deps.sh once, and again whenever it changes.
$(B)/.deps-ok: installer/deps.sh
	@mkdir -p $(B)
	sh installer/deps.sh
	@touch $@
deps: $(B)/.deps-ok

$(B)/obj/%.o: %.c | $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(PKG_CFLAGS) $(TEST_CFLAGS) \
		$(COLLECTOR_CFLAGS) $(UPLOAD_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libendpointd.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(B)/endpointd: $(B)/obj/endpointd/main.o $(B)/libendpointd.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/endpointctl: $(B)/obj/endpointctl/endpointctl.o $(B)/obj/uploader/http.o \
		$(B)/libendpointd.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(UPLOAD_LIBS)

$(B)/endpointd-upload: $(B)/obj/uploader/upload.o $(B)/obj/uploader/http.o \
		$(B)/libendpointd.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(UPLOAD_LIBS)

# A member of staff's desktop warnings: sd-bus on the session bus.
$(B)/endpoint-notify: $(B)/obj/notify/notify.o $(B)/libendpointd.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/collectord: $(COLLECTOR_OBJS) $(B)/libendpointd.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(COLLECTOR_LIBS) $(PKG_LIBS)

$(B)/tests/%: $(B)/obj/tests/%.o $(B)/obj/tests/testutil.o $(B)/libendpointd.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS)

# Every unit test binary, then every system test script; a summary line
# "N passed, N failed" closes the run.
check: $(PROGRAMS) $(TESTS)
	sh tests/run.sh $(B)

# Benchmarks: figures, never pass/fail (see docs/performance.md).
BENCHES := $(patsubst bench/%.c,$(B)/bench/%,$(wildcard bench/*.c))
$(B)/bench/%: $(B)/obj/bench/%.o $(B)/libendpointd.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

bench: $(PROGRAMS) $(BENCHES)
	sh installer/deps.sh bench
	sh bench/run.sh $(B)

check-sanitize:
	$(MAKE) B=build/sanitize SANITIZE=1 CFLAGS="-O1 -g" check

run: $(PROGRAMS)
	@sh tools/run-local.sh $(B)

install: $(PROGRAMS)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
		$(DESTDIR)$(SYSCONFDIR)/endpointd \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(B)/endpointd $(DESTDIR)$(SBINDIR)/endpointd
	install -m 0755 $(B)/collectord $(DESTDIR)$(SBINDIR)/collectord
	install -m 0755 $(B)/endpointctl $(DESTDIR)$(BINDIR)/endpointctl
	install -m 0755 $(B)/endpoint-notify $(DESTDIR)$(BINDIR)/endpoint-notify
	install -d $(DESTDIR)$(SYSCONFDIR)/xdg/autostart
	install -m 0644 notify/endpoint-notify.desktop \
		$(DESTDIR)$(SYSCONFDIR)/xdg/autostart/endpoint-notify.desktop
	install -m 0644 docs/endpoint-notify.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0755 $(B)/endpointd-upload $(DESTDIR)$(SBINDIR)/endpointd-upload
	install -m 0644 policy.ini $(DESTDIR)$(SYSCONFDIR)/endpointd/policy.ini
	install -m 0644 docs/endpointctl.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 docs/endpointd-policy.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 docs/endpointd.8 docs/endpointd-upload.8 docs/collectord.8 \
		$(DESTDIR)$(MANDIR)/man8/

clean:
	rm -rf build

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
