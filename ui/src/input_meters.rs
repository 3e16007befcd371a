//! The settings page's inputs: a live meter per input channel of the open device, whether or not
//! a track listens to it, so finding which input the guitar is on needs no arming; under each,
//! whether it is on and the name the musician gives it.

use std::time::{Duration, Instant};

use egui::{Sense, Vec2};
use overdub_engine::rt::INPUT_METERS;
use overdub_engine::settings::MAX_CHANNEL_NAME;

use crate::app::OverdubApp;
use crate::peak_hold::PeakHold;
use crate::widgets::named;

/// A change to an input's set-up made this frame.
enum Change {
    /// Switched on or off.
    On(bool),
    /// Renamed (the name so far; typing done).
    Name(String, bool),
}

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
    let driver_names = engine.info().input_names.clone();
    let setup = crate::channels::setup(app, false);
    ui.label(
        egui::RichText::new(
            "Name each input after what is plugged into it; the tracks' input pickers show the \
             names. Inputs switched off are not offered to tracks.",
        )
        .weak(),
    );
    let mut changed: Option<(usize, Change)> = None;
    ui.horizontal_wrapped(|ui| {
        for (c, &meter) in app.inputs.0.iter().enumerate() {
            let on = !setup.inputs_off.contains(&(c as u16));
            ui.vertical(|ui| {
                ui.set_width(76.0);
                ui.label(format!("In {}", c + 1));
                // The driver's own name for it, if it gives one.
                let driver = driver_names.get(c).map_or("", String::as_str);
                ui.label(egui::RichText::new(driver).small().weak())
                    .on_hover_text(driver);
                let (rect, resp) = ui.allocate_exact_size(Vec2::new(12.0, 90.0), Sense::hover());
                crate::mixer::draw_meter(ui, rect, meter);
                named(resp, egui::Role::Meter, &format!("Input {} level", c + 1))
                    .on_hover_text(format!("peak {} dBFS", crate::widgets::db(meter.hold)));
                let mut is_on = on;
                let r = ui.checkbox(&mut is_on, "on");
                if named(r, egui::Role::CheckBox, &format!("Input {} on", c + 1)).changed() {
                    changed = Some((c, Change::On(is_on)));
                }
                let mut text = setup.input_names.get(c).cloned().unwrap_or_default();
                let r = ui.add(
                    egui::TextEdit::singleline(&mut text)
                        .hint_text("name it")
                        .char_limit(MAX_CHANNEL_NAME)
                        .desired_width(72.0),
                );
                let r = named(
                    r,
                    egui::Role::TextInput,
                    &format!("Name of input {}", c + 1),
                );
                if r.changed() {
                    changed = Some((c, Change::Name(text, false)));
                } else if r.lost_focus() {
                    changed = Some((c, Change::Name(text, true)));
                }
            });
        }
    });
    if let Some((c, change)) = changed {
        let save = !matches!(change, Change::Name(_, false));
        crate::channels::change(app, false, save, |d| match change {
            Change::On(on) => crate::channels::switch(&mut d.inputs_off, c as u16, on),
            Change::Name(name, _) => {
                if d.input_names.len() <= c {
                    d.input_names.resize(c + 1, String::new());
                }
                d.input_names[c] = crate::channels::fit_name(name);
                while d.input_names.last().is_some_and(String::is_empty) {
                    d.input_names.pop();
                }
            }
        });
    }
    // Keep the meters moving.
    ui.ctx().request_repaint_after(Duration::from_millis(25));
}
