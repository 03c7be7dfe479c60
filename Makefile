# qedfs — the front door. `make test` is what CI runs (after .ci/run installs the system packages).
SHELL := /bin/bash
MVN ?= mvn -B -q
JAR := fuse/target/qedfs.jar
PREFIX ?= /usr/local
DEBIAN_PACKAGES := libfuse2 fuse3 qemu-utils qemu-system-common e2fsprogs fdisk fio
DEBIAN_TOOLS := /usr/lib/x86_64-linux-gnu/libfuse.so.2:libfuse2 /usr/bin/fusermount3:fuse3 /usr/bin/qemu-img:qemu-utils \
	/usr/bin/qemu-storage-daemon:qemu-system-common /sbin/mkfs.ext4:e2fsprogs /sbin/sfdisk:fdisk /usr/bin/fio:fio

.PHONY: all deps build test test-long demo install uninstall bench bench-convert clean images

all: build

## deps: install the system packages the tests and the mount need (apt-get, only what is missing)
deps:
	@missing=""; for pair in $(DEBIAN_TOOLS); do f=$${pair%%:*}; p=$${pair##*:}; \
	  [ -e "$$f" ] || [ -e "/usr$$f" ] || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	else echo "system packages present: $(DEBIAN_PACKAGES)"; fi

## build: the runnable jar, fuse/target/qedfs.jar (java -jar fuse/target/qedfs.jar --help)
build:
	$(MVN) package -DskipTests
	@ls -l $(JAR)

## test: every unit, engine, conformance (qemu-img as oracle) and CLI test
test:
	$(MVN) verify

## test-long: the same with much longer random runs (crash points, corruptions, kill -9 rounds, mutations)
test-long:
	$(MVN) verify -Dqedfs.ops=20000 -Dqedfs.crashPoints=20000 -Dqedfs.checkRounds=2000 -Dqedfs.crashRounds=25 \
	  -Dqedfs.mutations=20000

## demo: the main job on a built-in example (installs what is missing, builds, mounts an ext4 guest)
demo: deps build
	examples/demo.sh

## install: a `qedfs` launcher on the PATH ($(PREFIX)/bin) with the jar in $(PREFIX)/lib/qedfs
install: build
	install -d $(DESTDIR)$(PREFIX)/lib/qedfs $(DESTDIR)$(PREFIX)/bin
	install -m 0644 $(JAR) $(DESTDIR)$(PREFIX)/lib/qedfs/qedfs.jar
	printf '#!/bin/sh\nexec java $${QEDFS_JAVA_OPTS:-} -jar %s/lib/qedfs/qedfs.jar "$$@"\n' "$(PREFIX)" > $(DESTDIR)$(PREFIX)/bin/qedfs
	chmod 0755 $(DESTDIR)$(PREFIX)/bin/qedfs
	@echo "installed $(PREFIX)/bin/qedfs"

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/qedfs
	rm -rf $(DESTDIR)$(PREFIX)/lib/qedfs

## bench: qedfs mount vs qemu-storage-daemon's FUSE export, same workloads, alternating rounds (root; not a test).
## Writes bench/RESULTS.md. Smaller: make bench BENCH_ARGS=--quick, or SIZE_MB=, ROUNDS=, FIO_SECONDS= (see the script)
bench: build
	bench/mount-bench.sh $(BENCH_ARGS)

## bench-convert: qedfs convert vs qemu-img convert on a 2 GiB fully written image (not a test)
bench-convert: build
	bench/convert-bench.sh

## images: regenerate test-images/ with qemu-img/qemu-io
images:
	test-images/make-images.sh

clean:
	$(MVN) clean
