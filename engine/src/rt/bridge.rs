//! The duplex bridge for drivers that give separate input and output callbacks (cpal): the input
//! callback pushes its frames into a FIFO and the output callback, which drives the process, pulls
//! the same number of frames out. Realtime-safe on both ends after construction.
//!
//! The FIFO starts with one block of silence, so the output side always reads the input of the
//! previous block whichever callback the driver runs first: the bridge adds exactly one block of
//! latency, which is reported to the latency model. When the two clocks drift (separate devices),
//! late input is replaced by silence and stale input is dropped; both are counted.

use rtrb::{Consumer, Producer, RingBuffer};

/// Input end, owned by the input callback.
pub struct BridgeInput {
    tx: Producer<f32>,
}

/// Output end, owned by the output callback (next to the process).
pub struct BridgeOutput {
    rx: Consumer<f32>,
    scratch: Vec<f32>,
    channels: usize,
    block: usize,
}

/// Blocks the FIFO may hold before the output side drops the oldest input to catch up.
const MAX_BACKLOG_BLOCKS: usize = 4;

/// Build both ends for `channels` input channels and device blocks of `block` frames; `max_block`
/// bounds the largest block a callback may bring. Allocates; not on the audio thread.
pub fn bridge(channels: usize, block: usize, max_block: usize) -> (BridgeInput, BridgeOutput) {
    let block = block.max(1);
    let capacity = (MAX_BACKLOG_BLOCKS + 2) * max_block.max(block) * channels.max(1);
    let (mut tx, rx) = RingBuffer::new(capacity);
    for _ in 0..block * channels {
        let _ = tx.push(0.0);
    }
    let out = BridgeOutput {
        rx,
        scratch: vec![0.0; max_block.max(block) * channels],
        channels,
        block,
    };
    (BridgeInput { tx }, out)
}

impl BridgeInput {
    /// Push one input block (interleaved). Returns the frames that did not fit (dropped).
    pub fn push(&mut self, input: &[f32]) -> usize {
        let (_, rest) = self.tx.push_partial_slice(input);
        rest.len()
    }
}

impl BridgeOutput {
    /// Pull `frames` frames of input (interleaved). Returns the block and the number of frames
    /// that had to be invented or dropped to keep the latency at one block.
    pub fn pull(&mut self, frames: usize) -> (&[f32], usize) {
        let ch = self.channels;
        let frames = frames.min(self.scratch.len() / ch.max(1));
        let mut slipped = 0;
        let backlog = self.rx.slots() / ch.max(1);
        let keep = frames + self.block;
        if backlog > keep + MAX_BACKLOG_BLOCKS * self.block {
            let drop = backlog - keep;
            if let Ok(chunk) = self.rx.read_chunk(drop * ch) {
                chunk.commit_all();
            }
            slipped += drop;
        }
        let dst = &mut self.scratch[..frames * ch];
        let (got, missing) = self.rx.pop_partial_slice(dst);
        let _ = got;
        slipped += missing.len() / ch.max(1);
        missing.fill(0.0);
        (&self.scratch[..frames * ch], slipped)
    }

    /// Latency this bridge adds, frames.
    pub fn latency(&self) -> usize {
        self.block
    }
}
