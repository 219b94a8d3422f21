# Shell functions that run sypht-emulator for a test script; source this
# file. start_emulator points SYPHT_API_BASE_ENDPOINT, SYPHT_AUTH_ENDPOINT
# and SYPHT_API_KEY at an emulator on a free loopback port, so nothing
# the script runs can reach the real Sypht hosts.
#
# SYPHT_EMULATOR_BIN names the emulator binary.

EMULATOR_PID=
EMULATOR_DIR=

start_emulator() {
  if [ -z "${SYPHT_EMULATOR_BIN:-}" ] || [ ! -x "$SYPHT_EMULATOR_BIN" ]; then
    echo "SYPHT_EMULATOR_BIN is unset or not executable: '${SYPHT_EMULATOR_BIN:-}'" >&2
    return 1
  fi
  EMULATOR_DIR=$(mktemp -d)
  "$SYPHT_EMULATOR_BIN" --port 0 --port-file "$EMULATOR_DIR/port" --quiet \
    --client-id emulator-client-id --client-secret emulator-client-secret >/dev/null &
  EMULATOR_PID=$!
  tries=0
  while [ ! -s "$EMULATOR_DIR/port" ]; do
    tries=$((tries + 1))
    if [ "$tries" -gt 300 ] || ! kill -0 "$EMULATOR_PID" 2>/dev/null; then
      echo "sypht-emulator wrote no port within 15 s" >&2
      stop_emulator
      return 1
    fi
    sleep 0.05
  done
  port=$(cat "$EMULATOR_DIR/port")
  export SYPHT_API_BASE_ENDPOINT="http://127.0.0.1:$port"
  export SYPHT_AUTH_ENDPOINT="http://127.0.0.1:$port/oauth2/token"
  export SYPHT_API_KEY="emulator-client-id:emulator-client-secret"
  unset SYPHT_AUDIENCE
}

stop_emulator() {
  if [ -n "$EMULATOR_PID" ]; then
    kill "$EMULATOR_PID" 2>/dev/null || true
    wait "$EMULATOR_PID" 2>/dev/null || true
    EMULATOR_PID=
  fi
  if [ -n "$EMULATOR_DIR" ]; then
    rm -rf "$EMULATOR_DIR"
    EMULATOR_DIR=
  fi
}
