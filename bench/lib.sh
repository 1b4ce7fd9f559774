# What the bench scripts share; sourced by them (bash), never run on its own.
# A script sets nothing before sourcing it; afterwards it has:
#   here, root          the bench directory and the repository root
#   usage, die, need    --help text (the script's opening comment), a bad
#                       command line (exit 2), a tool that must be installed
#   workbase, bin, keep, cold
#                       the shared options' values (--workdir, --bin, --keep,
#                       --cold)
#   common_option ARGS  parses one shared option (also -h/--help); sets
#                       `consumed` to the arguments used, 0 for another option
#   check_cold          with --cold, dies unless the page cache can be dropped
#   find_binary         the glacier-backup to measure (built if missing)
#   make_workdir NAME   a temp dir $work under $workbase, removed on exit unless
#                       --keep, with HOME and the XDG dirs inside it and a
#                       private copy of the binary in $bin ($bin_src: the original)
#   gb_init DIR TREE    a config in DIR/config.toml backing TREE up with its
#                       cache, state and file vault under DIR

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
bench_script="$(basename "$0")"

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
die() { echo "$bench_script: $*" >&2; exit 2; }
need() { command -v "$1" >/dev/null || die "$1 not found (scripts/install-deps.sh --bench installs it)"; }

workbase="${TMPDIR:-/tmp}"
bin=""
keep=0
cold=0

common_option() {
  consumed=0
  case "$1" in
    --workdir) [ $# -ge 2 ] || die "$1 needs a directory"; workbase="$2"; consumed=2 ;;
    --bin) [ $# -ge 2 ] || die "$1 needs a path"; bin="$2"; consumed=2 ;;
    --keep) keep=1; consumed=1 ;;
    --cold) cold=1; consumed=1 ;;
    -h|--help) usage; exit 0 ;;
  esac
}

check_cold() {
  if [ "$cold" = 1 ] && { [ "$(id -u)" != 0 ] || [ ! -w /proc/sys/vm/drop_caches ]; }; then
    die "--cold drops the page cache (/proc/sys/vm/drop_caches), which needs root: run as root, or without --cold"
  fi
}

find_binary() {
  if [ -z "$bin" ]; then
    bin="$root/${BUILD_DIR:-build}/glacier-backup"
    if [ ! -x "$bin" ]; then
      echo "building glacier-backup (scripts/build.sh)" >&2
      "$root/scripts/build.sh" glacier-backup >&2
    fi
  fi
  [ -x "$bin" ] || die "glacier-backup binary $bin not found"
  bin="$(realpath "$bin")"
}

make_workdir() {
  mkdir -p "$workbase"
  work="$(mktemp -d "$workbase/$1.XXXXXX")"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  # Keep every tool's home, config and cache inside the temp dir.
  export HOME="$work/home"
  export XDG_CACHE_HOME="$HOME/.cache" XDG_CONFIG_HOME="$HOME/.config"
  mkdir -p "$HOME" "$work/logs"
  # Measure a private copy, so a rebuild during the run cannot swap the binary.
  cp "$bin" "$work/glacier-backup"
  bin_src="$bin"
  bin="$work/glacier-backup"
}

bench_cleanup() {
  local rc=$?
  if [ "$keep" = 1 ]; then
    echo "kept $work" >&2
  else
    # restores may contain read-only directories
    chmod -R u+rwx "$work" 2>/dev/null || true
    rm -rf "$work"
  fi
  exit "$rc"
}

gb_init() {
  local g="$1"
  mkdir -p "$g"
  "$bin" --config "$g/config.toml" init --include "$2" || return 1
  sed -i -e "s|^# cache_dir = .*|cache_dir = \"$g/cache\"|" \
    -e "s|^# state_dir = .*|state_dir = \"$g/state\"|" \
    -e "s|^# url = \"file:.*|url = \"file://$g/vault\"|" \
    -e "s|^# vault_url = .*|vault_url = \"file://$g/vault\"|" "$g/config.toml"
  # (the vault key is "url" in [vault]; older builds called it "vault_url")
  local k
  for k in cache_dir state_dir 'url\|vault_url'; do
    grep -q "^\($k\) = \"[^\"]*$g/" "$g/config.toml" ||
      { echo "could not set $k in the config written by glacier-backup init" >&2; return 1; }
  done
}
