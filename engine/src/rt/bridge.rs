//! The duplex bridge for drivers that give separate input and output callbacks (cpal): the input
//! callback pushes its frames into a FIFO and the output callback, which drives the process, pulls
//! the same number of frames out. Realtime-safe on both ends after construction.
//!
//! It adds no more latency than the driver's callback order forces:
//! - It starts empty. Where the driver calls input before output in one cycle (ASIO's buffer
//!   switch, CoreAudio on one device), the output always finds this cycle's input and the bridge
//!   adds 0 frames. Where it calls output first on one thread, what the output finds is the last
//!   cycle's input: one block. Where the two run on separate threads (ALSA, WASAPI), whose order
//!   changes from cycle to cycle, it keeps one block of cushion from the start.
//! - When the output finds too little input (the driver called output first, or the input thread
//!   ran late), the gap is filled with silence. While nothing is being recorded that silence is
//!   kept as a cushion: the bridge has grown by the smallest amount that stopped the underrun (at
//!   most one block on one clock: the larger of what an input callback brings and what an output
//!   callback asks, since an output can find up to one input callback's worth missing).
//! - While a take is being recorded, a bridge still short of that block grows all the same (a
//!   driver on one thread that changed its order, as PipeWire does after a stall; or two threads
//!   whose larger block first showed mid-take), by as much of the shortfall as fits in that
//!   block: that silence is no input, and the pull says so ([`PullReport::regrew`]) so that the
//!   process leaves it out of the takes. Every input frame it waited for is then recorded, each
//!   where it belongs against the latency the take started with; what it costs is that silence in
//!   the monitoring and as much more latency from then on (a block for an order change). Beyond
//!   that block the bridge holds its latency: the rest of the silence is a debt, and the late
//!   frames are dropped when they arrive, so every later frame stays exactly where it belongs;
//!   the frames lost are counted as slips.
//! - Where two clocks drift apart (two devices), a backlog beyond a few blocks that lasts, or input
//!   that goes missing pull after pull, makes the bridge start again from recent input; what that
//!   costs is counted as slips.
//!
//! What the bridge adds is what it chose to add: the silence it put in front of the input while
//! free to grow, a whole number of frames that does not depend on how the threads happened to
//! wake. That figure is published to the latency model (see [`BridgeOutput::latency`]), which
//! adds it to the round trip measured for the device.

use rtrb::{Consumer, Producer, RingBuffer};

/// Blocks the FIFO may hold beyond what the output asks before the oldest input is dropped.
const MAX_BACKLOG_BLOCKS: usize = 4;
/// Pulls in a row that may lose input before the bridge decides that another clock runs slower
/// and starts again from the input it has (see [`BridgeOutput::pull`]).
const UNPAID_PULLS: usize = 64;

/// One input callback's frames in the FIFO.
#[derive(Clone, Copy, Debug)]
struct Segment {
    /// Device frame index of its first frame (frames the FIFO could not take count too).
    start: u64,
    /// Frames in the FIFO.
    frames: usize,
    /// Frames the input callback brought (0: silence for a cycle the driver skipped).
    block: usize,
}

/// Input end, owned by the input callback.
pub struct BridgeInput {
    tx: Producer<f32>,
    segments: Producer<Segment>,
    channels: usize,
    /// Device frames seen so far, pushed or not.
    frames: u64,
}

/// Output end, owned by the output callback (next to the process).
pub struct BridgeOutput {
    rx: Consumer<f32>,
    segments: Consumer<Segment>,
    scratch: Vec<f32>,
    channels: usize,
    /// Frames of the front segment already handed on or skipped.
    front_used: usize,
    /// Device index of the next input frame to hand on (None: take whatever comes first).
    next: Option<u64>,
    /// Pulls in a row that lost input while holding.
    losing_pulls: usize,
    /// Pulls in a row that found a backlog.
    backlog_pulls: usize,
    /// Frames already counted as lost (handed on as silence) that may still arrive late.
    owed: u64,
    /// Largest block either side has brought or asked for, frames: on one clock an output can
    /// find up to one such block missing, whichever side's it is.
    largest: usize,
    /// Input and output run on different threads: keep a block of cushion.
    two_threads: bool,
    /// Frames of silence put in front of the input so far: the latency the bridge adds.
    grown: usize,
    /// Output frames pulled so far.
    pulled: u64,
}

