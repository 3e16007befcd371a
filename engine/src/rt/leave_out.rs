//! Input the takes leave out: silence the duplex bridge put in while a take held the latency,
//! because the driver changed its callback order and the bridge grew by a block (see
//! `rt/bridge.rs`). That silence is no input: the input after it is only later, not lost. Left
//! out of the takes, every input frame after it lands in the take where it belongs against the
//! latency the take started with, and the take runs on by as many frames so that it still ends
//! where it was asked to. Realtime-safe: plain counters.

/// Frames still to leave out of what the takes capture, and where in the current block they
/// begin.
#[derive(Debug, Default)]
pub(super) struct LeaveOut {
    /// Frames still to leave out of the next frames captured.
    pending: u64,
    /// Frame of the current block from which they are silence (0 for a block after it: a
    /// count-in captures nothing, so what it grew is left out where capture begins).
    from: usize,
    /// Frames left out, or to be, since the take began: the take runs on by this much.
    total: u64,
}

impl LeaveOut {
    /// The block about to be processed carries `frames` frames of such silence from frame
    /// `from` on.
    pub(super) fn add(&mut self, from: usize, frames: usize) {
        self.pending += frames as u64;
        self.from = from;
        self.total += frames as u64;
    }

    /// Of the stretch of `n` frames starting at frame `offset` of the block, which to leave out:
    /// (first, count), relative to the stretch. Call [`LeaveOut::taken`] with the count once
    /// every track has captured the stretch.
    pub(super) fn span(&self, offset: usize, n: usize) -> (usize, usize) {
        let first = self.from.saturating_sub(offset).min(n);
        let count = usize::try_from(self.pending)
            .unwrap_or(usize::MAX)
            .min(n - first);
        (first, count)
    }

    /// `count` frames were left out.
    pub(super) fn taken(&mut self, count: usize) {
        self.pending -= count as u64;
    }

    /// The block is done: what is still pending is left out from the start of the next.
    pub(super) fn block_done(&mut self) {
        self.from = 0;
    }

    /// Frames the take runs on by.
    pub(super) fn total(&self) -> u64 {
        self.total
    }

    /// The take ended: nothing more to leave out.
    pub(super) fn clear(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_at_the_end_of_a_block_is_left_out_there() {
        let mut l = LeaveOut::default();
        l.add(96, 32);
        // Stretches of 64 and 64 frames (a punch edge at 64).
        assert_eq!(l.span(0, 64), (64, 0));
        let (first, count) = l.span(64, 64);
        assert_eq!((first, count), (32, 32));
        l.taken(count);
        l.block_done();
        assert_eq!(l.span(0, 128), (0, 0));
        assert_eq!(l.total(), 32);
    }

    #[test]
    fn what_a_count_in_grew_is_left_out_where_capture_begins() {
        let mut l = LeaveOut::default();
        l.add(100, 128);
        // The count-in captured nothing of the block.
        l.block_done();
        let (first, count) = l.span(0, 64);
        assert_eq!((first, count), (0, 64));
        l.taken(count);
        assert_eq!(l.span(64, 64), (0, 64));
        l.taken(64);
        assert_eq!(l.span(0, 64), (0, 0));
        assert_eq!(l.total(), 128);
        l.clear();
        assert_eq!(l.total(), 0);
    }
}
