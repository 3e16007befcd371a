//! Where a driver's input and output callbacks stand against one clock, for the bridge's latency.
//!
//! The bridge knows which input frame it hands to which output frame, but not how the two sides'
//! frame counts line up in time: that is set by when each side of the driver started, and on
//! ALSA (two PCMs started one after the other), WASAPI or two devices it changes from one opening
//! of the device to the next. A round trip measured in one opening then does not hold for the
//! next.
//!
//! So each callback notes its clock offset: the index of its first frame minus the time of the
//! call in frames, on a clock both sides share. That is the driver's own time of the cycle where
//! it gives one on a clock common to both sides (PipeWire's graph time), and otherwise the moment
//! the callback runs (`Instant::now()`: a vDSO read, no system call), which is late by however
//! long the thread took to wake. A late thread only ever lowers that figure, so each eighth of a
//! second keeps its highest, and the side's offset is the median of the last second's eight
//! ([`WINDOW_SECONDS`]): the wake-up jitter taken out, and one odd span (a driver's stale time)
//! ignored. The drift between the system clock and the audio clock moves both sides of one
//! device alike, so it drops out of the difference. The input side publishes its offset; the
//! output side subtracts its own: how far the input count is ahead of the output count at any
//! instant.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The span the highest offset is taken over, seconds.
pub const WINDOW_SECONDS: f64 = 1.0;
/// The window is kept as this many spans, each with its highest offset; their median is the
/// side's offset, so each call costs the same and a lasting shift is followed within half a
/// window.
const SPANS: usize = 8;
/// The fewest calls a span holds, whatever the block size.
const SPAN_CALLS: usize = 8;

/// One side's recent clock offsets, the highest of each span kept.
#[derive(Clone, Debug)]
struct Side {
    rate: f64,
    /// Frames in one span.
    span: f64,
    spans: [f64; SPANS],
    current: usize,
    /// Frames called for in the current span.
    span_frames: f64,
}

impl Side {
    fn new(rate: f64) -> Self {
        Self {
            rate,
            span: WINDOW_SECONDS * rate / SPANS as f64,
            spans: [f64::NEG_INFINITY; SPANS],
            current: 0,
            span_frames: 0.0,
        }
    }

    /// A call at `at` with frames from `first_frame` on, `frames` of them: the side's offset now.
    fn called(&mut self, first_frame: u64, frames: usize, at: Duration) -> f64 {
        let o = first_frame as f64 - at.as_secs_f64() * self.rate;
        // At a large block an eighth of a second holds only a call or two, and the least late of
        // so few is still late by much of the wake-up jitter: a span holds at least
        // [`SPAN_CALLS`] calls.
        let span = self.span.max((SPAN_CALLS * frames) as f64);
        if self.span_frames >= span {
            self.current = (self.current + 1) % SPANS;
            self.spans[self.current] = f64::NEG_INFINITY;
            self.span_frames = 0.0;
        }
        self.spans[self.current] = self.spans[self.current].max(o);
        self.span_frames += frames as f64;
        // The median of the spans' highest: one span's odd figure (a stale driver time) moves
        // nothing, and a lasting shift either way is followed within half a window.
        let mut spans = self.spans;
        let filled = spans.iter().filter(|s| s.is_finite()).count();
        spans.sort_unstable_by(|a, b| b.total_cmp(a));
        spans[filled.saturating_sub(1) / 2]
    }
}

/// The input callback's clock.
#[derive(Debug)]
pub struct InputClock {
    side: Side,
    published: Arc<AtomicU64>,
}

/// The output callback's clock.
#[derive(Debug)]
pub struct OutputClock {
    side: Side,
    input: Arc<AtomicU64>,
}

/// The two clocks of a stream at `rate` Hz. Allocates; not on the audio thread.
pub fn callback_clocks(rate: u32) -> (InputClock, OutputClock) {
    let rate = f64::from(rate.max(1));
    let shared = Arc::new(AtomicU64::new(f64::NAN.to_bits()));
    (
        InputClock {
            side: Side::new(rate),
            published: shared.clone(),
        },
        OutputClock {
            side: Side::new(rate),
            input: shared,
        },
    )
}

