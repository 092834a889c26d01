#!/usr/bin/env bash
# The README's command (2): installs dependencies, builds and runs the whole test suite.
# Idempotent; exits non-zero when any step or test fails.
#   packaging/run-tests.sh          release build, every test
#   packaging/run-tests.sh asan     the same suite built with ASan + UBSan (what CI also runs)
#   packaging/run-tests.sh tsan     the daemon tests under ThreadSanitizer (abseil rebuilt with
#                                   TSan from Debian's source first; see docs/RELIABILITY.md)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
preset="${1:-release}"
"$here/packaging/build.sh" "$preset"
cd "$here"
ctest --preset "$preset"
