//! The session model: tracks and clips, serialized as `session.json`. Not on the audio thread.

use serde::{Deserialize, Serialize};

use crate::rt::{MonitorMode, TrackId};

/// Version of the `session.json` format this build writes and reads. Version 2 added the tempo,
/// the time signature and markers; a version 1 file reads as a session at 120 BPM in 4/4 with no
/// markers. Version 3 added clip fades and clip gain, the session's fade length and the master
/// fader; an older file reads with no fades, clips and master at 0 dB and the default fade length.
pub const SESSION_VERSION: u32 = 3;

/// A recording session: its sample rate and its tracks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    /// Format version of the file this came from.
    pub version: u32,
    /// Sample rate of every file in the session, Hz.
    pub rate: u32,
    /// Tracks, top to bottom.
    pub tracks: Vec<Track>,
    /// Next unused track id.
    pub next_track_id: TrackId,
    /// Next unused clip id.
    pub next_clip_id: u32,
    /// Tempo, beats per minute (the grid and interchange with other programs; audio is never
    /// stretched by it).
    #[serde(default = "default_tempo")]
    pub tempo_bpm: f64,
    /// Time signature.
    #[serde(default)]
    pub meter: Meter,
    /// Named positions on the timeline, in the order they were added.
    #[serde(default)]
    pub markers: Vec<Marker>,
    /// Next unused marker id.
    #[serde(default = "first_id")]
    pub next_marker_id: u32,
    /// Length of the crossfades Overdub makes where it cuts one take into another (a comp range,
    /// a punch) and of the fade it puts on a clip edge a trim moves, milliseconds; 0: none.
    #[serde(default = "default_fade_ms")]
    pub fade_ms: f32,
    /// The master fader, dB (-inf: silent, `null` in JSON). It scales the mix, not the stems.
    #[serde(default, deserialize_with = "gain_or_silent")]
    pub master_gain_db: f32,
}

/// The fade length of a new session, and of a file older than version 3, milliseconds.
pub const DEFAULT_FADE_MS: f32 = 5.0;

fn default_fade_ms() -> f32 {
    DEFAULT_FADE_MS
}

/// A time signature: `numerator` beats of 1/`denominator` notes to the bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meter {
    /// Beats to the bar.
    pub numerator: u8,
    /// The note value of a beat: 1, 2, 4, 8, 16 or 32.
    pub denominator: u8,
}

impl Default for Meter {
    fn default() -> Self {
        Self {
            numerator: 4,
            denominator: 4,
        }
    }
}

/// A named position on the timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Marker {
    /// Stable id.
    pub id: u32,
    /// Name shown to the user.
    pub name: String,
    /// Timeline frame.
    pub position: u64,
}

/// The tempo of a new session, and of a version 1 file.
pub const DEFAULT_TEMPO: f64 = 120.0;

fn default_tempo() -> f64 {
    DEFAULT_TEMPO
}

fn first_id() -> u32 {
    1
}

/// One track.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Track {
    /// Stable id.
    pub id: TrackId,
    /// Name shown to the user.
    pub name: String,
    /// First input channel it records from, 0-based (a stereo track also takes the next one).
    pub input: u16,
    /// 1 (mono) or 2 (stereo).
    #[serde(default = "mono")]
    pub channels: u8,
    /// Fader gain, dB (-inf: silent, which JSON holds as `null`).
    #[serde(default, deserialize_with = "gain_or_silent")]
    pub gain_db: f32,
    /// Pan, -1.0 (left) to 1.0 (right).
    #[serde(default)]
    pub pan: f32,
    /// Muted.
    #[serde(default)]
    pub mute: bool,
    /// Soloed.
    #[serde(default)]
    pub solo: bool,
    /// Input monitoring.
    #[serde(default)]
    pub monitor: MonitorMode,
    /// Armed for recording.
    #[serde(default)]
    pub armed: bool,
    /// Clips, in the order they were added (later ones play over earlier ones where they overlap).
    #[serde(default)]
    pub clips: Vec<Clip>,
    /// Colour in the window (its clips take it), RGB; None: one from the palette by its id.
    #[serde(default)]
    pub colour: Option<[u8; 3]>,
}

impl Track {
    /// A track at 0 dB, centred, monitoring automatically, not armed, with no clips.
    pub fn new(id: TrackId, name: String, input: u16, channels: u8) -> Self {
        Self {
            id,
            name,
            input,
            channels,
            gain_db: 0.0,
            pan: 0.0,
            mute: false,
            solo: false,
            monitor: MonitorMode::Auto,
            armed: false,
            clips: Vec::new(),
            colour: None,
        }
    }
}

/// A fader gain in dB; `null` (how JSON writes -inf) is silence.
fn gain_or_silent<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
    Ok(Option::<f32>::deserialize(d)?.unwrap_or(f32::NEG_INFINITY))
}

