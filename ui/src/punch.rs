//! Punch recording from the window: a punch range (Ctrl+drag along the ruler, or from a marker to
//! the next), the Punch switch, and Record with it on: the transport starts a pre-roll before the
//! punch-in (the count-in setting's bars, at least one), the armed tracks play what they hold
//! until the punch-in and from the punch-out, and the new take shows only in between, crossfaded
//! over the old one.

use overdub_engine::session::{Grid, Punch};

use crate::app::OverdubApp;

impl OverdubApp {
    /// Record the armed tracks: punched in if Punch is on, from the playhead otherwise.
    pub(crate) fn record(&mut self) {
        let range = self.punch_range.filter(|_| self.punch_on);
        let session = self.live.editor().session();
        let fade = session.fade_frames();
        let bar = Grid::of(session).frames_per_bar();
        self.live.set_punch(range.map(|(from, to)| Punch {
            from,
            to: Some(to),
            fade,
        }));
        if let Some((from, _)) = range {
            let bars = self.live.metronome().count_in_bars.max(1);
            let preroll = (bar * f64::from(bars)).round() as u64;
            self.live.locate(from.saturating_sub(preroll));
        }
        self.live.record();
    }

    /// Set the punch range (and turn Punch on).
    pub(crate) fn set_punch(&mut self, from: u64, to: u64) {
        if to > from {
            self.punch_range = Some((from, to));
            self.punch_on = true;
        }
    }
}
