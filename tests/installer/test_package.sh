#!/usr/bin/env bash
# Package test: build the .deb, install it into a throwaway root (dpkg-deb -x, libraries from the
# system), run the installed binaries, and validate the desktop entry, AppStream data and lintian.
set -euo pipefail
build=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cd "$work"
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/out" >cpack.log 2>&1 || { cat cpack.log; fail "cpack failed"; }
deb=$(ls "$work"/out/*.deb | head -n1)
[ -f "$deb" ] || fail "no .deb produced"
echo "built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"

# Package metadata.
dpkg-deb -f "$deb" Package | grep -qx bonsai || fail "package name"
dpkg-deb -f "$deb" Section | grep -qx utils || fail "section"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
echo "$depends" | grep -q "libqt6core6" || fail "shlibdeps did not compute Qt dependencies"
echo "$depends" | grep -q "qml6-module-qtquick-controls" || fail "QML runtime modules missing from Depends"
if dpkg-deb --ctrl-tarfile "$deb" | tar -t | grep -Eq '(preinst|postinst|prerm|postrm)$'; then
  fail "maintainer scripts present"
fi

# Install into a throwaway root.
root="$work/root"
dpkg-deb -x "$deb" "$root"
for f in usr/bin/bonsai usr/bin/bonsai-cli usr/share/applications/org.bonsai.Bonsai.desktop \
         usr/share/metainfo/org.bonsai.Bonsai.metainfo.xml usr/share/icons/hicolor/scalable/apps/org.bonsai.Bonsai.svg \
         usr/share/icons/hicolor/256x256/apps/org.bonsai.Bonsai.png usr/share/doc/bonsai/copyright usr/share/man/man1/bonsai.1.gz usr/share/man/man1/bonsai-cli.1.gz; do
  [ -e "$root/$f" ] || fail "missing $f"
done
file "$root/usr/share/icons/hicolor/256x256/apps/org.bonsai.Bonsai.png" | grep -q "256 x 256" || fail "256 icon size"

"$root/usr/bin/bonsai-cli" --version | grep -q "^bonsai-cli " || fail "installed bonsai-cli --version"

# One-prompt generation on the bundled default model, when this build ships one.
model="$root/usr/share/bonsai/models/bonsai-default.gguf"
if [ -f "$model" ]; then
  out=$("$root/usr/bin/bonsai-cli" run -m "$model" -p "The" -n 8 --temp 0 2>"$work/run.err") || { cat "$work/run.err"; fail "generation on the bundled model"; }
  [ -n "$out" ] || fail "empty generation"
  echo "bundled model generation OK: $out"
else
  echo "note: no bundled default model in this build; generation check skipped"
fi

# The installed desktop app starts offscreen and stays up (killed after 3 s).
if QT_QPA_PLATFORM=offscreen HOME="$work/home" timeout 3 "$root/usr/bin/bonsai" >"$work/app.log" 2>&1; then
  :
else
  rc=$?
  [ $rc -eq 124 ] || { cat "$work/app.log"; fail "installed bonsai exited with $rc"; }
fi

desktop-file-validate "$root/usr/share/applications/org.bonsai.Bonsai.desktop" || fail "desktop-file-validate"
appstreamcli validate --no-net --pedantic "$root/usr/share/metainfo/org.bonsai.Bonsai.metainfo.xml" >"$work/as.log" 2>&1 || { cat "$work/as.log"; fail "appstreamcli validate"; }
cat "$work/as.log"

if command -v lintian >/dev/null; then
  lintian --no-tag-display-limit "$deb" >"$work/lintian.log" 2>&1 || true
  cat "$work/lintian.log"
  if grep -q '^E:' "$work/lintian.log"; then fail "lintian reported errors"; fi
fi
echo "1 passed, 0 failed"
