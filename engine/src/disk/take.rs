//! One take as the disk thread writes it: a [`TakeWriter`] that rolls over into a new part file
//! before a WAV file would pass its 4 GiB limit, so a long take is a gapless series of ordinary
//! WAV files (`NAME.wav`, `NAME-part2.wav`, ...) that any tool and Overdub's import read. Not on
//! the audio thread.

use std::path::{Path, PathBuf};

use super::take_writer::{TakeFormat, TakeWriter};
use crate::error::Result;

/// Largest data size of one part: a WAV header counts bytes in 32 bits; 1 MiB of room for
/// the header.
pub const MAX_PART_BYTES: u64 = (1 << 32) - (1 << 20);

/// A take being written, possibly in several parts.
pub struct Take {
    base: PathBuf,
    rate: u32,
    format: TakeFormat,
    limit: u64,
    writer: TakeWriter,
    done: Vec<(PathBuf, u64)>,
}

/// The file name of part `n` (1-based) of a take whose first part is `base`.
pub fn part_path(base: &Path, n: usize) -> PathBuf {
    if n <= 1 {
        return base.to_path_buf();
    }
    let stem = base
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    base.with_file_name(format!("{stem}-part{n}.wav"))
}

impl Take {
    /// Start a take at `base`, rolling over to a new part when a part's data would pass `limit`
    /// bytes.
    pub fn create(
        base: &Path,
        rate: u32,
        channels: u16,
        format: TakeFormat,
        limit: u64,
    ) -> Result<Self> {
        let writer = TakeWriter::create(base, rate, channels, format)?;
        Ok(Self {
            base: base.to_path_buf(),
            rate,
            format,
            limit: limit.max(writer.frame_bytes()),
            writer,
            done: Vec::new(),
        })
    }

    /// The first part's file.
    pub fn base(&self) -> &Path {
        &self.base
    }

    /// Append interleaved samples, starting a new part where the limit falls.
    pub fn write(&mut self, mut samples: &[f32]) -> Result<()> {
        let ch = self.writer.channels();
        let fb = self.writer.frame_bytes();
        while !samples.is_empty() {
            let room = (self.limit / fb).saturating_sub(self.writer.frames()) as usize;
            if room == 0 {
                self.roll()?;
                continue;
            }
            let n = (room * ch).min(samples.len());
            self.writer.write(&samples[..n])?;
            samples = &samples[n..];
        }
        Ok(())
    }

    fn roll(&mut self) -> Result<()> {
        let next = part_path(&self.base, self.done.len() + 2);
        let channels = u16::try_from(self.writer.channels()).unwrap_or(1);
        let new = TakeWriter::create(&next, self.rate, channels, self.format)?;
        let old = std::mem::replace(&mut self.writer, new);
        let path = old.path().to_path_buf();
        match old.finish() {
            Ok(frames) => {
                self.done.push((path, frames));
                Ok(())
            }
            Err(e) => {
                // The part is kept with every whole frame that reached the disk, so the take
                // still places it.
                let _ = super::wav_repair::repair_in_place(&path, true);
                let frames = hound::WavReader::open(&path).map_or(0, |r| u64::from(r.duration()));
                self.done.push((path, frames));
                Err(e)
            }
        }
    }

    /// Header rewrite and sync on their schedules.
    pub fn maintain(&mut self, now: std::time::Instant) -> Result<()> {
        self.writer.maintain(now)
    }

    /// Frames in all parts so far.
    pub fn frames(&self) -> u64 {
        self.done.iter().map(|(_, f)| f).sum::<u64>() + self.writer.frames()
    }

    /// Close the take; returns every part with its frames.
    pub fn finish(self) -> Result<Vec<(PathBuf, u64)>> {
        let mut parts = self.done;
        let path = self.writer.path().to_path_buf();
        parts.push((path, self.writer.finish()?));
        Ok(parts)
    }

    /// Close the take after a write error, keeping every whole frame that reached the disk.
    pub fn salvage(self) -> (Vec<(PathBuf, u64)>, Option<String>) {
        let mut parts = self.done;
        let path = self.writer.path().to_path_buf();
        match self.writer.salvage() {
            Ok(frames) => {
                parts.push((path, frames));
                (parts, None)
            }
            Err(e) => (parts, Some(e.to_string())),
        }
    }
}

/// Every part of the take at `base` that exists, each header fitted to the whole frames on disk
/// (for a take whose writer failed, or one left by a crash).
pub fn salvage_parts(base: &Path) -> Vec<(PathBuf, u64)> {
    let mut parts = Vec::new();
    for n in 1.. {
        let p = part_path(base, n);
        if !p.exists() {
            break;
        }
        let frames = super::wav_repair::repair_in_place(&p, true)
            .ok()
            .and_then(|_| hound::WavReader::open(&p).ok())
            .map_or(0, |r| u64::from(r.duration()));
        parts.push((p, frames));
    }
    parts
}
