# husk — build, test, demo. `make help` lists the targets.
CC      ?= gcc
PREFIX  ?= /usr/local
SAN     ?= 0
FAULTS  ?= 0
V       ?= 0

PKGS    := libseccomp libcap libnl-3.0 libnl-route-3.0 yajl libarchive libcrypto
VARIANT := $(if $(filter 1,$(SAN)),san,release)$(if $(filter 1,$(FAULTS)),-faults)
B       := build/$(VARIANT)

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# What every `husk run` maps and relocates matters (startup time, peak RSS):
# libarchive is linked statically (only the formats and filters images/
# uses are pulled in; its shared library drags libxml2, ICU, libstdc++,
# nettle, ... into every process) and libcrypto is loaded on first use
# (common/lazycrypto.c), so neither is loaded on the container lifecycle path.
# Tests and tools link the shared libraries (PKG_LIBS).
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
HUSK_LIBS  = $(shell pkg-config --libs $(filter-out libarchive libcrypto libnl-3.0 libnl-route-3.0,$(PKGS)) 2>/dev/null) \
             -Wl,-Bstatic -larchive -lnl-route-3 -lnl-3 -Wl,-Bdynamic -lz -l:libzstd.so.1 -lpthread

CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -fno-strict-aliasing \
           -fstack-protector-strong -D_FORTIFY_SOURCE=2 -MMD -MP
ifeq ($(SAN),1)
CFLAGS  += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -U_FORTIFY_SOURCE
LDFLAGS += -fsanitize=address,undefined
endif
# FAULTS=1: the fault-injection variant (runtime/fault.h), never installed.
ifeq ($(FAULTS),1)
CFLAGS  += -DHUSK_FAULTS
endif
HUSK_VERSION := $(shell cat VERSION 2>/dev/null || echo 0.1.0)
GIT_COMMIT   := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
CFLAGS  += -DHUSK_VERSION='"$(HUSK_VERSION)"' -DHUSK_COMMIT='"$(GIT_COMMIT)"'

