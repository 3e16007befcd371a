#!/bin/bash
# By hand: does the ALSA `jack` plugin device lose audio without a word, and is it the cabling?
# No Overdub and no cpal: sox plays a sample counter (each frame carries its own index) into the
# device and records it back for a minute, once cabled through jackd's loopback ports and once
# with the plugin's playback cabled straight to its capture (as tests/src/world.rs does). Every
# jump in the recorded sequence is printed (a period swapped for the next is two: +256, -256). Through the loopback, about half of the
# minutes here had periods swapped for the next one (see ASOUNDRC in tests/src/world.rs).
#
#   tests/alsa/loopback-race.sh [MINUTES_EACH] [PERIOD]     (needs jackd2, sox, python3)
set -euo pipefail
minutes=${1:-3}
period=${2:-256}
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT
export HOME=$dir JACK_DEFAULT_SERVER=overdub-race-$$ JACK_NO_AUDIO_RESERVATION=1
cat > "$dir/.asoundrc" <<'EOF'
pcm.loopbackcabled {
  type jack
  playback_ports { 0 loopback:playback_1 1 loopback:playback_2 }
  capture_ports { 0 loopback:capture_1 1 loopback:capture_2 }
}
pcm.straightcabled {
  type asym
  playback.pcm { type jack name "raceP" playback_ports { 0 "raceC:in_000" 1 "raceC:in_001" } }
  capture.pcm { type jack name "raceC" capture_ports { 0 system:capture_1 1 system:capture_2 } }
}
# The plugin does float only; sox wants integers.
pcm.loopback16 { type plug slave.pcm loopbackcabled }
pcm.straight16 { type plug slave.pcm straightcabled }
EOF

# 62 s of a counter: left = index & 0x7fff, right = index >> 15 (16-bit, exact through float).
python3 - "$dir/counter.wav" <<'EOF'
import array, sys, wave
n = 48000 * 62
a = array.array('h', bytes(4 * n))
for i in range(n):
    a[2 * i], a[2 * i + 1] = (i + 1) & 0x7fff, (i + 1) >> 15
with wave.open(sys.argv[1], 'wb') as w:
    w.setnchannels(2); w.setsampwidth(2); w.setframerate(48000); w.writeframes(a.tobytes())
EOF

check() {
    python3 - "$1" <<'EOF'
import array, sys, wave
with wave.open(sys.argv[1]) as w:
    a = array.array('h', w.readframes(w.getnframes()))
idx = [(a[i + 1] << 15) | a[i] for i in range(0, len(a), 2)]
s = next((i for i, v in enumerate(idx) if v), len(idx))
bad = [(i - s, idx[i + 1] - idx[i] - 1) for i in range(s, len(idx) - 1)
       if idx[i + 1] and idx[i + 1] != idx[i] + 1]
print(f"{len(bad)} jumps in the sequence" + (f": (frame, jump) {bad[:8]}" if bad else ""))
EOF
}

jackd -n "$JACK_DEFAULT_SERVER" -R -P 80 -L 2 -d dummy -r 48000 -p "$period" -C 8 -P 8 \
    > "$dir/jackd.log" 2>&1 &
sleep 2
for device in loopback16 straight16; do
    for m in $(seq "$minutes"); do
        sox -q -V1 -t alsa "$device" -r 48000 -c 2 -b 16 "$dir/rec.wav" trim 0 61 &
        rec=$!
        sleep 0.5
        sox -q -V1 "$dir/counter.wav" -t alsa "$device"
        wait "$rec"
        echo "$device, minute $m: $(check "$dir/rec.wav")"
    done
done
echo "the server's own complaints: $(grep -ci 'xrun\|not finished' "$dir/jackd.log" || true)"
