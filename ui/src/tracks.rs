//! The track list beside the timeline: name, arm, input, monitor mode, mute, solo, gain, pan and
//! a peak meter with hold and clip indicator; add and remove tracks.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Instant;

use egui::{Color32, Rect, Role, Sense, Stroke, Vec2};
use overdub_engine::rt::MonitorMode;
use overdub_engine::session::{Edit, Track};

use crate::app::OverdubApp;
use crate::peak_hold::{self, PeakHold};
use crate::take_lanes::Takes;
use crate::timeline::{self, LANE_HEIGHT, RULER_HEIGHT};
use crate::widgets::{Settle, held_value, named, settle};

/// Width of the track header column, points.
pub const HEADER_WIDTH: f32 = 340.0;
/// What a track's gain is held under while one of its faders is dragged (the header's or the
/// mixer's: the same value).
pub fn gain_key(id: u32) -> String {
    format!("gain {id}")
}

/// Each track's meter between frames.
#[derive(Default)]
pub struct MeterHolds(HashMap<u32, PeakHold>);

impl MeterHolds {
    /// A track's meter as last read.
    pub fn reading(&self, id: u32) -> PeakHold {
        self.0.get(&id).copied().unwrap_or_default()
    }

    /// Clear a track's clip light.
    pub fn clear(&mut self, id: u32) {
        if let Some(e) = self.0.get_mut(&id) {
            e.clipped = false;
        }
    }
}

pub fn show(app: &mut OverdubApp, ui: &mut egui::Ui) {
    // Each track's takes and the rows they make, worked out once a frame for both columns.
    let tracks = app.live.editor().session().tracks.clone();
    let takes: Vec<Takes> = tracks.iter().map(|t| Takes::of(app, t)).collect();
    let tops = timeline::row_tops(&takes);
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_width(HEADER_WIDTH);
                // Rows line up with the timeline's to the point: no gap between them.
                ui.spacing_mut().item_spacing.y = 0.0;
                ui.allocate_space(Vec2::new(HEADER_WIDTH, RULER_HEIGHT));
                for (i, (t, takes)) in tracks.iter().zip(&takes).enumerate() {
                    header(app, ui, (i, &tops), t);
                    crate::take_lanes::headers(app, ui, HEADER_WIDTH, t, takes);
                }
                ui.spacing_mut().item_spacing.y = 4.0;
                ui.horizontal(|ui| {
                    if ui.button("+ Mono track").clicked() {
                        app.edit(Edit::AddTrack {
                            name: None,
                            channels: 1,
                        });
                    }
                    if ui.button("+ Stereo track").clicked() {
                        app.edit(Edit::AddTrack {
                            name: None,
                            channels: 2,
                        });
                    }
                });
            });
            timeline::show(app, ui, &takes, &tops);
        });
    });
}

