#!/usr/bin/env bash
# Installs every Debian 12 package that adaspringd's build, tests and main job need.
# Idempotent: when everything is present it only checks (about a second) and exits.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache git
  clang libclang-rt-14-dev clang-format
  # IPC and serialisation
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev zlib1g-dev
  # system glue
  libsystemd-dev systemd libboost-dev
  # numerics
  libdnnl-dev ocl-icd-opencl-dev libeigen3-dev
  # config, CLI, images
  libtomlplusplus-dev libcli11-dev libpng-dev nlohmann-json3-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev openssl util-linux
  # data, plots, Python client example
  dataset-fashion-mnist gnuplot-nox python3 python3-grpcio python3-grpc-tools
  # packaging checks
  dpkg-dev lintian fakeroot
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "install-deps: missing: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "install-deps: not root and no sudo: run as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: installed ${#missing[@]} packages"
