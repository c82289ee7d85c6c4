#!/usr/bin/env bash
# Installs the Debian packages that gcstream's build, tests and benchmarks need,
# when they are missing. Idempotent: it runs `apt-get update` only when something
# is missing, and does nothing at all when everything is there.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libcaf-dev
  libwebsocketpp-dev libasio-dev
  libcurl4-openssl-dev
  nlohmann-json3-dev
  libsimdjson-dev
  libboost-test-dev
  libsqlite3-dev
  libssl-dev openssl
  curl
  prometheus dpkg-dev python3
)
# `install-deps.sh fuzz` (make fuzz) adds clang-14 with libFuzzer.
if [ "${1:-}" = "fuzz" ]; then
  packages+=(clang-14 libclang-rt-14-dev libfuzzer-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
