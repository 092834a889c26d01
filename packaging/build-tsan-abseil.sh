#!/usr/bin/env bash
# Builds Debian 12's own abseil source with -fsanitize=thread into build/tsan-deps/abseil
# (same version and sonames as libabsl20220623), for the `tsan` preset: the tests run with
# it on LD_LIBRARY_PATH, so every absl::Mutex, ours and the ones inside Debian's gRPC, is
# visible to ThreadSanitizer. Without it TSan reports every lock-protected access as a race.
# Needs the Debian source archive (a deb-src entry is added if none exists) and dpkg-dev.
# Idempotent: does nothing when the library is already built.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$here/build/tsan-deps"
prefix="$out/abseil"
if [ -f "$prefix/lib/libabsl_synchronization.so.20220623" ]; then
  echo "tsan abseil: present ($prefix)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if ! grep -rqs "deb-src\|Types:.*deb-src" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "tsan abseil: adding the Debian source archive (/etc/apt/sources.list.d/adaspring-src.sources)"
  $SUDO tee /etc/apt/sources.list.d/adaspring-src.sources >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  $SUDO apt-get update -qq
fi
mkdir -p "$out/src"
cd "$out/src"
if ! ls -d abseil-*/ >/dev/null 2>&1; then
  apt-get source -qq "abseil=$(dpkg-query -W -f='${Version}' libabsl-dev)" >/dev/null 2>&1 ||
    apt-get source -qq abseil >/dev/null
fi
src="$(ls -d "$out"/src/abseil-*/ | head -n1)"
log="$out/abseil-build.log"
echo "tsan abseil: building $(basename "$src") with -fsanitize=thread (log: $log)"
if ! {
  cmake -S "$src" -B "$out/abseil-build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_STANDARD=17 -DBUILD_SHARED_LIBS=ON -DCMAKE_INSTALL_PREFIX="$prefix" \
    -DCMAKE_C_FLAGS=-fsanitize=thread -DCMAKE_CXX_FLAGS=-fsanitize=thread \
    -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread &&
    cmake --build "$out/abseil-build" -j "$(nproc)" && cmake --install "$out/abseil-build"
} >"$log" 2>&1; then
  tail -n 40 "$log"
  echo "tsan abseil: build failed; full log: $log" >&2
  exit 1
fi
echo "tsan abseil: OK ($prefix)"
