#!/bin/sh
# Self-test of start/stop-pipewire.sh: play a tone into the null sink and record
# it back from the sink monitor (explicitly, as cpal does, and via the default
# source). Needs sox. Usage: check-loopback.sh [DIR]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=${1:-$(mktemp -d /tmp/pw-check.XXXXXX)}
trap '"$HERE/stop-pipewire.sh" "$DIR"' EXIT
t0=$(date +%s%N)
"$HERE/start-pipewire.sh" "$DIR"
echo "ready after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
export XDG_RUNTIME_DIR="$DIR" PIPEWIRE_RUNTIME_DIR="$DIR"
pw-cli ls Node | grep -q 'node.name = "cpal-test-sink"'
sox -n -r 48000 -c 2 -b 16 "$DIR/tone.wav" synth 1 sine 440 vol 0.5
loop() {  # $1 = output file, rest = extra pw-record args
  out=$1; shift
  pw-record "$@" "$out" & rec=$!
  sleep 0.5                        # let WirePlumber link the recorder
  pw-play --target cpal-test-sink "$DIR/tone.wav"
  sleep 0.3; kill -INT $rec; wait $rec || true
  rms=$(sox "$out" -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}')
  echo "$out: RMS $rms"
  awk "BEGIN { exit !($rms > 0.1) }"  # 0.5-amplitude sine => RMS ~0.25 over 1 s
}
loop "$DIR/rec-monitor.wav" --target cpal-test-sink -P '{ stream.capture.sink = true }'
loop "$DIR/rec-default.wav"
echo OK
