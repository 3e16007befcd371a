# The two commands of the README's quick start, and the checks CI runs.
#   make run   set up and start the recorder (the window, on the demo session the first time)
#   make test  set up and run every check: format, lints, unit and end-to-end tests
#   make deb   build the Debian package (target/overdub_VERSION_ARCH.deb)
#   make take  a headless first take: a session, a 10 s recording, played back
#   make wine  the Windows build with ASIO (cross-built with mingw) and a Wine prefix with WineASIO,
#              for the tests that run overdub.exe under Wine (needs ../shared/vendor or VENDOR=)
SESSION ?= $(HOME)/Overdub/first-session
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: deps run take test check fmt clippy deb wine

WIN_TARGET := x86_64-pc-windows-gnu
WIN_DIR := target/$(WIN_TARGET)/debug
VENDOR ?= $(abspath ..)/shared/vendor

deps:
	@command -v jackd wireplumber /usr/libexec/rtkit-daemon x86_64-w64-mingw32-gcc /usr/lib/wine/wine64 >/dev/null && pkg-config --exists alsa jack libpipewire-0.3 dbus-1 || \
	  ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y $$(cat .ci/packages.txt))

run: deps
	cargo run --release -p overdub

deb: deps
	packaging/deb/build.sh

take: deps
	cargo build --release -p overdub
	@[ -f "$(SESSION)/session.json" ] || target/release/overdub new "$(SESSION)" --tracks 4
	target/release/overdub devices
	target/release/overdub record "$(SESSION)" --seconds 10 --monitor
	target/release/overdub play "$(SESSION)"
	target/release/overdub info "$(SESSION)"

test: deps fmt clippy wine
	cargo test --workspace --no-fail-fast

# ASIO builds use Steinberg's SDK under its GPLv3 option: an ASIO-enabled overdub.exe is GPLv3.
# asio-sys is patched for mingw (vendor README); the patch rewrites Cargo.lock, which is put back.
# asio-sys's build script reruns when the SDK folder's time changes (another checkout's build
# touched it) and then reuses the library it built before without linking libstdc++: the link
# fails with undefined references. Then, and only then, the script's old output is removed and
# the build runs once more; any other failure stops at once.
WIN_BUILD = CPAL_ASIO_DIR=$(VENDOR)/asio-sdk-2.3.4 cargo build --target $(WIN_TARGET) -p overdub \
  --features asio --config 'patch.crates-io.asio-sys.path="$(VENDOR)/asio-sys-0.4.0-mingw"' \
  --config 'target.$(WIN_TARGET).linker="x86_64-w64-mingw32-gcc"'
wine: deps
	rustup target add $(WIN_TARGET) >/dev/null
	mkdir -p target && cp Cargo.lock target/Cargo.lock.native
	{ $(WIN_BUILD) 2>&1; echo $$? > target/wine-build.status; } | tee target/wine-build.log; \
	  status=$$(cat target/wine-build.status); \
	  if [ "$$status" != 0 ] && grep -q 'undefined reference' target/wine-build.log; then \
	    echo "make wine: asio-sys's library was linked without libstdc++; building it again"; \
	    rm -rf target/$(WIN_TARGET)/debug/build/asio-sys-*; $(WIN_BUILD); status=$$?; \
	  fi; \
	  cp target/Cargo.lock.native Cargo.lock; exit $$status
	cp $$(x86_64-w64-mingw32-gcc -print-file-name=libstdc++-6.dll) \
	  $$(x86_64-w64-mingw32-gcc -print-file-name=libgcc_s_seh-1.dll) $(WIN_DIR)/
	tests/wine/setup.sh target/wine $(VENDOR)

fmt:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings
