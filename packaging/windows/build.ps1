# Builds Overdub for Windows with the ASIO host, then the installer.
#
# Needs: the Rust toolchain (MSVC), LLVM (for bindgen: `winget install LLVM.LLVM`, or set
# LIBCLANG_PATH), the Steinberg ASIO SDK unpacked somewhere (CPAL_ASIO_DIR; cpal's asio-sys
# otherwise tries to download it), and Inno Setup 6 for the installer (ISCC on PATH).
param(
    [string]$AsioSdk = $env:CPAL_ASIO_DIR,
    [switch]$NoAsio
)
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")
if ($NoAsio) {
    cargo build --release -p overdub
} else {
    if (-not $AsioSdk -or -not (Test-Path $AsioSdk)) {
        throw "Set CPAL_ASIO_DIR (or -AsioSdk) to the unpacked Steinberg ASIO SDK"
    }
    $env:CPAL_ASIO_DIR = $AsioSdk
    if (-not $env:LIBCLANG_PATH -and (Test-Path "C:\Program Files\LLVM\bin")) {
        $env:LIBCLANG_PATH = "C:\Program Files\LLVM\bin"
    }
    cargo build --release -p overdub --features asio
}
$version = (Select-String -Path Cargo.toml -Pattern '^version = "(.*)"').Matches[0].Groups[1].Value
ISCC /DVersion=$version packaging\windows\overdub.iss
