#!/usr/bin/env bash
# The test suite, in release (numeric code is very slow in debug) with @testable imports enabled.
# Tests that need ../shared (reference outputs, real models) skip cleanly without it.
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-2}"
swift build -c release -Xswiftc -enable-testing
swift test -c release -Xswiftc -enable-testing "$@"
