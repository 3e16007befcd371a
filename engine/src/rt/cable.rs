//! A software loopback cable: what goes into the outputs comes back on the inputs exactly
//! `delay` frames later. Used by the virtual loopback device. Realtime-safe after construction.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

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
        let (mut tx, rx) = RingBuffer::new((delay + 2 * max_block) * channels.max(1));
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

/// A cable for a device whose inputs and outputs run on separate threads: like the wire behind a
/// real interface, it is indexed by device frame, not by callback. Output block `n` is heard at the
/// inputs exactly `delay` frames later whichever thread runs first; an output that comes too late
/// is heard as silence (as a late DAC plays nothing), never as a shift.
pub struct SharedCable {
    samples: Arc<[AtomicU32]>,
    /// Device frames written so far by the output side.
    written: Arc<AtomicU64>,
    channels: usize,
    delay: u64,
}

/// The output end of a [`SharedCable`].
pub struct CableSend {
    cable: SharedCable,
    frame: u64,
}

/// The input end of a [`SharedCable`].
pub struct CableReceive {
    cable: SharedCable,
    frame: u64,
}

impl SharedCable {
    /// Both ends of a cable of `delay` frames for blocks of up to `max_block` frames. Allocates;
    /// not on the audio thread.
    pub fn ends(channels: usize, delay: usize, max_block: usize) -> (CableSend, CableReceive) {
        let channels = channels.max(1);
        let frames = (delay + 8 * max_block).next_power_of_two();
        let samples: Arc<[AtomicU32]> = (0..frames * channels).map(|_| AtomicU32::new(0)).collect();
        let cable = SharedCable {
            samples,
            written: Arc::new(AtomicU64::new(0)),
            channels,
            delay: delay as u64,
        };
        let other = SharedCable {
            samples: cable.samples.clone(),
            written: cable.written.clone(),
            channels,
            delay: delay as u64,
        };
        (
            CableSend { cable, frame: 0 },
            CableReceive {
                cable: other,
                frame: 0,
            },
        )
    }

    fn slot(&self, frame: u64, channel: usize) -> &AtomicU32 {
        let frames = self.samples.len() / self.channels;
        &self.samples[(frame as usize % frames) * self.channels + channel]
    }
}

impl CableSend {
    /// Send the next block of output (interleaved) into the cable.
    pub fn send(&mut self, output: &[f32]) {
        let ch = self.cable.channels;
        for frame in output.chunks_exact(ch) {
            for (c, s) in frame.iter().enumerate() {
                self.cable
                    .slot(self.frame, c)
                    .store(s.to_bits(), Ordering::Relaxed);
            }
            self.frame += 1;
        }
        self.cable.written.store(self.frame, Ordering::Release);
    }
}

impl CableReceive {
    /// The next block arriving at the inputs (interleaved).
    pub fn receive(&mut self, input: &mut [f32]) {
        let ch = self.cable.channels;
        let written = self.cable.written.load(Ordering::Acquire);
        for frame in input.chunks_exact_mut(ch) {
            // This input frame hears output frame `self.frame - delay`, if it was ever sent.
            let heard = self
                .frame
                .checked_sub(self.cable.delay)
                .filter(|&f| f < written);
            for (c, s) in frame.iter_mut().enumerate() {
                *s = heard.map_or(0.0, |f| {
                    f32::from_bits(self.cable.slot(f, c).load(Ordering::Relaxed))
                });
            }
            self.frame += 1;
        }
    }
}
