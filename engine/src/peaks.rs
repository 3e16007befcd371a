//! Waveform overviews: the peak (min and max) of every [`FRAMES_PER_PEAK`] frames of a WAV file,
//! cached in the session's `peaks/` folder so an hour-long session opens at once. Built off the
//! GUI and audio threads. Not on the audio thread.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::session::SessionDir;

/// Frames summarised by one peak.
pub const FRAMES_PER_PEAK: usize = 256;

/// Min/max pairs of a file, all channels folded together.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Peaks {
    /// Frames in the file.
    pub frames: u64,
    /// Smallest sample of each stretch.
    pub min: Vec<f32>,
    /// Largest sample of each stretch.
    pub max: Vec<f32>,
}

impl Peaks {
    /// Min and max over file frames `a..b`.
    pub fn range(&self, a: u64, b: u64) -> (f32, f32) {
        let i = (a / FRAMES_PER_PEAK as u64) as usize;
        let j = (b.div_ceil(FRAMES_PER_PEAK as u64) as usize).min(self.min.len());
        if i >= j {
            return (0.0, 0.0);
        }
        let lo = self.min[i..j].iter().copied().fold(f32::MAX, f32::min);
        let hi = self.max[i..j].iter().copied().fold(f32::MIN, f32::max);
        (lo, hi)
    }
}

fn cache_path(dir: &SessionDir, file: &str) -> PathBuf {
    dir.peaks().join(format!("{file}.peaks"))
}

/// The peaks of `audio/FILE`, from the cache if it is newer than the file, else computed and
/// cached.
pub fn load_or_build(dir: &SessionDir, file: &str) -> Result<Peaks> {
    let wav = dir.audio().join(file);
    let cache = cache_path(dir, file);
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if let (Some(c), Some(w)) = (modified(&cache), modified(&wav))
        && c >= w
        && let Some(p) = read_cache(&cache)
    {
        return Ok(p);
    }
    let peaks = compute(&wav)?;
    // The cache is a convenience: failing to write it is not an error.
    let _ = std::fs::create_dir_all(dir.peaks());
    let _ = write_cache(&cache, &peaks);
    Ok(peaks)
}

/// Compute the peaks of a WAV file.
pub fn compute(path: &Path) -> Result<Peaks> {
    let mut r = hound::WavReader::open(path).map_err(|e| Error::wav(path, e))?;
    let spec = r.spec();
    let ch = usize::from(spec.channels.max(1));
    let per = FRAMES_PER_PEAK * ch;
    let mut peaks = Peaks {
        frames: u64::from(r.duration()),
        ..Peaks::default()
    };
    let (mut lo, mut hi, mut n) = (f32::MAX, f32::MIN, 0usize);
    let mut push = |v: f32, peaks: &mut Peaks| {
        lo = lo.min(v);
        hi = hi.max(v);
        n += 1;
        if n == per {
            peaks.min.push(lo);
            peaks.max.push(hi);
            (lo, hi, n) = (f32::MAX, f32::MIN, 0);
        }
    };
    if spec.sample_format == hound::SampleFormat::Float {
        for s in r.samples::<f32>() {
            push(s.map_err(|e| Error::wav(path, e))?, &mut peaks);
        }
    } else {
        let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
        for s in r.samples::<i32>() {
            push(
                s.map_err(|e| Error::wav(path, e))? as f32 * scale,
                &mut peaks,
            );
        }
    }
    if n > 0 {
        peaks.min.push(lo);
        peaks.max.push(hi);
    }
    Ok(peaks)
}

fn write_cache(path: &Path, p: &Peaks) -> std::io::Result<()> {
    let mut bytes = Vec::with_capacity(8 + p.min.len() * 8);
    bytes.extend_from_slice(&p.frames.to_le_bytes());
    for (a, b) in p.min.iter().zip(&p.max) {
        bytes.extend_from_slice(&a.to_le_bytes());
        bytes.extend_from_slice(&b.to_le_bytes());
    }
    std::fs::write(path, bytes)
}

fn read_cache(path: &Path) -> Option<Peaks> {
    let bytes = std::fs::read(path).ok()?;
    let frames = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?);
    let body = bytes.get(8..)?;
    if !body.len().is_multiple_of(8) {
        return None;
    }
    let f = |c: &[u8]| f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    let (min, max) = body
        .chunks_exact(8)
        .map(|c| (f(&c[..4]), f(&c[4..])))
        .unzip();
    Some(Peaks { frames, min, max })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peaks_are_cached_and_match_the_file() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = SessionDir::new(tmp.path());
        std::fs::create_dir_all(dir.audio()).expect("audio");
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 48_000,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut w = hound::WavWriter::create(dir.audio().join("a.wav"), spec).expect("wav");
        for i in 0..1000 {
            w.write_sample(if i == 300 { 0.9f32 } else { -0.1 })
                .expect("s");
        }
        w.finalize().expect("fin");
        let p = load_or_build(&dir, "a.wav").expect("peaks");
        assert_eq!(p.frames, 1000);
        assert_eq!(p.min.len(), 4);
        assert_eq!(p.range(256, 512), (-0.1, 0.9));
        assert!(dir.peaks().join("a.wav.peaks").exists());
        assert_eq!(load_or_build(&dir, "a.wav").expect("cached"), p);
    }
}
