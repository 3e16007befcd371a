//! Stored loopback measurements, kept in the settings and keyed by host, devices, rate and buffer
//! size: a measurement is only true for the set-up it was made on.

use serde::{Deserialize, Serialize};

use crate::io::StreamInfo;

/// One stored measurement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredLatency {
    /// Host name.
    pub host: String,
    /// Input device name.
    pub input: String,
    /// Output device name.
    pub output: String,
    /// Sample rate, Hz.
    pub rate: u32,
    /// Buffer size, frames.
    pub buffer: u32,
    /// Measured round trip, frames (the duplex bridge's share at the time included).
    pub frames: u32,
    /// What the duplex bridge added during the measurement, frames, to a fraction of a frame (0
    /// where input and output share a callback).
    #[serde(default)]
    pub bridge: f64,
    /// What the driver reported at the time, frames.
    pub reported: u32,
    /// Input channel used, 1-based.
    pub in_channel: u16,
    /// Output channel used, 1-based.
    pub out_channel: u16,
    /// When, seconds since 1970.
    pub measured_at: u64,
}

impl StoredLatency {
    /// The round trip now, with the bridge adding `bridge_now` frames: the driver's part as
    /// measured, plus what the bridge adds now, to the nearest frame.
    pub fn frames_now(&self, bridge_now: f64) -> u32 {
        (f64::from(self.frames) - self.bridge + bridge_now)
            .round()
            .clamp(0.0, f64::from(u32::MAX)) as u32
    }

    fn matches(&self, s: &StreamInfo) -> bool {
        self.host == s.host.name()
            && Some(self.input.as_str()) == s.input_device.as_deref().or(Some(""))
            && Some(self.output.as_str()) == s.output_device.as_deref().or(Some(""))
            && self.rate == s.rate
            && self.buffer == s.buffer
    }
}

/// The stored measurement for this stream's set-up, if there is one.
pub fn find_stored<'a>(
    list: &'a [StoredLatency],
    stream: &StreamInfo,
) -> Option<&'a StoredLatency> {
    list.iter().rev().find(|m| m.matches(stream))
}

/// Add a measurement, replacing any earlier one for the same set-up.
pub fn remember(list: &mut Vec<StoredLatency>, m: StoredLatency) {
    list.retain(|o| {
        !(o.host == m.host
            && o.input == m.input
            && o.output == m.output
            && o.rate == m.rate
            && o.buffer == m.buffer)
    });
    list.push(m);
}