/// What one pull brought.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PullReport {
    /// Input frames lost while the bridge held its latency: replaced by silence where they were
    /// late or missing, or dropped where they came after their place had passed or another clock
    /// ran ahead. Nothing after them moves.
    pub slipped: usize,
    /// Frames of silence added while the bridge was free to grow (its latency grew).
    pub grew: usize,
    /// Frames of silence at the end of the block added while a take held the latency, because
    /// the bridge was still short of its one block (its latency grew): they are no input, and
    /// the takes must leave them out to stay where they belong.
    pub regrew: usize,
}

/// Build both ends for `channels` input channels; `max_block` bounds the largest block a
/// callback may bring. The FIFO starts empty. Allocates; not on the audio thread.
pub fn bridge(channels: usize, max_block: usize) -> (BridgeInput, BridgeOutput) {
    let channels = channels.max(1);
    let max_block = max_block.max(1);
    let frames = (MAX_BACKLOG_BLOCKS + 3) * max_block;
    let (tx, rx) = RingBuffer::new(frames * channels);
    // One segment per callback: callbacks of one frame could fill the FIFO with segments.
    let (stx, srx) = RingBuffer::new(frames);
    let out = BridgeOutput {
        rx,
        segments: srx,
        scratch: vec![0.0; max_block * channels],
        channels,
        front_used: 0,
        next: None,
        losing_pulls: 0,
        backlog_pulls: 0,
        owed: 0,
        largest: 0,
        two_threads: false,
        grown: 0,
        pulled: 0,
    };
    let input = BridgeInput {
        tx,
        segments: stx,
        channels,
        frames: 0,
    };
    (input, out)
}

impl BridgeInput {
    /// Input frames pushed so far (the device index of the next frame).
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Input channels.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// The driver ran `frames` frames of input without calling (a skipped cycle): they never
    /// come, so silence takes their place and the frames after them keep theirs. Returns the
    /// frames that did not fit, as [`BridgeInput::push`] does.
    pub fn lose(&mut self, frames: u64) -> usize {
        self.put(usize::try_from(frames).unwrap_or(usize::MAX), None)
    }

    /// Of frames lost just before, `frames` were not lost after all (see `rt/cycle_watch.rs`):
    /// the input that follows belongs that much earlier. What was pushed since keeps its place
    /// in the FIFO; the output side drops whatever comes after its place has passed.
    pub fn take_back(&mut self, frames: u64) {
        self.frames = self.frames.saturating_sub(frames);
    }

    /// Push one input block (interleaved). Returns the frames that did not fit (dropped; their
    /// place is kept, so nothing after them moves).
    pub fn push(&mut self, input: &[f32]) -> usize {
        self.put(input.len() / self.channels, Some(input))
    }

    /// Put `block` frames into the FIFO, as many as fit: from `input`, or silence.
    fn put(&mut self, block: usize, input: Option<&[f32]>) -> usize {
        let ch = self.channels;
        let start = self.frames;
        self.frames += block as u64;
        if block == 0 {
            return 0;
        }
        let fit = (self.tx.slots() / ch).min(block);
        if fit == 0 || self.segments.is_full() {
            return block;
        }
        if let Ok(mut chunk) = self.tx.write_chunk(fit * ch) {
            let (a, b) = chunk.as_mut_slices();
            match input {
                Some(src) => {
                    a.copy_from_slice(&src[..a.len()]);
                    b.copy_from_slice(&src[a.len()..a.len() + b.len()]);
                }
                None => {
                    a.fill(0.0);
                    b.fill(0.0);
                }
            }
            chunk.commit_all();
        }
        let callback = if input.is_some() { block } else { 0 };
        let _ = self.segments.push(Segment {
            start,
            frames: fit,
            block: callback,
        });
        block - fit
    }
}

