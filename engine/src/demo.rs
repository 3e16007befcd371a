//! The demo session the window opens on first start: four bars of drums and bass at 120 BPM,
//! generated here (no samples shipped), and an empty armed track ready to record on. Not on the
//! audio thread.

use std::f32::consts::TAU;
use std::path::Path;

use crate::disk::{TakeFormat, TakeWriter};
use crate::error::Result;
use crate::session::{Clip, Session, SessionDir};

/// Tempo of the demo, beats per minute.
pub const DEMO_BPM: f32 = 120.0;
const BARS: usize = 4;
const RATE: u32 = 48_000;

fn write(path: &Path, samples: &[f32]) -> Result<u64> {
    let mut w = TakeWriter::create(path, RATE, 1, TakeFormat::F32)?;
    w.write(samples)?;
    w.finish()
}

/// A kick, snare and hi-hat pattern, one bar repeated.
fn drums(frames: usize, beat: usize) -> Vec<f32> {
    let mut x = vec![0.0f32; frames];
    let mut noise: u32 = 0x1234_5678;
    let mut rand = move || {
        noise ^= noise << 13;
        noise ^= noise >> 17;
        noise ^= noise << 5;
        (noise as f32 / u32::MAX as f32) * 2.0 - 1.0
    };
    let eighth = beat / 2;
    for step in 0..frames / eighth {
        let at = step * eighth;
        let in_bar = step % 8;
        // Kick on 1 and 3 (and the "and" of 3), snare on 2 and 4, hats on every eighth.
        if matches!(in_bar, 0 | 4 | 5) {
            for i in 0..(RATE as usize / 5).min(frames - at) {
                let t = i as f32 / RATE as f32;
                let f = 50.0 + 90.0 * (-t * 30.0).exp();
                x[at + i] += 0.8 * (TAU * f * t).sin() * (-t * 9.0).exp();
            }
        }
        if matches!(in_bar, 2 | 6) {
            for i in 0..(RATE as usize / 6).min(frames - at) {
                let t = i as f32 / RATE as f32;
                x[at + i] += 0.35 * rand() * (-t * 22.0).exp()
                    + 0.2 * (TAU * 190.0 * t).sin() * (-t * 30.0).exp();
            }
        }
        for i in 0..(RATE as usize / 30).min(frames - at) {
            let t = i as f32 / RATE as f32;
            x[at + i] += 0.12 * rand() * (-t * 120.0).exp();
        }
    }
    x
}

/// A bass line on the roots of a I-vi-IV-V progression in A, eighth notes.
fn bass(frames: usize, beat: usize) -> Vec<f32> {
    let roots = [55.0f32, 92.5, 73.4, 82.4];
    let mut x = vec![0.0f32; frames];
    let eighth = beat / 2;
    for step in 0..frames / eighth {
        let bar = step / 8;
        let f = roots[bar % roots.len()] * if step % 8 == 6 { 2.0 } else { 1.0 };
        let at = step * eighth;
        for i in 0..eighth.min(frames - at) {
            let t = i as f32 / RATE as f32;
            let env = (1.0 - (-t * 200.0).exp()) * (-t * 3.0).exp();
            let s = (TAU * f * t).sin() + 0.3 * (TAU * 2.0 * f * t).sin();
            x[at + i] = 0.4 * s * env;
        }
    }
    x
}

/// Create the demo session in `dir` (which must not hold a session yet).
pub fn create_demo(dir: &Path) -> Result<Session> {
    let sdir = SessionDir::new(dir);
    let mut s = Session::new(RATE, 0);
    sdir.create(&s)?;
    let beat = (RATE as f32 * 60.0 / DEMO_BPM) as usize;
    let frames = beat * 4 * BARS;
    for (name, samples, gain) in [
        ("Drums", drums(frames, beat), -2.0),
        ("Bass", bass(frames, beat), -4.0),
    ] {
        let file = format!("{}.wav", name.to_lowercase());
        let n = write(&sdir.audio().join(&file), &samples)?;
        let id = s.add_track();
        if let Some(t) = s.track_mut(id) {
            t.name = name.into();
            t.gain_db = gain;
        }
        s.add_clip(id, Clip::new(file, 0, 0, n));
    }
    let id = s.add_track();
    if let Some(t) = s.track_mut(id) {
        t.name = "Your take".into();
        t.input = 0;
        t.armed = true;
    }
    sdir.save(&s)?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_has_drums_and_bass_and_an_armed_empty_track() {
        let tmp = tempfile::tempdir().expect("tmp");
        let s = create_demo(&tmp.path().join("demo")).expect("demo");
        assert_eq!(s.tracks.len(), 3);
        assert_eq!(s.tracks[0].clips[0].length, 8 * 48_000, "4 bars at 120 BPM");
        assert!(s.tracks[2].armed && s.tracks[2].clips.is_empty());
        let p = crate::peaks::compute(&tmp.path().join("demo/audio/drums.wav")).expect("peaks");
        assert!(p.max.iter().any(|v| *v > 0.3), "the drums are audible");
    }
}
