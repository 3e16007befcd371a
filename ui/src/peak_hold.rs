//! What every meter in the window keeps between frames, and how it reads on a -60..+6 dBFS
//! scale: the track meters, the mixer's master meter and the settings page's input meters.

use std::time::{Duration, Instant};

use egui::Color32;

/// How long a peak hold stays.
const HOLD: Duration = Duration::from_millis(1500);

/// A meter between frames: the level falling back smoothly, the highest peak held for a while,
/// and the clip light.
#[derive(Clone, Copy, Debug, Default)]
pub struct PeakHold {
    /// The level shown, linear: it falls back smoothly from each peak.
    pub level: f32,
    /// The highest recent peak, linear.
    pub hold: f32,
    since: Option<Instant>,
    /// The signal reached full scale since the light was last cleared.
    pub clipped: bool,
}

impl PeakHold {
    /// Take the peak read this frame (and whether the signal clipped).
    pub fn feed(&mut self, peak: f32, clipped: bool, now: Instant) {
        self.level = peak.max(self.level * 0.85);
        if peak >= self.hold || self.since.is_none_or(|t| now.duration_since(t) > HOLD) {
            self.hold = peak;
            self.since = Some(now);
        }
        self.clipped |= clipped;
    }
}

/// Where a level sits on a meter, 0 (-60 dBFS or less) to 1 (+6 dBFS).
pub fn fraction(level: f32) -> f32 {
    let db = if level > 1e-6 {
        20.0 * level.log10()
    } else {
        -60.0
    };
    (db.clamp(-60.0, 6.0) + 60.0) / 66.0
}

/// A meter's colour at a level: green, yellow above -6 dBFS, red at full scale.
pub fn colour(level: f32) -> Color32 {
    if level >= 1.0 {
        Color32::from_rgb(230, 60, 60)
    } else if level > 0.5 {
        Color32::from_rgb(220, 200, 60)
    } else {
        Color32::from_rgb(80, 200, 100)
    }
}
