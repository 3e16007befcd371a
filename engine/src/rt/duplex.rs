//! The two halves of a duplex stream whose driver gives separate input and output callbacks
//! (cpal's hosts, and the virtual device's split-callback double that tests them): the input half
//! feeds the [bridge](crate::rt::bridge), the output half pulls from it and runs the process. Both
//! publish what the latency model needs into [`EngineStatus`]. Realtime-safe after construction.
//!
//! What the bridge adds is published as the time it holds a frame, from the callbacks' clock
//! offsets (see `rt/callback_clock.rs`) where the driver says when each callback was
//! called, and as the silence it put in front of the input where it does not.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::callback_clock::{InputClock, OutputClock, callback_clocks};
use super::{BridgeInput, BridgeOutput, CycleWatch, EngineStatus, Process, bridge};

thread_local! {
    /// Set on the thread that runs the input callback: the output callback finds out from it
    /// whether the driver calls both from one thread (ASIO's buffer switch) or from two (ALSA,
    /// WASAPI). A const thread-local: no allocation, no system call.
    static INPUT_THREAD: Cell<bool> = const { Cell::new(false) };
    /// Set by the input callback, cleared by the output callback: on one thread, whether this
    /// cycle's input came before its output.
    static INPUT_THIS_CYCLE: Cell<bool> = const { Cell::new(false) };
}

/// The input callback's half.
pub struct DuplexInput {
    bridge: BridgeInput,
    status: Arc<EngineStatus>,
    clock: InputClock,
    /// Cycles the driver ran without calling, where its stamps are its own cycle times.
    cycles: Option<CycleWatch>,
    marked: bool,
}

/// The output callback's half: owns the process.
pub struct DuplexOutput {
    bridge: BridgeOutput,
    process: Process,
    status: Arc<EngineStatus>,
    in_channels: usize,
    out_channels: usize,
    threads_known: bool,
    clock: OutputClock,
    /// As for the input.
    cycles: Option<CycleWatch>,
    /// How far the input count is ahead of the output count, frames (None until known).
    phase: Option<f64>,
    /// The phase the current take started with (None while no take holds the latency).
    held_phase: Option<f64>,
}

/// A change of phase during a take at least this large, frames, is the driver moving input
/// against output (a period lost below the driver interface, a graph reordered), not the jitter
/// of the estimate; or a sixteenth of the block, if that is more: the estimate is read from when
/// the callbacks woke, which wanders with the period (a thread wakes late by a share of it, and a
/// span of the estimate holds fewer calls at a large block).
const SHIFT_FRAMES: f64 = 24.0;
/// See [`SHIFT_FRAMES`].
const SHIFT_SHARE_OF_BLOCK: f64 = 1.0 / 16.0;

/// Split a process at `rate` Hz for a driver with separate callbacks. `driver_time`: the driver
/// stamps each callback with its cycle's time on a clock free of wake-up jitter (PipeWire), so a
/// cycle it ran without calling a side shows, and that side's count follows its time (see
/// `rt/cycle_watch.rs`). Allocates; not on the audio thread.
pub fn duplex(
    process: Process,
    status: Arc<EngineStatus>,
    rate: u32,
    (in_channels, out_channels): (usize, usize),
    max_block: usize,
    driver_time: bool,
) -> (DuplexInput, DuplexOutput) {
    let (tx, rx) = bridge(in_channels, max_block);
    let (input_clock, output_clock) = callback_clocks(rate);
    let watch = || driver_time.then(|| CycleWatch::new(rate));
    (
        DuplexInput {
            bridge: tx,
            status: status.clone(),
            clock: input_clock,
            cycles: watch(),
            marked: false,
        },
        DuplexOutput {
            bridge: rx,
            process,
            status,
            in_channels,
            out_channels,
            threads_known: false,
            clock: output_clock,
            cycles: watch(),
            phase: None,
            held_phase: None,
        },
    )
}

impl DuplexInput {
    /// The status both halves publish to.
    pub fn status(&self) -> &EngineStatus {
        &self.status
    }

