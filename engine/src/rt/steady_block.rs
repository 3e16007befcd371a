//! The size a driver calls back with, once it holds. A server that runs one period for all its
//! clients (PipeWire's quantum) may run another size than the one asked, and change it while the
//! stream runs. The control side takes the size into the stream's figures, and the latency
//! measurements kept under it, once [`STEADY_CALLS`] callbacks in a row ran at it. Where the
//! server resamples the stream to another rate, each callback brings a frame more or less than
//! the last: mostly no size holds and the size asked stays the stream's, but where the callbacks'
//! mean size lies within about an eighth of a frame of a whole number, that number holds (it is
//! stable, neither the size asked nor the quantum). Once a size has held it stays published until
//! another holds.

use std::sync::atomic::{AtomicU64, Ordering};

/// Callbacks in a row of one size before it is the size the driver runs.
pub const STEADY_CALLS: u32 = 8;

/// Follows one callback side. Realtime-safe.
#[derive(Debug, Default)]
pub struct SteadyBlock {
    last: usize,
    run: u32,
}

impl SteadyBlock {
    /// A callback of `frames` frames: once [`STEADY_CALLS`] in a row had that size, publish it
    /// to `steady` (frames; 0 until a size has held).
    pub fn called(&mut self, frames: usize, steady: &AtomicU64) {
        if frames == self.last {
            self.run = self.run.saturating_add(1);
        } else {
            self.last = frames;
            self.run = 1;
        }
        if self.run == STEADY_CALLS && frames > 0 {
            steady.store(frames as u64, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(sizes: impl IntoIterator<Item = usize>) -> u64 {
        let steady = AtomicU64::new(0);
        let mut s = SteadyBlock::default();
        assert_no_alloc::assert_no_alloc(|| {
            for f in sizes {
                s.called(f, &steady);
            }
        });
        steady.load(Ordering::Relaxed)
    }

    #[test]
    fn a_size_is_taken_once_it_has_held() {
        assert_eq!(feed([256; 7]), 0, "not yet");
        assert_eq!(feed([256; 8]), 256);
        assert_eq!(feed([512; 8].into_iter().chain([256; 30])), 256);
    }

    #[test]
    fn a_change_that_does_not_hold_is_not_taken() {
        let sizes = [256; 8].into_iter().chain([128; 7]);
        assert_eq!(feed(sizes), 256);
    }

    #[test]
    fn a_resampled_stream_whose_size_never_holds_publishes_nothing() {
        // 512 frames at 48 kHz resampled to 44.1 kHz: 470.4 frames a callback.
        let sizes = (0..1_000).map(|k| (k + 1) * 4704 / 10 - k * 4704 / 10);
        assert_eq!(feed(sizes), 0);
    }
}
