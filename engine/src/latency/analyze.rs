//! Finding a known impulse train in what came back: per impulse, the delay of the strongest
//! sample in its window; then the verdict (median delay, polarity, level, stability). Pure
//! functions, not on the audio thread.

use serde::Serialize;

/// Peak level below which nothing is taken to have come back (-40 dBFS).
pub const SILENCE: f32 = 0.01;
/// Peak level from which the input counts as too hot (clipping or close to it).
pub const TOO_HOT: f32 = 0.98;
/// How far an impulse must stand above the rest of its window (peak over RMS, 20 dB): a tone, hum
/// or noise on an unconnected input is not mistaken for the impulse coming back.
pub const MIN_CREST: f32 = 10.0;

/// The result of analysing one capture.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Analysis {
    /// Round trip, frames: the median of the per-impulse delays.
    pub frames: u32,
    /// Per-impulse delays, frames.
    pub delays: Vec<u32>,
    /// Largest minus smallest delay, frames.
    pub spread: u32,
    /// The impulses came back upside down (a polarity-inverting cable or input).
    pub inverted: bool,
    /// Strongest sample that came back, linear.
    pub peak: f32,
}

impl Analysis {
    /// Warnings for the user, one line each.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if self.inverted {
            w.push(
                "the signal came back with inverted polarity: check the cable or the input's \
                 phase switch"
                    .to_string(),
            );
        }
        if self.peak >= TOO_HOT {
            w.push(format!(
                "the input is too hot (peak {:.1} dBFS): turn the input gain down and measure again",
                20.0 * self.peak.log10()
            ));
        }
        if self.spread > 1 {
            w.push(format!(
                "unstable result: the impulses came back {} frames apart (from {} to {}); \
                 measure again, and raise the buffer size if it stays unstable",
                self.spread,
                self.delays.iter().min().unwrap_or(&0),
                self.delays.iter().max().unwrap_or(&0)
            ));
        }
        w
    }
}

/// Find each impulse sent at `sent[k]` (frames from the start of the capture) in `captured`,
/// looking up to `window` frames after it. None when nothing came back above [`SILENCE`].
pub fn analyze(sent: &[usize], captured: &[f32], window: usize) -> Option<Analysis> {
    let mut delays = Vec::new();
    let mut negative = 0;
    let mut peak = 0.0f32;
    for &at in sent {
        let end = (at + window).min(captured.len());
        let Some((i, &v)) = captured
            .get(at..end)?
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        else {
            continue;
        };
        let window = &captured[at..end];
        let rms = (window.iter().map(|s| s * s).sum::<f32>() / window.len() as f32).sqrt();
        if v.abs() < SILENCE || v.abs() < MIN_CREST * rms {
            continue;
        }
        peak = peak.max(v.abs());
        if v < 0.0 {
            negative += 1;
        }
        delays.push(u32::try_from(i).unwrap_or(u32::MAX));
    }
    if delays.is_empty() {
        return None;
    }
    let mut sorted = delays.clone();
    sorted.sort_unstable();
    let frames = sorted[sorted.len() / 2];
    let spread = sorted[sorted.len() - 1] - sorted[0];
    Some(Analysis {
        frames,
        spread,
        inverted: negative * 2 > delays.len(),
        peak,
        delays,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture(sent: &[usize], delays: &[usize], amp: f32, len: usize) -> Vec<f32> {
        let mut x = vec![0.0; len];
        for (s, d) in sent.iter().zip(delays) {
            x[s + d] = amp;
            x[s + d + 1] = amp * 0.3;
        }
        x
    }

    #[test]
    fn finds_the_delay_of_every_impulse() {
        let sent = [100, 1100, 2100, 3100];
        let a = analyze(&sent, &capture(&sent, &[384; 4], 0.5, 5000), 900).expect("found");
        assert_eq!(a.frames, 384);
        assert_eq!(a.spread, 0);
        assert!(!a.inverted);
        assert!(a.warnings().is_empty(), "{:?}", a.warnings());
    }

    #[test]
    fn nothing_back_is_none() {
        let sent = [100, 1100];
        let mut x = vec![0.0; 3000];
        x[500] = 0.005; // noise below -40 dBFS
        assert_eq!(analyze(&sent, &x, 900), None);
    }

    #[test]
    fn a_tone_on_the_input_is_not_an_impulse() {
        let sent = [100, 1100, 2100];
        let x: Vec<f32> = (0..3000).map(|i| 0.4 * (i as f32 * 0.06).sin()).collect();
        assert_eq!(analyze(&sent, &x, 900), None);
        // Impulses over a quieter hum (-26 dBFS) are found.
        let mut y: Vec<f32> = x.iter().map(|s| s / 8.0).collect();
        for s in sent {
            y[s + 77] += 0.5;
        }
        assert_eq!(analyze(&sent, &y, 900).map(|a| a.frames), Some(77));
    }

    #[test]
    fn warns_about_inverted_polarity() {
        let sent = [100, 1100, 2100];
        let a = analyze(&sent, &capture(&sent, &[50; 3], -0.5, 3000), 900).expect("found");
        assert!(a.inverted);
        assert_eq!(a.frames, 50);
        assert!(a.warnings()[0].contains("inverted polarity"));
    }

    #[test]
    fn warns_about_a_hot_input() {
        let sent = [100, 1100];
        let a = analyze(&sent, &capture(&sent, &[50; 2], 1.0, 3000), 900).expect("found");
        assert!(a.warnings().iter().any(|w| w.contains("too hot")));
    }

    #[test]
    fn warns_about_unstable_results_and_takes_the_median() {
        let sent = [100, 1100, 2100, 3100, 4100];
        let a = analyze(
            &sent,
            &capture(&sent, &[200, 203, 200, 260, 200], 0.5, 5000),
            900,
        )
        .expect("found");
        assert_eq!(a.frames, 200);
        assert_eq!(a.spread, 60);
        assert!(a.warnings().iter().any(|w| w.contains("unstable")));
    }
}
