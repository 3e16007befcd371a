//! A private X server for the window tests, and the window run on it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::{World, overdub_bin};

/// A private X server (Xvfb) on a free display number; stopped on drop.
pub struct Xvfb {
    child: Child,
    /// Its display, ":N".
    pub display: String,
}

impl Xvfb {
    /// Start one.
    pub fn start() -> Self {
        for n in 90..140 {
            let (lock, socket) = (format!("/tmp/.X{n}-lock"), format!("/tmp/.X11-unix/X{n}"));
            // A lock left by a server that is gone (killed before it could clean up) is stale.
            let holder = std::fs::read_to_string(&lock)
                .ok()
                .and_then(|t| t.trim().parse::<u32>().ok());
            if holder.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists()) {
                let _ = std::fs::remove_file(&lock);
                let _ = std::fs::remove_file(&socket);
            }
            if Path::new(&socket).exists() || Path::new(&lock).exists() {
                continue;
            }
            let display = format!(":{n}");
            let child = Command::new("Xvfb")
                .args([
                    display.as_str(),
                    "-screen",
                    "0",
                    "1280x760x24",
                    "-nolisten",
                    "tcp",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("Xvfb must be installed (apt-get install xvfb); .ci/run installs it");
            std::thread::sleep(Duration::from_millis(800));
            return Self { child, display };
        }
        panic!("no free X display number");
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        // SIGTERM first, so the server removes its lock and socket; SIGKILL if it lingers.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..50 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl World {
    /// `overdub open DIR ARGS...` in a window on `x`, with this world's config and data folders
    /// (output discarded, standard error piped).
    pub fn window(&self, x: &Xvfb, dir: &Path, args: &[&str]) -> Command {
        let runtime = self.path("runtime");
        std::fs::create_dir_all(&runtime).expect("runtime");
        let mut cmd = Command::new(overdub_bin());
        cmd.arg("open")
            .arg(dir)
            .args(args)
            .env("DISPLAY", &x.display)
            .env_remove("WAYLAND_DISPLAY")
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_DATA_HOME", self.path("data"))
            .env("JACK_DEFAULT_SERVER", "overdub-test-no-server")
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd
    }
}
