# The two commands of the README's quick start, and the checks CI runs.
#   make run   set up and start the recorder (the window, on the demo session the first time)
#   make test  set up and run every check: format, lints, unit and end-to-end tests
#   make deb   build the Debian package (target/overdub_VERSION_ARCH.deb)
#   make take  a headless first take: a session, a 10 s recording, played back
SESSION ?= $(HOME)/Overdub/first-session
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: deps run take test check fmt clippy deb

deps:
	@command -v jackd wireplumber >/dev/null && pkg-config --exists alsa jack libpipewire-0.3 || \
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

test: deps fmt clippy
	cargo test --workspace

fmt:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings
