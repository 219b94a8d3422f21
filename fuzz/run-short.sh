#!/usr/bin/env bash
# Runs every fuzz target for a short time (60 s in total by default), for
# CI. Longer runs: see "Fuzzing" in the README, or
#
#   cargo +nightly fuzz run TARGET -- -max_total_time=3600
#
# from fuzz/. Needs a nightly toolchain (`rustup toolchain list`). With
# cargo-fuzz installed the targets are built by `cargo fuzz build`.
# Without it, this script builds them with cargo and RUSTFLAGS for
# libFuzzer coverage and AddressSanitizer, so that CI need not spend
# minutes on `cargo install cargo-fuzz`.
#
#   fuzz/run-short.sh [TOTAL_SECONDS]
#
# Crashes are kept in fuzz/artifacts/TARGET/, and the corpus grows in
# fuzz/corpus/TARGET/ (both ignored by git). Inputs that once crashed a
# target are committed in fuzz/regressions/TARGET/ and read as seeds on
# every run, so a fixed bug that comes back fails at once, and hand-written
# starting inputs are in fuzz/seeds/TARGET/. Exits non-zero when a target
# finds a crash.

set -euo pipefail

cd "$(dirname "$0")"

total_seconds=${1:-60}
targets=(token_response results_json results_field_json error_message c_strings)
per_target=$(( total_seconds / ${#targets[@]} ))
if (( per_target < 1 )); then
  per_target=1
fi

toolchain=${FUZZ_TOOLCHAIN:-nightly}
if ! rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
  echo "fuzz: the $toolchain toolchain is not installed; install it with" \
    "'rustup toolchain install $toolchain'" >&2
  exit 1
fi
host=$(rustup run "$toolchain" rustc -vV | sed -n 's/^host: //p')

if command -v cargo-fuzz >/dev/null 2>&1; then
  echo "fuzz: building with cargo-fuzz"
  cargo "+$toolchain" fuzz build --release
  binaries=target/$host/release
else
  echo "fuzz: cargo-fuzz not found; building with libFuzzer coverage and ASan flags"
  # SanitizerCoverage with inline 8-bit counters, a PC table and
  # comparison tracing feeds libFuzzer; AddressSanitizer catches memory
  # errors; debug assertions and overflow checks turn bugs into crashes.
  RUSTFLAGS="-Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares \
--cfg fuzzing -Zsanitizer=address -Cdebug-assertions -Coverflow-checks" \
    cargo "+$toolchain" build --release --target "$host" --bins
  binaries=target/$host/release
fi

status=0
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target" "artifacts/$target"
  seeds=()
  for dir in "seeds/$target" "regressions/$target"; do
    if [[ -d $dir ]]; then
      seeds+=("$dir")
    fi
  done
  echo "fuzz: $target for $per_target s"
  if ! "$binaries/$target" "corpus/$target" "${seeds[@]}" \
    -max_total_time="$per_target" -max_len=65536 -rss_limit_mb=2048 \
    -artifact_prefix="artifacts/$target/" -print_final_stats=1 \
    2>"artifacts/$target.log"; then
    echo "fuzz: $target found a crash; see fuzz/artifacts/$target/ and fuzz/artifacts/$target.log" >&2
    tail -40 "artifacts/$target.log" >&2
    status=1
  fi
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "artifacts/$target.log" \
    | sed "s/^/fuzz: $target /" || true
done
exit $status