/// A stretch of an audio file placed on a track.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clip {
    /// Stable id.
    pub id: u32,
    /// File name inside the session's `audio/` folder.
    pub file: String,
    /// Timeline position of the clip's first frame.
    pub position: u64,
    /// First frame of the file that plays.
    pub offset: u64,
    /// Frames that play.
    pub length: u64,
    /// Frames of fade-in from the clip's start. Over an earlier clip it is a crossfade: the clip
    /// below fades out as this one fades in.
    #[serde(default)]
    pub fade_in: u64,
    /// Frames of fade-out to the clip's end (a crossfade into what lies below, if anything).
    #[serde(default)]
    pub fade_out: u64,
    /// Clip gain, dB.
    #[serde(default)]
    pub gain_db: f32,
}

impl Clip {
    /// A clip of `length` frames of `file` from file frame `offset`, at timeline `position`, with
    /// no fades at 0 dB (id 0 until a session gives it one).
    pub fn new(file: String, position: u64, offset: u64, length: u64) -> Self {
        Self {
            id: 0,
            file,
            position,
            offset,
            length,
            ..Self::default()
        }
    }

    /// One past the last timeline frame the clip covers.
    pub fn end(&self) -> u64 {
        self.position + self.length
    }

    /// Shorten the fades to fit the clip: neither longer than it, fade-out given up first.
    pub fn fit_fades(&mut self) {
        self.fade_in = self.fade_in.min(self.length);
        self.fade_out = self.fade_out.min(self.length - self.fade_in);
    }
}

impl Session {
    /// The session's fade length in frames.
    pub fn fade_frames(&self) -> u64 {
        if self.fade_ms.is_finite() && self.fade_ms > 0.0 {
            (f64::from(self.fade_ms) * f64::from(self.rate) / 1000.0).round() as u64
        } else {
            0
        }
    }

    /// A new session at `rate` Hz with `tracks` mono tracks; track i listens to input channel i.
    pub fn new(rate: u32, tracks: usize) -> Self {
        let mut s = Self {
            version: SESSION_VERSION,
            rate,
            tracks: Vec::new(),
            next_track_id: 1,
            next_clip_id: 1,
            tempo_bpm: DEFAULT_TEMPO,
            meter: Meter::default(),
            markers: Vec::new(),
            next_marker_id: 1,
            fade_ms: DEFAULT_FADE_MS,
            master_gain_db: 0.0,
        };
        for _ in 0..tracks {
            s.add_track();
        }
        s
    }

    /// Append a mono track listening to the next input channel; returns its id.
    pub fn add_track(&mut self) -> TrackId {
        let id = self.next_track_id;
        self.next_track_id += 1;
        let n = self.tracks.len();
        self.tracks.push(Track::new(
            id,
            format!("Track {}", n + 1),
            u16::try_from(n).unwrap_or(u16::MAX),
            1,
        ));
        id
    }

    /// The track with this id.
    pub fn track(&self, id: TrackId) -> Option<&Track> {
        self.tracks.iter().find(|t| t.id == id)
    }

    /// The track with this id, mutable.
    pub fn track_mut(&mut self, id: TrackId) -> Option<&mut Track> {
        self.tracks.iter_mut().find(|t| t.id == id)
    }

    /// Add a clip to a track and return its id.
    pub fn add_clip(&mut self, track: TrackId, mut clip: Clip) -> Option<u32> {
        let id = self.next_clip_id;
        clip.id = id;
        let t = self.track_mut(track)?;
        t.clips.push(clip);
        self.next_clip_id += 1;
        Some(id)
    }

    /// Add a marker and return its id; markers stay sorted by position.
    pub fn add_marker(&mut self, name: String, position: u64) -> u32 {
        let id = self.next_marker_id;
        self.next_marker_id += 1;
        self.markers.push(Marker { id, name, position });
        self.sort_markers();
        id
    }

    /// Put the markers in timeline order (ties in id order).
    pub fn sort_markers(&mut self) {
        self.markers.sort_by_key(|m| (m.position, m.id));
    }

    /// One past the last frame of the last clip: where playback of the session ends.
    pub fn end(&self) -> u64 {
        self.tracks
            .iter()
            .flat_map(|t| t.clips.iter().map(Clip::end))
            .max()
            .unwrap_or(0)
    }
}

/// A name made safe as a file name: letters, digits, `-` and `_` kept, anything else `-`.
pub fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

impl Track {
    /// The track's clips as the disk code reads them, with their files in `audio`.
    pub fn clip_sources(&self, audio: &std::path::Path) -> Vec<crate::disk::ClipSource> {
        self.clips
            .iter()
            .map(|c| crate::disk::ClipSource {
                path: audio.join(&c.file),
                position: c.position,
                offset: c.offset,
                length: c.length,
                fade_in: c.fade_in,
                fade_out: c.fade_out,
                gain: db_to_gain(c.gain_db),
            })
            .collect()
    }
}

fn mono() -> u8 {
    1
}

/// dB to a linear factor; -inf dB and below -144 dB give silence.
pub fn db_to_gain(db: f32) -> f32 {
    if !db.is_finite() || db <= -144.0 {
        if db.is_nan() { 1.0 } else { 0.0 }
    } else {
        10f32.powf(db / 20.0)
    }
}
