# Install rule and binding tests of libsypht, for the top-level Makefile:
#
#   include mk/bindings.mk
#
# Targets:
#   install-package  PREFIX (default /usr/local), DESTDIR: libsypht.so with
#                    its soname links, libsypht.a, sypht.h, sypht.hpp and
#                    sypht.pc; a top-level `install` can depend on it
#   test-bindings    all of the following
#   test-go          Go binding tests with -race, shared then static
#   test-examples    C++, Go and Python extract examples against the emulator
#   test-packaging   install, pkg-config (shared and static) and CMake checks
#
# Tests need cc, c++, go, python3, pkg-config, cmake and readelf.

SYPHT_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)
CARGO ?= cargo
GO ?= go
PYTHON ?= python3
CXX ?= c++
PREFIX ?= /usr/local
SYPHT_PROFILE ?= release

SYPHT_TARGET_DIR := $(SYPHT_ROOT)/target
SYPHT_STAGE := $(SYPHT_TARGET_DIR)/bindings
SYPHT_STAGE_SHARED := $(SYPHT_STAGE)/shared
SYPHT_STAGE_STATIC := $(SYPHT_STAGE)/static
SYPHT_EMULATOR_BIN ?= $(SYPHT_TARGET_DIR)/release/sypht-emulator
export SYPHT_EMULATOR_BIN

# Flags to link against the staged shared library, found at run time
# through an rpath.
SYPHT_SHARED_LDFLAGS := -L$(SYPHT_STAGE_SHARED)/lib -Wl,-rpath,$(SYPHT_STAGE_SHARED)/lib

.PHONY: install-package test-bindings test-go test-examples test-packaging \
	bindings-stage bindings-emulator

install-package:
	$(SYPHT_ROOT)/mk/install.sh --profile $(SYPHT_PROFILE) --prefix $(PREFIX) \
		$(if $(DESTDIR),--destdir $(DESTDIR))

# Installs into target/bindings: shared/ holds both libraries, static/
# only libsypht.a, so that a static link cannot pick the .so.
bindings-stage:
	$(SYPHT_ROOT)/mk/install.sh --profile $(SYPHT_PROFILE) --prefix $(SYPHT_STAGE_SHARED) --libs both
	$(SYPHT_ROOT)/mk/install.sh --profile $(SYPHT_PROFILE) --prefix $(SYPHT_STAGE_STATIC) --libs static

bindings-emulator:
	cd $(SYPHT_ROOT) && $(CARGO) build --release -p sypht-emulator

test-bindings: test-go test-examples test-packaging

test-go: bindings-stage bindings-emulator
	cd $(SYPHT_ROOT)/bindings/go && CGO_LDFLAGS="$(SYPHT_SHARED_LDFLAGS)" \
		$(GO) test -race -count=1 ./...
	cd $(SYPHT_ROOT)/bindings/go && \
		flags="$$(PKG_CONFIG_PATH=$(SYPHT_STAGE_STATIC)/lib/pkgconfig pkg-config --static --libs sypht)" && \
		CGO_LDFLAGS="$$flags" $(GO) test -race -count=1 ./... && \
		CGO_LDFLAGS="$$flags" $(GO) test -race -c -o $(SYPHT_STAGE)/sypht-go-static.test . && \
		if readelf -d $(SYPHT_STAGE)/sypht-go-static.test | grep -q 'NEEDED.*libsypht'; then \
			echo "the static Go test binary needs libsypht.so" >&2; exit 1; fi

test-examples: bindings-stage bindings-emulator
	PKG_CONFIG_PATH=$(SYPHT_STAGE_SHARED)/lib/pkgconfig && export PKG_CONFIG_PATH && \
		$(CXX) -std=c++17 -Wall -Wextra -Werror $$(pkg-config --cflags sypht) \
		$(SYPHT_ROOT)/examples/cpp/extract.cpp -o $(SYPHT_STAGE)/extract-cpp \
		$$(pkg-config --libs sypht) -Wl,-rpath,$(SYPHT_STAGE_SHARED)/lib
	$(SYPHT_ROOT)/tests/bindings/check-extract.sh cpp $(SYPHT_STAGE)/extract-cpp
	cd $(SYPHT_ROOT)/examples/go && CGO_LDFLAGS="$(SYPHT_SHARED_LDFLAGS)" \
		$(GO) build -o $(SYPHT_STAGE)/extract-go .
	$(SYPHT_ROOT)/tests/bindings/check-extract.sh go $(SYPHT_STAGE)/extract-go
	SYPHT_LIB=$(SYPHT_STAGE_SHARED)/lib/libsypht.so.0 \
		$(SYPHT_ROOT)/tests/bindings/check-extract.sh python $(PYTHON) $(SYPHT_ROOT)/examples/python/extract.py

test-packaging: bindings-emulator
	$(SYPHT_ROOT)/tests/packaging/run.sh --profile $(SYPHT_PROFILE)
