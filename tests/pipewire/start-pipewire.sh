#!/bin/sh
# Start a private, headless PipeWire (+ WirePlumber) with a null 2ch sink, for tests.
#
#   tests/pipewire/start-pipewire.sh DIR     # DIR = private XDG_RUNTIME_DIR (created)
#   export XDG_RUNTIME_DIR=DIR PIPEWIRE_RUNTIME_DIR=DIR   # then run clients
#   tests/pipewire/stop-pipewire.sh DIR      # stop (or: kill $(cat DIR/pids))
#
# Everything (socket, config, state, logs) lives under DIR; no global PipeWire,
# no D-Bus, no sound card needed. Tested with Debian 12: pipewire 0.3.65,
# wireplumber 0.4.13. Prints "pipewire=PID wireplumber=PID" once the sink is
# visible and WirePlumber has made it the default sink.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
mkdir -p "$1"
DIR=$(cd "$1" && pwd)
SINK=${PW_TEST_SINK:-cpal-test-sink}

# Isolate from the user's session: runtime dir, config, state, data all in DIR.
# PIPEWIRE_RUNTIME_DIR wins over XDG_RUNTIME_DIR in libpipewire (and in cpal).
export XDG_RUNTIME_DIR="$DIR" PIPEWIRE_RUNTIME_DIR="$DIR"
export XDG_CONFIG_HOME="$DIR/config" XDG_STATE_HOME="$DIR/state" XDG_DATA_HOME="$DIR/data"
unset DBUS_SESSION_BUS_ADDRESS PIPEWIRE_REMOTE
chmod 700 "$DIR"
mkdir -p "$XDG_CONFIG_HOME/pipewire/pipewire.conf.d" "$XDG_STATE_HOME" \
         "$XDG_CONFIG_HOME/wireplumber/main.lua.d"

# Null sink created by the daemon itself at startup (same as
# `pw-cli create-node adapter {...}`, but no race and no linger client needed).
# Its monitor_FL/monitor_FR output ports carry whatever is played into it.
cat > "$XDG_CONFIG_HOME/pipewire/pipewire.conf.d/50-null-sink.conf" <<EOF
context.objects = [
  { factory = adapter
    args = {
      factory.name     = support.null-audio-sink
      node.name        = "$SINK"
      node.description = "CPAL test null sink"
      media.class      = Audio/Sink
      audio.channels   = 2
      audio.position   = [ FL FR ]
      object.linger    = true
      priority.session = 2000
      priority.driver  = 2000
    }
  }
]
EOF

# WirePlumber: only main.lua + policy.lua (no bluetooth.lua => no bluez/D-Bus),
# no ALSA / V4L2 / libcamera device monitors, and no flatpak portal plugin
# (it needs a D-Bus session bus; without one WirePlumber 0.4.13 quits at start).
# No remembered defaults / stream volumes: every run starts from the same state.
cat > "$XDG_CONFIG_HOME/wireplumber/wireplumber.conf" <<'EOF'
context.properties = { log.level = 2  wireplumber.script-engine = lua-scripting }
context.spa-libs = {
  audio.convert.* = audioconvert/libspa-audioconvert
  support.*       = support/libspa-support
}
context.modules = [
  { name = libpipewire-module-protocol-native }
  { name = libpipewire-module-client-node }
  { name = libpipewire-module-client-device }
  { name = libpipewire-module-adapter }
  { name = libpipewire-module-metadata }
  { name = libpipewire-module-session-manager }
]
wireplumber.components = [
  { name = libwireplumber-module-lua-scripting, type = module }
  { name = main.lua, type = config/lua }
  { name = policy.lua, type = config/lua }
]
EOF
cat > "$XDG_CONFIG_HOME/wireplumber/main.lua.d/51-headless.lua" <<'EOF'
alsa_monitor.enabled = false
v4l2_monitor.enabled = false
libcamera_monitor.enabled = false
default_access.properties["enable-flatpak-portal"] = false
device_defaults.properties["use-persistent-storage"] = false
stream_defaults.enabled = false
EOF

# Refuse to start a second instance on the same DIR (its socket would answer
# the readiness checks below and this script would wrongly report success).
if pw-cli info 0 >/dev/null 2>&1; then
  echo "a PipeWire is already running in $DIR (stop-pipewire.sh $DIR)" >&2; exit 1
fi
pipewire > "$DIR/pipewire.log" 2>&1 &
PW=$!
echo "$PW" > "$DIR/pids"
# Wait for the socket + core before starting the session manager.
# (~20 ms normally; fails fast if pipewire died, e.g. DIR already in use.)
i=0
until [ -S "$DIR/pipewire-0" ] && pw-cli info 0 >/dev/null 2>&1; do
  i=$((i+1)); [ $i -lt 100 ] && kill -0 $PW 2>/dev/null || { echo "pipewire did not start, see $DIR/pipewire.log" >&2; kill $PW 2>/dev/null; exit 1; }
  sleep 0.1
done

wireplumber > "$DIR/wireplumber.log" 2>&1 &
WP=$!
echo "$WP" >> "$DIR/pids"

# Ready = WirePlumber has published default.audio.sink = our sink (implies the
# sink exists and policy is running, so streams will be linked).
# (~200 ms normally.)
i=0
until pw-metadata 0 default.audio.sink 2>/dev/null | grep -q "\"$SINK\""; do
  i=$((i+1)); [ $i -lt 100 ] && kill -0 $WP 2>/dev/null || { echo "wireplumber not ready, see $DIR/*.log" >&2; kill $PW $WP 2>/dev/null; exit 1; }
  sleep 0.1
done
echo "pipewire=$PW wireplumber=$WP"
