#!/usr/bin/env bash
# `make package`, checked from outside: CPack builds gcstream and
# gcstream-dev .deb files from BUILD_DIR; their metadata and contents are
# read with dpkg-deb, the unit is verified with systemd-analyze (where
# there is one), and the packaged program checks the packaged example
# configuration.
#   deb_test.sh BUILD_DIR
set -euo pipefail
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "deb_test: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$tmp/out" >"$tmp/cpack.log" 2>&1) \
  || { cat "$tmp/cpack.log"; fail "cpack failed"; }
run=$(ls "$tmp"/out/gcstream_*.deb) || fail "no gcstream .deb"
dev=$(ls "$tmp"/out/gcstream-dev_*.deb) || fail "no gcstream-dev .deb"

field() { dpkg-deb --field "$1" "$2"; }
[ "$(field "$run" Package)" = gcstream ] || fail "package name"
[[ "$(field "$run" Version)" == 0.2.* ]] || fail "version $(field "$run" Version)"
deps=$(field "$run" Depends)
# dpkg-shlibdeps found the libraries the programs link.
for lib in libcaf-core libcurl4 libsqlite3 libssl3 libsimdjson; do
  [[ "$deps" == *"$lib"* ]] || fail "gcstream does not depend on $lib: $deps"
done
dpkg-deb --info "$run" | grep -q postinst || fail "no postinst"
# The maintainer scripts, read (they are not run: that would change this
# machine): valid shell; postinst makes the user and the configuration and
# starts nothing; postrm's purge removes what the package made.
dpkg-deb -e "$run" "$tmp/control"
for f in postinst postrm; do
  sh -n "$tmp/control/$f" || fail "$f is not valid shell"
done
grep -q 'useradd --system' "$tmp/control/postinst" || fail "postinst makes no user"
grep -q '/etc/gcstream/\$f' "$tmp/control/postinst" || fail "postinst makes no configuration"
if grep -Eq 'systemctl (start|enable|restart)|deb-systemd-invoke' "$tmp/control/postinst"; then
  fail "postinst starts the service"
fi
grep -q 'rm -rf /etc/gcstream /var/lib/gcstream /var/log/gcstream' "$tmp/control/postrm" \
  || fail "postrm's purge leaves the package's directories"
contents=$(dpkg-deb --contents "$run" | awk '{print $6}')
for f in ./usr/bin/gcstream ./usr/bin/gcstream-emulator \
         ./usr/lib/systemd/system/gcstream.service \
         ./usr/share/doc/gcstream/gcstream.json.example \
         ./usr/share/doc/gcstream/gcstream.env.example \
         ./usr/share/doc/gcstream/grafana/gcstream.json \
         ./usr/share/doc/gcstream/prometheus/gcstream-alerts.yml; do
  grep -qx -- "$f" <<<"$contents" || fail "gcstream lacks $f"
done
if grep -q 'include/\|\.a$' <<<"$contents"; then fail "development files in gcstream"; fi

[ "$(field "$dev" Package)" = gcstream-dev ] || fail "dev package name"
[[ "$(field "$dev" Depends)" == *libcaf-dev* ]] || fail "gcstream-dev does not depend on libcaf-dev"
devc=$(dpkg-deb --contents "$dev" | awk '{print $6}')
for f in ./usr/include/gcstream/host/runtime.hpp ./usr/include/gcstream/messages/sink.hpp; do
  grep -qx -- "$f" <<<"$devc" || fail "gcstream-dev lacks $f"
done
for f in libgcstream.a libgcstream_emulator.a cmake/gcstream/gcstreamConfig.cmake \
         cmake/gcstream/gcstreamConfigVersion.cmake cmake/gcstream/FindCAF.cmake; do
  grep -q -- "/$f\$" <<<"$devc" || fail "gcstream-dev lacks $f"
done

# The unit: what it runs, as whom, how it reloads and its hardening.
dpkg-deb -x "$run" "$tmp/root"
unit=$tmp/root/usr/lib/systemd/system/gcstream.service
for line in 'ExecStart=/usr/bin/gcstream run --config /etc/gcstream/gcstream.json' \
            'User=gcstream' 'ExecReload=/bin/kill -HUP $MAINPID' 'Restart=on-failure' \
            'NoNewPrivileges=yes' 'ProtectSystem=strict' 'PrivateTmp=yes' \
            'Group=gcstream' 'EnvironmentFile=-/etc/gcstream/gcstream.env' \
            'RestartPreventExitStatus=2 3' 'StartLimitBurst=5' 'TimeoutStopSec=60s' \
            'StateDirectory=gcstream' 'LogsDirectory=gcstream' 'ProtectHome=yes' \
            'CapabilityBoundingSet=' 'LimitNOFILE=65536'; do
  grep -qxF -- "$line" "$unit" || fail "the unit lacks: $line"
done
if command -v systemd-analyze >/dev/null; then
  # Verified as installed, with the program where this test unpacked it.
  sed "s#/usr/bin/gcstream#$tmp/root/usr/bin/gcstream#g" "$unit" >"$tmp/gcstream.service"
  systemd-analyze verify "$tmp/gcstream.service" >"$tmp/verify.log" 2>&1 \
    || { cat "$tmp/verify.log"; fail "systemd-analyze verify"; }
  if grep -v 'Failed to put bus name\|D-Bus\|/run/systemd' "$tmp/verify.log" \
       | grep -q .; then
    cat "$tmp/verify.log"; fail "systemd-analyze verify warned"
  fi
  # The README's exposure rating (2.8): fails above 3.0.
  systemd-analyze security --offline=yes --threshold=30 "$tmp/gcstream.service" \
    >"$tmp/security.log" 2>&1 || { tail -3 "$tmp/security.log"; fail "exposure above 3.0"; }
else
  echo "deb_test: no systemd-analyze here; the unit was checked by its lines only"
fi

# The packaged program accepts the packaged example configuration, given
# the secret its env file names.
bin=$tmp/root/usr/bin/gcstream
"$bin" --version | grep -q '^gcstream 0\.2\.' || fail "packaged gcstream --version"
ACME_CLIENT_SECRET=x "$bin" validate-config "$tmp/root/usr/share/doc/gcstream/gcstream.json.example" \
  || fail "the example configuration is refused"
grep -q '^ACME_CLIENT_SECRET=' "$tmp/root/usr/share/doc/gcstream/gcstream.env.example" \
  || fail "the env example does not set the secret the configuration names"
echo "deb_test: ok ($(basename "$run"), $(basename "$dev"))"
