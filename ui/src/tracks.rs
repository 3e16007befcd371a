//! The track list beside the timeline: name, arm, input, monitor mode, mute, solo, gain, pan and
//! a peak meter with hold and clip indicator; add and remove tracks.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Instant;

use egui::{Color32, Rect, Role, Sense, Vec2};
use overdub_engine::rt::MonitorMode;
use overdub_engine::session::{Edit, Track};

use crate::app::OverdubApp;
use crate::peak_hold::PeakHold;
use crate::take_lanes::Takes;
use crate::timeline::{self, LANE_HEIGHT, RULER_HEIGHT};
use crate::widgets::{Settle, held_value, named, settle};

/// Width of the track header column, points.
pub const HEADER_WIDTH: f32 = 356.0;
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
                    header(app, ui, (i, &tops), t, takes.height);
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

/// Track `index`'s header, `height` points tall; `tops`: where each track's row starts. One
/// row of buttons (name, arm, monitoring, mute, solo), then the input and gain, then the pan, as
/// far as the height allows; a tall meter down the right edge; the bottom edge drags the height.
fn header(
    app: &mut OverdubApp,
    ui: &mut egui::Ui,
    (index, tops): (usize, &[f32]),
    t: &Track,
    height: f32,
) {
    let (rect, _) = ui.allocate_exact_size(Vec2::new(HEADER_WIDTH, height), Sense::hover());
    // Scrolled out of sight: its space is kept, its widgets cost nothing.
    if !ui.is_rect_visible(rect) {
        return;
    }
    ui.painter()
        .rect_filled(rect.shrink(1.0), 3.0, ui.visuals().faint_bg_color);
    crate::track_colour::handle(app, ui, rect, (index, tops), t);
    let meter_rect = Rect::from_min_max(
        egui::pos2(rect.right() - 14.0, rect.top() + 4.0),
        egui::pos2(rect.right() - 5.0, rect.bottom() - 4.0),
    );
    meter(app, ui, t.id, meter_rect);
    let mut inner = rect.shrink(4.0);
    inner.min.x += 8.0;
    inner.max.x = meter_rect.left() - 4.0;
    let rows = inner.height();
    let mut child = ui.new_child(egui::UiBuilder::new().max_rect(inner));
    let ui = &mut child;
    ui.spacing_mut().item_spacing.y = 4.0;
    buttons(app, ui, index, t);
    if rows >= ROW * 2.0 {
        input_and_gain(app, ui, t);
    }
    if rows >= ROW * 3.0 {
        pan(app, ui, t);
    }
    resize_edge(app, ui, rect, t);
}

/// Height of one row of controls in the header, with the gap under it, points.
const ROW: f32 = 21.0;
/// The lowest a track can be made (its row of buttons only) and the highest, points.
pub const MIN_HEIGHT: f32 = 30.0;
pub const MAX_HEIGHT: f32 = 300.0;

/// Height of a track's lane, points (as dragged, or the default).
pub fn height(app: &OverdubApp, id: u32) -> f32 {
    app.heights.get(&id).copied().unwrap_or(LANE_HEIGHT)
}

/// The header's bottom edge: drag it to make the track taller or lower; double-click for the
/// default height.
fn resize_edge(app: &mut OverdubApp, ui: &mut egui::Ui, rect: Rect, t: &Track) {
    let edge = Rect::from_min_max(
        egui::pos2(rect.left() + 10.0, rect.bottom() - 3.0),
        rect.right_bottom(),
    );
    let r = ui.interact(
        edge,
        ui.scope_id().with(("height", t.id)),
        Sense::click_and_drag(),
    );
    let r = named(r, Role::Button, &format!("Height of {}", t.name))
        .on_hover_text("Drag to change the track's height; double-click for the default");
    if r.hovered() || r.dragged() {
        ui.ctx().set_cursor_icon(egui::CursorIcon::ResizeVertical);
    }
    if r.dragged() {
        let h = (height(app, t.id) + r.drag_delta().y).clamp(MIN_HEIGHT, MAX_HEIGHT);
        app.heights.insert(t.id, h);
    }
    if r.double_clicked() {
        app.heights.remove(&t.id);
    }
}

