#!/usr/bin/env bash
# Benchmarks glacier-backup against tar|zstd, a stat-only walk, restic and borg
# on one tree, in one run. See bench/README.md.
#
#   bench/run.sh [OPTIONS] TREE
#   bench/run.sh [OPTIONS] --small-files N_DIRS N_FILES
#
# Options:
#   -r, --runs N      measure every operation N times, report the median (default 3)
#   --workdir DIR     make the temp dir (repos, caches, restores, generated tree)
#                     under DIR (default: $TMPDIR or /tmp)
#   --bin PATH        glacier-backup binary (default: build/glacier-backup, built
#                     with scripts/build.sh if missing)
#   --no-restic, --no-borg   skip that tool (its ratios show n/a)
#   --cold            also run every step with a cold page cache (dropped before
#                     each timed command; needs root) and report cold beside warm
#   --keep            keep the temp dir (logs, repos) instead of deleting it
#   --save FILE       also copy the raw measurements (TSV) to FILE
#   -h, --help        this text
#
# Exit status: 0 when every measured command succeeded (targets missed or not),
# 1 when a command failed (its log is printed), 2 on a bad command line.
set -euo pipefail
export LC_ALL=C

source "$(dirname "$0")/lib.sh"

runs=3
tree=""
small_dirs=""
small_files=""
do_restic=1
do_borg=1
save=""

while [ $# -gt 0 ]; do
  common_option "$@"
  if [ "$consumed" -gt 0 ]; then shift "$consumed"; continue; fi
  case "$1" in
    -r|--runs) [ $# -ge 2 ] || die "$1 needs a number"; runs="$2"; shift 2 ;;
    --small-files)
      [ $# -ge 3 ] || die "--small-files needs N_DIRS N_FILES"
      small_dirs="$2"; small_files="$3"; shift 3 ;;
    --no-restic) do_restic=0; shift ;;
    --no-borg) do_borg=0; shift ;;
    --save) [ $# -ge 2 ] || die "$1 needs a file"; save="$2"; shift 2 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$tree" ] || die "only one TREE"; tree="$1"; shift ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive number"
check_cold
if [ -n "$small_dirs" ]; then
  [ -z "$tree" ] || die "give either TREE or --small-files, not both"
  [[ "$small_dirs" =~ ^[1-9][0-9]*$ && "$small_files" =~ ^[1-9][0-9]*$ ]] ||
    die "--small-files needs two positive numbers"
  mode=small-files
else
  [ -n "$tree" ] || { usage >&2; exit 2; }
  [ -d "$tree" ] || die "$tree is not a directory"
  tree="$(realpath "$tree")"
  mode=tree
fi

need tar; need zstd; need find; need python3
[ -x /usr/bin/time ] || die "/usr/bin/time not found (scripts/install-deps.sh --bench installs GNU time)"
[ "$do_restic" = 0 ] || need restic
[ "$do_borg" = 0 ] || need borg

find_binary
make_workdir glacier-bench
times="$work/times.tsv"
sizes="$work/sizes.tsv"
: >"$times"
: >"$sizes"

if [ "$mode" = small-files ]; then
  tree="$work/tree"
  echo "generating $small_dirs x $small_files small files in $tree (not timed)"
  python3 "$here/gen_tree.py" "$tree" "$small_dirs" "$small_files"
fi

# Counts regular files and their bytes below $1: "N BYTES".
tree_stats() { find "$1" -type f -printf '%s\n' | awk '{n++; b+=$1} END {printf "%d %d\n", n, b}'; }

echo "tree: $tree"
echo "warming the page cache (one untimed read of the tree)"
tar -cf - "$tree" 2>/dev/null | cat >/dev/null
read -r src_files src_bytes < <(tree_stats "$tree")
src_entries="$(find "$tree" | wc -l)"
echo "  $src_entries entries, $src_files regular files, $((src_bytes / 1000000)) MB; $(nproc) CPUs; $runs run(s) each"
echo "glacier-backup: $bin_src ($("$bin" --version 2>/dev/null || echo '?'))"
[ "$do_restic" = 0 ] || echo "restic: $(restic version 2>/dev/null | head -n1)"
[ "$do_borg" = 0 ] || echo "borg: $(borg --version 2>/dev/null)"
echo "temp dir: $work"
# Other work on the machine skews every number; say so rather than hide it.
load_check() {
  local load
  load="$(cut -d' ' -f1 /proc/loadavg)"
  echo "load average $1: $load"
  if awk -v l="$load" -v n="$(nproc)" 'BEGIN {exit !(l > n / 2)}'; then
    echo "  WARNING: the machine is busy (load $load on $(nproc) CPUs); times will be inflated and noisy"
  fi
}
load_check "before"
echo

# measure LABEL CMD... : runs CMD once under GNU time and records wall clock (ns
# timer), peak RSS, user and system time. Dirty data from the previous step is
# flushed first (sync, not timed) so it does not land on this one.
measure() {
  local label="$1$suffix"; shift
  local log="$work/logs/$label.$rep.log" tf="$work/logs/$label.$rep.time"
  sync
  # cold pass: nothing of the tree, the tools or the repositories is cached
  [ "$temp" = warm ] || echo 3 >/proc/sys/vm/drop_caches
  local t0 t1 rc=0
  t0=$(date +%s%N)
  /usr/bin/time -f '%e %M %U %S' -o "$tf" "$@" >"$log" 2>&1 || rc=$?
  t1=$(date +%s%N)
  if [ "$rc" != 0 ]; then
    echo "FAILED ($rc): $label: $*" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  local wall rss user sys_
  read -r _ rss user sys_ < <(tail -n 1 "$tf")
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e9}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$rep" "$wall" "$rss" "$user" "$sys_" >>"$times"
  printf '  %-16s %9.3f s  %7.1f MiB  user %7.2f s  sys %7.2f s\n' \
    "$label" "$wall" "$(awk -v k="$rss" 'BEGIN {print k / 1024}')" "$user" "$sys_"
}

