#!/bin/sh
# Checks that an extract example behaves as examples/c/extract.c does. For
# the sample invoice it prints the results JSON and exits with 0. A failed
# libsypht call prints "error CODE (NAME): MESSAGE" on stderr and exits
# with 1. A usage error exits with 2.
#
#   tests/bindings/check-extract.sh NAME COMMAND [ARGUMENT]...
#
# Runs COMMAND against sypht-emulator (SYPHT_EMULATOR_BIN) and prints one
# line per case, then "N passed, N failed".

set -u

name=$1
shift
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/bindings/emulator.sh"

start_emulator || exit 1
trap stop_emulator EXIT
work=$(mktemp -d)
trap 'stop_emulator; rm -rf "$work"' EXIT

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $name: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $name: $1"; sed 's/^/     | /' "$work/err" >&2; }

# run EXPECTED_STATUS ARGUMENT...: runs the example, leaving its output in
# $work/out and $work/err; returns 0 when the exit status is as expected.
run() {
  expected=$1
  shift
  "$@" >"$work/out" 2>"$work/err"
  status=$?
  [ "$status" -eq "$expected" ]
}

sample=$root/examples/sample/invoice.pdf

if run 0 "$@" "$sample" && grep -q '"invoice.total"' "$work/out" && [ "$(wc -l <"$work/out")" -eq 1 ]; then
  pass "sample invoice prints one line of results"
else
  fail "sample invoice: exit $status, stdout $(head -c 200 "$work/out")"
fi

if run 0 "$@" --verbose --product invoices "$sample" && grep -q '"fields"' "$work/out"; then
  pass "--verbose prints the whole results object"
else
  fail "--verbose: exit $status"
fi

if run 1 "$@" "$work/absent.pdf" && grep -q '^error 4 (I/O error): ' "$work/err" && [ ! -s "$work/out" ]; then
  pass "missing file is error 4 with exit 1"
else
  fail "missing file: exit $status"
fi

if SYPHT_API_KEY=emulator-client-id:wrong-secret run 1 "$@" "$sample" \
  && grep -q '^error 7 (authentication failed): .*(HTTP status 4[0-9][0-9])$' "$work/err" \
  && ! grep -q wrong-secret "$work/err"; then
  pass "wrong secret is error 7 with its HTTP status"
else
  fail "wrong secret: exit $status"
fi

if run 2 "$@" && grep -q '^extract: missing FILE$' "$work/err"; then
  pass "no FILE is a usage error"
else
  fail "no FILE: exit $status"
fi

if run 2 "$@" --product && grep -q '^extract: option --product requires a NAME$' "$work/err"; then
  pass "--product without NAME is a usage error"
else
  fail "--product without NAME: exit $status"
fi

if run 2 "$@" --bogus "$sample" && grep -q '^extract: unknown option: --bogus$' "$work/err"; then
  pass "unknown option is a usage error"
else
  fail "unknown option: exit $status"
fi

if run 0 "$@" --help && grep -q '^usage: extract ' "$work/out"; then
  pass "--help prints the usage"
else
  fail "--help: exit $status"
fi

echo "$name: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