impl BridgeOutput {
    /// Pull `frames` frames of input (interleaved) for an output callback. `fresh`: on one
    /// thread, the input callback of this cycle ran just before (ASIO's order); the first input
    /// handed on is then this cycle's, otherwise the previous cycle's, one block older.
    /// `may_grow`: nothing is being recorded, so the bridge may add latency to stop underruns;
    /// otherwise it holds its latency: the frames it hands on are exactly the ones that follow
    /// the last pull, late or missing ones replaced by silence. The block is truncated to the
    /// bridge's largest block.
    pub fn pull(&mut self, frames: usize, may_grow: bool, fresh: bool) -> (&[f32], PullReport) {
        let ch = self.channels;
        let frames = frames.min(self.scratch.len() / ch);
        self.largest = self.largest.max(frames);
        let mut report = PullReport::default();

        // Two threads woken by one clock run in either order from one cycle to the next: an
        // order that held while the stream settled says nothing about the next minute. Take the
        // one block of cushion that covers both orders now, before anything is recorded.
        if self.two_threads && may_grow && self.grown == 0 && self.next.is_some() {
            self.scratch[..frames * ch].fill(0.0);
            self.grown += frames;
            self.pulled += frames as u64;
            report.grew = frames;
            return (&self.scratch[..frames * ch], report);
        }

        // A backlog: the output thread ran late (it catches up by itself), or another clock runs
        // faster (it never does). Move on to recent input at once while free to grow; while a
        // take holds the latency, only once the backlog has lasted, since moving on shifts what
        // follows (counted as slips).
        let avail = self.rx.slots() / ch;
        let backlog = avail > frames + MAX_BACKLOG_BLOCKS * self.largest;
        self.backlog_pulls = if backlog { self.backlog_pulls + 1 } else { 0 };
        if backlog && (may_grow || self.backlog_pulls > UNPAID_PULLS) {
            self.backlog_pulls = 0;
            // Keep at most the one block of cushion a single clock can need.
            let drop = (avail - frames - self.largest) as u64;
            let oldest = self.segments.peek().map_or(0, |s| s.start) + self.front_used as u64;
            self.next = Some(self.next.unwrap_or(oldest).max(oldest) + drop);
        }

        // The first input: start from the newest, whatever the input side brought before the
        // output ran (no prefill).
        if self.next.is_none() && avail > 0 {
            if !fresh && !self.two_threads {
                // Output first on one thread: what it finds is the last cycle's input.
                self.grown += frames;
            }
            let mut excess = avail.saturating_sub(frames);
            while excess > 0 {
                let Ok(&seg) = self.segments.peek() else {
                    break;
                };
                let n = (seg.frames - self.front_used).min(excess);
                self.consume(n);
                excess -= n;
            }
        }

        let mut filled = 0;
        while filled < frames {
            let Ok(&seg) = self.segments.peek() else {
                break;
            };
            // An input callback that brings more than the output asks for can leave the output
            // that much short (a skipped cycle's silence is no callback's block).
            self.largest = self.largest.max(seg.block);
            let start = seg.start + self.front_used as u64;
            let left = seg.frames - self.front_used;
            let next = match self.next {
                Some(n) if !may_grow || n > start => n,
                // Free to grow (or first input): take what comes, after any gap.
                _ => start,
            };
            if start < next {
                // Late: its place has passed.
                let skip = ((next - start) as usize).min(left);
                self.consume(skip);
                // Frames already handed on as silence are not lost twice.
                let paid = (skip as u64).min(self.owed);
                self.owed -= paid;
                report.slipped += skip - paid as usize;
                continue;
            }
            if start > next {
                // Frames the FIFO could not take: silence in their place.
                let gap = ((start - next) as usize).min(frames - filled);
                self.scratch[filled * ch..(filled + gap) * ch].fill(0.0);
                filled += gap;
                self.next = Some(next + gap as u64);
                report.slipped += gap;
                continue;
            }
            let n = left.min(frames - filled);
            let dst = &mut self.scratch[filled * ch..(filled + n) * ch];
            if let Ok(chunk) = self.rx.read_chunk(n * ch) {
                let (a, b) = chunk.as_slices();
                dst[..a.len()].copy_from_slice(a);
                dst[a.len()..].copy_from_slice(b);
                chunk.commit_all();
            }
            self.advance(n);
            filled += n;
            self.next = Some(next + n as u64);
        }
        let short = frames - filled;
        self.scratch[filled * ch..frames * ch].fill(0.0);
        // On one clock a block of cushion covers any callback order; beyond it, an underrun is
        // a late thread, not a reason to add latency.
        let may_grow = may_grow && self.grown < self.largest;
        if short > 0 && self.next.is_none() {
            // No input has come yet: nothing is delayed by this silence.
        } else if short > 0 {
            if may_grow {
                report.grew = short;
                self.grown += short;
            } else {
                // Short of the one block while a take holds: the driver changed its order (or a
                // larger block showed, or an input came late). Grow by as much as fits in the
                // block (nothing while free to grow: it only gets here at the block), and have the
                // takes leave that silence out (the input is only later, not lost). On one thread
                // without the driver's cycle times an input callback the driver skipped looks
                // the same; no driver here does that (ASIO and CoreAudio call both sides from one
                // callback, PipeWire stamps them).
                let room = self.largest.saturating_sub(self.grown).min(short);
                report.regrew = room;
                self.grown += room;
                // The rest: their place passes now (the silence before the growth's); when they
                // come they are late.
                let lost = short - room;
                self.next = self.next.map(|n| n + lost as u64);
                self.owed += lost as u64;
                report.slipped += lost;
            }
        }
        // Losing input pull after pull on one clock does not happen: another clock runs slower
        // (or the device lost input). Start again from what comes next; the age estimate says
        // what the latency became.
        if report.slipped > 0 && !may_grow {
            self.losing_pulls += 1;
            if self.losing_pulls > UNPAID_PULLS {
                self.next = None;
                self.owed = 0;
                self.losing_pulls = 0;
            }
        } else {
            self.losing_pulls = 0;
        }
        self.pulled += frames as u64;
        (&self.scratch[..frames * ch], report)
    }

