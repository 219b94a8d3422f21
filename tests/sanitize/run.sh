#!/usr/bin/env bash
# Runs the C example (examples/c/extract.c) and the C-ABI check program
# (tests/sanitize/c_abi_check.c) against a local emulator, three ways:
# built with AddressSanitizer, built with UndefinedBehaviorSanitizer, and
# plain under Valgrind's memcheck. Each must finish with zero findings.
#
#   tests/sanitize/run.sh
#
# Only the C code is instrumented: libsypht.a is the ordinary release
# build, so the sanitizers check how C uses the library (and the library's
# heap through the intercepted malloc and free), not the Rust code itself.
# Needs gcc (or CC) with libasan and libubsan, valgrind, and cargo.
# Exits non-zero on the first failure.

set -euo pipefail

cd "$(dirname "$0")/../.."
root=$(pwd)

CC=${CC:-gcc}
CARGO=${CARGO:-cargo}
release_dir=$root/target/release
build_dir=$root/target/sanitize
sample=$root/examples/sample/invoice.pdf
# Rust's standard library and ring need these when linking libsypht.a.
native_libs=(-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc)
warnings=(-std=c11 -Wall -Wextra -Werror -pedantic)

echo "sanitize: building libsypht.a and the emulator"
"$CARGO" build --release -p sypht --lib
"$CARGO" build --release -p sypht-emulator --bin sypht-emulator
mkdir -p "$build_dir"

work=$(mktemp -d)
emulator_pid=
cleanup() {
  if [[ -n $emulator_pid ]]; then
    kill "$emulator_pid" 2>/dev/null || true
    wait "$emulator_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

"$release_dir/sypht-emulator" --quiet --port-file "$work/port" >"$work/emulator.log" 2>&1 &
emulator_pid=$!
for _ in $(seq 100); do
  [[ -s $work/port ]] && break
  sleep 0.1
done
if [[ ! -s $work/port ]]; then
  echo "sanitize: the emulator did not start:" >&2
  cat "$work/emulator.log" >&2
  exit 1
fi
base="http://127.0.0.1:$(cat "$work/port")"
echo "sanitize: emulator at $base"

# Builds one program from `source` into `output` with extra flags.
build() {
  local source=$1 output=$2
  shift 2
  "$CC" "${warnings[@]}" -g -O1 -fno-omit-frame-pointer -Iinclude "$@" \
    "$source" "$release_dir/libsypht.a" "${native_libs[@]}" -o "$output"
}

# Runs a program against the emulator with the C example's environment.
run_program() {
  env SYPHT_API_KEY=emulator-client-id:emulator-client-secret \
    SYPHT_API_BASE_ENDPOINT="$base" \
    SYPHT_AUTH_ENDPOINT="$base/oauth2/token" \
    "$@"
}

# Runs `name` built three ways: the extract example on the sample invoice
# and the C-ABI check program.
check_all() {
  local flavour=$1
  shift
  local extract=$build_dir/extract-$flavour check=$build_dir/c_abi_check-$flavour
  run_program "$@" "$extract" "$sample" >"$work/extract.out"
  grep -q '"document.sha256"' "$work/extract.out" || {
    echo "sanitize: extract ($flavour) printed no results" >&2
    exit 1
  }
  run_program "$@" "$extract" --verbose "$sample" >/dev/null
  # A wrong secret exercises the error path; exit status 1 is expected.
  if env SYPHT_API_KEY=emulator-client-id:wrong-secret \
    SYPHT_API_BASE_ENDPOINT="$base" SYPHT_AUTH_ENDPOINT="$base/oauth2/token" \
    "$@" "$extract" "$sample" >/dev/null 2>"$work/auth.err"; then
    echo "sanitize: extract ($flavour) succeeded with a wrong secret" >&2
    exit 1
  fi
  grep -q "authentication failed" "$work/auth.err" || {
    echo "sanitize: extract ($flavour) gave an unexpected error:" >&2
    cat "$work/auth.err" >&2
    exit 1
  }
  run_program "$@" "$check" "$base" "$sample"
}

echo "sanitize: AddressSanitizer"
build examples/c/extract.c "$build_dir/extract-asan" -fsanitize=address
build tests/sanitize/c_abi_check.c "$build_dir/c_abi_check-asan" -fsanitize=address -pthread
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=86
check_all asan
echo "sanitize: AddressSanitizer: 0 findings"

echo "sanitize: UndefinedBehaviorSanitizer"
build examples/c/extract.c "$build_dir/extract-ubsan" -fsanitize=undefined -fno-sanitize-recover=all
build tests/sanitize/c_abi_check.c "$build_dir/c_abi_check-ubsan" -fsanitize=undefined \
  -fno-sanitize-recover=all -pthread
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
check_all ubsan
echo "sanitize: UndefinedBehaviorSanitizer: 0 findings"

echo "sanitize: Valgrind memcheck"
build examples/c/extract.c "$build_dir/extract-plain"
build tests/sanitize/c_abi_check.c "$build_dir/c_abi_check-plain" -pthread
valgrind_args=(valgrind --quiet --leak-check=full --show-leak-kinds=all
  --errors-for-leak-kinds=all --error-exitcode=99 --num-callers=40
  "--suppressions=$root/examples/c/valgrind.supp")
check_all plain "${valgrind_args[@]}"
echo "sanitize: Valgrind memcheck: 0 errors"

echo "sanitize: all runs clean"
