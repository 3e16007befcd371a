//! The bar grid of a session: where bars and beats fall, in frames, from its tempo and time
//! signature, and snapping to them. The tempo counts quarter notes (as DAWproject and most DAWs
//! do); a beat is the time signature's note value, so 6/8 at 120 has six eighth-note beats of
//! 0.25 s to the bar. Not on the audio thread.

use super::model::Session;

/// Bars and beats of one session.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Grid {
    /// Frames in one beat (not rounded).
    pub frames_per_beat: f64,
    /// Beats in one bar.
    pub beats_per_bar: u32,
}

/// Grid steps tried from fine to coarse, in beats' multiples of a bar (0: one beat).
const BAR_STEPS: [u64; 8] = [0, 1, 2, 4, 8, 16, 32, 64];

impl Grid {
    /// The grid of `s`.
    pub fn of(s: &Session) -> Self {
        let quarter = f64::from(s.rate) * 60.0 / s.tempo_bpm.max(1.0);
        Self {
            frames_per_beat: quarter * 4.0 / f64::from(s.meter.denominator.max(1)),
            beats_per_bar: u32::from(s.meter.numerator.max(1)),
        }
    }

    /// Frames in one bar (not rounded).
    pub fn frames_per_bar(&self) -> f64 {
        self.frames_per_beat * f64::from(self.beats_per_bar)
    }

    /// The frame of beat `n` (0-based, counted over all bars), rounded to the nearest frame: the
    /// one place grid lines, the ruler and snapping get it from.
    pub fn beat_frame(&self, n: u64) -> u64 {
        (n as f64 * self.frames_per_beat).round() as u64
    }

    /// The bar (1-based), beat in it (1-based) and ticks (0..1000 of the beat) at `frame`.
    pub fn bar_beat(&self, frame: u64) -> (u64, u32, u32) {
        let beats = frame as f64 / self.frames_per_beat;
        let whole = beats.floor();
        let bar = (whole / f64::from(self.beats_per_bar)).floor();
        let beat = whole - bar * f64::from(self.beats_per_bar);
        let ticks = ((beats - whole) * 1000.0).floor().min(999.0);
        (bar as u64 + 1, beat as u32 + 1, ticks as u32)
    }

    /// The finest step (in beats) whose lines are at least `min_frames` apart: a beat, a bar, or
    /// 2, 4, ... 64 bars.
    pub fn step_beats(&self, min_frames: f64) -> u64 {
        let bar = u64::from(self.beats_per_bar);
        BAR_STEPS
            .iter()
            .map(|&b| if b == 0 { 1 } else { b * bar })
            .find(|&beats| beats as f64 * self.frames_per_beat >= min_frames)
            .unwrap_or(64 * bar)
    }

    /// The grid lines from `from` to `to` (frames) every `step` beats: (frame, beat number).
    pub fn lines(&self, from: u64, to: u64, step: u64) -> impl Iterator<Item = (u64, u64)> + '_ {
        let step = step.max(1);
        let first = (from as f64 / self.frames_per_beat / step as f64).floor() as u64 * step;
        (0..)
            .map(move |k| first + k * step)
            .map(|n| (self.beat_frame(n), n))
            .take_while(move |&(f, _)| f <= to)
    }

    /// `frame` moved to the nearest line every `step` beats.
    pub fn snap(&self, frame: u64, step: u64) -> u64 {
        let step = step.max(1) as f64;
        let n = (frame as f64 / self.frames_per_beat / step).round() * step;
        self.beat_frame(n as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Meter;

    fn session(rate: u32, bpm: f64, numerator: u8, denominator: u8) -> Session {
        let mut s = Session::new(rate, 0);
        s.tempo_bpm = bpm;
        s.meter = Meter {
            numerator,
            denominator,
        };
        s
    }

    #[test]
    fn bars_and_beats_fall_where_the_tempo_puts_them() {
        let g = Grid::of(&session(48_000, 120.0, 4, 4));
        assert_eq!(g.beat_frame(4), 96_000);
        assert_eq!(g.bar_beat(0), (1, 1, 0));
        assert_eq!(g.bar_beat(96_000), (2, 1, 0));
        assert_eq!(g.bar_beat(96_000 + 36_000), (2, 2, 500));
        // 6/8 at 120 quarter notes a minute: six eighths of 12 000 frames to the bar.
        let g = Grid::of(&session(48_000, 120.0, 6, 8));
        assert_eq!(g.frames_per_bar(), 72_000.0);
        assert_eq!(g.bar_beat(72_000 + 12_000), (2, 2, 0));
    }

    #[test]
    fn snapping_lands_exactly_on_a_line() {
        // 97 BPM at 44.1 kHz: a beat is 27 278.35... frames, never a whole number.
        let g = Grid::of(&session(44_100, 97.0, 4, 4));
        let bar = g.step_beats(g.frames_per_bar() - 1.0);
        assert_eq!(bar, 4);
        let line = g.beat_frame(8);
        assert_eq!(g.snap(line + 5_000, bar), line);
        assert_eq!(g.snap(line - 5_000, bar), line);
        assert_eq!(g.snap(line + 5_000, 1), line);
        let lines: Vec<u64> = g.lines(0, line, bar).map(|(f, _)| f).collect();
        assert_eq!(lines, [0, g.beat_frame(4), line]);
        assert_eq!(g.step_beats(1.0), 1);
        assert_eq!(g.step_beats(f64::MAX), 256);
    }
}
