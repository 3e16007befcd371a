//! One track's realtime state. Built on the control side, moved to the audio thread by
//! [`Command::AddTrack`](super::Command::AddTrack); everything the audio thread touches here is
//! realtime-safe (no allocation after construction).

use std::sync::Arc;

use rtrb::{Consumer, Producer};
use serde::{Deserialize, Serialize};

use super::command::TrackId;
use super::meter::TrackMeter;

/// What a track lets you hear of its input, as on a tape machine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MonitorMode {
    /// Never the input; the track plays what is on disk.
    Off,
    /// The input while the track is armed, what is on disk otherwise.
    #[default]
    Auto,
    /// Always the input.
    Input,
}

/// A track as the audio thread sees it.
pub struct TrackRt {
    /// Stable id.
    pub id: TrackId,
    /// First input channel (0-based) this track records and monitors; a stereo track also takes
    /// the next one.
    pub input: u16,
    /// 1 (mono) or 2 (stereo). Capture and playback rings carry this many interleaved channels.
    pub channels: u8,
    /// Armed for recording.
    pub armed: bool,
    /// Monitoring mode.
    pub monitor: MonitorMode,
    /// Target fader gain (linear).
    pub gain: f32,
    /// Gain reached at the end of the last block; ramps toward `gain`.
    pub(crate) gain_now: f32,
    /// Pan, -1.0 .. 1.0.
    pub pan: f32,
    /// Muted.
    pub mute: bool,
    /// Soloed.
    pub solo: bool,
    /// Meter shared with the control side.
    pub meter: Arc<TrackMeter>,
    /// Where takes go (disk thread drains it), if recording is set up.
    pub(crate) capture: Option<Producer<f32>>,
    /// Where playback comes from (disk thread fills it), if any.
    pub(crate) playback: Option<Consumer<f32>>,
    /// Frames of playback owed after an underrun: skipped when data arrives, to stay in sync.
    pub(crate) playback_debt: usize,
    /// Samples of capture lost to a full ring, not yet replaced by silence in it.
    pub(crate) capture_debt: usize,
    /// Arming asked for while a take records: applied when it ends (never a gap in a file).
    pub(crate) next_armed: Option<bool>,
    /// An input asked for while a take records: applied when it ends (never a channel switch
    /// inside a file).
    pub(crate) next_input: Option<u16>,
}

impl TrackRt {
    /// A new track at unity gain, centre, listening to `input`. Not on the audio thread (allocates
    /// the meter).
    pub fn new(id: TrackId, input: u16) -> Self {
        Self {
            id,
            input,
            channels: 1,
            armed: false,
            monitor: MonitorMode::default(),
            gain: 1.0,
            gain_now: 1.0,
            pan: 0.0,
            mute: false,
            solo: false,
            meter: Arc::new(TrackMeter::default()),
            capture: None,
            playback: None,
            playback_debt: 0,
            capture_debt: 0,
            next_armed: None,
            next_input: None,
        }
    }

    /// Make it a stereo (2) or mono (1, anything else) track.
    pub fn with_channels(mut self, channels: u8) -> Self {
        self.channels = if channels == 2 { 2 } else { 1 };
        self
    }

    /// Set the fader gain at once, with no ramp (for set-up before the stream runs).
    /// A gain that is not a finite number (a huge dB figure in a session file) starts silent
    /// and stays so, as the process treats it; the ramp never starts from infinity.
    pub fn with_gain(mut self, gain: f32) -> Self {
        self.gain = gain;
        self.gain_now = if gain.is_finite() {
            gain.clamp(0.0, 16.0)
        } else {
            0.0
        };
        self
    }

    /// Whether the input is heard right now.
    pub(crate) fn hears_input(&self) -> bool {
        match self.monitor {
            MonitorMode::Off => false,
            MonitorMode::Auto => self.armed,
            MonitorMode::Input => true,
        }
    }
}

/// Left and right gains for a pan position: 0 dB at centre on both sides, the far side falls
/// linearly to silence at the extremes. A centred mono track lands in both channels unchanged, so
/// a stem of it equals its clip sample for sample; on a stereo track it works as a balance.
pub fn pan_gains(pan: f32) -> (f32, f32) {
    let p = if pan.is_finite() {
        pan.clamp(-1.0, 1.0)
    } else {
        0.0
    };
    ((1.0 - p).min(1.0), (1.0 + p).min(1.0))
}
