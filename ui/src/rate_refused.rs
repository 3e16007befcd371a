//! A session at a rate the device cannot run (a 44.1 kHz session on an interface fixed at 48 kHz,
//! a JACK server at another rate): the session opens without sound, and a dialog says so, names
//! the rates the device runs at and offers what can be done: a copy of the session converted to
//! one of them (opened in its place), another device, or nothing for now.

use overdub_engine::io::{self, Direction};

use crate::app::{OverdubApp, Page};
use crate::save_copy::Mode;
use crate::widgets::named;

/// The device that refused the session's rate, and the rates it runs at.
pub struct RateRefused {
    device: String,
    rates: Vec<u32>,
}

/// Whether the open session's device is closed because it cannot run the session's rate: which
/// device, and the rates it offers.
pub fn check(app: &OverdubApp) -> Option<RateRefused> {
    if app.live.engine().is_some() || app.is_closed() {
        return None;
    }
    let req = app.live.request();
    let rate = app.live.editor().session().rate;
    let info = io::describe(req.host);
    let device = req
        .output
        .as_ref()
        .and_then(|n| info.find(n, Direction::Output).ok())
        .or_else(|| info.default_device(Direction::Output))?;
    let rates: Vec<u32> = device
        .rates
        .iter()
        .copied()
        .filter(|r| overdub_engine::session::validate::RATES.contains(r))
        .collect();
    (!rates.is_empty() && !rates.contains(&rate)).then(|| RateRefused {
        device: device.name.clone(),
        rates,
    })
}

impl OverdubApp {
    /// The rates the device offers, while the dialog about a refused rate is up.
    pub fn rate_refused(&self) -> Option<Vec<u32>> {
        self.rate_refused.as_ref().map(|r| r.rates.clone())
    }
}

/// The dialog, while it is up.
pub fn show(app: &mut OverdubApp, ctx: &egui::Context) {
    let Some(r) = &app.rate_refused else {
        return;
    };
    let rate = app.live.editor().session().rate;
    let list: Vec<String> = r.rates.iter().map(|r| format!("{r} Hz")).collect();
    let mut convert = None;
    let mut close = false;
    let mut settings = false;
    egui::Window::new("The device cannot run this session's rate")
        .collapsible(false)
        .resizable(false)
        .show(ctx, |ui| {
            ui.label(format!(
                "{} does not run at {rate} Hz, the rate this session was recorded at. It runs \
                 at {}.",
                r.device,
                list.join(", ")
            ));
            ui.label(
                "Make a copy of the session converted to one of those rates (this session stays \
                 as it is), or choose another device.",
            );
            ui.horizontal_wrapped(|ui| {
                for &to in &r.rates {
                    let b = ui.button(format!("Copy at {to} Hz…"));
                    if named(b, egui::Role::Button, &format!("Convert a copy to {to} Hz")).clicked()
                    {
                        convert = Some(to);
                    }
                }
            });
            ui.horizontal(|ui| {
                if ui.button("Choose another device").clicked() {
                    settings = true;
                }
                if ui.button("Not now").clicked() {
                    close = true;
                }
            });
        });
    if let Some(to) = convert {
        app.rate_refused = None;
        app.open_save_copy(Mode::SaveAs, Some(to));
    }
    if settings {
        app.rate_refused = None;
        app.page = Page::Audio;
    }
    if close {
        app.rate_refused = None;
    }
}
