#!/usr/bin/env bash
# Runs the libsypht benchmarks (`make bench`). It starts a fixed-answer
# server and the emulator on 127.0.0.1 and measures the server's ceiling
# with wrk. Then it runs each scenario through libsypht's C interface
# (bench/bench.c) and through the official Python client
# (bench/python_bench.py), prints a table and writes BENCHMARKS.md
# (bench/report.py).
#
# Every server binds 127.0.0.1 and every client is given its endpoints
# explicitly, so nothing contacts another host. Each server also stops by
# itself (--exit-after, timeout) if this script dies.
#
# Settings, from the environment:
#   BENCH_RESULTS_CALLS   results calls per measured round (default 5000)
#   BENCH_TOKEN_SECONDS   length of the token scenario (default 10)
#   BENCH_BIG_UPLOAD_MIB  size of the large upload (default 1024)
#   BENCH_DOCUMENTS       documents in the batch scenario (default 200)
#   PYTHON                interpreter that creates the virtualenv (python3)

set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

results_calls=${BENCH_RESULTS_CALLS:-5000}
token_seconds=${BENCH_TOKEN_SECONDS:-10}
big_upload_mib=${BENCH_BIG_UPLOAD_MIB:-1024}
documents=${BENCH_DOCUMENTS:-200}
python=${PYTHON:-python3}

repeats=3
token_lifetime=2
token_threads=8
batch_latency_ms=20
batch_concurrency=8
wrk_seconds=5
request_log_capacity=250000
python_client_version=0.5.19
client_id=emulator-client-id
client_secret=emulator-client-secret

out_dir=build/bench
venv=$out_dir/venv
bench_bin=$out_dir/bench
results=$out_dir/results.jsonl
native_static_libs="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"

log() {
  echo "bench: $*" >&2
}

# --- Tools -----------------------------------------------------------------

