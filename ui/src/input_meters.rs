//! The settings page's input meters: a live meter per input channel of the open device, whether
//! or not a track listens to it, so finding which input the guitar is on needs no arming.

use std::time::{Duration, Instant};

use egui::{Sense, Vec2};
use overdub_engine::rt::INPUT_METERS;

use crate::app::OverdubApp;
use crate::peak_hold::PeakHold;
use crate::widgets::named;

/// Each input's meter between frames.
#[derive(Default)]
pub struct InputLevels(Vec<PeakHold>);

impl InputLevels {
    /// The falling level of each input shown, linear.
    pub fn levels(&self) -> Vec<f32> {
        self.0.iter().map(|l| l.level).collect()
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
    levels.resize(channels, PeakHold::default());
    for (c, l) in levels.iter_mut().enumerate() {
        let peak = status.inputs[c].take();
        l.feed(peak, false, now);
        // No clip light to clear here: it shows while the level is at full scale.
        l.clipped = l.level >= 1.0;
    }
    ui.horizontal_wrapped(|ui| {
        for (c, &meter) in app.inputs.0.iter().enumerate() {
            ui.vertical(|ui| {
                ui.label(format!("In {}", c + 1));
                let (rect, resp) = ui.allocate_exact_size(Vec2::new(12.0, 90.0), Sense::hover());
                crate::mixer::draw_meter(ui, rect, meter);
                named(resp, egui::Role::Meter, &format!("Input {} level", c + 1))
                    .on_hover_text(format!("peak {} dBFS", crate::widgets::db(meter.hold)));
            });
        }
    });
    // Keep the meters moving.
    ui.ctx().request_repaint_after(Duration::from_millis(25));
}
