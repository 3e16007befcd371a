#!/usr/bin/env bash
# Prepare the Wine side of tests/tests/wine.rs, once per run (idempotent):
#
#   tests/wine/setup.sh OUT [VENDOR]      # e.g. tests/wine/setup.sh target/wine
#
# From the vendored sources (VENDOR, default: the shared/vendor folder beside the repository,
# as in CI's clone; see its README.md for why each step is needed) it
#   - copies the sources to OUT/src (the vendor folder is read-only) and builds into OUT
#     bcryptprimitives.dll (a stub giving ProcessPrng, which Rust's std imports and Wine 8.0
#     lacks) and WineASIO 64-bit (wineasio64.dll + wineasio64.dll.so, an ASIO driver that is a
#     JACK client);
#   - installs WineASIO into Wine's system dirs (only when not already there and identical);
#   - makes a 64-bit prefix OUT/prefix with both DLLs in system32 and WineASIO registered
#     (wineasio-register skips a 64-bit-only prefix, so `wine64 regsvr32` it is).
# Prints the WINEPREFIX path last. Runs of overdub.exe then need, besides a JACK server:
#   WINEPREFIX=OUT/prefix WINEDEBUG=-all JACK_DEFAULT_SERVER=<name>
#   WINEASIO_NUMBER_INPUTS/OUTPUTS (default 16), WINEASIO_CONNECT_TO_HARDWARE=on|off
set -euo pipefail

[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 OUT [VENDOR]" >&2; exit 2; }
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VENDOR=$(cd "${2:-$REPO/../shared/vendor}" && pwd)
WINE64=/usr/lib/wine/wine64
WINESERVER=/usr/lib/wine/wineserver
WINELIB=/usr/lib/x86_64-linux-gnu/wine
SUDO=$([ "$(id -u)" -eq 0 ] || echo sudo)
log() { echo "wine/setup: $*" >&2; }

# --- Packages: only the missing ones (CI images have them; apt needs the network). -------------
need=()
for p in wine64 wine64-tools libwine-dev gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 jackd2 \
         libjack-jackd2-dev gcc make; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}" >&2
fi

# --- Sources, copied to OUT/src; a change in the vendored ones rebuilds everything. -----------
SRC="$OUT/src"
srchash=$(cd "$VENDOR" && find bcryptprimitives-stub wineasio -type f -print0 | sort -z |
          xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
if [ "$(cat "$SRC/.vendor-hash" 2>/dev/null)" != "$srchash" ]; then
  log "copying sources from $VENDOR"
  rm -rf "$SRC" "$OUT/bcryptprimitives.dll" "$OUT/wineasio64.dll" "$OUT/wineasio64.dll.so"
  mkdir -p "$SRC"
  cp -r "$VENDOR/bcryptprimitives-stub" "$VENDOR/wineasio" "$SRC/"
  chmod -R u+w "$SRC"                         # the vendor copy is read-only
  echo "$srchash" >"$SRC/.vendor-hash"
fi

# --- The stub DLL. ---------------------------------------------------------------------------
if [ ! -f "$OUT/bcryptprimitives.dll" ]; then
  log "building bcryptprimitives.dll"
  x86_64-w64-mingw32-gcc -O2 -shared -o "$OUT/bcryptprimitives.dll.tmp" \
    "$SRC/bcryptprimitives-stub/bcp.c" "$SRC/bcryptprimitives-stub/bcp.def" -ladvapi32
  mv "$OUT/bcryptprimitives.dll.tmp" "$OUT/bcryptprimitives.dll"
fi

# --- WineASIO, 64-bit. -----------------------------------------------------------------------
if [ ! -f "$OUT/wineasio64.dll" ] || [ ! -f "$OUT/wineasio64.dll.so" ]; then
  log "building WineASIO (log: $OUT/wineasio-build.log)"
  make -C "$SRC/wineasio" clean >/dev/null
  make -C "$SRC/wineasio" 64 CFLAGS=-I/usr/include/wine/wine/windows >"$OUT/wineasio-build.log" 2>&1 ||
    { cat "$OUT/wineasio-build.log" >&2; exit 1; }
  cp "$SRC/wineasio/build64/wineasio64.dll.so" "$OUT/"
  cp "$SRC/wineasio/build64/wineasio64.dll" "$OUT/"   # last: its presence means both are built
fi

# --- Install WineASIO into Wine (the .dll.so must be where Wine's loader finds unix libs). ----
install_if_changed() {
  cmp -s "$1" "$2" && return 0
  log "installing $2"
  $SUDO install -m 644 "$1" "$2"
}
install_if_changed "$OUT/wineasio64.dll" "$WINELIB/x86_64-windows/wineasio64.dll"
install_if_changed "$OUT/wineasio64.dll.so" "$WINELIB/x86_64-unix/wineasio64.dll.so"

# --- The prefix. -----------------------------------------------------------------------------
export WINEPREFIX="$OUT/prefix" WINEDEBUG=-all
unset DISPLAY WAYLAND_DISPLAY                 # headless; nothing here needs a window
sys32="$WINEPREFIX/drive_c/windows/system32"
# (.overdub-ready alone: a prefix from an earlier version of this script, booted too.)
if [ ! -f "$WINEPREFIX/.overdub-booted" ] && [ ! -f "$WINEPREFIX/.overdub-ready" ]; then
  log "creating the prefix $WINEPREFIX"
  "$WINESERVER" -k 2>/dev/null || true       # a server left on a half-made prefix
  rm -rf "$WINEPREFIX"
  # Skipping Mono and Gecko: no installer prompts (there is no display), and overdub needs neither.
  WINEDLLOVERRIDES="mscoree=;mshtml=" "$WINE64" wineboot -i >/dev/null 2>&1
  "$WINESERVER" -w
fi
touch "$WINEPREFIX/.overdub-booted"
# DLLs into system32 and registration: redone whenever a DLL differs from the built one.
dllhash=$(cat "$OUT/wineasio64.dll" "$OUT/bcryptprimitives.dll" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$WINEPREFIX/.overdub-ready" 2>/dev/null)" != "$dllhash" ] ||
   ! cmp -s "$OUT/wineasio64.dll" "$sys32/wineasio64.dll" ||
   ! cmp -s "$OUT/bcryptprimitives.dll" "$sys32/bcryptprimitives.dll"; then
  log "registering WineASIO in the prefix"
  rm -f "$WINEPREFIX/.overdub-ready"
  cp "$OUT/wineasio64.dll" "$OUT/bcryptprimitives.dll" "$sys32/"
  "$WINE64" regsvr32 wineasio64.dll >/dev/null 2>&1
  "$WINE64" reg query 'HKLM\Software\ASIO\WineASIO' 2>/dev/null | grep -q CLSID ||
    { log "WineASIO is not registered in $WINEPREFIX"; exit 1; }
  "$WINESERVER" -w                            # registry flushed to system.reg
  echo "$dllhash" >"$WINEPREFIX/.overdub-ready"
fi
echo "$WINEPREFIX"
