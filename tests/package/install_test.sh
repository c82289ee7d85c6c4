#!/usr/bin/env bash
# The CMake package, tried as a host project would: `cmake --install` into a
# temporary prefix, then a project outside the tree (tests/package/host,
# copied away from it) finds gcstream 0.2, builds against the install only,
# and runs: one tenant against the emulator, a sink of its own.
#   install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install_test: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" \
  || { cat "$tmp/install.log"; fail "cmake --install failed"; }
p=$tmp/prefix
for f in bin/gcstream bin/gcstream-emulator lib/systemd/system/gcstream.service \
         include/gcstream/host/runtime.hpp include/gcstream/messages/sink.hpp \
         include/gcstream/emulator/server.hpp; do
  [ -e "$p/$f" ] || fail "$f is not installed"
done
config=$(find "$p" -name gcstreamConfig.cmake)
[ -n "$config" ] || fail "no gcstreamConfig.cmake"
for f in gcstreamConfigVersion.cmake gcstreamTargets.cmake FindCAF.cmake; do
  [ -e "$(dirname "$config")/$f" ] || fail "$f is not beside gcstreamConfig.cmake"
done
[ -z "$(find "$p" -name 'message_pool.hpp' -o -name 'demo.hpp')" ] \
  || fail "an internal header is installed"
# Every header's own includes are installed too (nothing points back into
# the source tree).
while IFS= read -r h; do
  for inc in $(sed -n 's/^#include "\(.*\)".*/\1/p' "$h"); do
    [ -e "$p/include/gcstream/$inc" ] || fail "${h#$p/} includes $inc, not installed"
  done
done < <(find "$p/include/gcstream" -name '*.hpp')
grep -q "^ExecStart=$p/bin/gcstream run --config /etc/gcstream/gcstream.json$" \
  "$p/lib/systemd/system/gcstream.service" || fail "the unit does not run $p/bin/gcstream"
"$p/bin/gcstream" --version | grep -q '^gcstream 0\.2\.' || fail "gcstream --version"

# The version file: 0.2 is satisfied; 0.3 and 1.0 are not.
mkdir -p "$tmp/versions"
for want in 0.2 0.3 1.0; do
  cat >"$tmp/versions/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.18)
project(v LANGUAGES CXX)
find_package(gcstream $want REQUIRED)
CM
  if cmake -S "$tmp/versions" -B "$tmp/versions/b$want" -DCMAKE_PREFIX_PATH="$p" \
       >"$tmp/v$want.log" 2>&1; then got=found; else got=refused; fi
  case "$want:$got" in
    0.2:found|0.3:refused|1.0:refused) ;;
    *) cat "$tmp/v$want.log"; fail "find_package(gcstream $want) was $got" ;;
  esac
done

# The host project, away from the source tree.
cp -r "$src/tests/package/host" "$tmp/host-src"
cmake -S "$tmp/host-src" -B "$tmp/host-build" -G Ninja -DCMAKE_PREFIX_PATH="$p" \
  >"$tmp/host-configure.log" 2>&1 || { cat "$tmp/host-configure.log"; fail "host configure"; }
cmake --build "$tmp/host-build" >"$tmp/host-build.log" 2>&1 \
  || { cat "$tmp/host-build.log"; fail "host build"; }
# Its compile line names the install's headers, not the source tree's.
grep -q -- "-I$p/include/gcstream\|-isystem $p/include/gcstream" \
  "$tmp/host-build/build.ninja" || fail "the host does not include from the install"
for dir in host runtime actors messages emulator; do
  if grep -qF -- "$src/$dir" "$tmp/host-build/build.ninja"; then
    fail "the host's build points into the source tree ($src/$dir)"
  fi
done
"$tmp/host-build/host" || fail "the host failed"
echo "install_test: ok"