missing_packages=()
command -v wrk >/dev/null || missing_packages+=(wrk)
command -v valgrind >/dev/null || missing_packages+=(valgrind)
command -v curl >/dev/null || missing_packages+=(curl)
command -v strace >/dev/null || missing_packages+=(strace)
if [[ ${#missing_packages[@]} -gt 0 ]]; then
  log "installing ${missing_packages[*]} from Debian's packages"
  sudo=()
  [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing_packages[@]}"
fi

# --- Builds ----------------------------------------------------------------

mkdir -p "$out_dir"
cargo build --release -p sypht -p sypht-emulator -p sypht-bench
cc -std=c11 -O2 -g -Wall -Wextra -Werror -Iinclude bench/bench.c \
  target/release/libsypht.a $native_static_libs -o "$bench_bin"

if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('sypht') != '$python_client_version')" 2>/dev/null; then
  log "creating $venv with sypht==$python_client_version from PyPI"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install -q "sypht==$python_client_version"
fi

# --- Servers and data --------------------------------------------------------

work=$(mktemp -d /tmp/sypht-bench.XXXXXX)
server_pids=()
cleanup() {
  for pid in "${server_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Waits for a server to write its port file and prints the port.
wait_for_port() {
  local file=$1
  for _ in $(seq 100); do
    if [[ -s $file ]]; then
      cat "$file"
      return
    fi
    sleep 0.1
  done
  log "no port in $file after 10 s"
  exit 1
}

target/release/sypht-bench-server --port-file "$work/fixed.port" --exit-after 3600 >/dev/null &
server_pids+=($!)
target/release/sypht-bench-server --port-file "$work/slow.port" --latency-ms "$batch_latency_ms" \
  --exit-after 3600 >/dev/null &
server_pids+=($!)
# The token scenario made about 100,000 calls in 10 s on a 2-core machine,
# and the gaps between token requests come from the request log, so the
# log keeps more than that.
timeout 3600 target/release/sypht-emulator --port 0 --port-file "$work/emulator.port" --quiet \
  --client-id "$client_id" --client-secret "$client_secret" --token-lifetime "$token_lifetime" \
  --request-log-capacity "$request_log_capacity" >/dev/null &
server_pids+=($!)

fixed=http://127.0.0.1:$(wait_for_port "$work/fixed.port")
slow=http://127.0.0.1:$(wait_for_port "$work/slow.port")
emulator=http://127.0.0.1:$(wait_for_port "$work/emulator.port")
fixed_id=0d5e8f7a-3c21-4b6e-8a9d-5f4e3c2b1a09

# Python's requests honours proxy variables even for loopback; clear them.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY=127.0.0.1,localhost

head -c $((20 * 1024 * 1024)) /dev/urandom >"$work/upload-20mib.bin"
truncate -s $((big_upload_mib * 1024 * 1024)) "$work/upload-big.bin"
mkdir "$work/docs"
for i in $(seq 0 $((documents - 1))); do
  cp examples/sample/invoice.pdf "$(printf '%s/docs/doc-%03d.pdf' "$work" "$i")"
done

# Uploads the sample invoice to the emulator and prints its fileId.
emulator_file_id() {
  local token
  token=$(curl -sf -u "$client_id:$client_secret" -d "client_id=$client_id&grant_type=client_credentials" \
    "$emulator/oauth2/token" | "$python" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
  curl -sf -H "Authorization: Bearer $token" -F "fileToUpload=@examples/sample/invoice.pdf" \
    -F 'products=["invoices"]' "$emulator/fileupload" |
    "$python" -c 'import json, sys; print(json.load(sys.stdin)["fileId"])'
}
emulator_id=$(emulator_file_id)

# --- Measurements ------------------------------------------------------------

: >"$results"
# Appends one measurement: record SCENARIO CONTENDER JSON.
record() {
  printf '{"scenario": "%s", "contender": "%s", "data": %s}\n' "$1" "$2" "$3" >>"$results"
  log "$1 / $2: $3"
}

# Runs wrk against the fixed results endpoint 3 times and prints the
# median as {"requests_per_second": N, "rates": [...]}, because one wrk run
# over a single connection gave 8,734 to 26,056 requests/s on this 2-core machine.
wrk_rate() {
  local threads=$1 connections=$2 rates=()
  for _ in 1 2 3; do
    rates+=("$(wrk -t"$threads" -c"$connections" -d"${wrk_seconds}s" -H "Authorization: Bearer bench" \
      "$fixed/result/final/$fixed_id" | awk '/^Requests\/sec:/ { print $2 }')")
  done
  printf '%s\n' "${rates[@]}" | sort -n | awk '
    { rate[NR] = $1 }
    END { printf "{\"requests_per_second\": %s, \"rates\": [%s, %s, %s]}", rate[2], rate[1], rate[2], rate[3] }'
}

# Runs one measurement and prints its JSON, or null when it printed none.
# A run with failed calls still prints its figures, so they are kept.
measure() {
  local output
  output=$("$@") || log "some calls failed in: $*"
  echo "${output:-null}"
}
lib() {
  measure "$bench_bin" "$@"
}
py() {
  measure "$venv/bin/python" bench/python_bench.py "$@"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)

log "load generator: wrk over 1 and 4 connections, 3 runs of ${wrk_seconds} s each"
record results-1 wrk "$(wrk_rate 1 1)"
record results-4 wrk "$(wrk_rate 2 4)"

log "results: $results_calls calls, median of $repeats rounds"
record results-1 libsypht "$(lib results "$fixed" "$fixed/oauth2/token" "$fixed_id" 1 "$results_calls" "$repeats")"
record results-1 python "$(py results "$fixed" "$fixed/oauth2/token" "$fixed_id" 1 "$results_calls" "$repeats")"
record results-4 libsypht "$(lib results "$fixed" "$fixed/oauth2/token" "$fixed_id" 4 "$results_calls" "$repeats")"
record results-4 python "$(py results "$fixed" "$fixed/oauth2/token" "$fixed_id" 4 "$results_calls" "$repeats")"

log "uploads: 20 MiB and $big_upload_mib MiB (sparse) to the fixed server"
record upload-20mib libsypht "$(lib upload "$fixed" "$fixed/oauth2/token" "$fixed_id" "$work/upload-20mib.bin")"
record upload-20mib python "$(py upload "$fixed" "$fixed/oauth2/token" "$fixed_id" "$work/upload-20mib.bin")"
record upload-big libsypht "$(lib upload "$fixed" "$fixed/oauth2/token" "$fixed_id" "$work/upload-big.bin")"
record upload-big python "$(py upload "$fixed" "$fixed/oauth2/token" "$fixed_id" "$work/upload-big.bin")"
rm -f "$work/upload-big.bin" "$work/upload-20mib.bin"

# Prints the emulator's count of token requests.
emulator_token_requests() {
  curl -sf "$emulator/_emulator/stats" | "$python" -c 'import json, sys; print(json.load(sys.stdin)["token_requests"])'
}
# Prints the smallest gap in milliseconds between logged token requests
# since ISO time $1, and how many were logged (the log keeps
# $request_log_capacity requests).
emulator_token_gaps() {
  curl -sf "$emulator/_emulator/requests" | "$python" bench/report.py token-gaps "$1" "$request_log_capacity"
}

for contender in libsypht python; do
  log "token: $contender, $token_threads threads for $token_seconds s, $token_lifetime s token lifetime"
  before=$(emulator_token_requests)
  since=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
  if [[ $contender == libsypht ]]; then
    run=$(lib token "$emulator" "$emulator/oauth2/token" "$emulator_id" "$token_threads" "$token_seconds")
  else
    run=$(py token "$emulator" "$emulator/oauth2/token" "$emulator_id" "$token_threads" "$token_seconds")
  fi
  after=$(emulator_token_requests)
  gaps=$(emulator_token_gaps "$since")
  record token "$contender" "{\"run\": $run, \"token_requests\": $((after - before)), \"gaps\": $gaps, \"lifetime_seconds\": $token_lifetime, \"duration_seconds\": $token_seconds}"
done

log "batch: $documents documents, ${batch_latency_ms} ms server latency"
record batch libsypht "$(lib batch "$slow" "$slow/oauth2/token" "$work/docs" "$documents" "$batch_concurrency")"
record batch python "$(py batch "$slow" "$slow/oauth2/token" "$work/docs" "$documents" 1)"
record batch python-threads "$(py batch "$slow" "$slow/oauth2/token" "$work/docs" "$documents" "$batch_concurrency")"

log "per-call CPU: callgrind over 200 and 1200 results calls (each doubled by the warm-up round)"
for calls in 200 1200; do
  valgrind --tool=callgrind --callgrind-out-file="$out_dir/callgrind.$calls.out" \
    "$bench_bin" results "$fixed" "$fixed/oauth2/token" "$fixed_id" 1 "$calls" 1 >/dev/null 2>"$work/valgrind.$calls.log"
done
callgrind_annotate --inclusive=no "$out_dir/callgrind.1200.out" >"$out_dir/callgrind.self.txt" 2>/dev/null
callgrind_annotate --inclusive=yes --tree=none "$out_dir/callgrind.1200.out" >"$out_dir/callgrind.inclusive.txt" 2>/dev/null
record cpu libsypht "$("$python" bench/report.py callgrind "$out_dir/callgrind.200.out" "$out_dir/callgrind.1200.out" 2000 \
  "$out_dir/callgrind.self.txt" "$out_dir/callgrind.inclusive.txt")"

log "system calls: strace -c over 500 results calls (doubled by the warm-up round)"
strace -f -c -o "$out_dir/strace.txt" "$bench_bin" results "$fixed" "$fixed/oauth2/token" "$fixed_id" 1 500 1 >/dev/null
record syscalls libsypht "$("$python" bench/report.py strace "$out_dir/strace.txt" 1000)"

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
"$python" bench/report.py write "$results" BENCHMARKS.md --started "$started" \
  --load-before "$load_before" --load-after "$load_after" --python-client "$python_client_version"
log "wrote BENCHMARKS.md; raw figures in $results"
