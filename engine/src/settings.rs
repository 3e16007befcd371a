//! User settings: the audio device set-up and loopback measurements, as JSON in the config folder
//! that `directories` names (`~/.config/overdub/settings.json` on Linux). Command-line flags
//! override them for one run. Not on the audio thread.

use std::collections::BTreeMap;
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
    /// Sessions opened lately, newest first (at most [`RECENT`]).
    #[serde(default)]
    pub recent: Vec<PathBuf>,
    /// Loopback measurements, one per host, devices, rate and buffer size.
    #[serde(default)]
    pub latency: Vec<StoredLatency>,
    /// Each device's channels as the user set them up, by [`Settings::device_key`].
    #[serde(default)]
    pub channels: BTreeMap<String, DeviceChannels>,
    /// The file on disk was ignored (damaged or out of range): the first save moves it aside
    /// to `settings.json.ignored` (unless one is there already) instead of overwriting what the
    /// user had.
    #[serde(skip)]
    pub keep_ignored: bool,
}

/// A device's channels as the user set them up: names for its inputs, and which inputs and
/// outputs are switched off (not offered to tracks' inputs or as the master pair; the device
/// still opens with all its channels, and the settings page meters every input).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceChannels {
    /// The user's name for each input, by channel from 0 (empty: none given).
    #[serde(default)]
    pub input_names: Vec<String>,
    /// Inputs switched off, from 0.
    #[serde(default)]
    pub inputs_off: Vec<u16>,
    /// Outputs switched off, from 0.
    #[serde(default)]
    pub outputs_off: Vec<u16>,
}

/// Most devices whose channels are kept, and most channels named or switched off per device.
const MAX_DEVICES: usize = 256;
const MAX_CHANNELS: usize = 1024;
/// Longest name of a channel, bytes.
pub const MAX_CHANNEL_NAME: usize = 64;

/// Sessions kept in [`Settings::recent`].
pub const RECENT: usize = 10;

impl Settings {
    /// The key under which a device's channels are kept: host and device name.
    pub fn device_key(host: &str, device: &str) -> String {
        format!("{host}/{device}")
    }

    /// The channels of `key` as set up (all on, none named, if never set up).
    pub fn device_channels(&self, key: &str) -> DeviceChannels {
        self.channels.get(key).cloned().unwrap_or_default()
    }

    /// Note that the session in `dir` was opened: it becomes the last session and goes to the
    /// front of the recent ones.
    pub fn remember(&mut self, dir: &std::path::Path) {
        self.recent.retain(|d| d != dir);
        self.recent.insert(0, dir.to_path_buf());
        self.recent.truncate(RECENT);
        self.last_session = Some(dir.to_path_buf());
    }

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
        match crate::session::validate::read_limited(&path) {
            Ok(Some(text)) => match crate::session::validate::parse::<Self>(&text) {
                Ok(s) => match s.check() {
                    Ok(()) => (s, None),
                    Err(why) => (
                        Self::ignored(),
                        Some(format!(
                            "ignoring settings file {}: {why}; using the defaults",
                            path.display()
                        )),
                    ),
                },
                Err(e) => (
                    Self::ignored(),
                    Some(format!(
                        "ignoring damaged settings file {} ({e})",
                        path.display()
                    )),
                ),
            },
            Ok(None) => (Self::default(), None),
            Err(e) => (Self::default(), Some(format!("cannot read settings: {e}"))),
        }
    }

    /// The defaults, standing in for a file that was ignored.
    fn ignored() -> Self {
        Self {
            keep_ignored: true,
            ..Self::default()
        }
    }

    /// Every field within range; the first that is not, named.
    pub fn check(&self) -> std::result::Result<(), String> {
        const FRAMES: std::ops::RangeInclusive<u32> = 16..=65_536;
        let name_ok = |n: &Option<String>| n.as_ref().is_none_or(|n| n.len() <= 1024);
        if !(name_ok(&self.host) && name_ok(&self.input) && name_ok(&self.output)) {
            return Err("host, input or output: a name longer than 1024 bytes".into());
        }
        if let Some(b) = self.buffer.filter(|b| !FRAMES.contains(b)) {
            return Err(format!("buffer: {b} frames (16 to 65536)"));
        }
        if let Some(d) = self.loopback_delay.filter(|d| *d > 1 << 20) {
            return Err(format!("loopback_delay: {d} frames is more than a minute"));
        }
        if let Some(m) = self.master_out.filter(|m| *m == 0 || *m > 1024) {
            return Err(format!("master_out: {m} (outputs count from 1)"));
        }
        if let Some(p) = self
            .take_part_bytes
            .filter(|p| !(1 << 16..=crate::disk::MAX_PART_BYTES).contains(p))
        {
            return Err(format!(
                "take_part_bytes: {p} (64 KiB to {} bytes)",
                crate::disk::MAX_PART_BYTES
            ));
        }
        if self.channels.len() > MAX_DEVICES {
            return Err(format!("channels: {} devices", self.channels.len()));
        }
        for (device, c) in &self.channels {
            let lists = [c.input_names.len(), c.inputs_off.len(), c.outputs_off.len()];
            if device.len() > 2048 || lists.iter().any(|&n| n > MAX_CHANNELS) {
                return Err("channels: a device with too long a name or too many channels".into());
            }
            if c.input_names.iter().any(|n| n.len() > MAX_CHANNEL_NAME) {
                return Err(format!(
                    "channels: an input name of {device} is over {MAX_CHANNEL_NAME} bytes"
                ));
            }
        }
        if self.latency.len() > 10_000 {
            return Err(format!("latency: {} measurements", self.latency.len()));
        }
        for (i, m) in self.latency.iter().enumerate() {
            let rate_ok = crate::session::validate::RATES.contains(&m.rate);
            let bridge_ok = m.bridge.abs() <= f64::from(1 << 20);
            if !rate_ok || !FRAMES.contains(&m.buffer) || m.frames > 1 << 20 || !bridge_ok {
                return Err(format!(
                    "latency[{i}]: rate {}, buffer {}, frames {}, bridge {} out of range",
                    m.rate, m.buffer, m.frames, m.bridge
                ));
            }
        }
        Ok(())
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
        let aside = path.with_extension("json.ignored");
        if self.keep_ignored && path.exists() && !aside.exists() {
            std::fs::rename(path, &aside).map_err(|e| Error::io(&aside, e))?;
        }
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::InvalidSetting(format!("cannot serialize settings ({e})")))?;
        write_atomic(path, text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ignored_file_is_moved_aside_not_overwritten() {
        let tmp = tempfile::tempdir().expect("tmp");
        let path = tmp.path().join("settings.json");
        std::fs::write(&path, r#"{"buffer": 0, "latency": []}"#).expect("write");
        let s = Settings {
            keep_ignored: true,
            ..Settings::default()
        };
        s.save_to(&path).expect("save");
        let aside = tmp.path().join("settings.json.ignored");
        assert_eq!(
            std::fs::read_to_string(&aside).expect("kept"),
            r#"{"buffer": 0, "latency": []}"#
        );
        // A second save keeps the first one's original.
        s.save_to(&path).expect("save again");
        assert!(
            std::fs::read_to_string(&aside)
                .expect("kept")
                .contains("\"buffer\": 0")
        );
        assert!(Settings::default().check().is_ok());
        let bad = Settings {
            buffer: Some(0),
            ..Settings::default()
        };
        assert!(bad.check().expect_err("buffer 0").contains("buffer"));
    }
}
