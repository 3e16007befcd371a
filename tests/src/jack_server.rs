//! Private JACK dummy servers, one per test world, started under unique names.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

fn spawn_jackd(name: &str, rate: u32, period: u32, realtime: bool) -> (Child, PathBuf) {
    let log = std::env::temp_dir().join(format!("{name}.log"));
    let out = std::fs::File::create(&log).expect("jackd log file");
    let err = out.try_clone().expect("jackd log file");
    let child = Command::new("jackd")
        .args(["-n", name])
        .args(if realtime {
            &["-R", "-P", "80"][..]
        } else {
            &["--no-realtime"][..]
        })
        .args(["-L", "2", "-d", "dummy", "-r", &rate.to_string()])
        .args(["-p", &period.to_string(), "-C", "8", "-P", "8"])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("jackd must be installed (apt-get install jackd2); .ci/run installs it");
    (child, log)
}

/// A JACK dummy server started under a unique name, killed on drop.
pub struct JackServer {
    /// Its name, for `JACK_DEFAULT_SERVER`.
    pub name: String,
    rate: u32,
    period: u32,
    realtime: bool,
    child: Child,
    log: PathBuf,
}

impl JackServer {
    /// Start `jackd -n NAME --no-realtime -L 2 -d dummy -r 48000 -p PERIOD -C 8 -P 8` and wait
    /// until it answers.
    pub fn start(period: u32) -> Self {
        Self::start_at(48_000, period)
    }

    /// Start one at `rate` Hz (see [`JackServer::start`]).
    pub fn start_at(rate: u32, period: u32) -> Self {
        Self::start_with(rate, period, false)
    }

    /// Start one at `rate` Hz, with realtime scheduling (`-R`) or without (`--no-realtime`).
    pub fn start_with(rate: u32, period: u32, realtime: bool) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "overdub-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        Self::start_named(&name, rate, period, realtime)
    }

    fn start_named(name: &str, rate: u32, period: u32, realtime: bool) -> Self {
        let (child, log) = spawn_jackd(name, rate, period, realtime);
        let server = Self {
            name: name.to_string(),
            rate,
            period,
            realtime,
            child,
            log,
        };
        server.wait_ready();
        server
    }

    /// How many times the server has run a cycle late so far (`JackTimedDriver::Process XRun`
    /// in its log): on a two-core machine the dummy driver's timer now and then wakes late.
    pub fn late_cycles(&self) -> usize {
        self.log_count("Process XRun")
    }

    /// How many times a client of the server had not run when its cycle ended (`JackEngine::XRun:
    /// client = NAME was not finished` in its log). The ALSA plugin's two clients live in the
    /// recorder's process, and the plugin does not tell ALSA when one misses a cycle: this log is
    /// the only place it shows.
    pub fn missed_client_cycles(&self) -> usize {
        self.log_count("was not finished")
    }

    fn log_count(&self, what: &str) -> usize {
        self.log_text().matches(what).count()
    }

    /// What the server has written to its log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Start the server again under the same name (after [`JackServer::stop`]).
    pub fn restart(&mut self) {
        self.stop();
        let (child, log) = spawn_jackd(&self.name, self.rate, self.period, self.realtime);
        self.child = child;
        self.log = log;
        self.wait_ready();
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            let out = Command::new("jack_lsp")
                .env("JACK_DEFAULT_SERVER", &self.name)
                .env("JACK_NO_START_SERVER", "1")
                .output();
            if let Ok(o) = out
                && String::from_utf8_lossy(&o.stdout).contains("loopback:capture_1")
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "JACK server {} did not come up; its log:\n{}",
            self.name,
            self.log_text()
        );
    }

    /// Stop the server: SIGTERM, so that it takes its entry out of JACK's shared registry (a
    /// SIGKILLed server leaves it behind, and after a few of those no server starts: "Too many
    /// servers already active"); SIGKILL only if it does not go within 5 s.
    pub fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for JackServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_file(&self.log);
    }
}
