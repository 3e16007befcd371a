//! Writes one take to a WAV file on the disk thread. The header is rewritten at least every
//! [`HEADER_INTERVAL`] so that a file cut off by a crash still opens with nearly everything in it,
//! and the file is synced to the disk at least every [`SYNC_INTERVAL`] against power loss.
//! Not on the audio thread.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
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

/// Bytes of take data gathered before they go to the file in one write.
const WRITE_BUFFER: usize = 256 * 1024;

/// A take being written. hound writes the header; the samples go to the file a block at a time
/// (converted into one byte buffer per block, never a call per sample), and the two size fields
/// of the header are brought up to date in place.
pub struct TakeWriter {
    data: BufWriter<File>,
    /// A second handle with its own file position, for the header's size fields.
    header: File,
    /// Where the data chunk's size field is, and where the data starts.
    data_size_at: u64,
    data_start: u64,
    bytes: Vec<u8>,
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
        // The header of an empty file, as hound writes it; the data follows it.
        hound::WavWriter::new(BufWriter::new(file), spec)
            .and_then(hound::WavWriter::finalize)
            .map_err(|e| Error::wav(path, e))?;
        let data_start = super::wav_repair::data_start(path)?
            .ok_or_else(|| Error::io(path, std::io::Error::other("no WAV header was written")))?;
        let mut data = File::options()
            .write(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        data.seek(SeekFrom::Start(data_start))
            .map_err(|e| Error::io(path, e))?;
        let header = File::options()
            .write(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        let now = Instant::now();
        Ok(Self {
            data: BufWriter::with_capacity(WRITE_BUFFER, data),
            header,
            data_size_at: data_start - 4,
            data_start,
            bytes: Vec::with_capacity(WRITE_BUFFER),
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
        // A long slice (a whole imported file) goes a buffer's worth at a time.
        for chunk in samples.chunks(WRITE_BUFFER / 4) {
            self.bytes.clear();
            match self.format {
                TakeFormat::F32 => {
                    for s in chunk {
                        self.bytes.extend_from_slice(&s.to_le_bytes());
                    }
                }
                TakeFormat::I24 => {
                    for &s in chunk {
                        self.bytes
                            .extend_from_slice(&f32_to_i24(s).to_le_bytes()[..3]);
                    }
                }
            }
            self.data
                .write_all(&self.bytes)
                .map_err(|e| Error::io(&self.path, e))?;
            self.samples += chunk.len() as u64;
        }
        Ok(())
    }

    /// Put the data written so far in the file and set the header's sizes to it.
    fn flush_header(&mut self) -> std::io::Result<()> {
        self.data.flush()?;
        let data = self.samples * self.format.bytes_per_sample();
        let riff = self.data_start - 8 + data;
        // Parts stay under 4 GiB (see `MAX_PART_BYTES`); saturate rather than wrap regardless.
        let as_u32 = |v: u64| u32::try_from(v).unwrap_or(u32::MAX).to_le_bytes();
        self.header.seek(SeekFrom::Start(self.data_size_at))?;
        self.header.write_all(&as_u32(data))?;
        self.header.seek(SeekFrom::Start(4))?;
        self.header.write_all(&as_u32(riff))
    }

    /// Rewrite the header and sync when their intervals have passed.
    pub fn maintain(&mut self, now: Instant) -> Result<()> {
        if now.duration_since(self.last_flush) >= HEADER_INTERVAL {
            self.flush_header().map_err(|e| Error::io(&self.path, e))?;
            self.last_flush = now;
        }
        if now.duration_since(self.last_sync) >= SYNC_INTERVAL {
            self.header
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
        // What the buffer still holds may not fit either: the file keeps what it took.
        let (data, _) = self.data.into_parts();
        drop(data);
        super::wav_repair::repair_in_place(&path, true)?;
        let r = hound::WavReader::open(&path).map_err(|e| Error::wav(&path, e))?;
        Ok(u64::from(r.duration()))
    }

    /// Finish the file: final header, fsync. Returns the frames written.
    pub fn finish(mut self) -> Result<u64> {
        let frames = self.frames();
        self.flush_header()
            .and_then(|()| self.header.sync_all())
            .map_err(|e| Error::io(&self.path, e))?;
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
