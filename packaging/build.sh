#!/usr/bin/env bash
# Installs the dependencies (once) and builds PRESET (default: release). Used by run-main.sh
# and run-tests.sh; prints only a short summary unless the build fails.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
preset="${1:-release}"
"$here/packaging/install-deps.sh"
if [ "$preset" = tsan ]; then "$here/packaging/build-tsan-abseil.sh"; fi
cd "$here"
# Paths under the checkout are hashed relative to it: a second clone reuses the compiler cache.
export CCACHE_BASEDIR="$here"
log="$(mktemp -t adaspring-build.XXXXXX.log)"
if ! { cmake --preset "$preset" && cmake --build --preset "$preset" -j "$(nproc)"; } >"$log" 2>&1; then
  tail -n 60 "$log"
  echo "build ($preset) failed; full log: $log" >&2
  exit 1
fi
echo "build ($preset): OK ($here/build/$preset)"
rm -f "$log"
