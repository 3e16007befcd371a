#!/usr/bin/env bash
# Overdub at scale on a JACK dummy server (a real, realtime-paced server; no sound card needed):
#   1. 128 tracks recording at 96 kHz, 24-bit, 128-frame periods, for MINUTES (default 10)
#      minutes: capture frames lost, xruns, the disk threads' load and how many more tracks the
#      writer could take, and resident memory sampled every 10 s (flat or not).
#   2. 256 tracks playing from disk at 48 kHz, 128-frame periods, each track its own file, read
#      with the page cache dropped first where that is allowed (root): late playback frames.
# Needs jackd2 and sox; writes about 22 GB per 10 minutes of (1) under $WORK (default: a
# temporary folder in /var/tmp), removed at the end. Prints figures; asserts nothing.
#   bench/scale.sh [MINUTES] [record|play|both]
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
part=${2:-both}
cargo build --release -q -p overdub
bin=$PWD/target/release/overdub
work=$(mktemp -d "${WORK:-/var/tmp}/overdub-scale.XXXXXX")
server="overdub-scale-$$"
jack_pid=""
cleanup() {
  [ -n "$jack_pid" ] && kill "$jack_pid" 2>/dev/null && wait "$jack_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export XDG_CONFIG_HOME="$work/cfg" JACK_DEFAULT_SERVER="$server"

# jackd at RATE with CAPTURES inputs and PLAYBACKS outputs, realtime where allowed.
start_jack() {
  [ -n "$jack_pid" ] && { kill "$jack_pid"; wait "$jack_pid" 2>/dev/null || true; }
  local rt=()
  chrt -f 10 true 2>/dev/null || rt=(--no-realtime)
  jackd -n "$server" "${rt[@]}" -d dummy -r "$1" -p 128 -C "$2" -P "$3" >"$work/jackd-$1.log" 2>&1 &
  jack_pid=$!
  for _ in $(seq 50); do
    JACK_NO_START_SERVER=1 jack_lsp 2>/dev/null | grep -q system:capture_1 && return
    sleep 0.2
  done
  echo "jackd did not start: $(cat "$work/jackd-$1.log")" >&2
  exit 1
}

# Peak and spread of the resident memory of PID, sampled every 10 s until it exits.
watch_rss() {
  local pid=$1 out=$2
  while kill -0 "$pid" 2>/dev/null; do
    awk '/VmRSS/ { print $2 }' "/proc/$pid/status" 2>/dev/null >>"$out" || true
    sleep 10
  done
}

# The server's own late cycles: its dummy driver logs each one.
server_xruns() { echo "the JACK server's own late cycles (its log): $(grep -c 'XRun' "$work/jackd-$1.log" || true)"; }

if [ "$part" != play ]; then
echo "== 1. 128 tracks recording at 96 kHz, 24-bit, 128 frames, $minutes min"
start_jack 96000 128 2
s="$work/rec128"
"$bin" new "$s" --rate 96000 --tracks 128 >/dev/null
arm=$(seq -s, 1 128)
"$bin" record "$s" --seconds $((minutes * 60)) --arm "$arm" --format 24 --host jack \
  >"$work/rec.out" 2>&1 &
rec=$!
watch_rss "$rec" "$work/rss" &
watcher=$!
status=0
wait "$rec" || status=$?
wait "$watcher" || true
grep -v -e '^take: ' -e '^recording ' "$work/rec.out" || true
echo "takes: $(grep -c '^take: ' "$work/rec.out") written; exit $status"
echo "disk used by the takes: $(du -sh "$s/audio" | cut -f1)"
awk 'NR == 2 { first = $1 } { last = $1; if ($1 > max) max = $1; n++ }
     END { printf "resident memory (KiB, every 10 s, %d samples): after 10 s %d, at the end %d, peak %d\n", n, first, last, max }' "$work/rss"
server_xruns 96000
rm -rf "$s"
fi
[ "$part" = record ] && exit 0

echo "== 2. 256 tracks playing from disk at 48 kHz, 128 frames, 60 s"
start_jack 48000 2 2
s="$work/play256"
"$bin" new "$s" --tracks 256 >/dev/null
for i in $(seq 1 256); do
  sox -n -r 48000 -c 1 -b 32 -e floating-point "$s/audio/t$i.wav" synth 60 sine $((100 + i)) vol 0.01
done
python3 - "$s/session.json" <<'PY'
import json, sys
path = sys.argv[1]
s = json.load(open(path))
for i, t in enumerate(s["tracks"]):
    t["clips"] = [{"id": i + 1, "file": f"t{i + 1}.wav", "position": 0, "offset": 0, "length": 60 * 48000}]
s["next_clip_id"] = len(s["tracks"]) + 1
json.dump(s, open(path, "w"))
PY
echo "clip files: $(du -sh "$s/audio" | cut -f1)"
sync
if echo 3 2>/dev/null >/proc/sys/vm/drop_caches; then
  echo "page cache dropped: the clips come from the disk"
else
  echo "page cache not dropped (needs root): the clips may come from memory"
fi
"$bin" play "$s" --host jack --seconds 60 2>&1 | grep -v '^take: '
server_xruns 48000
