//! Sample-rate conversion to the session rate with rubato's FFT resampler (high quality,
//! fixed ratio); `process_all` trims the resampler's start-up delay so the result lines up with
//! the source. Not on the audio thread.

use std::path::Path;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use crate::error::{Error, Result};

/// FFT chunk size, frames: large enough for a sharp anti-aliasing filter.
const CHUNK: usize = 1024;

/// Convert interleaved `samples` from `from` Hz to `to` Hz. Returns them unchanged at equal rates.
pub fn resample(
    path: &Path,
    samples: Vec<f32>,
    channels: usize,
    from: u32,
    to: u32,
) -> Result<Vec<f32>> {
    if from == to || samples.is_empty() {
        return Ok(samples);
    }
    let fail = |e: String| Error::BadFile {
        path: path.to_path_buf(),
        reason: format!("cannot convert {from} Hz to {to} Hz ({e})"),
    };
    let frames = samples.len() / channels;
    let mut resampler = Fft::<f32>::new(
        from as usize,
        to as usize,
        CHUNK,
        channels,
        FixedSync::Input,
    )
    .map_err(|e| fail(e.to_string()))?;
    let input =
        InterleavedSlice::new(&samples, channels, frames).map_err(|e| fail(e.to_string()))?;
    let out = resampler
        .process_all(&input, frames, None)
        .map_err(|e| fail(e.to_string()))?;
    Ok(out.take_data())
}
