//! The mixer: a panel under the timeline (Mixer in the transport bar) with a channel strip per
//! track (vertical fader in dB, pan, mute, solo, arm, monitoring, a tall meter with peak hold and
//! clip light) and a master strip (fader and a stereo meter of peak and RMS with clip lights).
//! The master's clip light is also in the transport bar. A fader moves the sound while it is
//! dragged and makes one undo step when let go.

use std::sync::atomic::Ordering;
use std::time::Instant;

use egui::{Color32, Rect, Role, Sense, Stroke, Vec2, pos2};
use overdub_engine::session::{Edit, Track};

use crate::app::OverdubApp;
use crate::peak_hold::{self, PeakHold};
use crate::widgets::{Settle, held_value, named, settle};

/// Width of a channel strip, points.
const STRIP: f32 = 92.0;
/// Height of the faders and meters, points.
const FADER: f32 = 150.0;
/// Fader range, dB.
const RANGE: std::ops::RangeInclusive<f32> = -60.0..=12.0;
/// The master meter between frames: left and right, and the RMS level shown on each.
#[derive(Default)]
pub struct MasterHold {
    sides: [PeakHold; 2],
    rms: [f32; 2],
}

impl MasterHold {
    /// Whether either side has clipped since the light was last cleared.
    pub fn clipped(&self) -> bool {
        self.sides.iter().any(|s| s.clipped)
    }

    /// Peak hold, left and right, linear.
    pub fn peaks(&self) -> [f32; 2] {
        [self.sides[0].hold, self.sides[1].hold]
    }

    /// Clear the clip lights.
    pub fn clear(&mut self) {
        for s in &mut self.sides {
            s.clipped = false;
        }
    }
}

/// Take the master meter's new readings (once per frame, whether or not the mixer is shown, so
/// the transport bar's clip light is live).
pub fn update_master(app: &mut OverdubApp) {
    let Some(status) = app.live.status().cloned() else {
        return;
    };
    let now = Instant::now();
    for (side, h) in app.master.sides.iter_mut().enumerate() {
        let m = &status.master.sides[side];
        h.feed(m.peak.take(), m.clipped.swap(false, Ordering::Relaxed), now);
        let rms = status.master.mean_square[side].load().max(0.0).sqrt();
        app.master.rms[side] = rms.max(app.master.rms[side] * 0.9);
    }
}

pub fn show(app: &mut OverdubApp, ui: &mut egui::Ui) {
    egui::ScrollArea::horizontal().show(ui, |ui| {
        ui.horizontal_top(|ui| {
            let tracks = app.live.editor().session().tracks.clone();
            for t in &tracks {
                strip(app, ui, t);
                ui.separator();
            }
            master_strip(app, ui);
        });
    });
}

/// A vertical fader in dB named `name`: it previews while dragged and makes
/// `edit(dB)` when let go (or at once when set otherwise); the value is held under `key`.
fn fader(
    app: &mut OverdubApp,
    ui: &mut egui::Ui,
    (name, key): (&str, &str),
    db: f32,
    edit: impl Fn(f32) -> Edit,
) {
    let mut value = held_value(&app.held, key).unwrap_or(db.max(*RANGE.start()));
    // A vertical slider is as long as the style's slider width says.
    ui.spacing_mut().slider_width = FADER - 4.0;
    let r = ui.add_sized(
        Vec2::new(36.0, FADER),
        egui::Slider::new(&mut value, RANGE)
            .vertical()
            .show_value(false),
    );
    let r = named(r, Role::Slider, name).on_hover_text(format!("{value:.1} dB"));
    match settle(&mut app.held, &r, key, value) {
        Settle::Moving(v) => app.live.preview(&edit(v)),
        Settle::Done(v) => {
            app.edit(edit(v));
        }
        Settle::Idle => {}
    }
}

