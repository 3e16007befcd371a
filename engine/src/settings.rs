//! User settings: the audio device set-up and loopback measurements, as JSON in the config folder
//! that `directories` names (`~/.config/overdub/settings.json` on Linux). Command-line flags
//! override them for one run. Not on the audio thread.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::latency::StoredLatency;
use crate::session::write_atomic;

/// The user's audio set-up.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Host name (`jack`, `alsa`, `virtual`, ...); None: pick automatically.
    #[serde(default)]
    pub host: Option<String>,
    /// Input device name; None: the host's default.
    #[serde(default)]
    pub input: Option<String>,
    /// Output device name; None: the host's default.
    #[serde(default)]
    pub output: Option<String>,
    /// Buffer size, frames; None: the device's default.
    #[serde(default)]
    pub buffer: Option<u32>,
    /// Round trip of the virtual loopback cable, frames; None: one buffer.
    #[serde(default)]
    pub loopback_delay: Option<u32>,
    /// First output channel of the stereo master pair, 1-based; None: 1.
    #[serde(default)]
    pub master_out: Option<u16>,
    /// Largest data size of one take file before it continues in a new part, bytes; None: just
    /// under 4 GiB, the most a WAV header can describe.
    #[serde(default)]
    pub take_part_bytes: Option<u64>,
    /// The session the window opened last.
    #[serde(default)]
    pub last_session: Option<PathBuf>,
    /// Loopback measurements, one per host, devices, rate and buffer size.
    #[serde(default)]
    pub latency: Vec<StoredLatency>,
}

impl Settings {
    /// Where new sessions go by default: `Overdub` in the user's data folder.
    pub fn sessions_dir() -> Option<PathBuf> {
        directories::ProjectDirs::from("org", "Overdub", "overdub")
            .map(|d| d.data_dir().join("sessions"))
    }

    /// Where settings live: `$OVERDUB_CONFIG_DIR/settings.json` when that is set (a portable
    /// install, or a test that must not share settings), else the platform's config folder.
    pub fn path() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("OVERDUB_CONFIG_DIR").filter(|d| !d.is_empty()) {
            return Some(PathBuf::from(dir).join("settings.json"));
        }
        directories::ProjectDirs::from("org", "Overdub", "overdub")
            .map(|d| d.config_dir().join("settings.json"))
    }

    /// Load the settings. A missing file gives the defaults; a damaged one gives the defaults and
    /// a warning to show, and is left in place for the user.
    pub fn load() -> (Self, Option<String>) {
        let Some(path) = Self::path() else {
            return (Self::default(), None);
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => match serde_json::from_str(&text) {
                Ok(s) => (s, None),
                Err(e) => (
                    Self::default(),
                    Some(format!(
                        "ignoring damaged settings file {} ({e})",
                        path.display()
                    )),
                ),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Self::default(), None),
            Err(e) => (
                Self::default(),
                Some(format!("cannot read {} ({e})", path.display())),
            ),
        }
    }

    /// Save the settings atomically where they live.
    pub fn save(&self) -> Result<()> {
        let path = Self::path()
            .ok_or_else(|| Error::InvalidSetting("this platform has no config folder".into()))?;
        self.save_to(&path)
    }

    /// Save the settings atomically to `path`.
    pub fn save_to(&self, path: &std::path::Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::InvalidSetting(format!("cannot serialize settings ({e})")))?;
        write_atomic(path, text.as_bytes())
    }
}
