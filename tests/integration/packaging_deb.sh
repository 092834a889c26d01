#!/bin/bash
# Builds the Debian package with CPack and checks its control fields, maintainer scripts,
# conffiles and file list, and that lintian reports no error (warnings are listed with their
# reasons in docs/INSTALL.md). Leaves the .deb in OUT_DIR for packaging_smoke.sh.
# Usage: packaging_deb.sh SOURCE_DIR BUILD_DIR OUT_DIR
set -euo pipefail
src=$1
build=$2
out=$3

for tool in cpack dpkg-deb dpkg-shlibdeps lintian; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done

fail() {
  echo "FAIL: $*"
  exit 1
}

rm -rf "$out"
mkdir -p "$out"
log="$out/cpack.log"
# cpack builds what is out of date first (the preinstall target), then installs and packs.
if ! (cd "$build" && cpack -G DEB -B "$out") >"$log" 2>&1; then
  tail -n 40 "$log"
  fail "cpack failed (log: $log)"
fi
shopt -s nullglob
debs=("$out"/adaspringd_*.deb)
[ ${#debs[@]} -eq 1 ] || fail "expected one adaspringd_*.deb in $out, found ${#debs[@]}"
deb=${debs[0]}
echo "package: $deb"

# ---- control fields ----
version=$(sed -n 's/^project(adaspringd VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = adaspringd ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version-1" ] || fail "Version: $(field Version), expected $version-1"
[ "$(field Architecture)" = "$(dpkg --print-architecture)" ] || fail "Architecture: $(field Architecture)"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
[ -n "$(field Description)" ] || fail "no Description"
depends=$(field Depends)
echo "Depends: $depends"
# dpkg-shlibdeps found the Debian runtime libraries; the scripts' tools are declared.
for dep in libgrpc++ libprotobuf libdnnl libsystemd0 libstdc++6 libc6 init-system-helpers systemd; do
  grep -q "$dep" <<<"$depends" || fail "Depends lacks $dep"
done

# ---- maintainer scripts and conffiles ----
control="$out/control"
dpkg-deb -e "$deb" "$control"
for script in postinst prerm postrm; do
  [ -x "$control/$script" ] || fail "$script missing or not executable"
  sh -n "$control/$script" || fail "$script has a syntax error"
done
grep -q 'systemd-sysusers' "$control/postinst" || fail "postinst does not create the user"
grep -q 'deb-systemd-helper' "$control/postinst" || fail "postinst does not enable the unit"
grep -q 'deb-systemd-invoke stop' "$control/prerm" || fail "prerm does not stop the unit"
grep -qx '/etc/adaspring/adaspringd.toml' "$control/conffiles" || fail "config is not a conffile"

# ---- file list ----
files=$(dpkg-deb -c "$deb" | awk '{print $6}')
need_file() {
  grep -qx -- "$1" <<<"$files" || fail "the package lacks $1"
}
for f in ./usr/bin/adaspringd ./usr/bin/adaspringctl ./usr/bin/adaspring-train \
         ./usr/bin/adaspring-bench ./lib/systemd/system/adaspringd.service \
         ./usr/lib/sysusers.d/adaspringd.conf ./usr/libexec/adaspring/adaspring-rapl-access \
         ./usr/libexec/adaspring/adaspring-cpu-latency-access \
         ./usr/share/adaspring/examples/wakeup-latency.conf \
         ./etc/adaspring/adaspringd.toml ./usr/share/adaspring/models/ \
         ./usr/share/man/man8/adaspringd.8.gz ./usr/share/man/man1/adaspringctl.1.gz \
         ./usr/share/man/man5/adaspringd.toml.5.gz ./usr/share/doc/adaspringd/copyright \
         ./usr/share/doc/adaspringd/changelog.Debian.gz; do
  need_file "$f"
done
grep -q 'libadaspring_client\.so' <<<"$files" || fail "the package lacks the client library"
grep -q '^\./usr/include/adaspring/' <<<"$files" || fail "the package lacks the client headers"
if [ -f "$src/client/completion/adaspringctl.bash" ]; then
  need_file ./usr/share/bash-completion/completions/adaspringctl
fi
for model in "$src"/models/*.asb; do
  need_file "./usr/share/adaspring/models/$(basename "$model")"
done
# Nothing from the build tree or the developer's machine.
if grep -qE '^\./(usr/local|home|root|tmp|work)/' <<<"$files"; then
  fail "stray paths: $(grep -E '^\./(usr/local|home|root|tmp|work)/' <<<"$files" | head -3)"
fi

# ---- lintian: no errors ----
lintian_out="$out/lintian.txt"
lintian --tag-display-limit 0 "$deb" >"$lintian_out" 2>&1 || true
cat "$lintian_out"
if grep -q '^E: ' "$lintian_out"; then
  fail "lintian reported errors"
fi
echo "PASS"
