#!/bin/sh
# Stop what start-pipewire.sh DIR started: SIGTERM the PIDs in DIR/pids, wait
# up to 5 s, then SIGKILL leftovers. A killed daemon is re-parented to PID 1
# and may linger briefly as a zombie (kill -0 still succeeds), so "gone" means
# no /proc entry or state Z.
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
[ -f "$1/pids" ] || exit 0
# Only PIDs that are still our daemons (guards against a stale file / PID reuse).
PIDS=
for p in $(cat "$1/pids"); do
  case $(cat "/proc/$p/comm" 2>/dev/null) in pipewire|wireplumber) PIDS="$PIDS $p";; esac
done
alive() { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }
for p in $PIDS; do kill "$p" 2>/dev/null; done
i=0
for p in $PIDS; do
  while alive "$p" && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  alive "$p" && kill -9 "$p" 2>/dev/null
done
rm -f "$1/pids"