impl InputClock {
    /// The input callback called at `at` (on the clock both sides share) brought `frames` frames
    /// from `first_frame` on.
    pub fn called(&mut self, first_frame: u64, frames: usize, at: Duration) {
        let o = self.side.called(first_frame, frames, at);
        self.published.store(o.to_bits(), Ordering::Relaxed);
    }
}

impl OutputClock {
    /// The output callback called at `at` asks for `frames` frames from `first_frame` on: how
    /// far the input count is ahead of the output count at any instant, in frames (None before
    /// the first input call).
    pub fn called(&mut self, first_frame: u64, frames: usize, at: Duration) -> Option<f64> {
        let o = self.side.called(first_frame, frames, at);
        let i = f64::from_bits(self.input.load(Ordering::Relaxed));
        i.is_finite().then_some(i - o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use assert_no_alloc::assert_no_alloc as rt;

    const RATE: u32 = 48_000;
    const BLOCK: usize = 256;

    /// Block `k` of a side whose count is `lead` frames ahead, called `late` seconds late.
    fn at(origin: Duration, k: u64, lead: f64, late: f64) -> (u64, Duration) {
        let first = k * BLOCK as u64;
        let due = (first as f64 - lead) / f64::from(RATE);
        (first, origin + Duration::from_secs_f64(due.max(0.0) + late))
    }

    /// Drive both sides for blocks 1..`blocks`: `input(k)` gives the input side's lead and
    /// lateness for block `k`, `output_late()` the output side's lateness. Each pair of calls runs
    /// under `assert_no_alloc`. The phase after each block.
    fn drive(
        blocks: u64,
        mut input: impl FnMut(u64) -> (f64, f64),
        mut output_late: impl FnMut() -> f64,
    ) -> Vec<Option<f64>> {
        let (mut i, mut o) = callback_clocks(RATE);
        let origin = Duration::from_secs(1);
        (1..blocks)
            .map(|k| {
                let (lead, late) = input(k);
                let (fi, ti) = at(origin, k, lead, late);
                let (fo, to) = at(origin, k, 0.0, output_late());
                rt(|| {
                    i.called(fi, BLOCK, ti);
                    o.called(fo, BLOCK, to)
                })
            })
            .collect()
    }

    #[test]
    fn late_wakeups_do_not_move_the_phase() {
        // One sequence for both sides, drawn input then output, block by block.
        let seed = std::cell::Cell::new(7u64);
        let late = || {
            let s = seed
                .get()
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            seed.set(s);
            // Every call late by up to 30 % of a period.
            (s >> 40) as f64 / (1u64 << 24) as f64 * 0.3 * BLOCK as f64 / f64::from(RATE)
        };
        let phases = drive(400, |_| (100.0, late()), late);
        let p = phases.last().copied().flatten().unwrap_or(f64::NAN);
        assert!((p - 100.0).abs() < 1.5, "{p}");
    }

    #[test]
    fn one_odd_driver_time_moves_nothing() {
        // One input call stamped a period early (a stale cycle time).
        let lead = |k| if k == 200 { BLOCK as f64 } else { 0.0 };
        let phases = drive(400, |k| (lead(k), 0.0), || 0.0);
        for (k, phase) in phases.iter().enumerate() {
            let p = phase.unwrap_or(f64::NAN);
            assert!(p.abs() < 1e-6, "block {}: {p}", k + 1);
        }
    }

    #[test]
    fn a_lasting_shift_is_followed_within_a_window() {
        // The input side loses a period at block 100: from then on its count is a block less
        // ahead. A window of lower figures must pass before the highest one goes.
        let lead = |k| if k < 100 { BLOCK as f64 } else { 0.0 };
        let phases = drive(500, |k| (lead(k), 0.0), || 0.0);
        let p = phases.last().copied().flatten().unwrap_or(f64::NAN);
        assert!(p.abs() < 1e-6, "{p}");
    }

    #[test]
    fn no_phase_before_the_first_input() {
        let (_i, mut o) = callback_clocks(RATE);
        assert_eq!(o.called(0, BLOCK, Duration::from_secs(1)), None);
    }
}
