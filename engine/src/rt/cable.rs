//! A software loopback cable: what goes into the outputs comes back on the inputs exactly
//! `delay` frames later. Used by the virtual loopback device. Realtime-safe after construction.

use rtrb::{Consumer, Producer, RingBuffer};

/// Interleaved delay line from the outputs to the inputs. The delay must be at least one block,
/// as with any real cable: a block's input is needed before its output exists.
pub struct LoopbackCable {
    tx: Producer<f32>,
    rx: Consumer<f32>,
    channels: usize,
}

impl LoopbackCable {
    /// A cable of `delay` frames for blocks of up to `max_block` frames. Allocates; not on the
    /// audio thread.
    pub fn new(channels: usize, delay: usize, max_block: usize) -> Self {
        let (mut tx, rx) = RingBuffer::new((delay + max_block) * channels.max(1));
        for _ in 0..delay * channels {
            // Cannot fail: the ring was made larger than the prefill.
            let _ = tx.push(0.0);
        }
        Self { tx, rx, channels }
    }

    /// The next `input.len() / channels` frames arriving at the inputs.
    pub fn receive(&mut self, input: &mut [f32]) {
        let (got, missing) = self.rx.pop_partial_slice(input);
        let _ = got;
        missing.fill(0.0);
    }

    /// Send a block of output into the cable.
    pub fn send(&mut self, output: &[f32]) {
        let _ = self.tx.push_partial_slice(output);
    }

    /// Channels carried.
    pub fn channels(&self) -> usize {
        self.channels
    }
}
