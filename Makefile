# xdpmux build. `make` builds everything; `make V=1` shows full commands.
# Sources are discovered by directory, so adding a file needs no edit here:
#   bpf/*.bpf.c              -> build/bpf/*.bpf.o + build/include/*.skel.h
#   user/lib/**.c            -> build/libxdpmux.a, build/libxdpmux.so.$(SOVER)
#   user/cli/*.c             -> build/xdpmux
#   user/daemon/*.c          -> build/xdpmuxd (the device daemon)
#   user/preload/*.c         -> build/libxdpmux-preload.so (with user/lib)
#   user/examples/NAME/*.c   -> build/NAME (with user/examples/common/*.c)
#   tests/unit/test_*.c      -> build/tests/test_* (Criterion; tests/unit/lib/*.c shared)
#   tests/tools/*.c          -> build/tools/* (what the selftests drive)
#   bench/*.c                -> build/bench/*
#   tests/fuzz/fuzz_*.c      -> build/fuzz/fuzz_* (`make fuzz`: clang, libFuzzer)
#   man/NAME.N.scd           -> build/man/NAME.N (scdoc)

VERSION   := 0.1.0
SOVER     := 0
PREFIX    ?= /usr/local
LIBDIR    ?= $(PREFIX)/lib
MANDIR    ?= $(PREFIX)/share/man
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
DESTDIR   ?=
BUILD     ?= build

CC        ?= gcc
CLANG     ?= clang
BPFTOOL   ?= bpftool
PKGCONFIG ?= pkg-config

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)"
endif

DEPLIBS   := libbpf libxdp libmnl
CFLAGS    ?= -O2 -g
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -fPIC -pthread \
             -Iinclude -I$(BUILD)/include -DXM_VERSION='"$(VERSION)"' \
             -DXM_PRELOAD_DIR='"$(PREFIX)/lib/xdpmux"' \
             $(shell $(PKGCONFIG) --cflags $(DEPLIBS))
override LDLIBS += $(shell $(PKGCONFIG) --libs $(DEPLIBS)) -lelf -lz -pthread
ifeq ($(SAN),1)
override CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
override LDFLAGS += -fsanitize=address,undefined
endif

BPF_CFLAGS := -target bpf -O2 -g -D__bpf__ -Wall -Werror -Ivmlinux -Iinclude \
              -D__TARGET_ARCH_x86

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS     := $(patsubst bpf/%.bpf.c,$(BUILD)/include/%.skel.h,$(BPF_SRCS))

LIB_SRCS  := $(shell find user/lib -name '*.c' 2>/dev/null | sort)
LIB_OBJS  := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
LIB_A     := $(BUILD)/libxdpmux.a
LIB_SO    := $(BUILD)/libxdpmux.so.$(SOVER)

