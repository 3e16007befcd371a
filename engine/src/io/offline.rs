//! The offline (freewheel) driver: runs the process as fast as the machine allows over input that
//! the caller supplies, block by block. Deterministic: for engine tests, export and benchmarks.
//! Runs on the caller's thread.

use crate::rt::Process;

/// Drives a [`Process`] without a device.
pub struct OfflineDriver {
    process: Process,
    in_channels: usize,
    out_channels: usize,
    block: usize,
    input: Vec<f32>,
    output: Vec<f32>,
    frame: u64,
}

impl OfflineDriver {
    /// A driver with these channel counts and block size, frames.
    pub fn new(process: Process, in_channels: usize, out_channels: usize, block: usize) -> Self {
        let block = block.max(1);
        Self {
            process,
            in_channels,
            out_channels,
            block,
            input: vec![0.0; block * in_channels],
            output: vec![0.0; block * out_channels],
            frame: 0,
        }
    }

    /// Run one block. `fill_input` gets the interleaved input buffer and the device frame of its
    /// first frame; the returned slice is the interleaved output.
    pub fn run_block(&mut self, fill_input: impl FnOnce(&mut [f32], u64)) -> &[f32] {
        fill_input(&mut self.input, self.frame);
        self.process.process(
            &self.input,
            self.in_channels,
            &mut self.output,
            self.out_channels,
            self.block,
        );
        self.frame += self.block as u64;
        &self.output
    }

    /// Block size, frames.
    pub fn block(&self) -> usize {
        self.block
    }

    /// Frames run so far.
    pub fn frames(&self) -> u64 {
        self.frame
    }

    /// The process, to inspect it.
    pub fn process_mut(&mut self) -> &mut Process {
        &mut self.process
    }
}
