#!/usr/bin/env bash
# Export throughput, side by side with `sox -m`, on the same files: 32 mono tracks x 60 s at
# 48 kHz (32-bit float). Prints both times (best of 3) and Overdub's track-seconds per second.
# Usage: bench/export-vs-sox.sh [TRACKS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
tracks=${1:-32}
seconds=${2:-60}
cargo build --release -q -p overdub
bin=target/release/overdub
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/in"
for i in $(seq 1 "$tracks"); do
  sox -n -r 48000 -c 1 -b 32 -e floating-point "$work/in/t$(printf %02d "$i").wav" \
    synth "$seconds" sine $((100 + 37 * i)) vol 0.03
done
XDG_CONFIG_HOME="$work/cfg" $bin new "$work/s" --tracks 0 >/dev/null
XDG_CONFIG_HOME="$work/cfg" $bin import "$work/s" "$work"/in/*.wav >/dev/null 2>&1

best() { # best wall time of 3 runs of "$@", seconds
  local b=999999
  for _ in 1 2 3; do
    local t0 t1
    t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N)
    b=$(echo "$t1 - $t0" | bc -l | awk -v b="$b" '{ print ($1 < b) ? $1 : b }')
  done
  echo "$b"
}
ours=$(best "$bin" export "$work/s" --out "$work/out" --mix --format 32f)
theirs=$(best sox -m "$work"/in/*.wav -e floating-point -b 32 "$work/sox-mix.wav")
stems=$(best "$bin" export "$work/s" --out "$work/stems" --stems --format 32f)
eca=""
if command -v ecasound >/dev/null; then
  chain=()
  for f in "$work"/in/*.wav; do chain+=(-a:"$(basename "$f" .wav)" -i "$f"); done
  all=$(cd "$work/in" && ls *.wav | sed 's/\.wav$//' | paste -sd, -)
  eca=$(best ecasound -q -f:f32_le,2,48000 "${chain[@]}" -a:"$all" -o "$work/eca-mix.wav")
fi
ts=$((tracks * seconds))
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "input: $tracks mono tracks x $seconds s at 48 kHz, 32-bit float"
printf 'overdub export --mix:    %6.3f s  (%.0f track-seconds per second)\n' "$ours" "$(echo "$ts / $ours" | bc -l)"
printf 'sox -m (same files):     %6.3f s  (%.0f track-seconds per second)\n' "$theirs" "$(echo "$ts / $theirs" | bc -l)"
printf 'overdub export --stems:  %6.3f s  (%.0f track-seconds per second)\n' "$stems" "$(echo "$ts / $stems" | bc -l)"
[ -n "$eca" ] && printf 'ecasound mixdown:        %6.3f s  (%.0f track-seconds per second)\n' "$eca" "$(echo "$ts / $eca" | bc -l)"
printf 'mix: overdub is %.2fx the speed of sox -m\n' "$(echo "$theirs / $ours" | bc -l)"
