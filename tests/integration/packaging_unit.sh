#!/bin/bash
# The systemd unit with the built binary: `systemd-analyze verify` must be silent, and the
# sandbox's exposure (`systemd-analyze security --offline=true`) must stay at or below the
# level recorded here. systemd need not be PID 1: both commands work offline.
# Usage: packaging_unit.sh SOURCE_DIR ADASPRINGD_BINARY
set -euo pipefail
src=$1
bin=$(realpath "$2")

# Recorded with systemd 252 (Debian 12): 1.5 "OK". Raise it only with a reason in
# docs/INSTALL.md (section "The sandbox").
readonly kMaxExposure=1.5

command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }
[ -x "$bin" ] || { echo "FAIL: $bin is not an executable"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unit="$tmp/adaspringd.service"
sed -e "s|/usr/bin/adaspringd|$bin|" \
    -e "s|/usr/libexec/adaspring/adaspring-rapl-access|$src/systemd/adaspring-rapl-access|" \
    "$src/systemd/adaspringd.service" >"$unit"
grep -q "^ExecStart=$bin " "$unit" || { echo "FAIL: ExecStart was not substituted"; exit 1; }

# 1. verify: no message at all (unknown keys, missing executables, bad values all print).
verify_silent() {  # $1 = what is verified
  local out
  out=$(systemd-analyze verify --man=no "$unit" 2>&1) || { echo "FAIL: verify $1: $out"; exit 1; }
  if [ -n "$out" ]; then
    echo "FAIL: systemd-analyze verify $1 reported:"
    echo "$out"
    exit 1
  fi
  echo "verify $1: OK"
}
verify_silent "of the unit"

# 1b. The opt-in wake-up latency drop-in (systemd/wakeup-latency.conf) on top: still silent
# (verify reads NAME.service.d/ beside the unit file).
mkdir -p "$tmp/adaspringd.service.d"
sed -e "s|/usr/libexec/adaspring/adaspring-cpu-latency-access|$src/systemd/adaspring-cpu-latency-access|" \
    "$src/systemd/wakeup-latency.conf" >"$tmp/adaspringd.service.d/wakeup-latency.conf"
verify_silent "with wakeup-latency.conf"
rm -r "$tmp/adaspringd.service.d"

# 2. security exposure.
report=$(systemd-analyze security --offline=true --no-pager "$unit" 2>&1) || true
exposure=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$report")
if [ -z "$exposure" ]; then
  echo "FAIL: no exposure level in:"
  echo "$report"
  exit 1
fi
echo "security: exposure $exposure (recorded maximum $kMaxExposure)"
if ! awk -v e="$exposure" -v m="$kMaxExposure" 'BEGIN { exit !(e <= m) }'; then
  echo "FAIL: exposure $exposure is above $kMaxExposure:"
  grep '✗' <<<"$report" || true
  exit 1
fi

# 3. Settings the tests pin because the daemon depends on them.
need() {
  grep -qx "$1" "$unit" || { echo "FAIL: the unit lacks '$1'"; exit 1; }
}
need "Type=notify"
need "Restart=on-failure"
need "RestartPreventExitStatus=78"
need "User=adaspring"
need "RuntimeDirectory=adaspring"
need "StateDirectory=adaspring"
need "ConfigurationDirectory=adaspring"
need "ExecReload=/bin/kill -HUP \$MAINPID"
grep -q '^WatchdogSec=' "$unit" || { echo "FAIL: no WatchdogSec"; exit 1; }
# oneDNN JIT-compiles its kernels (writable, then executable pages): with
# MemoryDenyWriteExecute=yes every convolution would fail. The binary must link oneDNN for
# this to matter; the unit must not turn it on.
if grep -qiE '^MemoryDenyWriteExecute=(yes|true|on|1)' "$unit"; then
  echo "FAIL: MemoryDenyWriteExecute is on, but oneDNN generates code at run time"
  exit 1
fi
if ldd "$bin" | grep -q libdnnl; then
  echo "binary links oneDNN (JIT): MemoryDenyWriteExecute stays off"
fi
# 4. The sysusers.d snippet creates user and group adaspring (into a scratch root).
if command -v systemd-sysusers >/dev/null; then
  mkdir -p "$tmp/root/etc"
  systemd-sysusers --root="$tmp/root" "$src/systemd/adaspringd.sysusers" >/dev/null 2>&1 ||
    { echo "FAIL: systemd-sysusers rejected the snippet"; exit 1; }
  grep -q '^adaspring:x:[0-9]*:[0-9]*:.*:/var/lib/adaspring:' "$tmp/root/etc/passwd" ||
    { echo "FAIL: no adaspring user from sysusers"; exit 1; }
  grep -q '^adaspring:x:' "$tmp/root/etc/group" || { echo "FAIL: no adaspring group"; exit 1; }
  echo "sysusers: OK"
fi
echo "PASS"
