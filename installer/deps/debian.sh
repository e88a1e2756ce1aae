#!/usr/bin/env bash
# Installs everything Bonsai's build, tests and app need on Debian 12 (bookworm).
# Idempotent: quiet when every package is present, clear when something fails.
# Never installs nodejs/npm: the machine's own Node.js 20 lives outside apt.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential g++ cmake ninja-build ccache pkg-config git clang libclang-rt-14-dev
  # Qt 6 (Core, Gui, Quick, Qml, Network, Test, Svg) + QML runtime modules
  qt6-base-dev qt6-declarative-dev qt6-tools-dev qt6-svg-dev qt6-base-dev-tools
  qml6-module-qtquick qml6-module-qtquick-controls qml6-module-qtquick-layouts
  qml6-module-qtquick-window qml6-module-qtquick-templates qml6-module-qtqml-workerscript
  qml6-module-qtquick-dialogs qml6-module-qtqml-models qml6-module-qttest
  libgl-dev qtkeychain-qt6-dev libpoppler-qt6-dev
  # engine
  libdnnl-dev libvulkan-dev glslc spirv-tools mesa-vulkan-drivers vulkan-validationlayers vulkan-tools
  # storage, JSON, HTTP
  libsqlite3-dev sqlite3 nlohmann-json3-dev libcpp-httplib-dev libssl-dev
  # headless GUI and keyring for tests
  xvfb xauth imagemagick dbus dbus-x11 gnome-keyring libsecret-tools
  # packaging checks
  desktop-file-utils appstream lintian dpkg-dev file
  # training (Debian's torch is importable from /usr/bin/python3 only)
  python3 python3-torch libopenblas0-pthread python3-numpy python3-jinja2 python3-pytest
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "debian.sh: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "debian.sh: installing ${#missing[@]} package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  echo "debian.sh: apt-get failed; last lines:" >&2
  tail -n 30 "$log" >&2
  exit 1
fi
# Guard: nothing we install may have replaced the machine's Node.js.
if dpkg-query -W -f='${Status}' nodejs 2>/dev/null | grep -q "install ok installed"; then
  echo "debian.sh: warning: apt's nodejs is installed; the project never installs it" >&2
fi
rm -f "$log"
echo "debian.sh: done"
