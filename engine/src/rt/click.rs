//! The metronome click and the settings page's test tone, mixed into the master on the audio
//! thread. Realtime-safe: no allocation, a few float operations per frame.

use std::f32::consts::TAU;

/// Length of one click, seconds.
const CLICK_SECONDS: f32 = 0.025;
/// Peak level of a click (about -8 dBFS).
const CLICK_LEVEL: f32 = 0.4;
/// Test tone level (-18 dBFS) and pitch.
const TONE_LEVEL: f32 = 0.125;
const TONE_HZ: f32 = 440.0;

/// Metronome state.
#[derive(Clone, Debug)]
pub struct Click {
    /// Click while rolling.
    pub on: bool,
    /// Frames in one beat, not rounded: beat k clicks at frame round(k * beat).
    pub beat: f64,
    /// Beats per bar; the first beat of a bar clicks higher.
    pub beats_per_bar: u32,
    rate: f32,
    sample: usize,
    len: usize,
    freq: f32,
    tone_phase: f32,
}

impl Click {
    /// A metronome at 120 BPM in 4/4, off.
    pub fn new(rate: u32) -> Self {
        let rate = rate.max(1) as f32;
        let len = (CLICK_SECONDS * rate) as usize;
        Self {
            on: false,
            beat: f64::from(rate) * 0.5,
            beats_per_bar: 4,
            rate,
            sample: len,
            len,
            freq: 1000.0,
            tone_phase: 0.0,
        }
    }

    /// Frames per beat.
    pub fn beat_frames(&self) -> f64 {
        self.beat
    }

    /// Set the beat length, kept between a frame and a minute (a bad value: 120 BPM). Beats
    /// shorter than a click cut the one before short.
    pub fn set_beat(&mut self, frames: f64) {
        let (lo, hi) = (1.0, f64::from(self.rate) * 60.0);
        self.beat = if frames.is_finite() {
            frames.clamp(lo, hi)
        } else {
            f64::from(self.rate) * 0.5
        };
    }

    /// Add the clicks for frames `first..first + l.len()` (timeline or count-in frames) to the
    /// master.
    pub fn render(&mut self, l: &mut [f32], r: &mut [f32], first: u64) {
        let beat = self.beat_frames();
        let bar = u64::from(self.beats_per_bar.max(1));
        for (i, (a, b)) in l.iter_mut().zip(r.iter_mut()).enumerate() {
            let t = first + i as u64;
            let k = (t as f64 / beat).round();
            if (k * beat).round() as u64 == t {
                self.sample = 0;
                self.freq = if (k as u64).is_multiple_of(bar) {
                    1500.0
                } else {
                    1000.0
                };
            }
            if self.sample < self.len {
                let n = self.sample as f32;
                let env = 1.0 - n / self.len as f32;
                let s = (TAU * self.freq * n / self.rate).sin() * env * env * CLICK_LEVEL;
                *a += s;
                *b += s;
                self.sample += 1;
            }
        }
    }

    /// Add the test tone.
    pub fn tone(&mut self, l: &mut [f32], r: &mut [f32]) {
        let step = TAU * TONE_HZ / self.rate;
        for (a, b) in l.iter_mut().zip(r.iter_mut()) {
            let s = self.tone_phase.sin() * TONE_LEVEL;
            *a += s;
            *b += s;
            self.tone_phase += step;
            if self.tone_phase > TAU {
                self.tone_phase -= TAU;
            }
        }
    }
}
