//! Cycles a driver ran without calling one side of a duplex stream, read from its own times.
//!
//! Where a driver stamps each callback with the time of its cycle on a clock free of the threads'
//! wake-up jitter (PipeWire's graph time; the virtual device's double), a callback that comes a
//! whole period after the end of the last one's frames means the driver went on without calling
//! it: a client that missed its wake-up (PipeWire says "client missed 1 wakeups"). Those input
//! frames were never given, or those output frames never asked for. Counting frames by calls alone
//! would then move input against output by a period for the rest of the stream; so the side's
//! count follows the driver's time instead, and the loss is counted (see `rt/duplex.rs`).
//!
//! The time a driver gives can be ahead of the block it hands over: PipeWire, catching up a client
//! that fell behind, stamps each call with its latest cycle's time, not the time of the buffer
//! handed over. The loss then counted is too large by the difference, which shows as the calls
//! that follow come stamped a period or more early; within a few calls of a loss the surplus is
//! taken back, so the count follows the driver's cycles again rather than staying off by it.
//!
//! Where the time is the moment the callback runs (ALSA without hardware stamps, WASAPI, ASIO's
//! millisecond clock), a late thread looks exactly like a skipped cycle, so no watch is kept.

use std::time::Duration;

/// Calls after a loss was counted during which a call stamped early takes back what was counted
/// too much (a driver catching up drains its backlog in a few calls, back to back).
const SURPLUS_CALLS: u32 = 16;

/// One side's watch: when its next call is due on the driver's clock.
#[derive(Debug, Clone)]
pub struct CycleWatch {
    rate: f64,
    /// When the next call is due, seconds on the driver's clock (None before the first).
    due: Option<f64>,
    /// Frames of the last stamped call and any unstamped blocks after it.
    last: usize,
    /// Frames of the last loss counted that a call stamped early may still take back.
    counted: u64,
    /// Calls left during which it may.
    counted_calls: u32,
}

impl CycleWatch {
    /// A watch for a side running at `rate` Hz.
    pub fn new(rate: u32) -> Self {
        Self {
            rate: f64::from(rate.max(1)),
            due: None,
            last: 0,
            counted: 0,
            counted_calls: 0,
        }
    }

