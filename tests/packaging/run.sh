#!/bin/sh
# Installs libsypht into temporary prefixes and builds programs against
# the installed files only, as a user of the package would:
#
# - the soname, its links and the header's version macros;
# - a C program through `pkg-config --cflags --libs sypht` (shared);
# - the same program through `pkg-config --static` (static, from a prefix
#   that holds only libsypht.a, since a linker prefers the .so);
# - a CMake project using pkg_check_modules(... IMPORTED_TARGET sypht).
#
# Each program runs against sypht-emulator (SYPHT_EMULATOR_BIN). Prints
# one line per check, then "N passed, N failed".
#
#   tests/packaging/run.sh [--profile release|debug]

set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
profile=release
if [ "${1:-}" = --profile ]; then
  profile=$2
fi
. "$root/tests/bindings/emulator.sh"

work=$(mktemp -d)
trap 'stop_emulator; rm -rf "$work"' EXIT
cc=${CC:-cc}
sample=$root/examples/sample/invoice.pdf
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)

passed=0
failed=0
check() {
  description=$1
  shift
  if "$@" >"$work/log" 2>&1; then
    passed=$((passed + 1))
    echo "ok   packaging: $description"
  else
    failed=$((failed + 1))
    echo "FAIL packaging: $description"
    sed 's/^/     | /' "$work/log"
  fi
}

install_prefix() {
  "$root/mk/install.sh" --profile "$profile" --prefix "$1" --libs "$2"
}

soname_links() {
  lib=$work/shared/lib
  [ "$(readlink "$lib/libsypht.so")" = libsypht.so.0 ] &&
    [ "$(readlink "$lib/libsypht.so.0")" = "libsypht.so.$version" ] &&
    [ -f "$lib/libsypht.so.$version" ] &&
    readelf -d "$lib/libsypht.so.$version" | grep -q 'SONAME.*\[libsypht\.so\.0\]'
}

pc_version() {
  [ "$(PKG_CONFIG_PATH=$work/shared/lib/pkgconfig pkg-config --modversion sypht)" = "$version" ]
}

# Each line of the header's version block against Cargo.toml.
header_version() {
  header=$work/shared/include/sypht.h
  major=${version%%.*}
  rest=${version#*.}
  minor=${rest%%.*}
  patch=${rest#*.}
  grep -qx "#define SYPHT_VERSION_MAJOR $major" "$header" &&
    grep -qx "#define SYPHT_VERSION_MINOR $minor" "$header" &&
    grep -qx "#define SYPHT_VERSION_PATCH $patch" "$header" &&
    grep -qx "#define SYPHT_VERSION_STRING \"$version\"" "$header"
}

build_shared() {
  export PKG_CONFIG_PATH=$work/shared/lib/pkgconfig
  # shellcheck disable=SC2046 # pkg-config output is a list of flags.
  $cc -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags sypht) \
    "$root/tests/packaging/smoke.c" -o "$work/smoke-shared" \
    $(pkg-config --libs sypht) -Wl,-rpath,"$(pkg-config --variable=libdir sypht)" &&
    readelf -d "$work/smoke-shared" | grep -q 'NEEDED.*\[libsypht\.so\.0\]'
}

build_static() {
  export PKG_CONFIG_PATH=$work/static/lib/pkgconfig
  # shellcheck disable=SC2046
  $cc -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags sypht) \
    "$root/tests/packaging/smoke.c" -o "$work/smoke-static" \
    $(pkg-config --static --libs sypht) &&
    ! readelf -d "$work/smoke-static" | grep -q 'NEEDED.*libsypht'
}

build_cmake() {
  PKG_CONFIG_PATH=$work/shared/lib/pkgconfig cmake -S "$root/tests/packaging/cmake" \
    -B "$work/cmake" -DCMAKE_BUILD_TYPE=Release &&
    cmake --build "$work/cmake" &&
    readelf -d "$work/cmake/smoke" | grep -q 'NEEDED.*\[libsypht\.so\.0\]'
}

# Runs a smoke program on the sample invoice and checks its results.
run_smoke() {
  "$1" "$sample" >"$work/results" && grep -q '"invoice.total"' "$work/results"
}

if ! install_prefix "$work/shared" both || ! install_prefix "$work/static" static; then
  echo "packaging: installing libsypht failed"
  echo "packaging: 0 passed, 1 failed"
  exit 1
fi
check "soname and its links" soname_links
check "pkg-config version is $version" pc_version
check "header version macros match Cargo.toml" header_version
check "C program builds with pkg-config (shared)" build_shared
check "C program builds with pkg-config --static" build_static
check "CMake project finds sypht through pkg-config" build_cmake

if start_emulator; then
  check "shared program runs against the emulator" run_smoke "$work/smoke-shared"
  check "static program runs against the emulator" run_smoke "$work/smoke-static"
  check "CMake program runs against the emulator" run_smoke "$work/cmake/smoke"
else
  failed=$((failed + 1))
  echo "FAIL packaging: the emulator did not start"
fi

echo "packaging: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