/// Track `index`'s header; `tops`: where each track's row starts.
fn header(app: &mut OverdubApp, ui: &mut egui::Ui, (index, tops): (usize, &[f32]), t: &Track) {
    let (rect, _) = ui.allocate_exact_size(Vec2::new(HEADER_WIDTH, LANE_HEIGHT), Sense::hover());
    ui.painter()
        .rect_filled(rect.shrink(1.0), 3.0, ui.visuals().faint_bg_color);
    crate::track_colour::handle(app, ui, rect, (index, tops), t);
    let mut inner = rect.shrink(4.0);
    inner.min.x += 8.0;
    let mut child = ui.new_child(egui::UiBuilder::new().max_rect(inner));
    let ui = &mut child;
    ui.spacing_mut().item_spacing.y = 4.0;
    let id = t.id;
    let name = t.name.clone();
    ui.horizontal(|ui| {
        let mut text = t.name.clone();
        let r = ui.add(
            egui::TextEdit::singleline(&mut text)
                .desired_width(110.0)
                .id_salt(("name", id)),
        );
        let r = named(r, Role::TextInput, &format!("Name of track {}", index + 1));
        if r.lost_focus() && text != t.name && !text.trim().is_empty() {
            app.edit(Edit::RenameTrack(id, text));
        }
        let arm = egui::Button::new("R").selected(t.armed).fill(if t.armed {
            Color32::from_rgb(190, 40, 40)
        } else {
            ui.visuals().widgets.inactive.weak_bg_fill
        });
        if named(ui.add(arm), Role::Button, &format!("Arm {name}"))
            .on_hover_text("Arm for recording")
            .clicked()
        {
            app.edit(Edit::SetArmed(id, !t.armed));
        }
        if named(
            ui.add(egui::Button::new("M").selected(t.mute)),
            Role::Button,
            &format!("Mute {name}"),
        )
        .clicked()
        {
            app.edit(Edit::SetMute(id, !t.mute));
        }
        if named(
            ui.add(egui::Button::new("S").selected(t.solo)),
            Role::Button,
            &format!("Solo {name}"),
        )
        .clicked()
        {
            app.edit(Edit::SetSolo(id, !t.solo));
        }
        let mut monitor = t.monitor;
        let combo = egui::ComboBox::from_id_salt(("monitor", id))
            .width(56.0)
            .selected_text(match monitor {
                MonitorMode::Off => "Off",
                MonitorMode::Auto => "Auto",
                MonitorMode::Input => "In",
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut monitor, MonitorMode::Off, "Off (disk only)");
                ui.selectable_value(&mut monitor, MonitorMode::Auto, "Auto (input while armed)");
                ui.selectable_value(&mut monitor, MonitorMode::Input, "Input (always)");
            })
            .response;
        named(combo, Role::ComboBox, &format!("Monitoring of {name}"))
            .on_hover_text("Input monitoring");
        if monitor != t.monitor {
            app.edit(Edit::SetMonitor(id, monitor));
        }
        if named(
            ui.small_button("x"),
            Role::Button,
            &format!("Remove {name}"),
        )
        .on_hover_text("Remove the track (its files stay)")
        .clicked()
        {
            app.edit(Edit::RemoveTrack(id));
        }
    });
    ui.horizontal(|ui| {
        let inputs = app.live.engine().map_or(8, |e| e.info().in_channels.max(1));
        let mut input = t.input;
        let label = |i: u16| {
            if t.channels == 2 {
                format!("In {}-{}", i + 1, i + 2)
            } else {
                format!("In {}", i + 1)
            }
        };
        let combo = egui::ComboBox::from_id_salt(("input", id))
            .width(64.0)
            .selected_text(label(input))
            .show_ui(ui, |ui| {
                for i in 0..inputs as u16 {
                    ui.selectable_value(&mut input, i, label(i));
                }
            })
            .response;
        named(combo, Role::ComboBox, &format!("Input of {name}"));
        if input != t.input {
            app.edit(Edit::SetInput(id, input));
        }
        let key = gain_key(id);
        let mut gain = held_value(&app.held, &key).unwrap_or(t.gain_db);
        let g = ui.add(
            egui::Slider::new(&mut gain, -60.0..=12.0)
                .suffix(" dB")
                .fixed_decimals(1),
        );
        let g = named(g, Role::Slider, &format!("Gain {name}"));
        // While dragging, the fader moves the sound live; one undo step when it is let go.
        match settle(&mut app.held, &g, &key, gain) {
            Settle::Moving(db) => app.live.preview(&Edit::SetGain(id, db)),
            Settle::Done(db) => {
                app.edit(Edit::SetGain(id, db));
            }
            Settle::Idle => {}
        }
    });
    ui.horizontal(|ui| {
        let mut pan = t.pan;
        let p = ui.add(
            egui::Slider::new(&mut pan, -1.0..=1.0)
                .fixed_decimals(2)
                .text("Pan"),
        );
        if named(p, Role::Slider, &format!("Pan {name}")).changed() {
            app.edit(Edit::SetPan(id, pan));
        }
        meter(app, ui, id);
    });
}

/// A horizontal peak meter, -60..+6 dBFS, with a 1.5 s hold and a clip light.
fn meter(app: &mut OverdubApp, ui: &mut egui::Ui, id: u32) {
    let (rect, resp) = ui.allocate_exact_size(Vec2::new(110.0, 10.0), Sense::click());
    let now = Instant::now();
    let (peak, clipped) = app.live.meter(id).map_or((0.0, false), |m| {
        (m.peak.take(), m.clipped.load(Ordering::Relaxed))
    });
    let e = app.meters.0.entry(id).or_default();
    e.feed(peak, clipped, now);
    if resp.clicked() {
        e.clipped = false;
        if let Some(m) = app.live.meter(id) {
            m.clipped.store(false, Ordering::Relaxed);
        }
    }
    let e = *e;
    let x = |level: f32| rect.left() + rect.width() * peak_hold::fraction(level);
    let p = ui.painter();
    p.rect_filled(rect, 2.0, Color32::from_gray(25));
    let level = Rect::from_min_max(rect.min, egui::pos2(x(e.level), rect.max.y));
    p.rect_filled(level, 2.0, peak_hold::colour(e.level));
    let hx = x(e.hold);
    p.line_segment(
        [egui::pos2(hx, rect.top()), egui::pos2(hx, rect.bottom())],
        Stroke::new(1.5, Color32::WHITE),
    );
    let light = Rect::from_min_size(
        egui::pos2(rect.right() - 6.0, rect.top()),
        Vec2::new(6.0, rect.height()),
    );
    p.rect_filled(
        light,
        1.0,
        if e.clipped {
            Color32::RED
        } else {
            Color32::from_gray(50)
        },
    );
    resp.on_hover_text(format!(
        "peak {} dBFS (click to clear the clip light)",
        crate::widgets::db(e.hold)
    ));
}
