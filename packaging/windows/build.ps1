# Builds Overdub for Windows with the ASIO host, then the installer.
#
# Needs: the Rust toolchain (MSVC), LLVM (for bindgen: `winget install LLVM.LLVM`, or set
# LIBCLANG_PATH), and Inno Setup 6 for the installer (ISCC on PATH). The ASIO SDK is Steinberg's
# 2.3.4 release, used under its GPLv3 option (an ASIO-enabled overdub.exe is GPLv3): give its
# unpacked folder in CPAL_ASIO_DIR (or -AsioSdk), or let this script fetch it from Steinberg's
# public download into target\asio-sdk and check its SHA-256 (the release the Wine tests use).
param(
    [string]$AsioSdk = $env:CPAL_ASIO_DIR,
    [switch]$NoAsio
)
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")
$SdkUrl = "https://download.steinberg.net/sdk_downloads/ASIO-SDK_2.3.4_2025-10-15.zip"
$SdkSha256 = "d5ebf0c20dd2c5f43771fd0c1418f4b361bf52434ee670097cfa6b3a335e2eca"

function Get-AsioSdk {
    $dest = "target\asio-sdk"
    $zip = "target\asio-sdk.zip"
    New-Item -ItemType Directory -Force target | Out-Null
    if (-not (Test-Path $zip)) {
        Invoke-WebRequest -Uri $SdkUrl -OutFile $zip
    }
    $hash = (Get-FileHash -Algorithm SHA256 $zip).Hash.ToLower()
    if ($hash -ne $SdkSha256) {
        Remove-Item $zip
        throw "The ASIO SDK download has SHA-256 $hash, not $SdkSha256: refusing to build with it"
    }
    if (Test-Path $dest) { Remove-Item -Recurse -Force $dest }
    Expand-Archive $zip -DestinationPath $dest
    # The archive holds one folder (ASIOSDK...); asio-sys wants the folder with common\ and host\.
    $root = Get-ChildItem $dest -Recurse -Directory -Filter common | Select-Object -First 1
    if (-not $root) { throw "The ASIO SDK archive holds no common\ folder" }
    return $root.Parent.FullName
}

if ($NoAsio) {
    cargo build --release -p overdub
} else {
    if (-not $AsioSdk) { $AsioSdk = Get-AsioSdk }
    if (-not (Test-Path (Join-Path $AsioSdk "common\asio.h"))) {
        throw "$AsioSdk is not the unpacked ASIO SDK (no common\asio.h)"
    }
    $env:CPAL_ASIO_DIR = $AsioSdk
    if (-not $env:LIBCLANG_PATH -and (Test-Path "C:\Program Files\LLVM\bin")) {
        $env:LIBCLANG_PATH = "C:\Program Files\LLVM\bin"
    }
    cargo build --release -p overdub --features asio
    if ($LASTEXITCODE -ne 0) { throw "cargo build failed" }
}
$version = (Select-String -Path Cargo.toml -Pattern '^version = "(.*)"').Matches[0].Groups[1].Value
ISCC /DVersion=$version packaging\windows\overdub.iss
