#!/usr/bin/env bash
# The README's command (2): installs dependencies, builds and runs the whole test suite.
# Idempotent; exits non-zero when any step or test fails.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/packaging/build.sh" release
cd "$here"
ctest --preset release
