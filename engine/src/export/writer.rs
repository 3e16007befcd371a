//! Writes rendered stereo blocks to a WAV file in the export format: 32-bit float, 24-bit, or
//! 16-bit with TPDF dither. The dither noise comes from a fixed-seed generator, so two exports of
//! one session are byte-identical. Not on the audio thread.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::disk::f32_to_i24;
use crate::error::{Error, Result};

/// Sample format of exported files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ExportFormat {
    /// 16-bit integer with TPDF dither.
    I16,
    /// 24-bit integer, no dither.
    I24,
    /// 32-bit float, no dither.
    F32,
}

impl ExportFormat {
    /// Parse `16`, `24` or `32f`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "16" => Some(Self::I16),
            "24" => Some(Self::I24),
            "32f" | "32" | "f32" => Some(Self::F32),
            _ => None,
        }
    }
}

/// A small, fast, deterministic generator (xorshift64*) for dither noise.
struct Noise(u64);

impl Noise {
    fn next_unit(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let v = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (v >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// One export file being written.
pub struct ExportWriter {
    writer: hound::WavWriter<BufWriter<File>>,
    format: ExportFormat,
    gain: f32,
    noise: Noise,
    path: PathBuf,
}

impl ExportWriter {
    /// Create (or replace) a stereo file at `path`, scaling every sample by `gain`.
    pub fn create(path: &Path, rate: u32, format: ExportFormat, gain: f32) -> Result<Self> {
        let (bits, sample_format) = match format {
            ExportFormat::I16 => (16, hound::SampleFormat::Int),
            ExportFormat::I24 => (24, hound::SampleFormat::Int),
            ExportFormat::F32 => (32, hound::SampleFormat::Float),
        };
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: rate,
            bits_per_sample: bits,
            sample_format,
        };
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        let writer =
            hound::WavWriter::new(BufWriter::new(file), spec).map_err(|e| Error::wav(path, e))?;
        Ok(Self {
            writer,
            format,
            gain,
            noise: Noise(0x9E37_79B9_7F4A_7C15),
            path: path.to_path_buf(),
        })
    }

    /// Append interleaved stereo samples.
    pub fn write(&mut self, block: &[f32]) -> Result<()> {
        for &s in block {
            let v = s * self.gain;
            let r = match self.format {
                ExportFormat::F32 => self.writer.write_sample(v),
                ExportFormat::I24 => self.writer.write_sample(f32_to_i24(v)),
                ExportFormat::I16 => {
                    let tpdf = self.noise.next_unit() - self.noise.next_unit();
                    let x = if v.is_finite() { v } else { 0.0 };
                    let q = (x * 32_767.0 + tpdf).round().clamp(-32_768.0, 32_767.0);
                    self.writer.write_sample(q as i16)
                }
            };
            r.map_err(|e| Error::wav(&self.path, e))?;
        }
        Ok(())
    }

    /// Finish the file.
    pub fn finish(self) -> Result<()> {
        let path = self.path;
        self.writer.finalize().map_err(|e| Error::wav(&path, e))
    }
}
