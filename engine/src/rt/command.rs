//! The two message types that cross the realtime boundary, named for their direction:
//! [`Command`] goes control -> rt, [`Event`] goes rt -> control. Both travel through `rtrb` rings.
//!
//! Anything the audio thread needs (a new track, a ring) is allocated on the control side and moved
//! in by a command; anything it stops using comes back as [`Event::Garbage`] so that it is dropped
//! (and freed) on the control side, never on the audio thread.

use rtrb::{Consumer, Producer};

use super::track::{MonitorMode, TrackRt};

/// A track's identity, stable for the life of a session (not an index: tracks can be removed).
pub type TrackId = u32;

/// Control -> rt. Applied at the start of the next block, in order.
pub enum Command {
    /// Roll from the current position.
    Start,
    /// Stop at the start of the next block.
    Stop,
    /// Stop exactly when the playhead reaches this timeline frame (mid-block if need be),
    /// counted as if no loop sent it back (see `EngineStatus::ran`). Replaces an earlier
    /// `StopAt`.
    StopAt(u64),
    /// Move the playhead (timeline frames). Ignored while rolling; swap the playback rings first.
    Locate(u64),
    /// Record-enable the transport: armed tracks with a capture ring capture while rolling.
    SetRecording(bool),
    /// Add a track (allocated by the control side). Comes back as garbage when there is no room.
    AddTrack(Box<TrackRt>),
    /// Remove a track; its state comes back as [`Event::Garbage`].
    RemoveTrack(TrackId),
    /// Arm or disarm a track for recording.
    SetArmed(TrackId, bool),
    /// Fader gain as a linear factor (1.0 = 0 dB), ramped over one block to avoid clicks.
    SetGain(TrackId, f32),
    /// Pan from -1.0 (left) to 1.0 (right); 0 dB at centre on both sides.
    SetPan(TrackId, f32),
    /// Mute a track.
    SetMute(TrackId, bool),
    /// Solo a track: while any track is soloed, only soloed tracks are heard.
    SetSolo(TrackId, bool),
    /// How a track's input is monitored.
    SetMonitor(TrackId, MonitorMode),
    /// Which input channel (0-based) the track records from.
    SetInput(TrackId, u16),
    /// First output channel (0-based) of the stereo master pair.
    SetMasterOut(u16),
    /// Metronome: on while rolling, the length of a beat, beats per bar.
    SetClick {
        /// Click while rolling.
        on: bool,
        /// Frames in one beat, not rounded (the session grid's: clicks fall on its lines).
        beat_frames: f64,
        /// Beats per bar.
        beats_per_bar: u32,
    },
    /// Before the next `Start`: click this many frames first without rolling (a count-in);
    /// recording starts when it ends.
    CountIn(u64),
    /// The test tone on the master, whatever the transport does.
    TestTone(bool),
    /// Loop `start..end` while rolling (recording too: capture goes on across the wrap):
    /// reaching `end` goes back to `start`. Set it before `Start`, with playback rings that loop
    /// the same way.
    SetLoop(Option<(u64, u64)>),
    /// Punch `start..end` (timeline frames; `u64::MAX` for no end): while recording, an armed
    /// track plays what it holds outside the range and is heard only through its input monitoring
    /// inside it, as a tape machine punching in. Capture is not gated (the take keeps the
    /// pre- and post-roll for the crossfades); where the take shows is decided when it is placed.
    SetPunch(Option<(u64, u64)>),
    /// The master fader, linear: ramped over a block, or (`ramp` false, for an offline render
    /// that starts with it) at once.
    SetMasterGain {
        /// Linear gain.
        gain: f32,
        /// Ramp to it over one block.
        ramp: bool,
    },
    /// Attach the ring that the disk thread drains into this track's next take. The previous ring,
    /// if any, comes back as garbage.
    SetCapture(TrackId, Producer<f32>),
    /// Attach the ring the disk thread fills with this track's playback, starting at the current
    /// (stopped) playhead. The previous ring comes back as garbage.
    SetPlayback(TrackId, Consumer<f32>),
}

/// Things the audio thread gives back to be dropped on the control side.
pub enum Garbage {
    /// A removed track, or one that did not fit.
    Track(Box<TrackRt>),
    /// A capture ring that is finished with: when the disk thread sees its producer gone and the ring
    /// empty, the take is complete.
    Capture(TrackId, Producer<f32>),
    /// A playback ring that was replaced.
    Playback(Consumer<f32>),
}

/// Rt -> control.
pub enum Event {
    /// The transport started rolling at this timeline frame.
    Started(u64),
    /// The transport stopped; the frame is where the playhead stands (one past the last rolled frame).
    Stopped(u64),
    /// Capture began at this timeline frame: the first frame each armed track's capture ring
    /// receives belongs to this frame (before latency compensation).
    CaptureStarted(u64),
    /// Capture of every armed track ended at this timeline frame (exclusive); the capture rings
    /// follow as garbage.
    CaptureEnded(u64),
    /// Something for the control side to drop.
    Garbage(Garbage),
}