# Every folder with library code; runtime/main.c is the program.
LIB_DIRS := common spec namespaces cgroups seccomp images net runtime vm
LIB_SRCS := $(filter-out runtime/main.c,$(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c)))
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
UNIT_SRCS := $(wildcard tests/unit/*.c)
INTEG_SRCS := $(wildcard tests/integration/*.c)

PROBE := build/compare/husk-probe

ifeq ($(V),0)
Q := @
endif

.PHONY: FORCE all deps check unit integration demo install bench bench-seccomp clean help rootfs image-busybox bench-images vm-kernel vm-agent vm-tools vm-guest bench-vm

all: husk image-busybox $(PROBE)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC    $<")
	$(Q)$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

# Rebuilt when a source file is added or removed, not only changed.
$(B)/sources.list: FORCE
	@mkdir -p $(B)
	@echo '$(LIB_SRCS)' | cmp -s - $@ || echo '$(LIB_SRCS)' > $@

$(B)/libhusk.a: $(LIB_OBJS) $(B)/sources.list
	$(Q)rm -f $@ && ar rcs $@ $(LIB_OBJS)

$(B)/husk: $(B)/runtime/main.o $(B)/libhusk.a
	$(if $(Q),@echo "  LD    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(HUSK_LIBS) -lm

# ./husk is the variant last built (release or SAN=1).
husk: $(B)/husk
	$(Q)cp -f $< $@.tmp && mv -f $@.tmp $@

$(B)/unit-tests: $(UNIT_SRCS:%.c=$(B)/%.o) $(B)/libhusk.a
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcriterion

$(B)/integration-tests: $(INTEG_SRCS:%.c=$(B)/%.o) $(B)/libhusk.a
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcriterion

# The cgroup v2 enforcement proof, run as root inside a pure-v2 VM.
.PHONY: cgroups-vm
# tests/cgroups-vm/suite.sh runs real containers with limits in the VM;
# tests/integration/test_cgroups_vm.c boots the VM once and checks its report.
CGVM_BINS := $(B)/cgroups-vm/enforce $(B)/cgroups-vm/cgupdate
cgroups-vm: $(CGVM_BINS)
.PRECIOUS: $(B)/tests/cgroups-vm/%.o
$(B)/cgroups-vm/%: $(B)/tests/cgroups-vm/%.o $(B)/libhusk.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# husk compare's probe: static, runs in any rootfs and in the VM.
$(PROBE): compare/probe.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -static -O2 -std=gnu11 -Wall -Wextra -Werror -o $@ $<

# A busybox root filesystem from Debian's busybox-static (offline).
rootfs: build/rootfs/bin/busybox
build/rootfs/bin/busybox: tests/fixtures/make-rootfs.sh
	$(Q)sh tests/fixtures/make-rootfs.sh build/rootfs

# The built-in busybox image (OCI layout, offline) imported as `busybox`.
STORAGE ?= /var/lib/husk
build/busybox-oci/index.json: images/make-busybox-layout.sh tests/fixtures/make-rootfs.sh
	$(Q)sh images/make-busybox-layout.sh build/busybox-oci
$(B)/husk-image: $(B)/tests/images/husk-image.o $(B)/libhusk.a
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
image-busybox: build/busybox-oci/index.json husk
	$(Q)if [ "$$(id -u)" = 0 ]; then ./husk --storage $(STORAGE) image import --name busybox build/busybox-oci >/dev/null; \
	else echo "image-busybox: not root, busybox not imported into $(STORAGE)"; fi
bench-images: $(B)/husk-image
	$(Q)sh bench/images.sh $(B)/husk-image
# VM mode: a Debian kernel fetched with apt-get download + dpkg -x (never installed).
HUSK_DATA_DIR ?= /var/lib/husk
vm-kernel:
	$(Q)sh vm/fetch-kernel.sh $(HUSK_DATA_DIR)

# The guest agent: PID 1 of the VM initramfs, static, never sanitized.
AGENT := build/vm/husk-agent
AGENT_SRCS := $(wildcard vm/agent/*.c) vm/proto.c
$(AGENT): $(AGENT_SRCS) $(wildcard vm/agent/*.h) vm/proto.h
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  AGENT $@")
	$(Q)$(CC) -static -s -O2 -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $(AGENT_SRCS)
vm-agent: $(AGENT)

# The guest half of VM mode: husk linked statically, /husk in the initramfs
# (runtime/vm_guest.c); never sanitized; stripped (-s), as the agent: the
# kernel unpacks every byte of the initramfs at each boot (~1.8 MB less).
GUEST := build/vm/husk-guest
STATIC_LIBS = $(shell pkg-config --static --libs $(PKGS) 2>/dev/null | sed 's/-lyajl /-lyajl_s /') -lm
ifeq ($(SAN),1)
$(GUEST): FORCE
	$(Q)$(MAKE) --no-print-directory SAN=0 $(GUEST)
else
$(GUEST): $(B)/runtime/main.o $(B)/libhusk.a
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  GUEST $@")
	$(Q)$(CC) -static -s -o $@ $^ $(STATIC_LIBS) 2>&1 | grep -v 'statically linked applications\|in function' >&2 || true
	$(Q)test -x $@
endif
vm-guest: $(GUEST)

# vmrun: boot the VM and run one command (tests/vm/run-in-vm.sh uses it).
$(B)/vmrun: $(B)/tests/vm/vmrun.o $(B)/libhusk.a
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
vm-tools: $(AGENT) $(B)/vmrun

# libFuzzer harnesses (tests/fuzz/fuzz_*.c) over the library compiled with
# clang; seeds in tests/fuzz/corpus/<harness>/, new inputs in build/fuzz/.
# make fuzz FUZZ_SECONDS=N runs each harness N seconds (CI: 60).
FUZZ_SECONDS ?= 10
FUZZ_CC      ?= clang
FUZZ_B       := build/fuzz
FUZZ_CFLAGS  := -g -O1 -std=gnu11 -D_GNU_SOURCE -fno-omit-frame-pointer \
                -fsanitize=fuzzer-no-link,address,undefined -DHUSK_VERSION='"fuzz"' -DHUSK_COMMIT='"fuzz"'
FUZZ_NAMES   := $(basename $(notdir $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_LIBOBJS := $(LIB_SRCS:%.c=$(FUZZ_B)/obj/%.o)
$(FUZZ_B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -c $< -o $@
$(FUZZ_B)/libhusk-fuzz.a: $(FUZZ_LIBOBJS)
	$(Q)rm -f $@ && ar rcs $@ $^
$(FUZZ_B)/%: tests/fuzz/%.c $(FUZZ_B)/libhusk-fuzz.a
	$(if $(Q),@echo "  FUZZ  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(PKG_CFLAGS) -o $@ $< $(FUZZ_B)/libhusk-fuzz.a $(PKG_LIBS)
.PHONY: fuzz fuzz-build fuzz-regress
fuzz-build: $(FUZZ_NAMES:%=$(FUZZ_B)/%)
fuzz: fuzz-build
	$(Q)set -e; for h in $(FUZZ_NAMES); do \
		echo "fuzz: $$h for $(FUZZ_SECONDS) s"; mkdir -p $(FUZZ_B)/corpus/$$h; \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp $(FUZZ_B)/$$h -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
			-artifact_prefix=$(FUZZ_B)/$$h- -print_final_stats=0 \
			$(FUZZ_B)/corpus/$$h tests/fuzz/corpus/$$h 2>$(FUZZ_B)/$$h.log \
			|| { tail -50 $(FUZZ_B)/$$h.log; exit 1; }; \
	done
# Every seed and every regression input (crashes found become seeds) once.
fuzz-regress: fuzz-build
	$(Q)set -e; for h in $(FUZZ_NAMES); do \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp $(FUZZ_B)/$$h -runs=0 tests/fuzz/corpus/$$h 2>$(FUZZ_B)/$$h.regress.log \
			|| { tail -50 $(FUZZ_B)/$$h.regress.log; exit 1; }; \
	done

deps:
	$(Q)sh .ci/deps

# Tests run as root. The VM tests find the kernel in build/data (fetched by
# `make check`; they skip when it is missing).
TEST_ENV := HUSK=$(CURDIR)/husk HUSK_ROOTFS=$(CURDIR)/build/rootfs HUSK_DATA_DIR=$(CURDIR)/build/data \
            HUSK_REPO=$(CURDIR)
unit: husk $(B)/unit-tests
	$(Q)cd tests && $(TEST_ENV) ./run-suite.sh ../$(B)/unit-tests --jobs 2

# The fault-injection variant of husk (FAULTS=1) for tests/integration/
# test_faults.c and the race windows of test_cve.c.
FAULTS_HUSK := build/$(VARIANT)-faults/husk
.PHONY: husk-faults
husk-faults:
	$(Q)$(MAKE) --no-print-directory FAULTS=1 $(FAULTS_HUSK) build/$(VARIANT)-faults/husk-image

# HUSK_LONG=1: the long variants (1,000 lifecycles, longer races).
integration: husk rootfs $(PROBE) build/busybox-oci/index.json $(AGENT) $(GUEST) $(B)/vmrun $(CGVM_BINS) $(B)/integration-tests husk-faults
	$(Q)$(TEST_ENV) HUSK_FAULTS_BIN=$(CURDIR)/$(FAULTS_HUSK) \
		HUSK_IMAGE_FAULTS_BIN=$(CURDIR)/build/$(VARIANT)-faults/husk-image \
		HUSK_OCI_LAYOUT=$(CURDIR)/build/busybox-oci \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
		tests/run-suite.sh $(B)/integration-tests --jobs 2

build/data/kernel/current/vmlinux: vm/fetch-kernel.sh
	$(Q)sh vm/fetch-kernel.sh $(CURDIR)/build/data

# Real clients (containerd, podman+conmon), the replay of their recorded
# command lines (tests/clients/fixtures) and husk's drop-in commands.
# RECORD=1 rewrites the fixtures.
.PHONY: clients
clients: husk rootfs
	$(Q)RECORD=$(RECORD) HUSK=$(CURDIR)/husk HUSK_ROOTFS=$(CURDIR)/build/rootfs bash tests/clients/run.sh

# The README's test command: deps, build, every test.
check: deps
	$(Q)$(MAKE) --no-print-directory husk rootfs build/data/kernel/current/vmlinux
	$(Q)$(MAKE) --no-print-directory unit integration clients readme-examples hardening

# The README's examples of `husk run --image`, each run and checked, in a
# network namespace of their own (images get a bridge by default).
.PHONY: readme-examples
readme-examples: husk build/busybox-oci/index.json
	$(Q)unshare -n sh -c 'ip link set lo up && HUSK=$(CURDIR)/husk BUSYBOX_OCI=$(CURDIR)/build/busybox-oci \
		sh tests/frontdoor/readme_examples.sh'

# Fuzz seeds and regressions (needs clang) and the leak check (valgrind).
.PHONY: hardening valgrind
hardening: $(if $(shell command -v $(FUZZ_CC) 2>/dev/null),fuzz-regress) valgrind
# valgrind needs the unsanitized fault build; with SAN=1, ./husk adds LSan.
valgrind: husk rootfs
	$(Q)$(MAKE) --no-print-directory SAN=0 FAULTS=1 build/release-faults/husk
	$(Q)sh tests/valgrind.sh build/release-faults/husk build/rootfs $(if $(filter 1,$(SAN)),husk)

demo: deps
	$(Q)$(MAKE) --no-print-directory husk rootfs image-busybox $(PROBE) $(AGENT) $(GUEST)
	$(Q)sh vm/fetch-kernel.sh >/dev/null || echo "demo: no guest kernel (offline?): the VM steps are skipped"
	$(Q)sh tests/fixtures/demo.sh $(CURDIR)/husk $(CURDIR)/build

bench: deps
	$(Q)$(MAKE) --no-print-directory husk rootfs
	$(Q)sh bench/lifecycle.sh $(CURDIR)/husk $(CURDIR)/build/rootfs

# net: bridge vs none create/delete cost, inside a netns of its own.
bench-net: husk rootfs
	$(Q)sh bench/net.sh $(CURDIR)/husk $(CURDIR)/build/rootfs
# VM mode: husk run --vm against a bare QEMU boot, host memory per VM.
bench-vm: husk rootfs $(AGENT) $(GUEST)
	$(Q)HUSK_DATA_DIR=$(HUSK_DATA_DIR) python3 bench/vm.py $(CURDIR)/husk $(CURDIR)/build/rootfs

# Build time of the default seccomp profile's filter (bench/seccomp_build.c).
$(B)/bench/seccomp_build: $(B)/bench/seccomp_build.o $(B)/libhusk.a
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

bench-seccomp: $(B)/bench/seccomp_build
	$(Q)$(B)/bench/seccomp_build

# husk finds its companions in ../libexec/husk/ next to its bin/ (the guest
# agent and static husk for VM mode, the probe of husk compare).
install: husk $(PROBE) $(AGENT) $(GUEST)
	install -D -m 0755 husk $(DESTDIR)$(PREFIX)/bin/husk
	install -D -m 0755 $(AGENT) $(DESTDIR)$(PREFIX)/libexec/husk/husk-agent
	install -D -m 0755 $(GUEST) $(DESTDIR)$(PREFIX)/libexec/husk/husk-guest
	install -D -m 0755 $(PROBE) $(DESTDIR)$(PREFIX)/libexec/husk/husk-probe

clean:
	rm -rf build husk husk.tmp

help:
	@echo "make          build ./husk"
	@echo "make check    install deps, build, run every test (SAN=1: ASan+UBSan)"
	@echo "make fuzz     run each libFuzzer harness FUZZ_SECONDS (default 10; CI 60)"
	@echo "make valgrind leak check of husk's own process (tests/valgrind.sh)"
	@echo "HUSK_LONG=1   long load tests (1,000 lifecycles) in make integration"
	@echo "make demo     install deps, build, run a container"
	@echo "make bench    lifecycle benchmark against runc/crun"
	@echo "make bench-seccomp  default seccomp profile build time"
	@echo "make install  PREFIX=/usr/local"

-include $(shell find build -name '*.d' 2>/dev/null)
