#!/bin/sh
# Installs libsypht: the shared library with its soname links, the static
# library, sypht.h, sypht.hpp and sypht.pc.
#
#   mk/install.sh [--prefix DIR] [--libdir DIR] [--includedir DIR]
#                 [--destdir DIR] [--libs both|shared|static]
#                 [--profile release|debug]
#
# Builds the library first with cargo (a no-op when it is up to date). The
# pkg-config file's Libs.private is the list of native libraries that
# rustc reports for the static library, so static links get exactly what
# the Rust standard library and the dependencies need.
#
# With --libs static only libsypht.a is installed. A linker that finds
# both libsypht.so and libsypht.a in one directory takes the shared one,
# so a static link needs such a directory (or -l:libsypht.a).

set -eu

usage() {
  sed -n '2,/^$/s/^# \{0,1\}//p' "$0"
  exit 2
}

prefix=/usr/local
libdir=
includedir=
destdir=${DESTDIR:-}
libs=both
profile=release

while [ $# -gt 0 ]; do
  case $1 in
    --prefix) prefix=$2; shift 2 ;;
    --libdir) libdir=$2; shift 2 ;;
    --includedir) includedir=$2; shift 2 ;;
    --destdir) destdir=$2; shift 2 ;;
    --libs) libs=$2; shift 2 ;;
    --profile) profile=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "install.sh: unknown argument: $1" >&2; usage ;;
  esac
done

case $libs in
  both|shared|static) ;;
  *) echo "install.sh: --libs must be both, shared or static, not '$libs'" >&2; exit 2 ;;
esac
case $profile in
  release) profile_flag=--release ;;
  debug) profile_flag= ;;
  *) echo "install.sh: --profile must be release or debug, not '$profile'" >&2; exit 2 ;;
esac
case $prefix in
  /*) ;;
  *) echo "install.sh: --prefix must be an absolute path, not '$prefix'" >&2; exit 2 ;;
esac
libdir=${libdir:-$prefix/lib}
includedir=${includedir:-$prefix/include}

root=$(cd "$(dirname "$0")/.." && pwd)
cargo=${CARGO:-cargo}
target_dir=${CARGO_TARGET_DIR:-$root/target}
build_dir=$target_dir/$profile

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)
major=${version%%.*}
if [ -z "$version" ]; then
  echo "install.sh: no version found in $root/Cargo.toml" >&2
  exit 1
fi

# The library and the header.
(cd "$root" && "$cargo" build $profile_flag --lib --quiet)

# rustc prints the native libraries of a static library only on request.
# This unit has its own fingerprint, so it does not rebuild the one above.
libs_private=$(cd "$root" && "$cargo" rustc $profile_flag --lib --crate-type staticlib --quiet \
  -- --print native-static-libs 2>&1 | sed -n 's/^note: native-static-libs: //p' | tail -n 1)
if [ -z "$libs_private" ]; then
  echo "install.sh: rustc reported no native-static-libs line" >&2
  exit 1
fi

mkdir -p "$destdir$libdir/pkgconfig" "$destdir$includedir"
if [ "$libs" != static ]; then
  install -m 0755 "$build_dir/libsypht.so" "$destdir$libdir/libsypht.so.$version"
  ln -sf "libsypht.so.$version" "$destdir$libdir/libsypht.so.$major"
  ln -sf "libsypht.so.$major" "$destdir$libdir/libsypht.so"
fi
if [ "$libs" != shared ]; then
  install -m 0644 "$build_dir/libsypht.a" "$destdir$libdir/libsypht.a"
fi
install -m 0644 "$root/include/sypht.h" "$root/include/sypht.hpp" "$destdir$includedir/"

# sed gives '|', '&' and '\' special meanings in the replacement text.
for value in "$prefix" "$libdir" "$includedir" "$libs_private"; do
  case $value in
    *'|'*|*'&'*|*'\'*)
      echo "install.sh: '|', '&' and '\' are not supported in paths: $value" >&2
      exit 2 ;;
  esac
done
sed -e "s|@PREFIX@|$prefix|" -e "s|@LIBDIR@|$libdir|" -e "s|@INCLUDEDIR@|$includedir|" \
  -e "s|@VERSION@|$version|" -e "s|@LIBS_PRIVATE@|$libs_private|" \
  "$root/sypht.pc.in" >"$destdir$libdir/pkgconfig/sypht.pc"

echo "installed libsypht $version ($libs) into $destdir$prefix"
