//! The settings page's input meters: a live meter per input channel of the open device, whether
//! or not a track listens to it, so finding which input the guitar is on needs no arming.

use std::time::{Duration, Instant};

use egui::{Color32, Rect, Sense, Stroke, Vec2, pos2};
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
    let channels = (engine.info().in_channels as usize).min(INPUT_METERS);
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
                draw(ui, rect, level, hold);
                named(resp, egui::Role::Meter, &format!("Input {} level", c + 1))
                    .on_hover_text(format!("peak {} dBFS", crate::widgets::db(hold)));
            });
        }
    });
    // Keep the meters moving.
    ui.ctx().request_repaint_after(Duration::from_millis(25));
}

/// A vertical meter, -60..+6 dBFS, with a peak hold line.
fn draw(ui: &egui::Ui, rect: Rect, level: f32, hold: f32) {
    let y = |v: f32| {
        let db = if v > 1e-6 { 20.0 * v.log10() } else { -60.0 };
        rect.bottom() - rect.height() * ((db.clamp(-60.0, 6.0) + 60.0) / 66.0)
    };
    let p = ui.painter();
    p.rect_filled(rect, 2.0, Color32::from_gray(25));
    let colour = if level >= 1.0 {
        Color32::from_rgb(230, 60, 60)
    } else if level > 0.5 {
        Color32::from_rgb(220, 200, 60)
    } else {
        Color32::from_rgb(80, 200, 100)
    };
    p.rect_filled(
        Rect::from_min_max(pos2(rect.left(), y(level)), rect.max),
        2.0,
        colour,
    );
    let hy = y(hold);
    p.line_segment(
        [pos2(rect.left(), hy), pos2(rect.right(), hy)],
        Stroke::new(1.5, Color32::from_gray(220)),
    );
}
