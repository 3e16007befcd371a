//! Lock-free numbers that the audio thread writes and any thread reads: peak meters, DSP load,
//! the playhead. Realtime-safe: plain atomics, no allocation after construction.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// An `f32` in an `AtomicU32`, for meters and loads.
#[derive(Debug, Default)]
pub struct AtomicF32(AtomicU32);

impl AtomicF32 {
    /// A cell holding `v`.
    pub fn new(v: f32) -> Self {
        Self(AtomicU32::new(v.to_bits()))
    }
    /// The current value.
    pub fn load(&self) -> f32 {
        f32::from_bits(self.0.load(Ordering::Relaxed))
    }
    /// Replace the value.
    pub fn store(&self, v: f32) {
        self.0.store(v.to_bits(), Ordering::Relaxed);
    }
    /// Raise the value to `v` if `v` is larger. Only for non-negative values, whose bit patterns
    /// order like the numbers.
    pub fn raise(&self, v: f32) {
        if v >= 0.0 {
            self.0.fetch_max(v.to_bits(), Ordering::Relaxed);
        }
    }
    /// Read the value and reset it to zero (peak-hold readers).
    pub fn take(&self) -> f32 {
        f32::from_bits(self.0.swap(0, Ordering::Relaxed))
    }
}

/// One track's meter: the peak (linear, 1.0 = 0 dBFS) since the reader last took it, and whether
/// the signal reached full scale.
#[derive(Debug, Default)]
pub struct TrackMeter {
    /// Peak since the last `take`, linear amplitude.
    pub peak: AtomicF32,
    /// Set when a sample reached 1.0 (0 dBFS) or beyond; cleared by the reader.
    pub clipped: AtomicBool,
}

/// The master bus's meter: left and right peaks and clip lights, and the mean square of the last
/// block on each side (for an RMS reading).
#[derive(Debug, Default)]
pub struct MasterMeter {
    /// Left and right.
    pub sides: [TrackMeter; 2],
    /// Mean square of the last block, left and right.
    pub mean_square: [AtomicF32; 2],
}

/// Input channels metered on their own (the settings page's input meters).
pub const INPUT_METERS: usize = 64;

/// The peak of each of the first [`INPUT_METERS`] input channels since last taken.
#[derive(Debug)]
pub struct InputMeters(pub [AtomicF32; INPUT_METERS]);

impl Default for InputMeters {
    fn default() -> Self {
        Self(std::array::from_fn(|_| AtomicF32::default()))
    }
}