/// Name, arm, monitoring, mute, solo, remove.
fn buttons(app: &mut OverdubApp, ui: &mut egui::Ui, index: usize, t: &Track) {
    let (id, name) = (t.id, t.name.clone());
    ui.horizontal(|ui| {
        let mut text = t.name.clone();
        let r = ui.add(
            egui::TextEdit::singleline(&mut text)
                .desired_width(96.0)
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
        let mut monitor = t.monitor;
        let combo = egui::ComboBox::from_id_salt(("monitor", id))
            .width(62.0)
            .selected_text(match monitor {
                MonitorMode::Off => "Mon off",
                MonitorMode::Auto => "Mon auto",
                MonitorMode::Input => "Mon in",
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
}

/// "In" and the input picker (by channel name), "Gain" and its fader.
fn input_and_gain(app: &mut OverdubApp, ui: &mut egui::Ui, t: &Track) {
    let (id, name) = (t.id, t.name.clone());
    ui.horizontal(|ui| {
        ui.label("In");
        let names = crate::channels::names(app);
        let choices = crate::channels::choices(app, t.channels);
        let mut input = t.input;
        let label = |i: u16| crate::channels::label(&names, i, t.channels);
        // A long name is cut to the picker's width (whole in its list and on hover).
        let size = Vec2::new(112.0, ui.spacing().interact_size.y);
        let layout = egui::Layout::left_to_right(egui::Align::Center);
        let combo = ui
            .allocate_ui_with_layout(size, layout, |ui| {
                egui::ComboBox::from_id_salt(("input", id))
                    .width(112.0)
                    .truncate()
                    .selected_text(label(input))
                    .show_ui(ui, |ui| {
                        for i in choices {
                            ui.selectable_value(&mut input, i, label(i));
                        }
                    })
                    .response
            })
            .inner;
        named(combo, Role::ComboBox, &format!("Input of {name}")).on_hover_text(label(t.input));
        if input != t.input {
            app.edit(Edit::SetInput(id, input));
        }
        ui.label("Gain");
        let key = gain_key(id);
        let mut gain = held_value(&app.held, &key).unwrap_or(t.gain_db);
        ui.spacing_mut().slider_width = 70.0;
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
}

/// "Pan" and its slider, shown as L50 … C … R50.
fn pan(app: &mut OverdubApp, ui: &mut egui::Ui, t: &Track) {
    ui.horizontal(|ui| {
        ui.label("Pan");
        let mut pan = t.pan;
        ui.spacing_mut().slider_width = 150.0;
        let p = ui.add(
            egui::Slider::new(&mut pan, -1.0..=1.0)
                .custom_formatter(|v, _| match (v * 100.0).round() as i32 {
                    0 => "C".into(),
                    n if n < 0 => format!("L{}", -n),
                    n => format!("R{n}"),
                })
                .custom_parser(parse_pan),
        );
        if named(p, Role::Slider, &format!("Pan {}", t.name)).changed() {
            app.edit(Edit::SetPan(t.id, pan));
        }
    });
}

/// A pan as typed: "C", "L30", "R100", or a number from -1 to 1.
fn parse_pan(text: &str) -> Option<f64> {
    let t = text.trim().to_ascii_uppercase();
    let v = match t.as_str() {
        "C" | "" => 0.0,
        _ => match (t.strip_prefix('L'), t.strip_prefix('R')) {
            (Some(n), _) => -n.trim().parse::<f64>().ok()? / 100.0,
            (_, Some(n)) => n.trim().parse::<f64>().ok()? / 100.0,
            _ => t.parse::<f64>().ok()?,
        },
    };
    Some(v.clamp(-1.0, 1.0))
}

/// Take every track meter's new reading, once a frame, whether or not its header or mixer strip
/// is on screen: both show what this keeps.
pub fn update_meters(app: &mut OverdubApp) {
    let now = Instant::now();
    for t in &app.live.editor().session().tracks {
        let (peak, clipped) = app.live.meter(t.id).map_or((0.0, false), |m| {
            (m.peak.take(), m.clipped.load(Ordering::Relaxed))
        });
        app.meters
            .0
            .entry(t.id)
            .or_default()
            .feed(peak, clipped, now);
    }
}

/// Track `id`'s meter in `rect` (the header's and the mixer strip's): a vertical peak meter,
/// -60..+6 dBFS, with a 1.5 s hold and a clip light on top (click to clear it).
pub fn meter(app: &mut OverdubApp, ui: &mut egui::Ui, id: u32, rect: Rect) {
    let resp = ui.interact(rect, ui.scope_id().with(("meter", id)), Sense::click());
    if resp.clicked() {
        app.meters.clear(id);
        if let Some(m) = app.live.meter(id) {
            m.clipped.store(false, Ordering::Relaxed);
        }
    }
    let e = app.meters.reading(id);
    crate::mixer::draw_meter(ui, rect, e);
    resp.on_hover_text(format!(
        "peak {} dBFS (click to clear the clip light)",
        crate::widgets::db(e.hold)
    ));
}

#[cfg(test)]
mod tests {
    use super::parse_pan;

    #[test]
    fn a_pan_is_typed_as_it_is_shown_or_as_a_number() {
        assert_eq!(parse_pan("C"), Some(0.0));
        assert_eq!(parse_pan("l30"), Some(-0.3));
        assert_eq!(parse_pan("R100"), Some(1.0));
        assert_eq!(parse_pan("R250"), Some(1.0), "held to the range");
        assert_eq!(parse_pan("-0.5"), Some(-0.5));
        assert_eq!(parse_pan("left"), None);
    }
}
