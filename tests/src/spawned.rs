//! Runs of `overdub` the test watches while they go: with a time limit, or until they record.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Run, World, overdub_bin};

/// A run of `overdub` that was given a time limit: what it printed, how long the whole process
/// took, and whether it had to be killed at the limit.
#[derive(Debug)]
pub struct TimedRun {
    /// What it printed and how it ended (a killed run ends by a signal: `code` is None).
    pub run: Run,
    /// Wall time from spawning the process to its exit.
    pub elapsed: Duration,
    /// It was still running at the limit and was killed.
    pub timed_out: bool,
}

impl World {
    /// Run `overdub ARGS` (the native binary, in the environment [`World::overdub`] gives it)
    /// and kill it if it is still running after `limit`: for inputs that might hang it.
    pub fn overdub_within(&self, args: &[&str], limit: Duration) -> TimedRun {
        let mut cmd = Command::new(overdub_bin());
        cmd.args(args)
            .env("OVERDUB_CONFIG_DIR", self.path("config").join("overdub"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_DATA_HOME", self.path("data"))
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env(
                "JACK_DEFAULT_SERVER",
                self.jack
                    .as_ref()
                    .map_or("overdub-test-no-server", |j| j.name.as_str()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let start = Instant::now();
        let mut child = cmd.spawn().expect("spawn overdub");
        let stdout = child.stdout.take().map(drain);
        let stderr = child.stderr.take().map(drain);
        let mut timed_out = false;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for overdub") {
                break status;
            }
            if start.elapsed() >= limit {
                timed_out = true;
                let _ = child.kill();
                break child.wait().expect("wait for the killed overdub");
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        let elapsed = start.elapsed();
        let text = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
            h.and_then(|h| h.join().ok())
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default()
        };
        TimedRun {
            run: Run {
                code: status.code(),
                stdout: text(stdout),
                stderr: text(stderr),
            },
            elapsed,
            timed_out,
        }
    }
}

/// Read a pipe to its end on a thread of its own, so a child never blocks on a full pipe.
fn drain(mut pipe: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// Start `overdub ARGS` in the world and wait for its "recording" line; returns the child and
/// the instant recording started.
pub fn start_recording(w: &World, args: &[&str]) -> (std::process::Child, Instant) {
    let mut cmd = Command::new(overdub_bin());
    cmd.args(args)
        .env("XDG_CONFIG_HOME", w.path("config"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    match &w.jack {
        Some(j) => cmd.env("JACK_DEFAULT_SERVER", &j.name),
        None => cmd.env("JACK_DEFAULT_SERVER", "overdub-test-no-server"),
    };
    let mut child = cmd.spawn().expect("spawn overdub");
    let out = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(out).lines();
    loop {
        let Some(Ok(line)) = lines.next() else {
            let status = child.wait();
            panic!("overdub ended before recording: {status:?}");
        };
        if line.starts_with("recording ") {
            let started = Instant::now();
            // Keep draining stdout so the child never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            return (child, started);
        }
    }
}
