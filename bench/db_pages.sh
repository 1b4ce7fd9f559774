#!/usr/bin/env bash
# The database scenario: bytes each tool adds per incremental when a big
# database-like file gets a few scattered page writes between backups.
# glacier-backup against restic, borg and duplicity, in one run. Also times
# glacier-backup's incrementals against one read of the file, and its restore
# of the last point (a chain of deltas) against the full's (the file whole).
# See bench/README.md.
#
#   bench/db_pages.sh [OPTIONS]
#
# Options:
#   --size MB         the file's size in MB (default 200)
#   --writes N        4 KiB page writes between backups (default 50)
#   --incrementals N  incrementals after the full (default 7, at most 7)
#   --cold            drop the page cache before each timed read, backup and
#                     restore of glacier-backup (needs root); the times are
#                     then against a read from disk, as a nightly backup meets it
#   --workdir DIR     make the temp dir under DIR (default: $TMPDIR or /tmp)
#   --bin PATH        glacier-backup binary (default: build/glacier-backup)
#   --no-restic, --no-borg, --no-duplicity   skip that tool
#   --keep            keep the temp dir
#   -h, --help        this text
#
# Exit status: 0 when every command succeeded (targets missed or not), 1 when
# a command failed (its log is printed), 2 on a bad command line.
set -euo pipefail
export LC_ALL=C

source "$(dirname "$0")/lib.sh"

size_mb=200
writes=50
incrementals=7
tools=(ours restic borg duplicity)
drop() { local t out=(); for t in "${tools[@]}"; do [ "$t" = "$1" ] || out+=("$t"); done; tools=("${out[@]}"); }

while [ $# -gt 0 ]; do
  common_option "$@"
  if [ "$consumed" -gt 0 ]; then shift "$consumed"; continue; fi
  case "$1" in
    --size) [ $# -ge 2 ] || die "$1 needs a number"; size_mb="$2"; shift 2 ;;
    --writes) [ $# -ge 2 ] || die "$1 needs a number"; writes="$2"; shift 2 ;;
    --incrementals) [ $# -ge 2 ] || die "$1 needs a number"; incrementals="$2"; shift 2 ;;
    --no-restic) drop restic; shift ;;
    --no-borg) drop borg; shift ;;
    --no-duplicity) drop duplicity; shift ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
for n in "$size_mb" "$writes" "$incrementals"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "--size, --writes and --incrementals take positive numbers"
done
# One set holds the full and max_incrementals (7) incrementals: more would start a new chain.
[ "$incrementals" -le 7 ] || die "--incrementals is at most 7 (one set: a full and 7 incrementals)"
check_cold
need python3
for t in "${tools[@]}"; do [ "$t" = ours ] || need "$t"; done

find_binary
make_workdir glacier-db-bench
mkdir -p "$work/data"
db="$work/data/app.db"
sizes="$work/sizes.tsv"
times="$work/times.tsv"
: >"$sizes"
: >"$times"

run() {  # run LOG CMD... : fails the bench with the log when CMD fails
  local log="$work/logs/$1.log"; shift
  "$@" >>"$log" 2>&1 || { echo "FAILED: $*" >&2; tail -n 30 "$log" >&2; exit 1; }
}
bytes() { du -sb "$@" 2>/dev/null | awk '{s += $1} END {print s + 0}'; }
# timed WHAT N CMD... : runs CMD and appends "WHAT N SECONDS" (wall clock) to times.tsv
timed() {
  local what="$1" n="$2" start; shift 2
  if [ "$cold" = 1 ]; then sync; echo 3 >/proc/sys/vm/drop_caches; fi
  start="$EPOCHREALTIME"
  "$@"
  printf '%s\t%s\t%s\n' "$what" "$n" "$(python3 -c "print($EPOCHREALTIME - $start)")" >>"$times"
}

# Each tool: setup, then backup N (0 = full) and the bytes it keeps so far.
ours_setup() { run ours gb_init "$work/gb" "$work/data"; }
ours_backup() { timed backup "$1" run ours "$bin" --config "$work/gb/config.toml" backup; }
# ours_restore N DIR : restores the file as backup N (0 = the full) holds it, into DIR
ours_restore() {
  local id
  id="$("$bin" --config "$work/gb/config.toml" snapshots --json |
    python3 -c "import json, sys; print(json.load(sys.stdin)[$1]['id'])")"
  timed restore "$1" run ours "$bin" --config "$work/gb/config.toml" restore --at "$id" --to "$2" "$db"
}
ours_bytes() { bytes "$work/gb/cache"; }  # the archives (what goes to the vault)

restic_setup() {
  export RESTIC_PASSWORD=bench-only-password RESTIC_REPOSITORY="$work/restic" RESTIC_CACHE_DIR="$work/restic-cache"
  run restic restic init
}
restic_backup() { run restic restic backup "$work/data"; }
restic_bytes() { bytes "$work/restic"; }

borg_setup() {
  export BORG_PASSPHRASE=bench-only-password BORG_REPO="$work/borg" BORG_BASE_DIR="$work/borg-base"
  run borg borg init -e repokey
}
borg_n=0
borg_backup() { borg_n=$((borg_n + 1)); run borg borg create "::b$borg_n" "$work/data"; }
borg_bytes() { bytes "$work/borg"; }

duplicity_setup() { export PASSPHRASE=bench-only-password; mkdir -p "$work/duplicity"; }
duplicity_backup() {
  local kind=incremental
  [ -n "$(ls -A "$work/duplicity")" ] || kind=full
  run duplicity duplicity "$kind" --archive-dir "$work/duplicity-cache" "$work/data" "file://$work/duplicity"
}
duplicity_bytes() { bytes "$work/duplicity"; }

echo "the file: $size_mb MB, database-like (4 KiB pages, about 3:1 compressible);"
echo "$writes scattered 4 KiB page writes between backups, $incrementals incrementals"
echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
python3 "$here/db_pages.py" create "$db" "$size_mb"
for t in "${tools[@]}"; do "${t}_setup"; done
for n in $(seq 0 "$incrementals"); do
  [ "$n" = 0 ] || python3 "$here/db_pages.py" write "$db" "$writes" "$n"
  [ "$n" != 0 ] || cp "$db" "$work/first.db"
  timed read "$n" cat "$db" >/dev/null  # one read of the file, as the backups meet it
  for t in "${tools[@]}"; do
    "${t}_backup" "$n"
    printf '%s\t%s\t%s\n' "$t" "$n" "$("${t}_bytes")" >>"$sizes"
  done
done
if [[ " ${tools[*]} " == *" ours "* ]]; then
  ours_restore 0 "$work/restore-full"
  ours_restore "$incrementals" "$work/restore-chain"
  cmp "$work/first.db" "$work/restore-full$db" || { echo "FAILED: the full restored other bytes" >&2; exit 1; }
  cmp "$db" "$work/restore-chain$db" || { echo "FAILED: the chain restored other bytes" >&2; exit 1; }
fi
python3 "$here/db_pages.py" report "$sizes" "$times"
