//! The settings page's input meters: a live meter per input channel of the open device, whether
//! or not a track listens to it, so finding which input the guitar is on needs no arming.

use std::time::{Duration, Instant};

use egui::{Sense, Vec2};
use overdub_engine::rt::INPUT_METERS;

use crate::app::OverdubApp;
use crate::widgets::named;

/// How long a peak hold stays.
const HOLD: Duration = Duration::from_millis(1500);

/// Each input's falling level and peak hold between frames.
#[derive(Default)]
pub struct InputLevels(Vec<(f32, f32, Option<Instant>)>);

impl InputLevels {
    /// The falling level of each input shown, linear.
    pub fn levels(&self) -> Vec<f32> {
        self.0.iter().map(|l| l.0).collect()
    }
}

pub fn show(app: &mut OverdubApp, ui: &mut egui::Ui) {
    let Some(engine) = app.live.engine() else {
        return;
    };
    let channels = engine.info().in_channels.min(INPUT_METERS);
    let status = engine.status().clone();
    ui.heading("Inputs");
    if channels == 0 {
        ui.label("The device has no inputs.");
        return;
    }
    let now = Instant::now();
    let levels = &mut app.inputs.0;
    levels.resize(channels, (0.0, 0.0, None));
    for (c, l) in levels.iter_mut().enumerate() {
        let peak = status.inputs[c].take();
        l.0 = peak.max(l.0 * 0.85);
        if peak >= l.1 || l.2.is_none_or(|t| now.duration_since(t) > HOLD) {
            l.1 = peak;
            l.2 = Some(now);
        }
    }
    ui.horizontal_wrapped(|ui| {
        for (c, &(level, hold, _)) in app.inputs.0.iter().enumerate() {
            ui.vertical(|ui| {
                ui.label(format!("In {}", c + 1));
                let (rect, resp) = ui.allocate_exact_size(Vec2::new(12.0, 90.0), Sense::hover());
                crate::mixer::draw_meter(ui, rect, level, hold, level >= 1.0);
                named(resp, egui::Role::Meter, &format!("Input {} level", c + 1))
                    .on_hover_text(format!("peak {} dBFS", crate::widgets::db(hold)));
            });
        }
    });
    // Keep the meters moving.
    ui.ctx().request_repaint_after(Duration::from_millis(25));
}
