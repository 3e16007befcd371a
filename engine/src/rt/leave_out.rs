//! Input the takes leave out: silence the duplex bridge put in while a take held the latency,
//! because it was still short of the block one clock can need (a driver on one thread that
//! changed its callback order, or two threads whose larger block first showed mid-take) and grew
//! by it (see `rt/bridge.rs`). That silence is no input: the input after it is only later, not
//! lost. Left out of the takes, every input frame after it lands in the take where it belongs
//! against the latency the take started with, and the take runs on by as many frames so that it
//! still ends where it was asked to. Realtime-safe: plain counters.
//!
//! The rule: a growth of `g` frames whose silence starts at device slot `s` leaves out the `g`
//! slots captured from `s` on, or from where capture begins if that is later (what grew during a
//! count-in is left out where the take begins), each growth after the one before.

/// What is still to leave out, and what was.
#[derive(Debug, Default)]
pub(super) struct LeaveOut {
    /// Frames of earlier blocks still to leave out, from the first frame captured.
    carried: u64,
    /// Frames of this block's silence still to leave out, from frame `from` of the block on.
    now: usize,
    /// Frame of the current block where its silence begins.
    from: usize,
    /// Frames left out since the take began.
    taken: u64,
}

/// Of a stretch of frames captured: keep `[carried, gap)` and `[gap + skip, n)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    /// Frames left out at the start (what earlier blocks carried).
    pub carried: usize,
    /// Where this block's silence begins in the stretch (at or after `carried`).
    pub gap: usize,
    /// Frames of it left out.
    pub skip: usize,
}

impl LeaveOut {
    /// The block about to be processed carries `frames` frames of such silence from frame
    /// `from` on.
    pub(super) fn add(&mut self, from: usize, frames: usize) {
        self.now += frames;
        self.from = from;
    }

    /// What to leave out of a stretch of `n` captured frames starting at frame `offset` of the
    /// block. Call [`LeaveOut::taken`] with it once every track has captured the stretch.
    pub(super) fn span(&self, offset: usize, n: usize) -> Span {
        let carried = usize::try_from(self.carried).unwrap_or(usize::MAX).min(n);
        let gap = self.from.saturating_sub(offset).clamp(carried, n);
        let skip = self.now.min(n - gap);
        Span { carried, gap, skip }
    }

    /// How far a stretch of at most `n` frames from frame `offset` of the block must run to
    /// capture `real` frames that are not left out (`n` if it holds fewer): where a stop `real`
    /// captured frames on falls, so that a stretch ends there and not short of it.
    pub(super) fn reach(&self, offset: usize, n: usize, real: u64) -> usize {
        let s = self.span(offset, n);
        let real = usize::try_from(real).unwrap_or(usize::MAX);
        let reach = if real <= s.gap - s.carried {
            s.carried.saturating_add(real)
        } else {
            real.saturating_add(s.carried).saturating_add(s.skip)
        };
        reach.min(n)
    }

    /// `span` was left out.
    pub(super) fn taken(&mut self, span: Span) {
        self.carried -= span.carried as u64;
        self.now -= span.skip;
        self.taken += (span.carried + span.skip) as u64;
    }

    /// The block is done: what is still to leave out is left out where capture goes on.
    pub(super) fn block_done(&mut self) {
        self.carried += self.now as u64;
        self.now = 0;
        self.from = 0;
    }

    /// Frames left out since the take began: the take runs on by this much.
    pub(super) fn total(&self) -> u64 {
        self.taken
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
        let first = l.span(0, 64);
        assert_eq!((first.carried, first.skip), (0, 0));
        l.taken(first);
        let second = l.span(64, 64);
        assert_eq!((second.carried, second.gap, second.skip), (0, 32, 32));
        l.taken(second);
        l.block_done();
        assert_eq!(l.span(0, 128).skip + l.span(0, 128).carried, 0);
        assert_eq!(l.total(), 32);
    }

    #[test]
    fn what_a_count_in_grew_is_left_out_where_capture_begins_then_the_next() {
        let mut l = LeaveOut::default();
        // The count-in captured nothing of the block that grew by 32 at its end.
        l.add(96, 32);
        l.block_done();
        // Capture begins at frame 0 of the next block, which grows by 16 at its end.
        l.add(112, 16);
        let s = l.span(0, 128);
        assert_eq!((s.carried, s.gap, s.skip), (32, 112, 16));
        l.taken(s);
        l.block_done();
        let s = l.span(0, 128);
        assert_eq!((s.carried, s.skip), (0, 0));
        assert_eq!(l.total(), 48);
        l.clear();
        assert_eq!(l.total(), 0);
    }

    #[test]
    fn a_stop_is_reached_past_what_is_left_out_before_it() {
        let mut l = LeaveOut::default();
        l.add(96, 32);
        // Before the silence: no further than asked.
        assert_eq!(l.reach(0, 128, 10), 10);
        assert_eq!(l.reach(0, 128, 96), 96);
        // Beyond its start: past it.
        assert_eq!(l.reach(0, 128, 97), 128);
        assert_eq!(l.reach(64, 64, 40), 64);
        l.block_done();
        // Carried into the next block: past what is carried.
        assert_eq!(l.reach(0, 128, 1), 33);
    }

    #[test]
    fn silence_inside_what_is_carried_moves_after_it() {
        let mut l = LeaveOut::default();
        l.add(0, 64);
        l.block_done();
        // 64 carried; this block's silence starts at 10, inside them: it is left out after.
        l.add(10, 8);
        let s = l.span(0, 128);
        assert_eq!((s.carried, s.gap, s.skip), (64, 64, 8));
    }
}
