#!/usr/bin/env bash
# Runs the C example against a local sypht-emulator: starts the emulator on
# a free loopback port, extracts DOCUMENT with EXTRACT, prints the fields,
# and stops the emulator on every exit path, failures included.
#
# Usage: examples/run-demo.sh EMULATOR EXTRACT DOCUMENT [EXTRACT-OPTION...]
#
# `make demo` builds both programs and calls this script.

set -euo pipefail

if [[ $# -lt 3 ]]; then
  echo "usage: $0 EMULATOR EXTRACT DOCUMENT [EXTRACT-OPTION...]" >&2
  exit 2
fi
emulator=$1
extract=$2
document=$3
shift 3

# Throwaway credentials, accepted only by this emulator instance.
client_id=demo-client-id
client_secret=demo-client-secret

workdir=$(mktemp -d "${TMPDIR:-/tmp}/sypht-demo.XXXXXX")
emulator_pid=

stop_emulator() {
  if [[ -n $emulator_pid ]] && kill -0 "$emulator_pid" 2>/dev/null; then
    kill -TERM "$emulator_pid" 2>/dev/null || true
    wait "$emulator_pid" 2>/dev/null || true
  fi
  rm -rf "$workdir"
}
trap stop_emulator EXIT
# Turn signals into an exit so that the EXIT trap runs.
trap 'exit 130' INT
trap 'exit 143' TERM

port_file=$workdir/port
"$emulator" --port 0 --port-file "$port_file" --quiet \
  --client-id "$client_id" --client-secret "$client_secret" \
  >"$workdir/emulator.log" 2>&1 &
emulator_pid=$!

# The emulator writes the port file by rename once it listens, so the file
# is complete as soon as it exists. Wait up to 10 s (100 x 0.1 s).
for _ in $(seq 100); do
  if [[ -e $port_file ]]; then
    break
  fi
  if ! kill -0 "$emulator_pid" 2>/dev/null; then
    echo "run-demo: $emulator exited before it was listening:" >&2
    cat "$workdir/emulator.log" >&2
    exit 1
  fi
  sleep 0.1
done
if [[ ! -e $port_file ]]; then
  echo "run-demo: $emulator did not write $port_file within 10 s" >&2
  exit 1
fi
port=$(<"$port_file")
if [[ ! $port =~ ^[0-9]+$ ]]; then
  echo "run-demo: invalid port in $port_file: '$port'" >&2
  exit 1
fi

base_url=http://127.0.0.1:$port
command=("$extract" "$@" "$document")
echo "sypht-emulator listening on $base_url (pid $emulator_pid)"
echo "\$ ${command[*]}"

# The client reads four SYPHT_* variables: three point it at the emulator
# here, and SYPHT_AUDIENCE is removed so the caller's shell changes nothing.
results=$(
  env -u SYPHT_AUDIENCE \
    SYPHT_API_KEY="$client_id:$client_secret" \
    SYPHT_AUTH_ENDPOINT="$base_url/oauth2/token" \
    SYPHT_API_BASE_ENDPOINT="$base_url" \
    "${command[@]}"
)

if command -v python3 >/dev/null; then
  printf '%s\n' "$results" | python3 -m json.tool
else
  printf '%s\n' "$results"
fi
