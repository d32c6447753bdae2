#!/usr/bin/env bash
# Installs everything stagegate needs to build, test and run on Debian 12 (bookworm).
# Idempotent: packages already present are left alone. Needs root (or sudo).
set -euo pipefail

packages=(
  g++ cmake make pkg-config git ca-certificates
  libvulkan-dev mesa-vulkan-drivers vulkan-tools vulkan-validationlayers glslc spirv-tools
  libvkfft-dev glslang-dev glslang-tools
  libboost-program-options-dev nlohmann-json3-dev libpcre2-dev libutf8proc-dev
  libsqlite3-dev sqlite3 libssl-dev libzstd-dev zstd libgtest-dev libgmock-dev zlib1g-dev
  libboost-dev libdivsufsort-dev libicu-dev libcpp-httplib-dev curl
  clang libclang-rt-14-dev llvm
  chromium
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  # One resolver pass over the whole list has been seen to fail with "held broken packages"
  # on a fresh machine where installing the same packages one by one succeeds.
  if ! $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    echo "setup: bulk install failed; installing one package at a time" >&2
    for p in "${missing[@]}"; do
      $sudo apt-get install -y -qq --no-install-recommends "$p" >/dev/null
    done
  fi
fi

# Node and the pinned `openai` client for the server's client test (tests/serve/openai_client).
# Debian's nodejs and npm only where no node is installed: a node from elsewhere (NodeSource)
# ships its own npm, which Debian's npm package would conflict with.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing nodejs npm" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
client="$(dirname "$0")/../tests/serve/openai_client"
if [ ! -f "$client/node_modules/openai/package.json" ] ||
  [ "$client/package-lock.json" -nt "$client/node_modules/.package-lock.json" ]; then
  echo "setup: npm ci in $client" >&2
  npm ci --prefix "$client" --no-audit --no-fund --loglevel=error >/dev/null
fi
