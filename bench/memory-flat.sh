#!/usr/bin/env bash
# Resident memory while playing a 32-track session whose clips are 1 minute long and one whose
# clips are 1 hour long (each track its own clip on one shared file): playback streams from disk,
# so the two should be the same. Prints the peak RSS of `overdub play --seconds 5` for both.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p overdub
bin=target/release/overdub
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CONFIG_HOME="$work/cfg"
for minutes in 1 60; do
  s="$work/s$minutes"
  $bin new "$s" --tracks 32 >/dev/null
  sox -n -r 48000 -c 1 -b 32 -e floating-point "$s/audio/long.wav" synth $((minutes * 60)) sine 220 vol 0.05
  frames=$((minutes * 60 * 48000))
  python3 - "$s/session.json" "$frames" <<'PY'
import json, sys
path, frames = sys.argv[1], int(sys.argv[2])
s = json.load(open(path))
for i, t in enumerate(s["tracks"]):
    t["clips"] = [{"id": i + 1, "file": "long.wav", "position": 0, "offset": 0, "length": frames}]
s["next_clip_id"] = len(s["tracks"]) + 1
json.dump(s, open(path, "w"))
PY
  rss=$( { /usr/bin/time -f '%M' $bin play "$s" --seconds 5 --from $((minutes * 30)) --host virtual >/dev/null; } 2>&1 | tail -1)
  echo "32 tracks x ${minutes} min: peak resident memory ${rss} KiB while playing"
done
