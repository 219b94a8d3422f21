# Builds libsypht (libsypht.so, libsypht.a and include/sypht.h), builds and
# runs the C example against the local emulator, runs the tests and installs
# the library.
#
#   make                 build the release library; regenerates the header
#   make demo            extract examples/sample/invoice.pdf via the emulator
#   make test            run every test: Rust, C, sanitizers, bindings,
#                        packaging and a short fuzz run
#   make install         install into PREFIX (default /usr/local); DESTDIR
#                        is prepended for staged installs
#   make header          regenerate include/sypht.h
#   make bench           benchmarks against the official Python client;
#                        writes BENCHMARKS.md (not part of make test)
#   make clean           remove build output

CARGO ?= cargo
CC ?= cc
CFLAGS ?= -O2 -g
PREFIX ?= /usr/local
DESTDIR ?=

RELEASE_DIR := target/release
SHARED_LIB := $(RELEASE_DIR)/libsypht.so
STATIC_LIB := $(RELEASE_DIR)/libsypht.a
EMULATOR := $(RELEASE_DIR)/sypht-emulator
HEADER := include/sypht.h
BUILD_DIR := build

EXAMPLE_SOURCE := examples/c/extract.c
EXAMPLE_CFLAGS := -std=c11 -Wall -Wextra -Werror -pedantic -Iinclude
EXAMPLE_SHARED := $(BUILD_DIR)/extract-shared
EXAMPLE_STATIC := $(BUILD_DIR)/extract-static
SAMPLE_INVOICE := examples/sample/invoice.pdf

# System libraries that libsypht.a needs, as printed for x86_64 Linux by
# `cargo rustc --release --lib --crate-type staticlib -- --print
# native-static-libs` with Rust 1.95. Rerun that command after a change of
# toolchain, target or dependencies.
NATIVE_STATIC_LIBS := -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc

.PHONY: all lib emulator examples demo test install header clean

all: lib

# Cargo decides what is out of date, so these targets always call it. The
# build script regenerates include/sypht.h when it differs, unless CI or
# SYPHT_NO_HEADER_WRITE is set.
lib:
	$(CARGO) build --release -p sypht

emulator:
	$(CARGO) build --release -p sypht-emulator --bin sypht-emulator

# Both programs are relinked on every run, because `lib` is phony and make
# cannot tell whether Cargo rebuilt the library.
examples: lib
	mkdir -p $(BUILD_DIR)
	$(CC) $(EXAMPLE_CFLAGS) $(CFLAGS) $(EXAMPLE_SOURCE) \
	  -L$(RELEASE_DIR) -lsypht -Wl,-rpath,$(abspath $(RELEASE_DIR)) \
	  -o $(EXAMPLE_SHARED)
	$(CC) $(EXAMPLE_CFLAGS) $(CFLAGS) $(EXAMPLE_SOURCE) \
	  $(STATIC_LIB) $(NATIVE_STATIC_LIBS) -o $(EXAMPLE_STATIC)

demo: examples emulator
	examples/run-demo.sh $(EMULATOR) $(EXAMPLE_SHARED) $(SAMPLE_INVOICE)

# Every test: the Rust suites (which also build and run the C example, the
# C-ABI checks and the header check), the panic hook, the sanitizer and
# Valgrind runs, the Go, C++ and Python bindings, the packaging checks, and
# a short fuzz run of FUZZ_SECONDS in total.
FUZZ_SECONDS ?= 60

test:
	$(CARGO) test --workspace --release
	$(CARGO) test --release -p sypht --features test-panic --test c_abi_hardening
	tests/sanitize/run.sh
	$(MAKE) test-bindings
	fuzz/run-short.sh $(FUZZ_SECONDS)

# Installs the shared library with its soname links, the static library,
# sypht.h, sypht.hpp and sypht.pc.
install: install-package

# Copies the header that the build script generated into OUT_DIR, so this
# works even where CI or SYPHT_NO_HEADER_WRITE keeps the build from writing
# include/sypht.h. OUT_DIR is the newest target/release/build/sypht-*/out.
header: lib
	@generated=$$(ls -t $(RELEASE_DIR)/build/sypht-*/out/sypht.h | head -n 1); \
	if cmp -s "$$generated" $(HEADER); then \
	  echo "$(HEADER) is up to date"; \
	else \
	  cp "$$generated" $(HEADER) && echo "updated $(HEADER) from $$generated"; \
	fi

clean:
	$(CARGO) clean
	rm -rf $(BUILD_DIR)

include mk/bindings.mk
include mk/bench.mk
