#!/usr/bin/env bash
# Builds target/overdub_VERSION_ARCH.deb: the release binary, a desktop file and the icon.
# dpkg-deb only; no packaging tool to install. Depends on libasound2 (cpal's ALSA), libpipewire
# (cpal's PipeWire host), libdbus (asking rtkit for realtime priority), the GL and
# X/Wayland libraries the window loads at run time; suggests jackd2 (JACK is loaded at run time
# when present).
set -euo pipefail
cd "$(dirname "$0")/../.."
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
arch=$(dpkg --print-architecture)
cargo build --release -p overdub
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
install -Dm755 target/release/overdub "$root/usr/bin/overdub"
install -Dm644 assets/overdub.desktop "$root/usr/share/applications/overdub.desktop"
install -Dm644 assets/overdub.svg "$root/usr/share/icons/hicolor/scalable/apps/overdub.svg"
install -Dm644 README.md "$root/usr/share/doc/overdub/README.md"
mkdir -p "$root/DEBIAN"
cat >"$root/DEBIAN/control" <<CONTROL
Package: overdub
Version: $version
Section: sound
Priority: optional
Architecture: $arch
Maintainer: Overdub developers <overdub@example.invalid>
Depends: libasound2, libpipewire-0.3-0, libdbus-1-3, libgl1, libegl1, libxkbcommon-x11-0, libxcursor1, libxrandr2, libxi6
Recommends: libgl1-mesa-dri
Suggests: jackd2
Description: multitrack recorder for musicians who record and monitor live
 Overdub records and overdubs tracks with low-latency monitoring on JACK,
 ALSA, ASIO, WASAPI or CoreAudio, lines takes up to the sample with a
 measured round trip, never loses a take, and exports stems to WAV.
CONTROL
out="target/overdub_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$root" "$out" >/dev/null
echo "$out"
