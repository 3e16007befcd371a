//! Writes one take to a WAV file on the disk thread. The header is rewritten at least every
//! [`HEADER_INTERVAL`] so that a file cut off by a crash still opens with nearly everything in it,
//! and the file is synced to the disk at least every [`SYNC_INTERVAL`] against power loss.
//! Not on the audio thread.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How often the WAV header is brought up to date: a crash loses at most this much audio.
pub const HEADER_INTERVAL: Duration = Duration::from_millis(500);
/// How often the file is fsynced: a power cut loses at most this much audio.
pub const SYNC_INTERVAL: Duration = Duration::from_secs(2);

/// Sample format of take files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TakeFormat {
    /// 32-bit IEEE float: no clipping above 0 dBFS, the default.
    #[default]
    #[serde(rename = "32f")]
    F32,
    /// 24-bit integer PCM.
    #[serde(rename = "24")]
    I24,
}

impl TakeFormat {
    /// Bytes one sample takes in the file.
    pub fn bytes_per_sample(self) -> u64 {
        match self {
            Self::F32 => 4,
            Self::I24 => 3,
        }
    }

    /// Parse `32f` or `24`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "32f" | "32" | "f32" => Some(Self::F32),
            "24" => Some(Self::I24),
            _ => None,
        }
    }
}

/// A take being written.
pub struct TakeWriter {
    writer: hound::WavWriter<BufWriter<File>>,
    sync_handle: File,
    format: TakeFormat,
    path: PathBuf,
    channels: usize,
    samples: u64,
    last_flush: Instant,
    last_sync: Instant,
}

impl TakeWriter {
    /// Create a take file of `channels` channels at `path` (which must not exist yet).
    pub fn create(path: &Path, rate: u32, channels: u16, format: TakeFormat) -> Result<Self> {
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        let sync_handle = file.try_clone().map_err(|e| Error::io(path, e))?;
        let spec = match format {
            TakeFormat::F32 => hound::WavSpec {
                channels,
                sample_rate: rate,
                bits_per_sample: 32,
                sample_format: hound::SampleFormat::Float,
            },
            TakeFormat::I24 => hound::WavSpec {
                channels,
                sample_rate: rate,
                bits_per_sample: 24,
                sample_format: hound::SampleFormat::Int,
            },
        };
        let mut writer =
            hound::WavWriter::new(BufWriter::new(file), spec).map_err(|e| Error::wav(path, e))?;
        writer.flush().map_err(|e| Error::wav(path, e))?;
        let now = Instant::now();
        Ok(Self {
            writer,
            sync_handle,
            format,
            path: path.to_path_buf(),
            channels: usize::from(channels.max(1)),
            samples: 0,
            last_flush: now,
            last_sync: now,
        })
    }

    /// Append interleaved samples (a whole number of frames overall).
    pub fn write(&mut self, samples: &[f32]) -> Result<()> {
        for &s in samples {
            let r = match self.format {
                TakeFormat::F32 => self.writer.write_sample(s),
                TakeFormat::I24 => self.writer.write_sample(f32_to_i24(s)),
            };
            r.map_err(|e| Error::wav(&self.path, e))?;
        }
        self.samples += samples.len() as u64;
        Ok(())
    }

    /// Rewrite the header and sync when their intervals have passed.
    pub fn maintain(&mut self, now: Instant) -> Result<()> {
        if now.duration_since(self.last_flush) >= HEADER_INTERVAL {
            self.writer.flush().map_err(|e| Error::wav(&self.path, e))?;
            self.last_flush = now;
        }
        if now.duration_since(self.last_sync) >= SYNC_INTERVAL {
            self.sync_handle
                .sync_data()
                .map_err(|e| Error::io(&self.path, e))?;
            self.last_sync = now;
        }
        Ok(())
    }

    /// Bytes per frame in the file.
    pub fn frame_bytes(&self) -> u64 {
        self.format.bytes_per_sample() * self.channels as u64
    }

    /// Channels.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        self.samples / self.channels as u64
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Give up on the file after a write error: close it without trusting the writer's own
    /// bookkeeping and set the header from the whole frames that reached the disk (this writes
    /// only the two size fields, so it works on a full disk). Returns the frames kept.
    pub fn salvage(self) -> Result<u64> {
        let path = self.path.clone();
        drop(self.writer);
        super::wav_repair::repair_in_place(&path, true)?;
        let r = hound::WavReader::open(&path).map_err(|e| Error::wav(&path, e))?;
        Ok(u64::from(r.duration()))
    }

    /// Finish the file: final header, fsync. Returns the frames written.
    pub fn finish(self) -> Result<u64> {
        let frames = self.frames();
        let path = self.path;
        self.writer.finalize().map_err(|e| Error::wav(&path, e))?;
        self.sync_handle
            .sync_all()
            .map_err(|e| Error::io(&path, e))?;
        Ok(frames)
    }
}

/// Float to 24-bit integer, clamped (a take over full scale clips instead of wrapping).
pub fn f32_to_i24(s: f32) -> i32 {
    const MAX: f32 = 8_388_607.0;
    let v = if s.is_finite() {
        s.clamp(-1.0, 1.0)
    } else {
        0.0
    };
    (v * MAX).round() as i32
}
