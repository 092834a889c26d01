#!/usr/bin/env bash
# The README's command (1): installs dependencies, builds, and runs the main job on the
# embedded default: `adaspringctl demo` starts adaspringd in user mode with the bundled
# reference model, runs three client apps with different SLOs on real Fashion-MNIST test
# images through a context scenario, once per policy (adaptive, static full, static
# compressed), and writes summary.json, requests.csv and plot.png to demo-out/ (or $OUT).
# Extra arguments go to `adaspringctl demo` (e.g. --duration 60).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/packaging/build.sh" release
exec "$here/build/release/client/adaspringctl" demo --out "${OUT:-$here/demo-out}" "$@"
