#!/usr/bin/env bash
# Installs the Debian packages glacier-backup needs to build, test and benchmark,
# only those that are missing. Safe to run again.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libarchive-dev libzstd-dev libsodium-dev libssl-dev libcurl4-openssl-dev libsqlite3-dev
  librsync-dev libtomlplusplus-dev nlohmann-json3-dev libcli11-dev libpugixml-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  zlib1g-dev age minisign zstd tar rdiff python3 sqlite3
  clang clang-format libfuzzer-14-dev libclang-rt-14-dev
  acl attr libcap2-bin  # tests and contrib/restore-set.py: setfacl, setfattr, setcap
  dpkg-dev file man-db zsh fish  # the Debian package (dpkg-shlibdeps), man page and completion tests
  postgresql prometheus-node-exporter  # tests: [[source.command]] dumps, [monitoring] textfile
)
if [ "${1:-}" = "--bench" ]; then
  packages+=(restic borgbackup duplicity time)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The cloud backend tests run against moto_server (a third-party AWS emulator, Python)
# and the project's own faithful Glacier server (Python + botocore).
if ! python3 -c 'import moto.server, boto3, botocore, flask' 2>/dev/null; then
  echo "installing: moto[server] (pip)" >&2
  python3 -m pip install --quiet 'moto[server]==5.*' ||
    python3 -m pip install --quiet --break-system-packages 'moto[server]==5.*'
fi
