#!/usr/bin/env bash
# Packs what a GPU run on the workplace's device machine needs (docs/vulkan.md, "Performance"): the
# Vulkan loader packages (.gl/) and bonsai-cli, bonsai-vulkan-bench and every shared library they load
# from this machine but the C library and the Vulkan loader (.vkbench/kit.txz, xz-compressed to stay
# under the 64 MiB transfer limit together with the tracked files). Both folders are kept out of git
# through .git/info/exclude. Run from the repository root after building (default build dir:
# build/ci). Prints the line a device command starts with.
set -euo pipefail

build=${1:-build/ci}
cli=$build/app/cli/bonsai-cli
bench=$build/tests/vulkan/bonsai-vulkan-bench
for b in "$cli" "$bench"; do
    [[ -x $b ]] || { echo "device-kit: $b is missing: build first (cmake --build --preset ci)" >&2; exit 1; }
done

exclude=.git/info/exclude
mkdir -p .git/info
for d in /.gl/ /.vkbench/; do grep -qxF "$d" "$exclude" 2>/dev/null || echo "$d" >>"$exclude"; done

# The loader: Debian's amd64 packages, unpacked over / on the device machine (it has the NVIDIA ICD only).
if ! ls .gl/libvulkan1_*.deb >/dev/null 2>&1; then
    mkdir -p .gl /tmp/device-kit-apt/partial
    o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/device-kit-apt)
    apt-get "${o[@]}" update >/dev/null
    (cd .gl && apt-get "${o[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/lib"
cp "$cli" "$bench" "$stage/"
for b in "$cli" "$bench"; do
    ldd "$b" | awk '$3 ~ /^\// {print $3}' | grep -Ev '/(libc|libm|ld-linux[^/]*|libvulkan)\.so' |
        while read -r lib; do cp -L "$lib" "$stage/lib/"; done
done
rm -rf .vkbench
mkdir -p .vkbench
tar -C "$stage" -cf - . | xz -9 -T2 >.vkbench/kit.txz
echo "device-kit: .vkbench/kit.txz $(du -h .vkbench/kit.txz | cut -f1), .gl $(du -sh .gl | cut -f1)" >&2
cat <<'EOF'
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig; cd .vkbench; (tar xJf kit.txz || python3 -c "import tarfile; tarfile.open('kit.txz').extractall()"); export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json LD_LIBRARY_PATH=$PWD/lib;
EOF