# size LABEL PATH... : bytes written by a backup (recorded once, first run).
size() {
  local label="$1"; shift
  [ "$rep" = 1 ] && [ "$temp" = warm ] || return 0
  local p existing=()
  for p in "$@"; do [ ! -e "$p" ] || existing+=("$p"); done
  [ ${#existing[@]} -gt 0 ] || return 0
  printf '%s\t%s\n' "$label" "$(du -scb "${existing[@]}" | tail -n 1 | cut -f1)" >>"$sizes"
}

# check_restore LABEL DIR : the restored copy of the tree must have as many
# regular files and bytes as the source (a quick sanity check, not a diff).
restore_mismatch=0
check_restore() {
  local got_files got_bytes
  read -r got_files got_bytes < <(tree_stats "$2$tree")
  if [ "$got_files" != "$src_files" ] || [ "$got_bytes" != "$src_bytes" ]; then
    echo "  WARNING: $1 restored $got_files files / $got_bytes bytes, source has $src_files / $src_bytes" >&2
    restore_mismatch=1
  fi
}

wipe() { chmod -R u+rwx "$@" 2>/dev/null || true; rm -rf "$@"; }

# Restored trees are set aside until the last command was timed, not deleted
# between commands: for minutes after many files were deleted, ext4 skips
# their inode numbers one by one when it creates new files nearby, and the
# next restore (ours or a peer's) would be timed doing that. So the work dir
# needs room for every restore of the run.
set_aside_dir="$work/restored-trees"
mkdir -p "$set_aside_dir"
set_aside() { mv "$1" "$set_aside_dir/$(basename "$1").$pass.$RANDOM"; }

# Each run is one pass with a warm page cache, and with --cold a second one
# that drops it before every timed command (labels ending in .cold).
passes=""
for rep in $(seq 1 "$runs"); do
  passes+=" $rep:warm"
  [ "$cold" = 0 ] || passes+=" $rep:cold"
done
for pass in $passes; do
  rep="${pass%%:*}" temp="${pass#*:}" suffix=""
  [ "$temp" = warm ] || suffix=".cold"
  echo "run $rep/$runs ($temp page cache)"
  if [ "$cold" = 1 ] && [ "$temp" = warm ]; then
    tar -cf - "$tree" 2>/dev/null | cat >/dev/null  # the cold pass before emptied it
  fi
  d="$work/run"
  wipe "$d"
  mkdir -p "$d"

  measure stat_walk bash -c 'exec find "$1" -printf "%s %T@\n" >/dev/null' _ "$tree"

  measure tar_zstd bash -c 'set -o pipefail; tar -cf - "$1" 2>/dev/null | zstd -q -3 -T0 >"$2"' \
    _ "$tree" "$d/out.tar.zst"
  size tar_zstd "$d/out.tar.zst"
  rm -f "$d/out.tar.zst"

  # glacier-backup: fresh config, identity, catalog, cache and vault each run
  g="$d/gb"
  gb_init "$g" "$tree" >"$work/logs/ours_init.$rep.log" 2>&1 ||
    { echo "FAILED: glacier-backup init" >&2; cat "$work/logs/ours_init.$rep.log" >&2; exit 1; }
  measure ours_full "$bin" --config "$g/config.toml" backup --full
  size ours_full "$g/cache" "$g/vault" "$g/state"
  measure ours_nochange "$bin" --config "$g/config.toml" backup
  measure ours_restore "$bin" --config "$g/config.toml" restore --to "$d/gb-restore"
  check_restore ours_restore "$d/gb-restore"
  set_aside "$d/gb-restore"
  wipe "$g"

  if [ "$do_restic" = 1 ]; then
    export RESTIC_PASSWORD="bench-only-password"
    export RESTIC_REPOSITORY="$d/restic-repo" RESTIC_CACHE_DIR="$d/restic-cache"
    restic init >"$work/logs/restic_init.$rep.log" 2>&1 ||
      { echo "FAILED: restic init" >&2; cat "$work/logs/restic_init.$rep.log" >&2; exit 1; }
    measure restic_full restic backup "$tree"
    size restic_full "$d/restic-repo"
    measure restic_nochange restic backup "$tree"
    measure restic_restore restic restore latest --target "$d/restic-restore"
    check_restore restic_restore "$d/restic-restore"
    set_aside "$d/restic-restore"
    wipe "$d/restic-repo" "$d/restic-cache"
    unset RESTIC_PASSWORD RESTIC_REPOSITORY RESTIC_CACHE_DIR
  fi

  if [ "$do_borg" = 1 ]; then
    export BORG_PASSPHRASE="bench-only-password"
    export BORG_BASE_DIR="$d/borg-base" BORG_REPO="$d/borg-repo"
    export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
    borg init -e repokey >"$work/logs/borg_init.$rep.log" 2>&1 ||
      { echo "FAILED: borg init" >&2; cat "$work/logs/borg_init.$rep.log" >&2; exit 1; }
    measure borg_full borg create ::first "$tree"
    size borg_full "$d/borg-repo"
    measure borg_nochange borg create ::second "$tree"
    mkdir -p "$d/borg-restore"
    measure borg_extract bash -c 'cd "$1" && exec borg extract ::second' _ "$d/borg-restore"
    check_restore borg_extract "$d/borg-restore"
    set_aside "$d/borg-restore"
    wipe "$d/borg-repo" "$d/borg-base"
    unset BORG_PASSPHRASE BORG_BASE_DIR BORG_REPO
  fi
  wipe "$d"
done

wipe "$set_aside_dir"
[ -z "$save" ] || { cp "$times" "$save"; cp "$sizes" "$save.sizes"; }
load_check "after"
python3 "$here/report.py" "$times" "$sizes" "$mode"
if [ "$restore_mismatch" = 1 ]; then
  echo "WARNING: a restore did not reproduce the tree (see the warnings above)"
fi
exit 0