    /// A block of `frames` frames, stamped `at` by the driver (None for the rest of a callback
    /// split into blocks): how far the side's frame count must move beyond this block to follow
    /// the driver's cycles, 0 nearly always. Positive: frames the driver's cycles went on without
    /// calling before it. Negative: frames of a loss just counted that were not lost (the driver's
    /// time was ahead of the block it handed over).
    pub fn called(&mut self, at: Option<Duration>, frames: usize) -> i64 {
        let step = frames as f64 / self.rate;
        if at.is_some() {
            if self.counted_calls == 0 {
                self.counted = 0;
            }
            self.counted_calls = self.counted_calls.saturating_sub(1);
        }
        let (Some(at), Some(due)) = (at, self.due) else {
            // The first call, or a later block of the same callback.
            self.due = match at {
                Some(at) => Some(at.as_secs_f64() + step),
                None => self.due.map(|d| d + step),
            };
            self.last = if at.is_some() {
                frames
            } else {
                self.last + frames
            };
            return 0;
        };
        let at = at.as_secs_f64();
        let late = (at - due) * self.rate;
        let half = self.last.max(1) as f64 / 2.0;
        self.last = frames;
        if late <= -half {
            // Stamped a period or more early. Just after a loss was counted: that loss was
            // counted from a time ahead of its block, and this much of it was no loss; follow
            // the driver's time again. Otherwise a stale time for this cycle: the cycle itself
            // came when it was due. (A stale time just after a loss is taken for the first, and
            // costs a block: PipeWire's time is read after the cycle it stamps has begun, never
            // before, so an early call there is a backlog draining.)
            let early = (-late).round() as u64;
            let back = early.min(self.counted);
            self.counted -= back;
            self.due = Some(at + step + (early - back) as f64 / self.rate);
            return -i64::try_from(back).unwrap_or(i64::MAX);
        }
        // Follow the driver's time (its clock may run a little off the nominal rate).
        self.due = Some(at + step);
        if late < half {
            return 0;
        }
        let lost = late.round() as u64;
        self.counted = lost;
        self.counted_calls = SURPLUS_CALLS;
        i64::try_from(lost).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use assert_no_alloc::assert_no_alloc as rt;

    const RATE: u32 = 48_000;
    const BLOCK: usize = 256;

    fn t(frames: f64) -> Option<Duration> {
        Some(Duration::from_secs_f64(10.0 + frames / f64::from(RATE)))
    }

    /// Calls stamped at these frame times, each of `BLOCK` frames: what each reports lost.
    fn run(stamps: &[f64]) -> Vec<i64> {
        let mut w = CycleWatch::new(RATE);
        rt(|| {
            let mut lost = [0i64; 32];
            for (l, s) in lost.iter_mut().zip(stamps) {
                *l = w.called(t(*s), BLOCK);
            }
            lost
        })[..stamps.len()]
            .to_vec()
    }

    #[test]
    fn calls_on_time_lose_nothing_and_a_skipped_cycle_is_its_frames() {
        assert_eq!(run(&[0.0, 256.0, 512.0, 768.0]), [0, 0, 0, 0]);
        // The cycle at 512 ran without this side: 256 frames.
        assert_eq!(run(&[0.0, 256.0, 768.0, 1024.0]), [0, 0, 256, 0]);
        // Three cycles.
        assert_eq!(run(&[0.0, 1024.0, 1280.0]), [0, 768, 0]);
    }

    #[test]
    fn a_clock_a_little_off_the_rate_and_a_stale_time_lose_nothing() {
        // 100 ppm fast, for many cycles: each call a hair early, never a loss.
        let mut w = CycleWatch::new(RATE);
        let lost: i64 = (0..10_000)
            .map(|k| w.called(t(k as f64 * 256.0 * 0.9999), BLOCK))
            .sum();
        assert_eq!(lost, 0);
        // One call stamped with the last cycle's time, then on time again.
        assert_eq!(run(&[0.0, 256.0, 256.0, 768.0, 1024.0]), [0; 5]);
    }

    #[test]
    fn a_loss_counted_from_a_time_ahead_of_its_block_is_taken_back_by_the_calls_after_it() {
        // The cycle at 512 ran without this side; the block of 768 came stamped 1024 (a driver
        // catching up gives its latest cycle's time), then the next stamped with its own.
        assert_eq!(
            run(&[0.0, 256.0, 1024.0, 1024.0, 1280.0]),
            [0, 0, 512, -256, 0]
        );
        // Two blocks behind: taken back call by call, no more than was counted too much.
        assert_eq!(
            run(&[0.0, 256.0, 1280.0, 1280.0, 1280.0, 1536.0, 1792.0]),
            [0, 0, 768, -256, -256, 0, 0]
        );
        // Stamped ahead with nothing lost: counted, then taken back in full.
        assert_eq!(run(&[0.0, 512.0, 512.0, 768.0]), [0, 256, -256, 0]);
    }

    #[test]
    fn a_stale_time_long_after_a_loss_takes_nothing_back() {
        let mut stamps = vec![0.0, 256.0, 1024.0];
        stamps.extend((5..=20).map(|k| f64::from(k) * 256.0));
        // Stamped with the last cycle's time, then on time again.
        stamps.extend([20.0 * 256.0, 22.0 * 256.0]);
        let lost = run(&stamps);
        assert_eq!(lost[2], 512);
        assert!(lost.iter().all(|&l| l >= 0), "{lost:?}");
        assert_eq!(lost.iter().sum::<i64>(), 512);
        // The sixteenth call after the loss still takes back.
        let mut stamps = vec![0.0, 256.0, 1024.0];
        stamps.extend((5..=19).map(|k| f64::from(k) * 256.0));
        stamps.extend([19.0 * 256.0, 20.0 * 256.0]);
        let lost = run(&stamps);
        assert_eq!(lost[18], -256, "{lost:?}");
        assert_eq!(lost[19], 0, "{lost:?}");
    }

    #[test]
    fn a_callback_split_into_blocks_is_due_after_all_of_them() {
        let mut w = CycleWatch::new(RATE);
        // A 1024-frame callback in four blocks of 256, then the next on time, then one late.
        assert_eq!(w.called(t(0.0), 256), 0);
        for _ in 0..3 {
            assert_eq!(w.called(None, 256), 0);
        }
        assert_eq!(w.called(t(1024.0), 1024), 0);
        assert_eq!(w.called(t(3072.0), 1024), 1024);
    }
}
