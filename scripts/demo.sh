#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job on the built-in
# local directory vault: back up a sample directory, change it, back it up
# again, list the snapshots, restore the first one and compare.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh glacier-backup >/dev/null
bin="$PWD/${BUILD_DIR:-build}/glacier-backup"

demo="$(mktemp -d -t glacier-backup-demo.XXXXXX)"
export HOME="$demo/home"   # keep the demo's config, keys and cache out of the real home
mkdir -p "$HOME"
run() { echo "\$ glacier-backup $*"; "$bin" "$@"; echo; }

sample="$demo/sample"
mkdir -p "$sample/docs" "$sample/photos" "$sample/empty"
echo "first draft" > "$sample/docs/letter.txt"
head -c 3000000 /dev/urandom > "$sample/photos/holiday.jpg"
seq 1 20000 > "$sample/docs/numbers.txt"
ln -s docs/letter.txt "$sample/latest-letter"
echo "== sample directory: $sample"

run init --include "$sample"
run backup

echo "== changing the sample: edit a file, add one, delete one"
sleep 1
echo "second draft" >> "$sample/docs/letter.txt"
echo "new notes" > "$sample/docs/notes.txt"
rm "$sample/docs/numbers.txt"
run backup

run snapshots
first="$("$bin" --json snapshots | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')"
run restore --at "$first" --to "$demo/restored"

echo "== comparing the restored first backup with what the sample looked like then"
restored="$demo/restored$sample"
grep -qx "first draft" "$restored/docs/letter.txt" && echo "letter.txt: first draft, as it was"
[ -f "$restored/docs/numbers.txt" ] && echo "numbers.txt: present, as it was"
[ ! -e "$restored/docs/notes.txt" ] && echo "notes.txt: absent, as it was"
cmp -s "$restored/photos/holiday.jpg" "$sample/photos/holiday.jpg" && echo "holiday.jpg: identical"
echo
echo "== the archives open with stock tools too:"
archive="$(ls "$HOME/.cache/glacier-backup/"*full*.age | head -n1)"
echo "\$ age -d -i ~/.config/glacier-backup/identity.txt $(basename "$archive") | zstd -d | tar -t | sed -n 1,5p"
age -d -i "$HOME/.config/glacier-backup/identity.txt" "$archive" | zstd -d | tar -t | sed -n 1,5p  # reads it all: no SIGPIPE under pipefail
echo
echo "demo files are in $demo"
