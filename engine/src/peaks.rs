//! Waveform overviews: the peak (min and max) of every [`FRAMES_PER_PEAK`] frames of a WAV file,
//! cached in the session's `peaks/` folder so an hour-long session opens at once. Built off the
//! GUI and audio threads. Not on the audio thread.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::session::SessionDir;

/// Frames summarised by one peak.
pub const FRAMES_PER_PEAK: usize = 256;

/// Peaks folded together from one level of [`Peaks::coarser`] to the next.
const FOLD: usize = 4;

/// Min/max pairs of a file, all channels folded together.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Peaks {
    /// Frames in the file.
    pub frames: u64,
    /// Smallest sample of each stretch.
    pub min: Vec<f32>,
    /// Largest sample of each stretch.
    pub max: Vec<f32>,
    /// The same, [`FOLD`] stretches to one, then that folded again, down to a handful: (min,
    /// max) per level. With them a pixel of a zoomed-out hour is a few dozen folds, not the
    /// hundreds of thousands of stretches under it (see [`Peaks::range`]).
    coarser: Vec<(Vec<f32>, Vec<f32>)>,
}

impl Peaks {
    /// Min and max over file frames `a..b`: exactly the fold of every stretch that `a..b`
    /// touches, read from the coarsest levels that fit inside it.
    pub fn range(&self, a: u64, b: u64) -> (f32, f32) {
        let mut i = (a / FRAMES_PER_PEAK as u64) as usize;
        let mut j = (b.div_ceil(FRAMES_PER_PEAK as u64) as usize).min(self.min.len());
        if i >= j {
            return (0.0, 0.0);
        }
        let (mut lo, mut hi) = (f32::MAX, f32::MIN);
        let levels = std::iter::once((&self.min, &self.max))
            .chain(self.coarser.iter().map(|(lo, hi)| (lo, hi)));
        let mut levels = levels.peekable();
        while let Some((mins, maxs)) = levels.next() {
            let mut fold = |k: usize| {
                lo = lo.min(mins[k]);
                hi = hi.max(maxs[k]);
            };
            if levels.peek().is_none() || j - i < 2 * FOLD {
                (i..j).for_each(fold);
                break;
            }
            // The ragged ends at this level; what lies between is whole stretches of the next.
            while !i.is_multiple_of(FOLD) {
                fold(i);
                i += 1;
            }
            while !j.is_multiple_of(FOLD) {
                j -= 1;
                fold(j);
            }
            (i, j) = (i / FOLD, j / FOLD);
        }
        (lo, hi)
    }

    /// Build [`Peaks::coarser`] from the stretches.
    fn with_levels(mut self) -> Self {
        let fold = |v: &[f32], f: fn(f32, f32) -> f32, init: f32| -> Vec<f32> {
            v.chunks(FOLD)
                .map(|c| c.iter().copied().fold(init, f))
                .collect()
        };
        let mut levels: Vec<(Vec<f32>, Vec<f32>)> = Vec::new();
        loop {
            let (lo, hi) = levels
                .last()
                .map_or((&self.min, &self.max), |(lo, hi)| (lo, hi));
            if lo.len() <= FOLD {
                break;
            }
            let next = (fold(lo, f32::min, f32::MAX), fold(hi, f32::max, f32::MIN));
            levels.push(next);
        }
        self.coarser = levels;
        self
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
    Ok(peaks.with_levels())
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
    Some(
        Peaks {
            frames,
            min,
            max,
            ..Peaks::default()
        }
        .with_levels(),
    )
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

    /// Every range, read through the levels, is exactly the fold of the stretches it touches.
    #[test]
    fn a_range_through_the_levels_equals_the_plain_fold() {
        // 1000 stretches of a pseudo-random walk: levels of 250, 63, 16, 4.
        let mut x = 0.0f32;
        let mut seed = 12345u32;
        let (mut min, mut max) = (Vec::new(), Vec::new());
        for _ in 0..1000 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            x += (seed >> 16) as f32 / 65_536.0 - 0.5;
            min.push(x - 0.1);
            max.push(x + 0.1);
        }
        let p = Peaks {
            frames: 1000 * FRAMES_PER_PEAK as u64,
            min: min.clone(),
            max: max.clone(),
            ..Peaks::default()
        }
        .with_levels();
        assert_eq!(p.coarser.len(), 4);
        let plain = |a: u64, b: u64| {
            let i = (a / FRAMES_PER_PEAK as u64) as usize;
            let j = (b.div_ceil(FRAMES_PER_PEAK as u64) as usize).min(min.len());
            let lo = min[i..j].iter().copied().fold(f32::MAX, f32::min);
            let hi = max[i..j].iter().copied().fold(f32::MIN, f32::max);
            (lo, hi)
        };
        let f = FRAMES_PER_PEAK as u64;
        for (a, b) in [
            (0, 1000 * f),
            (1, 999 * f + 7),
            (3 * f + 5, 700 * f),
            (17 * f, 33 * f),
            (255, 257),
            (640 * f, 1024 * f),
            (4 * f, 68 * f),
        ] {
            assert_eq!(p.range(a, b), plain(a, b), "frames {a}..{b}");
        }
        for a in (0..1000 * f).step_by(9_973) {
            for len in [1, 300, 5_000, 70_000, 250_000] {
                assert_eq!(p.range(a, a + len), plain(a, a + len), "{a}+{len}");
            }
        }
    }
}