    /// One input block (interleaved). `called`: when the driver called this callback, on a clock
    /// the output side shares, for its first block (None for the rest of a callback split into
    /// blocks, or a driver that cannot say).
    pub fn run(&mut self, input: &[f32], called: Option<Duration>) {
        if !self.marked {
            INPUT_THREAD.with(|c| c.set(true));
            self.marked = true;
        }
        INPUT_THIS_CYCLE.with(|c| c.set(true));
        let frames = input.len() / self.bridge.channels();
        let moved = self.cycles.as_mut().map_or(0, |w| w.called(called, frames));
        if moved > 0 {
            // A dropout the driver did not report: count it, and keep what follows in place
            // (silence where the input never came, counted as slipped; what does not fit in
            // the FIFO keeps its place and the output side counts it where it would have played).
            let lost = moved.unsigned_abs();
            self.status.note_skipped(true);
            let rest = self.bridge.lose(lost) as u64;
            self.status
                .bridge_underruns
                .fetch_add(lost.saturating_sub(rest), Ordering::Relaxed);
        } else if moved < 0 {
            // Part of that dropout was no loss: this input belongs that much earlier. Where
            // its place has passed the output side drops it (counted as slipped); what follows
            // is in place again.
            self.bridge.take_back(moved.unsigned_abs());
        }
        if let Some(at) = called {
            self.clock.called(self.bridge.frames(), frames, at);
        }
        // Frames that do not fit keep their place; the output side counts them where they would
        // have played.
        let _ = self.bridge.push(input);
    }
}

impl DuplexOutput {
    /// The status both halves publish to.
    pub fn status(&self) -> &EngineStatus {
        &self.status
    }

    /// One output block of `frames` frames (interleaved). `called`: as for
    /// [`DuplexInput::run`].
    pub fn run(&mut self, output: &mut [f32], frames: usize, called: Option<Duration>) {
        if !self.threads_known && self.bridge.has_input() {
            self.threads_known = true;
            let same = INPUT_THREAD.with(Cell::get);
            self.bridge.set_two_threads(!same);
        }
        let may_grow = !self.process.holds_latency();
        let fresh = INPUT_THIS_CYCLE.with(|c| c.replace(false));
        let moved = self.cycles.as_mut().map_or(0, |w| w.called(called, frames));
        if moved > 0 {
            // The device played those frames without us (a dropout it did not report): count
            // it, and hand on the input that belongs where output resumes.
            self.status.note_skipped(false);
            self.bridge.skip(moved.unsigned_abs());
        } else if moved < 0 {
            // Part of that dropout was no loss: this output plays that much earlier. The input
            // already handed on for it is not handed on twice (during a take: silence in its
            // place, counted as slipped), and what follows is in place again.
            self.bridge.unskip(moved.unsigned_abs());
        }
        if let Some(at) = called {
            self.phase = self.clock.called(self.bridge.pulled(), frames, at);
        }
        self.watch_phase(!may_grow, frames);
        let (input, report) = self.bridge.pull(frames, may_grow, fresh);
        if report.slipped > 0 {
            self.status
                .bridge_underruns
                .fetch_add(report.slipped as u64, Ordering::Relaxed);
        }
        let frames = frames.min(input.len() / self.in_channels.max(1));
        if report.regrew > 0 {
            // Input came later during a take (the driver changed its order, or it was late with
            // room left in the block): the bridge grew, and its silence is left out of the takes
            // (see `rt/leave_out.rs`).
            self.status
                .bridge_regrown
                .fetch_add(report.regrew as u64, Ordering::Relaxed);
            self.process
                .leave_out_of_takes(frames.saturating_sub(report.regrew), report.regrew);
        }
        self.process
            .process(input, self.in_channels, output, self.out_channels, frames);
        self.status
            .bridge_latency
            .store(self.latency().to_bits(), Ordering::Relaxed);
    }

    /// While a take holds the latency, count any lasting change of phase: the driver moved what
    /// is recorded against what plays by that much, though it said nothing. The take cannot be
    /// mended, but it is not changed silently.
    fn watch_phase(&mut self, holding: bool, frames: usize) {
        let (true, Some(p)) = (holding, self.phase) else {
            self.held_phase = None;
            return;
        };
        let shift = SHIFT_FRAMES.max(frames as f64 * SHIFT_SHARE_OF_BLOCK);
        match self.held_phase {
            Some(h) if (p - h).abs() >= shift => {
                self.status.note_shift((p - h).abs().round() as u64);
                self.held_phase = Some(p);
            }
            Some(_) => {}
            None => self.held_phase = Some(p),
        }
    }

    /// What the bridge adds now, frames: the time it holds a frame where the callbacks' clocks
    /// are known (input frame `n` goes out as output frame `n - offset`, and at any instant the
    /// input count is `phase` ahead of the output count), else the silence it put in front.
    fn latency(&self) -> f64 {
        match (self.phase, self.bridge.offset()) {
            (Some(phase), Some(offset)) => phase - offset as f64,
            _ => self.bridge.latency() as f64,
        }
    }
}
