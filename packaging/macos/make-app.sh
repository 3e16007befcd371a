#!/usr/bin/env bash
# Builds target/Overdub.app on macOS (CoreAudio host): the release binary, an Info.plist with the
# microphone usage string CoreAudio input needs, and the icon (converted from the SVG if
# rsvg-convert and iconutil are available).
set -euo pipefail
cd "$(dirname "$0")/../.."
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
cargo build --release -p overdub
app=target/Overdub.app
rm -rf "$app"
mkdir -p "$app/Contents/MacOS" "$app/Contents/Resources"
cp target/release/overdub "$app/Contents/MacOS/overdub"
if command -v rsvg-convert >/dev/null && command -v iconutil >/dev/null; then
  set_dir=$(mktemp -d)/overdub.iconset
  mkdir -p "$set_dir"
  for s in 16 32 128 256 512; do
    rsvg-convert -w $s -h $s assets/overdub.svg >"$set_dir/icon_${s}x${s}.png"
    rsvg-convert -w $((s * 2)) -h $((s * 2)) assets/overdub.svg >"$set_dir/icon_${s}x${s}@2x.png"
  done
  iconutil -c icns "$set_dir" -o "$app/Contents/Resources/overdub.icns"
fi
cat >"$app/Contents/Info.plist" <<PLIST
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>CFBundleName</key><string>Overdub</string>
  <key>CFBundleIdentifier</key><string>org.overdub.Overdub</string>
  <key>CFBundleExecutable</key><string>overdub</string>
  <key>CFBundleIconFile</key><string>overdub</string>
  <key>CFBundleShortVersionString</key><string>$version</string>
  <key>CFBundleVersion</key><string>$version</string>
  <key>CFBundlePackageType</key><string>APPL</string>
  <key>LSMinimumSystemVersion</key><string>11.0</string>
  <key>NSHighResolutionCapable</key><true/>
  <key>NSMicrophoneUsageDescription</key><string>Overdub records from your audio interface.</string>
</dict>
</plist>
PLIST
echo "$app"
