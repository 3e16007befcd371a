//! The two halves of a duplex stream whose driver gives separate input and output callbacks
//! (cpal's hosts, and the virtual device's split-callback double that tests them): the input half
//! feeds the [bridge](crate::rt::bridge), the output half pulls from it and runs the process. Both
//! publish what the latency model needs into [`EngineStatus`]. Realtime-safe after construction.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::{BridgeInput, BridgeOutput, EngineStatus, Process, bridge};

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
}

/// Split a process for a driver with separate callbacks. Allocates; not on the audio thread.
pub fn duplex(
    process: Process,
    status: Arc<EngineStatus>,
    in_channels: usize,
    out_channels: usize,
    max_block: usize,
) -> (DuplexInput, DuplexOutput) {
    let (tx, rx) = bridge(in_channels, max_block);
    (
        DuplexInput {
            bridge: tx,
            status: status.clone(),
            marked: false,
        },
        DuplexOutput {
            bridge: rx,
            process,
            status,
            in_channels,
            out_channels,
            threads_known: false,
        },
    )
}

impl DuplexInput {
    /// The status both halves publish to.
    pub fn status(&self) -> &EngineStatus {
        &self.status
    }

    /// One input block (interleaved).
    pub fn run(&mut self, input: &[f32]) {
        if !self.marked {
            INPUT_THREAD.with(|c| c.set(true));
            self.marked = true;
        }
        INPUT_THIS_CYCLE.with(|c| c.set(true));
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

    /// One output block of `frames` frames (interleaved).
    pub fn run(&mut self, output: &mut [f32], frames: usize) {
        if !self.threads_known && self.bridge.has_input() {
            self.threads_known = true;
            let same = INPUT_THREAD.with(Cell::get);
            self.bridge.set_two_threads(!same);
        }
        let may_grow = !self.process.holds_latency();
        let fresh = INPUT_THIS_CYCLE.with(|c| c.replace(false));
        let (input, report) = self.bridge.pull(frames, may_grow, fresh);
        if report.slipped > 0 {
            self.status
                .bridge_underruns
                .fetch_add(report.slipped as u64, Ordering::Relaxed);
        }
        let frames = frames.min(input.len() / self.in_channels.max(1));
        self.process
            .process(input, self.in_channels, output, self.out_channels, frames);
        self.status
            .bridge_latency
            .store(self.bridge.latency() as u64, Ordering::Relaxed);
    }
}
