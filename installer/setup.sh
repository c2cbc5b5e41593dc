#!/usr/bin/env bash
# Takes a fresh Debian 12 / Ubuntu 22.04+ machine to a Release build of Lathe in ./build.
# Installs only the Debian packages the build uses (skipping those already present),
# configures with CMake + Ninja and builds. Idempotent: a second run only rebuilds
# what changed. Options: --build-dir DIR (default build), --debug, --no-install.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir="$here/build"
build_type=Release
install_packages=1
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    --debug) build_type=Debug; shift ;;
    --no-install) install_packages=0; shift ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

# What the build uses, and why:
#   compilers and build tools; Qt 6 (Qt Test now, the workbench next); nlohmann-json
#   (tokenizer.json, configs, safetensors headers); PCRE2 (Unicode pre-tokenizer regexes);
#   spdlog (logging); SQLite (run history, jobs, cost ledger); clang + its runtime
#   (libFuzzer targets, run by the slow tests).
packages=(build-essential cmake ninja-build pkg-config ccache
          qt6-base-dev nlohmann-json3-dev libpcre2-dev libspdlog-dev libsqlite3-dev
          clang libclang-rt-dev)

if [ "$install_packages" = 1 ]; then
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup.sh: installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S "$here" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type"
fi
cmake --build "$build_dir" -j "$(nproc)"