fn strip(app: &mut OverdubApp, ui: &mut egui::Ui, t: &Track) {
    ui.vertical(|ui| {
        ui.set_width(STRIP);
        ui.label(egui::RichText::new(&t.name).strong());
        let id = t.id;
        let name = t.name.clone();
        ui.horizontal(|ui| {
            for (text, on, label, edit) in [
                ("M", t.mute, "Mute", Edit::SetMute(id, !t.mute)),
                ("S", t.solo, "Solo", Edit::SetSolo(id, !t.solo)),
                ("R", t.armed, "Arm", Edit::SetArmed(id, !t.armed)),
            ] {
                let b = ui.add(egui::Button::new(text).small().selected(on));
                if named(b, Role::Button, &format!("Mixer {label} {name}")).clicked() {
                    app.edit(edit);
                }
            }
        });
        ui.horizontal_top(|ui| {
            let fader_name = format!("Fader {name}");
            let key = crate::tracks::gain_key(id);
            fader(app, ui, (&fader_name, &key), t.gain_db, |db| {
                Edit::SetGain(id, db)
            });
            let (rect, _) = ui.allocate_exact_size(Vec2::new(14.0, FADER), Sense::hover());
            crate::tracks::meter(app, ui, id, rect);
            ui.label(format!("{:.1}", t.gain_db));
        });
        let mut pan = t.pan;
        let p = ui.add(
            egui::Slider::new(&mut pan, -1.0..=1.0)
                .show_value(false)
                .text("Pan"),
        );
        if named(p, Role::Slider, &format!("Mixer pan {name}")).changed() {
            app.edit(Edit::SetPan(id, pan));
        }
    });
}

fn master_strip(app: &mut OverdubApp, ui: &mut egui::Ui) {
    ui.vertical(|ui| {
        ui.set_width(STRIP + 30.0);
        let db = app.live.editor().session().master_gain_db;
        ui.label(egui::RichText::new("Master").strong());
        ui.horizontal_top(|ui| {
            fader(
                app,
                ui,
                ("Master fader", "master gain"),
                db,
                Edit::SetMasterGain,
            );
            for side in 0..2 {
                let meter = app.master.sides[side];
                let (rect, resp) = ui.allocate_exact_size(Vec2::new(12.0, FADER), Sense::click());
                draw_meter(ui, rect, meter);
                // RMS as a white tick.
                let y = level_y(rect, app.master.rms[side]);
                ui.painter().line_segment(
                    [pos2(rect.left(), y), pos2(rect.right(), y)],
                    Stroke::new(2.0, Color32::WHITE),
                );
                if resp.clicked() {
                    app.master.clear();
                }
                let resp = named(
                    resp,
                    Role::Meter,
                    if side == 0 {
                        "Master left"
                    } else {
                        "Master right"
                    },
                );
                resp.on_hover_text(format!(
                    "peak {} dBFS, RMS {} dBFS (click to clear the clip light)",
                    crate::widgets::db(meter.hold),
                    crate::widgets::db(app.master.rms[side])
                ));
            }
        });
    });
}

/// Where a level sits on a vertical meter, -60..+6 dBFS.
fn level_y(rect: Rect, level: f32) -> f32 {
    rect.bottom() - rect.height() * peak_hold::fraction(level)
}

/// A vertical meter: the falling level, the peak hold line, and a clip light on top.
pub fn draw_meter(ui: &egui::Ui, rect: Rect, m: PeakHold) {
    let p = ui.painter();
    p.rect_filled(rect, 2.0, Color32::from_gray(25));
    let top = level_y(rect, m.level);
    p.rect_filled(
        Rect::from_min_max(pos2(rect.left(), top), rect.max),
        2.0,
        peak_hold::colour(m.level),
    );
    let hy = level_y(rect, m.hold);
    p.line_segment(
        [pos2(rect.left(), hy), pos2(rect.right(), hy)],
        Stroke::new(1.5, Color32::from_gray(220)),
    );
    let light = Rect::from_min_size(rect.min, Vec2::new(rect.width(), 6.0));
    p.rect_filled(
        light,
        1.0,
        if m.clipped {
            Color32::RED
        } else {
            Color32::from_gray(50)
        },
    );
}