impl std::ops::Deref for InputMeters {
    type Target = [AtomicF32; INPUT_METERS];
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// Engine-wide status written by the audio thread (and the driver), read by the control side.
#[derive(Debug, Default)]
pub struct EngineStatus {
    /// Peak of each of the device's first [`INPUT_METERS`] input channels since last taken,
    /// whether or not a track listens to it.
    pub inputs: InputMeters,
    /// The master bus after its fader (the click and test tone not included).
    pub master: MasterMeter,
    /// Playhead, timeline frames.
    pub position: AtomicU64,
    /// Where the playhead would be if no loop had sent it back: where it started plus every
    /// frame rolled since (equal to `position` while nothing loops). Loop recording places its
    /// passes and stops by it.
    pub ran: AtomicU64,
    /// True while the transport rolls.
    pub rolling: AtomicBool,
    /// Peak DSP load since last taken: time in the callback over the block period (1.0 = 100 %).
    pub dsp_peak: AtomicF32,
    /// Sum of per-block loads and number of blocks, for the mean.
    pub dsp_sum_micro: AtomicU64,
    /// Blocks processed since the stream started.
    pub blocks: AtomicU64,
    /// Driver-reported xruns (over- or underruns of the device buffer), and the cycles below.
    pub xruns: AtomicU64,
    /// Of those, the ones the driver did not report: times it went on without calling the input
    /// callback, seen from its cycle times (see `rt/cycle_watch.rs`; one each time, however
    /// many cycles). Raised after [`EngineStatus::xruns`] (Release): read it first (Acquire).
    pub skipped_input: AtomicU64,
    /// As [`EngineStatus::skipped_input`], for the output callback.
    pub skipped_output: AtomicU64,
    /// Frames a capture ring could not take (the disk thread fell behind). Each is replaced by
    /// silence in the take as soon as the ring has room, so nothing after it moves.
    pub capture_overruns: AtomicU64,
    /// Timeline frame of the first capture overrun since the stream opened (stored plus one; 0: none).
    /// Read it with [`EngineStatus::first_capture_loss`].
    pub capture_lost_at: AtomicU64,
    /// Captures ended so far: raised (Release) after the last frame of a take is in its capture
    /// ring, so the disk thread can close the take without waiting for the ring to come back
    /// through the control side.
    pub captures_ended: AtomicU64,
    /// Frames a playback ring could not give (the disk thread fell behind).
    pub playback_underruns: AtomicU64,
    /// Input frames the duplex bridge lost while holding its latency during a take (replaced by
    /// silence, or dropped because another clock ran ahead): slips that never move audio in time.
    pub bridge_underruns: AtomicU64,
    /// Frames the duplex bridge grew by during takes because the driver changed its callback
    /// order (one block at most): silence in the monitoring, left out of the takes, so nothing
    /// recorded is lost or moved (see `rt/leave_out.rs`).
    pub bridge_regrown: AtomicU64,
    /// Frames by which the driver moved input against output during takes without saying so (a
    /// lasting change in when the duplex bridge's callbacks run; see `rt/duplex.rs`).
    pub driver_shifts: AtomicU64,
    /// What the duplex bridge adds now, frames, as the bits of an `f64` (0.0 where input and
    /// output share one callback).
    pub bridge_latency: AtomicU64,
    /// Input latency from the driver's callback timestamps (capture to callback), frames; 0 when
    /// the driver gives none.
    pub driver_input_latency: AtomicU64,
    /// Output latency from the driver's callback timestamps (callback to playback), frames.
    pub driver_output_latency: AtomicU64,
    /// The size the driver calls back with once it has held, frames; 0 until then (see
    /// `rt/steady_block.rs`; cpal's hosts only).
    pub steady_block: AtomicU64,
    /// Realtime scheduling of the audio callback threads: see [`crate::rt::Priority`].
    pub priority: crate::rt::PriorityCell,
    /// Set by the driver when the device or server went away.
    pub device_lost: AtomicBool,
    /// Playhead (timeline frames) at each of the first [`XRUN_LOG`] xruns.
    pub xrun_positions: [AtomicU64; XRUN_LOG],
    /// Frames the stream has run since it started, rolling or not (the driver's clock, with
    /// any cycles it lost left out).
    pub frames_run: AtomicU64,
    /// [`EngineStatus::frames_run`] at each of the first [`XRUN_LOG`] xruns: when each happened,
    /// also before the transport rolled.
    pub xrun_frames_run: [AtomicU64; XRUN_LOG],
    /// Shifts noted so far (each of some frames, summed in [`EngineStatus::driver_shifts`]).
    pub shifts: AtomicU64,
    /// [`EngineStatus::frames_run`] when each of the first [`XRUN_LOG`] shifts was noticed.
    pub shift_frames_run: [AtomicU64; XRUN_LOG],
}

/// How many xrun positions are kept.
pub const XRUN_LOG: usize = 32;

/// The slots of `log` filled by the first `count` events.
fn logged(log: &[AtomicU64; XRUN_LOG], count: &AtomicU64) -> Vec<u64> {
    let n = (count.load(Ordering::Relaxed) as usize).min(XRUN_LOG);
    log[..n].iter().map(|p| p.load(Ordering::Relaxed)).collect()
}

impl EngineStatus {
    /// Count an xrun and note where the playhead stood. Realtime-safe (atomics only), so a
    /// driver may call it from its audio thread.
    pub fn note_xrun(&self) {
        let n = self.xruns.fetch_add(1, Ordering::Relaxed) as usize;
        if let Some(slot) = self.xrun_positions.get(n) {
            slot.store(self.position.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        if let Some(slot) = self.xrun_frames_run.get(n) {
            slot.store(self.frames_run.load(Ordering::Relaxed), Ordering::Relaxed);
        }
    }

    /// Count an xrun the driver did not report: it went on without calling the input callback
    /// (`input`) or the output callback. Realtime-safe (atomics only).
    pub fn note_skipped(&self, input: bool) {
        self.note_xrun();
        let side = if input {
            &self.skipped_input
        } else {
            &self.skipped_output
        };
        side.fetch_add(1, Ordering::Release);
    }

    /// Count a shift of `frames` frames (input moved against output by the driver, unsaid) and
    /// note when it was noticed. Realtime-safe (atomics only).
    pub fn note_shift(&self, frames: u64) {
        self.driver_shifts.fetch_add(frames, Ordering::Relaxed);
        let n = self.shifts.fetch_add(1, Ordering::Relaxed) as usize;
        if let Some(slot) = self.shift_frames_run.get(n) {
            slot.store(self.frames_run.load(Ordering::Relaxed), Ordering::Relaxed);
        }
    }

    /// [`EngineStatus::frames_run`] at each xrun noted so far (the first [`XRUN_LOG`]).
    pub fn xrun_times(&self) -> Vec<u64> {
        logged(&self.xrun_frames_run, &self.xruns)
    }

    /// Timeline positions of the xruns noted so far (the first [`XRUN_LOG`]).
    pub fn xrun_log(&self) -> Vec<u64> {
        logged(&self.xrun_positions, &self.xruns)
    }

    /// [`EngineStatus::frames_run`] when each shift so far was noticed (the first [`XRUN_LOG`]).
    pub fn shift_times(&self) -> Vec<u64> {
        logged(&self.shift_frames_run, &self.shifts)
    }

    /// Where the first capture overrun happened, timeline frames, if one did.
    pub fn first_capture_loss(&self) -> Option<u64> {
        // 0 is the Default's value: the field is stored as position + 1.
        match self.capture_lost_at.load(Ordering::Relaxed) {
            0 => None,
            p => Some(p - 1),
        }
    }

    /// Mean DSP load over all blocks so far (1.0 = 100 %).
    pub fn dsp_mean(&self) -> f32 {
        let blocks = self.blocks.load(Ordering::Relaxed);
        if blocks == 0 {
            return 0.0;
        }
        self.dsp_sum_micro.load(Ordering::Relaxed) as f32 / 1e6 / blocks as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each xrun keeps where the playhead stood and how far the stream had run, the latter also
    /// before the transport rolls; past the log only the count grows.
    #[test]
    fn an_xrun_is_logged_by_playhead_and_by_the_frames_the_stream_ran() {
        let s = EngineStatus::default();
        s.frames_run.store(4_800, Ordering::Relaxed);
        assert_no_alloc::assert_no_alloc(|| s.note_xrun());
        s.position.store(256, Ordering::Relaxed);
        s.frames_run.store(9_856, Ordering::Relaxed);
        s.note_xrun();
        assert_eq!(s.xrun_log(), vec![0, 256]);
        assert_eq!(s.xrun_times(), vec![4_800, 9_856]);
        for _ in 0..XRUN_LOG {
            s.note_xrun();
        }
        assert_eq!(s.xruns.load(Ordering::Relaxed), XRUN_LOG as u64 + 2);
        assert_eq!(s.xrun_times().len(), XRUN_LOG);
    }

    /// An xrun the driver did not report counts as an xrun, and on its side.
    #[test]
    fn a_skipped_cycle_is_an_xrun_counted_on_its_side() {
        let s = EngineStatus::default();
        s.position.store(512, Ordering::Relaxed);
        assert_no_alloc::assert_no_alloc(|| s.note_skipped(true));
        s.note_skipped(false);
        s.note_skipped(false);
        s.note_xrun();
        assert_eq!(s.xruns.load(Ordering::Relaxed), 4);
        assert_eq!(s.skipped_input.load(Ordering::Relaxed), 1);
        assert_eq!(s.skipped_output.load(Ordering::Relaxed), 2);
        assert_eq!(s.xrun_log(), vec![512; 4]);
    }
}
