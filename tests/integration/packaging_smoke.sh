#!/bin/bash
# Unpacks the .deb (built by packaging_deb.sh) into a temporary root and runs the daemon from
# there in user mode on temporary sockets: `adaspringctl status` must answer, and SIGTERM
# must stop the daemon cleanly.
# Usage: packaging_smoke.sh DEB_DIR
set -euo pipefail
deb_dir=$1
shopt -s nullglob
debs=("$deb_dir"/adaspringd_*.deb)
[ ${#debs[@]} -eq 1 ] || { echo "FAIL: no package in $deb_dir (packaging_deb must run first)"; exit 1; }

tmp=$(mktemp -d)
daemon_pid=""
cleanup() {
  if [ -n "$daemon_pid" ]; then kill "$daemon_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

root="$tmp/root"
dpkg-deb -x "${debs[0]}" "$root"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
export LD_LIBRARY_PATH="$root/usr/lib:$root/usr/lib/$multiarch"
# A clean user environment: no config of the developer's, nothing under their home.
export HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/home/.config" XDG_STATE_HOME="$tmp/home/.state"
unset XDG_RUNTIME_DIR NOTIFY_SOCKET JOURNAL_STREAM
mkdir -p "$HOME"

run="$tmp/run"
"$root/usr/bin/adaspringd" --runtime-dir "$run" \
  --models-dir "$root/usr/share/adaspring/models" >"$tmp/daemon.log" 2>&1 &
daemon_pid=$!

# Wait for the socket (deadline 30 s), or for the daemon to die.
socket="$run/adaspringd.sock"
for _ in $(seq 300); do
  [ -S "$socket" ] && break
  kill -0 "$daemon_pid" 2>/dev/null || break
  sleep 0.1
done
if [ ! -S "$socket" ]; then
  echo "FAIL: no socket at $socket; daemon log:"
  cat "$tmp/daemon.log"
  exit 1
fi

status_rc=0
"$root/usr/bin/adaspringctl" --socket "$socket" --timeout 10 status >"$tmp/status.txt" 2>&1 ||
  status_rc=$?
cat "$tmp/status.txt"
if [ $status_rc -ne 0 ]; then
  echo "FAIL: adaspringctl status exited $status_rc; daemon log:"
  cat "$tmp/daemon.log"
  exit 1
fi

kill -TERM "$daemon_pid"
daemon_rc=0
wait "$daemon_pid" || daemon_rc=$?
daemon_pid=""
if [ $daemon_rc -ne 0 ]; then
  echo "FAIL: adaspringd exited $daemon_rc after SIGTERM; log:"
  cat "$tmp/daemon.log"
  exit 1
fi
echo "PASS"
