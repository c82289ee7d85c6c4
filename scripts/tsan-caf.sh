#!/usr/bin/env bash
# make tsan: a CAF 0.17.6 built with ThreadSanitizer, into PREFIX (default
# build-tsan-caf/prefix), from Debian's own source package of the libcaf-dev
# installed (actor-framework 0.17.6): Debian's binary libcaf_core is not
# built with ThreadSanitizer, so the synchronization of its scheduler and
# mailboxes is invisible to it and every actor looks like a race.
#
# The source comes from Debian's archive (the deb-src twin of the apt source
# this machine uses), is checked against the .dsc's SHA-256, and is built
# once (core and io only, as installed). Nothing of it is kept in the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$(realpath -m "${1:-build-tsan-caf}")
PREFIX="$WORK/prefix"
if [ -f "$PREFIX/lib/libcaf_core.so" ] || [ -f "$PREFIX/lib64/libcaf_core.so" ]; then
  exit 0
fi
mkdir -p "$WORK/apt/lists/partial" "$WORK/src"
# deb-src lines for the archive apt already uses (deb822 or one-line form).
SRC="$WORK/apt/sources.list"
: > "$SRC"
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
    > "$WORK/apt/debian-src.sources"
  PARTS="$WORK/apt"
else
  grep -h '^deb ' /etc/apt/sources.list 2>/dev/null | sed 's/^deb /deb-src /' > "$SRC"
  PARTS=/dev/null
fi
APT=(-o "Dir::Etc::SourceList=$SRC" -o "Dir::Etc::SourceParts=$PARTS"
     -o "Dir::State::Lists=$WORK/apt/lists" -o APT::Sandbox::User=root)
echo "tsan: fetching Debian's source of actor-framework 0.17.6"
apt-get "${APT[@]}" update -qq
# (Only the upstream tarball is needed: a missing Debian patch tarball is
# no failure here.)
VERSION=$(dpkg-query -W -f='${source:Version}' libcaf-dev)
(cd "$WORK/src" && apt-get "${APT[@]}" source --download-only \
   "actor-framework=$VERSION" > ../fetch.log 2>&1) || true
DSC=$(ls "$WORK"/src/actor-framework_0.17.6*.dsc | head -1)
TAR="$WORK/src/actor-framework_0.17.6.orig.tar.gz"
want=$(awk '/^Checksums-Sha256:/{f=1;next} /^[A-Z]/{f=0} f && /orig.tar.gz/{print $1}' "$DSC")
have=$(sha256sum "$TAR" | cut -d' ' -f1)
if [ -z "$want" ] || [ "$want" != "$have" ]; then
  echo "tsan: $TAR does not match $DSC" >&2
  exit 1
fi
rm -rf "$WORK/src/actor-framework-0.17.6"
tar xzf "$TAR" -C "$WORK/src"
# The one fix GCC 12 needs (Debian's own patches are not fetched): a header
# that uses std::numeric_limits without including <limits>.
sed -i 's/^#include <cstddef>$/#include <cstddef>\n#include <limits>/' \
  "$WORK/src/actor-framework-0.17.6/libcaf_io/caf/io/network/receive_buffer.hpp"
echo "tsan: building CAF with -fsanitize=thread (several minutes, once)"
cmake -S "$WORK/src/actor-framework-0.17.6" -B "$WORK/build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS=-fsanitize=thread -O1 -g1" \
  "-DCMAKE_INSTALL_PREFIX=$PREFIX" -DCAF_NO_EXAMPLES=yes -DCAF_NO_UNIT_TESTS=yes \
  -DCAF_NO_TOOLS=yes -DCAF_NO_OPENSSL=yes -DCAF_NO_PYTHON=yes -DCAF_NO_OPENCL=yes \
  -DCAF_NO_SUMMARY=yes > "$WORK/configure.log"
cmake --build "$WORK/build" --target install > "$WORK/build.log"
echo "tsan: CAF with ThreadSanitizer in $PREFIX"
