//! Files the tests write and read: WAV sources and takes, `session.json` edits, exports.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::World;

/// The samples of a mono or multichannel WAV file, as f32 (first channel).
pub fn read_wav(path: &Path) -> (hound::WavSpec, Vec<f32>) {
    let mut r = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let spec = r.spec();
    let ch = usize::from(spec.channels);
    let all: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => r.samples::<f32>().map(|s| s.expect("sample")).collect(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            r.samples::<i32>()
                .map(|s| s.expect("sample") as f32 * scale)
                .collect()
        }
    };
    (spec, all.chunks_exact(ch).map(|f| f[0]).collect())
}

/// Root mean square of a signal.
pub fn rms(x: &[f32]) -> f32 {
    if x.is_empty() {
        return 0.0;
    }
    (x.iter().map(|s| s * s).sum::<f32>() / x.len() as f32).sqrt()
}

/// The clips of track `i` (0-based) in `overdub info --json` output.
pub fn clips(info: &serde_json::Value, track: usize) -> Vec<serde_json::Value> {
    info["tracks"][track]["clips"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Change one track field in a session's `session.json` (the documented format), as a user or a
/// script could.
pub fn edit_track(dir: &Path, track: usize, field: &str, value: serde_json::Value) {
    let file = dir.join("session.json");
    let text = std::fs::read_to_string(&file).expect("session.json");
    let mut doc: serde_json::Value = serde_json::from_str(&text).expect("json");
    doc["tracks"][track][field] = value;
    std::fs::write(&file, serde_json::to_string_pretty(&doc).expect("json")).expect("write");
}

/// The import tests' source signal at `rate` Hz: three sines (331, 557, 1201 Hz, 0.2 each), so
/// that it never repeats within a second and an alignment search has one answer. The committed
/// MP3 and M4A fixtures were made from this at 48 kHz (`tests/fixtures/make-fixtures.sh`).
pub fn source_signal(frame: u64, rate: u32) -> f32 {
    let t = frame as f64 / f64::from(rate);
    let tau = std::f64::consts::TAU;
    (0.2 * ((tau * 331.0 * t).sin() + (tau * 557.0 * t).sin() + (tau * 1201.0 * t).sin())) as f32
}

/// Write `frames` frames of [`source_signal`] (the same on every channel) with hound.
pub fn write_source(path: &Path, rate: u32, channels: u16, bits: u16, float: bool, frames: u64) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let mut w = hound::WavWriter::create(path, spec).expect("wav");
    let scale = ((1i64 << (bits - 1)) - 1) as f32;
    for i in 0..frames {
        let v = source_signal(i, rate);
        for _ in 0..channels {
            if float {
                w.write_sample(v).expect("sample");
            } else {
                w.write_sample((v * scale).round() as i32).expect("sample");
            }
        }
    }
    w.finalize().expect("finalize");
}

/// Write a mono 32-bit float WAV of `frames` frames, frame `n` being `signal(n)`.
pub fn write_mono(path: &Path, rate: u32, frames: u64, signal: impl Fn(u64) -> f32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("wav");
    for n in 0..frames {
        w.write_sample(signal(n)).expect("sample");
    }
    w.finalize().expect("finalize");
}

/// `overdub export DIR --stems --format 32f` into `name` in the world; returns the folder.
pub fn export_stems(w: &World, dir: &Path, name: &str) -> PathBuf {
    let out = w.path(name);
    w.overdub(&[
        "export",
        &dir.to_string_lossy(),
        "--out",
        &out.to_string_lossy(),
        "--stems",
        "--format",
        "32f",
    ])
    .ok();
    out
}

/// Run sox with these arguments; panics (with its message) if it fails.
pub fn sox(args: &[&str]) {
    let out = Command::new("sox")
        .args(args)
        .output()
        .expect("sox must be installed (apt-get install sox); .ci/run installs it");
    assert!(
        out.status.success(),
        "sox {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The lag (frames, within ±`max_lag`) at which `x` best matches `reference`, by correlation
/// over a window in the middle, and the RMS error there in dB relative to the reference.
pub fn align(x: &[f32], reference: &[f32], max_lag: usize) -> (i64, f32) {
    let start = max_lag;
    let len = 4800.min(reference.len().saturating_sub(2 * max_lag));
    let win = &reference[start..start + len];
    let mut best = (0i64, f32::MIN);
    for lag in -(max_lag as i64)..=max_lag as i64 {
        let from = start as i64 + lag;
        if from < 0 || from as usize + len > x.len() {
            continue;
        }
        let seg = &x[from as usize..from as usize + len];
        let c: f32 = seg.iter().zip(win).map(|(a, b)| a * b).sum();
        if c > best.1 {
            best = (lag, c);
        }
    }
    let from = (start as i64 + best.0) as usize;
    let seg = &x[from..from + len];
    let err: f32 = seg.iter().zip(win).map(|(a, b)| (a - b) * (a - b)).sum();
    let sig: f32 = win.iter().map(|b| b * b).sum();
    (best.0, 10.0 * (err / sig.max(1e-20)).log10())
}