    /// The driver ran `frames` frames of output without calling (a skipped cycle): the device's
    /// output count moved on without a pull, so the input meant for those frames goes unheard
    /// (dropped when it comes, counted as slips) and what follows keeps its place.
    pub fn skip(&mut self, frames: u64) {
        self.pulled += frames;
        if let Some(n) = self.next.as_mut() {
            *n += frames;
        }
    }

    /// Of output frames skipped just before, `frames` were not played after all (see
    /// `rt/cycle_watch.rs`): the output count goes back, and so does the input it meets. Input
    /// already handed on is not handed on again: while a take holds the latency the pull finds a
    /// gap there and fills it with silence, counted as slipped; while free to grow it takes what
    /// comes, and the bridge's latency follows. Frames owed from a short pull before may now
    /// come in their place rather than late.
    pub fn unskip(&mut self, frames: u64) {
        self.pulled = self.pulled.saturating_sub(frames);
        if let Some(n) = self.next.as_mut() {
            *n = n.saturating_sub(frames);
        }
        self.owed = self.owed.saturating_sub(frames);
    }

    /// Drop `frames` frames of the front segment.
    fn consume(&mut self, frames: usize) {
        if let Ok(chunk) = self.rx.read_chunk(frames * self.channels) {
            chunk.commit_all();
        }
        self.advance(frames);
    }

    /// `frames` frames of the front segment are gone.
    fn advance(&mut self, frames: usize) {
        self.front_used += frames;
        if let Ok(seg) = self.segments.peek()
            && self.front_used >= seg.frames
        {
            let _ = self.segments.pop();
            self.front_used = 0;
        }
    }

    /// Say whether the input and output callbacks run on different threads (see
    /// [`crate::rt::duplex`], which finds out). On two threads the bridge keeps a block of
    /// cushion from the start.
    pub fn set_two_threads(&mut self, two: bool) {
        self.two_threads = two;
    }

    /// The most the bridge may grow to on one clock, frames (see the `largest` field).
    #[cfg(test)]
    pub(super) fn cushion_limit(&self) -> usize {
        self.largest
    }

    /// Whether any input has arrived yet.
    pub fn has_input(&self) -> bool {
        self.next.is_some() || !self.segments.is_empty()
    }

    /// Output frames pulled so far (the device index of the next output frame).
    pub fn pulled(&self) -> u64 {
        self.pulled
    }

    /// Where input meets output: the next output frame will carry input frame `output + offset`
    /// (device frame counts from each side's first callback). None until input has come.
    pub fn offset(&self) -> Option<i64> {
        self.next.map(|n| n as i64 - self.pulled as i64)
    }

    /// The latency the bridge adds now, frames: the silence it put in front of the input (0 when
    /// the driver runs input then output in one cycle; one block when it runs output first, or
    /// the two on separate threads).
    pub fn latency(&self) -> usize {
        self.grown
    }
}