CLI_SRCS  := $(wildcard user/cli/*.c)
CLI_OBJS  := $(patsubst %.c,$(BUILD)/obj/%.o,$(CLI_SRCS))
CLI       := $(BUILD)/xdpmux

DAEMON_SRCS := $(wildcard user/daemon/*.c)
DAEMON_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(DAEMON_SRCS))
DAEMON      := $(BUILD)/xdpmuxd

# `xdpmux run`'s preloaded library: the runtime's objects (all -fPIC) and
# the interposers, one shared object with no dependency on libxdpmux.so.
# It goes into programs we did not build, so it is never built with the
# sanitizers (their runtime must load before everything else): under
# SAN=1 its objects are compiled a second time without them.
PRELOAD_SRCS := $(wildcard user/preload/*.c)
PRELOAD_SO   := $(BUILD)/libxdpmux-preload.so
ifeq ($(SAN),1)
PRELOAD_OBJS := $(patsubst %.c,$(BUILD)/obj-plain/%.o,$(PRELOAD_SRCS) $(LIB_SRCS))
else
PRELOAD_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(PRELOAD_SRCS)) $(LIB_OBJS)
endif

# user/examples/common/ is not an example: its code is linked into each.
EXAMPLES  := $(filter-out common,$(notdir $(wildcard user/examples/*)))
EXAMPLE_COMMON_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard user/examples/common/*.c))
EXAMPLE_BINS := $(addprefix $(BUILD)/,$(EXAMPLES))

TEST_LIB_SRCS := $(wildcard tests/unit/lib/*.c)
TEST_LIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(TEST_LIB_SRCS))
TEST_SRCS := $(wildcard tests/unit/test_*.c)
TEST_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRCS))

# Tools the selftests drive (tests/tools/*.c -> build/tools/*): the flood
# sender, which crafts frames with the test frame builder (linked into each),
# and the TCP test stream's source and checker.
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRCS))

BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

PUBLIC_HEADERS := $(wildcard include/xdpmux/*.h)

# Man pages, written in scdoc's markup and rendered to roff at build time.
SCDOC     ?= scdoc
MAN_SRCS  := $(wildcard man/*.scd)
MAN_PAGES := $(patsubst man/%.scd,$(BUILD)/man/%,$(MAN_SRCS))

.SECONDARY:
.PHONY: all clean test unit selftest bench vmtest vmlinux install fuzz check demo
all: $(SKELS) $(LIB_A) $(LIB_SO) $(CLI) $(DAEMON) $(PRELOAD_SO) $(EXAMPLE_BINS) $(TEST_BINS) $(TOOL_BINS) $(BENCH_BINS)

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(wildcard include/xdpmux/*.h) vmlinux/vmlinux.h
	@mkdir -p $(@D)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/include/%.skel.h: $(BUILD)/bpf/%.bpf.o
	@mkdir -p $(@D)
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst .,_,$*) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/%.o: %.c $(SKELS)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

all: $(MAN_PAGES)
.PHONY: install-targets deb bench-plot bench-plot-doc

$(BUILD)/man/%: man/%.scd
	@mkdir -p $(@D)
	$(call msg,SCDOC,$@)
	$(Q)$(SCDOC) < $< > $@.tmp && mv $@.tmp $@

$(LIB_A): $(LIB_OBJS)
	@mkdir -p $(@D)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIB_SO): $(LIB_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) -shared -Wl,-soname,libxdpmux.so.$(SOVER) $(LDFLAGS) -o $@ $^ $(LDLIBS)
	$(Q)ln -sf libxdpmux.so.$(SOVER) $(BUILD)/libxdpmux.so

$(CLI): $(CLI_OBJS) $(LIB_A)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(LIB_A) $(LDLIBS)

$(DAEMON): $(DAEMON_OBJS) $(LIB_A)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(DAEMON_OBJS) $(LIB_A) $(LDLIBS)

$(PRELOAD_SO): $(PRELOAD_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) -shared $(filter-out -fsanitize=%,$(LDFLAGS)) -o $@ $^ $(LDLIBS) -ldl

$(BUILD)/obj-plain/%.o: %.c $(SKELS)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(filter-out -fsanitize=% -fno-sanitize-recover=%,$(CFLAGS)) -MMD -MP -c $< -o $@

define example_rule
$(BUILD)/$(1): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard user/examples/$(1)/*.c)) \
		$(EXAMPLE_COMMON_OBJS) $(LIB_A)
	$$(call msg,LD,$$@)
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $(LIB_A) $$(LDLIBS)
endef
$(foreach e,$(EXAMPLES),$(eval $(call example_rule,$(e))))

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(TEST_LIB_OBJS) $(LIB_A)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(TEST_LIB_OBJS) $(LIB_A) $(LDLIBS) -lcriterion

$(BUILD)/tools/%: $(BUILD)/obj/tests/tools/%.o $(BUILD)/obj/tests/unit/lib/frame.o
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIB_A)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(LIB_A) $(LDLIBS) -lm

# libFuzzer harnesses: each is built by clang with the runtime's sources
# (all of user/lib, instrumented: ASan, UBSan, fuzzer coverage) and the test
# helpers it needs; tests/fuzz/run.sh replays the seed corpus
# (tests/fuzz/corpus/NAME/) and fuzzes each for FUZZ_SECONDS (0: replay
# only). The TCP options harness needs the runtime's TCP.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= $(CLANG)
FUZZ_BUILD   := $(BUILD)/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := $(filter-out -O% -g -fsanitize=%,$(CFLAGS)) -g -O1 \
                -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $(FUZZ_SAN) \
                -Wno-sign-compare  # clang flags NLMSG_OK (linux/netlink.h)
FUZZ_SUPPORT := tests/fuzz/fuzz_env.c tests/unit/lib/xdp_harness.c tests/unit/lib/xdp_diff.c
FUZZ_SRCS    := $(filter-out $(FUZZ_SUPPORT),$(wildcard tests/fuzz/fuzz_*.c))
ifeq ($(wildcard user/lib/tcp/options.c),)
FUZZ_SRCS    := $(filter-out tests/fuzz/fuzz_tcp_options.c,$(FUZZ_SRCS))
endif
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(FUZZ_SRCS))
FUZZ_OBJS    := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(LIB_SRCS) $(FUZZ_SUPPORT))

$(FUZZ_BUILD)/obj/%.o: %.c $(SKELS)
	@mkdir -p $(@D)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o $(FUZZ_OBJS)
	$(call msg,FUZZ-LD,$@)
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< $(FUZZ_OBJS) $(LDLIBS)

fuzz: $(FUZZ_BINS)
	$(Q)tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_BINS)

# Unit tests (Criterion) then the namespace selftests; both need root for
# BPF_PROG_TEST_RUN and netns.
test: all
	$(Q)scripts/run-tests.sh $(BUILD)

unit: all
	$(Q)scripts/run-tests.sh $(BUILD) unit

selftest: all
	$(Q)scripts/run-tests.sh $(BUILD) selftest

bench: all
	$(Q)bench/run.sh $(BUILD) $(if $(QUICK),--quick)

# The chart of the last bench run (bench/plot.sh; make bench draws it too),
# and a copy of it kept in git for the README: nothing else generated is
# committed, so the copy is made on purpose, after a run worth showing.
bench-plot:
	$(Q)bench/plot.sh $(BUILD)

bench-plot-doc: bench-plot
	$(Q)mkdir -p docs && cp $(BUILD)/bench.svg docs/bench.svg
	@echo "docs/bench.svg: from $(BUILD)/bench.json of $$(date -u -r $(BUILD)/bench.json '+%F %H:%M UTC')"

# Everything CI runs: the tests on this kernel, the same tests built with
# ASan/UBSan (leaks are errors) in their own build dir, a short run of every
# fuzzer after replaying its corpus, then the selftests in a VM on another
# kernel. CHECK_FUZZ_SECONDS bounds each fuzzer; the sanitizer run moves
# 64 MiB per TCP selftest transfer rather than 1 GiB (XM_TCP_MIB).
CHECK_FUZZ_SECONDS ?= 20
check: all
	$(Q)$(MAKE) --no-print-directory test
	$(Q)XM_TCP_MIB=$${XM_TCP_MIB:-64} $(MAKE) --no-print-directory SAN=1 BUILD=$(BUILD)-san test
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS)
	$(Q)$(MAKE) --no-print-directory vmtest

demo: all
	$(Q)scripts/demo.sh

vmtest: all
	$(Q)scripts/vmtest.sh --build $(BUILD) $(if $(KERNEL),--kernel $(KERNEL))

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h

# What `make install` (and so the Debian package, `make deb`) ships; the
# daemon and the preload library when this tree builds them. The unit file
# gets the install's sbin path.
# (DAEMON and PRELOAD_SO are empty in a tree without them.)
INSTALL_BINS := $(LIB_A) $(LIB_SO) $(CLI) $(EXAMPLE_BINS) $(MAN_PAGES) \
                $(BUILD)/xdpmuxd@.service $(DAEMON) $(PRELOAD_SO)
$(BUILD)/xdpmuxd@.service: dist/xdpmuxd@.service.in
	@mkdir -p $(@D)
	$(Q)sed -e 's|@SBINDIR@|$(PREFIX)/sbin|g' $< > $@

install-targets: $(INSTALL_BINS)

install: install-targets
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(PREFIX)/include/xdpmux $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(PREFIX)/share/doc/xdpmux/examples
	install -m 0755 $(CLI) $(EXAMPLE_BINS) $(DESTDIR)$(PREFIX)/bin/
	if [ -x $(BUILD)/xdpmuxd ]; then \
		install -d $(DESTDIR)$(PREFIX)/sbin && \
		install -m 0755 $(BUILD)/xdpmuxd $(DESTDIR)$(PREFIX)/sbin/; fi
	if [ -f $(BUILD)/libxdpmux-preload.so ]; then \
		install -d $(DESTDIR)$(PREFIX)/lib/xdpmux && \
		install -m 0644 $(BUILD)/libxdpmux-preload.so $(DESTDIR)$(PREFIX)/lib/xdpmux/; fi
	install -m 0644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	install -m 0644 $(LIB_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf libxdpmux.so.$(SOVER) $(DESTDIR)$(LIBDIR)/libxdpmux.so
	install -m 0644 $(PUBLIC_HEADERS) $(DESTDIR)$(PREFIX)/include/xdpmux/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
		-e 's|@VERSION@|$(VERSION)|g' \
		scripts/xdpmux.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/xdpmux.pc
	install -m 0644 $(filter %.3,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man3/
	install -m 0644 $(filter %.8,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 completion/xdpmux.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/xdpmux
	install -m 0644 $(BUILD)/xdpmuxd@.service $(DESTDIR)$(SYSTEMDUNITDIR)/
	install -m 0644 dist/example.policy $(DESTDIR)$(PREFIX)/share/doc/xdpmux/examples/

# Debian packages (debian/, debhelper) into $(BUILD)/deb/: built from a copy
# of the tree (git's files, committed or not) so that debhelper's work files
# stay out of it. Without this make's variables (SAN=1 included, which
# would build the packages with the sanitizers): a BUILD= given here would
# reach debian/rules' own make (its clean would remove this build).
DEB_SRC := $(BUILD)/deb/src/xdpmux-$(VERSION)
deb:
	rm -rf $(BUILD)/deb && mkdir -p $(DEB_SRC)
	git ls-files -z --cached --others --exclude-standard | \
		xargs -0 sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' _ | \
		tar -c --null -T - | tar -x -C $(DEB_SRC)
	cd $(DEB_SRC) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES -u SAN -u BUILD \
		dpkg-buildpackage -b -us -uc -j2 >../build.log 2>&1 || \
		{ tail -n 40 ../build.log; exit 1; }
	mv $(BUILD)/deb/src/*.deb $(BUILD)/deb/
	@ls -1 $(BUILD)/deb/*.deb

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj $(BUILD)/obj-plain -name '*.d' 2>/dev/null)
