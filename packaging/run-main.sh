#!/usr/bin/env bash
# The README's command (1): installs dependencies, builds, and runs the main job on the
# embedded default: adaspringd in user mode on a local Unix socket (Ctrl-C stops it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/packaging/build.sh" release
exec "$here/build/release/daemon/adaspringd" "$@"
