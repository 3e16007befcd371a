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
//! Where the time is the moment the callback runs (ALSA without hardware stamps, WASAPI, ASIO's
//! millisecond clock), a late thread looks exactly like a skipped cycle, so no watch is kept.

use std::time::Duration;

/// One side's watch: when its next call is due on the driver's clock.
#[derive(Debug, Clone)]
pub struct CycleWatch {
    rate: f64,
    /// When the next call is due, seconds on the driver's clock (None before the first).
    due: Option<f64>,
    /// Frames of the last stamped call and any unstamped blocks after it.
    last: usize,
}

impl CycleWatch {
    /// A watch for a side running at `rate` Hz.
    pub fn new(rate: u32) -> Self {
        Self {
            rate: f64::from(rate.max(1)),
            due: None,
            last: 0,
        }
    }

    /// A block of `frames` frames, stamped `at` by the driver (None for the rest of a callback
    /// split into blocks): the frames the driver's cycles went on without calling before it, a
    /// whole number of frames, 0 nearly always.
    pub fn called(&mut self, at: Option<Duration>, frames: usize) -> u64 {
        let step = frames as f64 / self.rate;
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
            // Stamped a period or more early: a stale time for this cycle. The cycle itself came
            // when it was due.
            self.due = Some(due + step);
            return 0;
        }
        // Follow the driver's time (its clock may run a little off the nominal rate).
        self.due = Some(at + step);
        if late >= half { late.round() as u64 } else { 0 }
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
    fn run(stamps: &[f64]) -> Vec<u64> {
        let mut w = CycleWatch::new(RATE);
        rt(|| {
            let mut lost = [0u64; 16];
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
        let lost: u64 = (0..10_000)
            .map(|k| w.called(t(k as f64 * 256.0 * 0.9999), BLOCK))
            .sum();
        assert_eq!(lost, 0);
        // One call stamped with the last cycle's time, then on time again.
        assert_eq!(run(&[0.0, 256.0, 256.0, 768.0, 1024.0]), [0; 5]);
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
