#!/usr/bin/env bash
# Builds the Debian package from ./build (or $BUILD_DIR) and checks it: the files it
# installs, its Depends (from dpkg-shlibdeps), that apt can install it here, and that
# the binary it holds runs and its man page renders.
# Usage: scripts/check-package.sh   (scripts/test.sh runs it after the test suite)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD_DIR:-build}"
# Only the binary and what it generates are packaged: cpack need not build the tests.
CMAKE_ARGS="${CMAKE_ARGS:-} -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON" \
  scripts/build.sh glacier-backup gb_docs >/dev/null
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$build" && cpack -G DEB -B "$tmp/out" >"$tmp/cpack.log" 2>&1) || {
  cat "$tmp/cpack.log" >&2
  exit 1
}
deb="$(ls "$tmp"/out/glacier-backup_*.deb)"
fail() {
  echo "check-package: $deb: $*" >&2
  exit 1
}

contents="$(dpkg-deb -c "$deb")"
for path in ./usr/bin/glacier-backup ./usr/share/man/man1/glacier-backup.1 \
  ./usr/share/bash-completion/completions/glacier-backup \
  ./usr/share/zsh/vendor-completions/_glacier-backup \
  ./usr/share/fish/vendor_completions.d/glacier-backup.fish \
  ./usr/lib/systemd/user/glacier-backup.service ./usr/lib/systemd/user/glacier-backup.timer \
  ./usr/share/doc/glacier-backup/examples/config.example.toml \
  ./usr/share/doc/glacier-backup/contrib/restore-set.py; do
  grep -q " $path\$" <<<"$contents" || fail "does not contain $path"
done

depends="$(dpkg-deb -f "$deb" Depends)"
for lib in libarchive libzstd libsodium libcurl libsqlite3 librsync; do
  grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
# apt resolves the dependencies from the archive (simulated: nothing is installed).
apt-get install --simulate --no-install-recommends "$deb" >"$tmp/apt.log" 2>&1 || {
  cat "$tmp/apt.log" >&2
  fail "apt-get cannot install it"
}

dpkg-deb -x "$deb" "$tmp/root"
version="$("$tmp/root/usr/bin/glacier-backup" --version)"
[ "$version" = "glacier-backup $(dpkg-deb -f "$deb" Version)" ] ||
  fail "the packaged binary says '$version'"
man -l "$tmp/root/usr/share/man/man1/glacier-backup.1" 2>&1 | grep -q "restore" ||
  fail "the man page does not render"
echo "check-package: $(basename "$deb") is good (Depends: $depends)"
