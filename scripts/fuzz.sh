#!/usr/bin/env bash
# make fuzz: run each Go fuzz target of the packages below for FUZZTIME.
# Each package's fuzzing test binary is built once; targets are found by name
# (func Fuzz…) in its _test.go files. One worker per target (the database
# targets set up a database per worker). A failing input is written to
# <package>/testdata/fuzz/<Target>/ and fails the run.
#
# Go 1.26's fuzz coordinator can report a bare "context deadline exceeded" at
# the end of -fuzztime on a busy machine (go.dev/issue/75804, fixed in Go
# 1.27): such a run, with no failing input written, is run once more.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-10s}
PKGS=(./schema/auth ./server/internal/api)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
mkdir -p .data/bin/fuzz
for pkg in "${PKGS[@]}"; do
  bin=$PWD/.data/bin/fuzz/$(basename "$pkg").test
  cache=$(go env GOCACHE)/fuzz/$(go list "$pkg")
  go test -c -fuzz=. -o "$bin" "$pkg"
  for t in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$pkg"/*_test.go | cut -c6-); do
    echo "fuzz: $pkg $t ($FUZZTIME)"
    run() { (cd "$pkg" && "$bin" -test.run='^$' -test.fuzz="^$t\$" -test.fuzztime="$FUZZTIME" \
      -test.parallel=1 -test.fuzzcachedir="$cache") >"$out" 2>&1; }
    if run; then
      tail -n 1 "$out"
      continue
    fi
    cat "$out"
    if grep -q 'context deadline exceeded' "$out" && ! grep -q 'Failing input written' "$out"; then
      echo "fuzz: $t: the fuzztime race of Go 1.26 (go.dev/issue/75804), no failing input; once more"
      run || { cat "$out"; exit 1; }
      tail -n 1 "$out"
    else
      exit 1
    fi
  done
done
