//! The test signal that the virtual test-signal device feeds its inputs with, as a pure function
//! of channel and device frame so that a test can recompute it exactly. Realtime-safe.

use std::f64::consts::TAU;

/// Sample `frame` of input channel `channel` at `rate` Hz: a sine at 440 Hz + 110 Hz per channel
/// (amplitude 0.4) over a slow 0.1 Hz sine (amplitude 0.1), so that the whole pattern only repeats
/// every 10 seconds and any dropped or repeated block shows.
pub fn test_signal(channel: usize, frame: u64, rate: u32) -> f32 {
    let rate = f64::from(rate.max(1));
    let t = frame as f64 / rate;
    let f = 440.0 + 110.0 * channel as f64;
    (0.4 * (TAU * f * t).sin() + 0.1 * (TAU * 0.1 * t).sin()) as f32
}

/// Fill an interleaved block with the test signal, starting at device frame `first_frame`.
pub fn fill_test_signal(block: &mut [f32], channels: usize, first_frame: u64, rate: u32) {
    if channels == 0 {
        return;
    }
    for (i, frame) in block.chunks_exact_mut(channels).enumerate() {
        for (c, s) in frame.iter_mut().enumerate() {
            *s = test_signal(c, first_frame + i as u64, rate);
        }
    }
}
