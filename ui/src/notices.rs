//! Notices: what the engine reports (a device lost or back, a disk filling or falling behind, a
//! save that failed) and bursts of xruns stay listed until read, behind a button in the status
//! bar that shows how many are unread; short messages of the window's own pass through the
//! status bar and go.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::app::OverdubApp;
use crate::widgets::{clock, named};

/// Xruns within this long of the last one belong to the same burst (one notice).
const BURST: Duration = Duration::from_secs(2);

/// One notice.
pub struct Notice {
    /// The text.
    pub text: String,
    /// Read by the user.
    pub read: bool,
}

/// The notices, and the xrun count seen so far.
#[derive(Default)]
pub struct Notices {
    list: Vec<Notice>,
    open: bool,
    xruns_seen: Option<u64>,
    /// The notice of the xrun burst under way: its index, the xruns in it, when the last came.
    burst: Option<(usize, u64, Instant)>,
}

impl Notices {
    /// Add a notice.
    pub fn push(&mut self, text: String) {
        self.list.push(Notice { text, read: false });
    }

    /// The notices not yet read.
    pub fn unread(&self) -> Vec<&str> {
        self.list
            .iter()
            .filter(|n| !n.read)
            .map(|n| n.text.as_str())
            .collect()
    }
}

/// Turn new xruns into a notice (one per burst, its count kept up to date).
pub fn watch_xruns(app: &mut OverdubApp) {
    let Some(status) = app.live.status() else {
        return;
    };
    let xruns = status.xruns.load(Ordering::Relaxed);
    let rate = app.live.editor().session().rate;
    let position = app.live.position();
    let n = &mut app.notices;
    let seen = n.xruns_seen.replace(xruns).unwrap_or(xruns);
    // A new stream counts from zero again.
    let new = xruns.saturating_sub(seen);
    if new == 0 {
        return;
    }
    let now = Instant::now();
    let text = |count: u64| {
        format!(
            "{count} xrun(s) (dropouts) around {}: a larger buffer size may help (Audio settings)",
            clock(position, rate)
        )
    };
    match n.burst {
        Some((i, count, last)) if now.duration_since(last) < BURST && i < n.list.len() => {
            n.list[i].text = text(count + new);
            n.list[i].read = false;
            n.burst = Some((i, count + new, now));
        }
        _ => {
            n.push(text(new));
            n.burst = Some((n.list.len() - 1, new, now));
        }
    }
}

/// The status bar's button: how many notices are unread (nothing when none are).
pub fn button(app: &mut OverdubApp, ui: &mut egui::Ui) {
    let unread = app.notices.unread().len();
    if unread == 0 && !app.notices.open {
        return;
    }
    let text = egui::RichText::new(format!("{unread} notice(s)"))
        .color(egui::Color32::from_rgb(250, 200, 90));
    if named(ui.button(text), egui::Role::Button, "Notices").clicked() {
        app.notices.open = !app.notices.open;
    }
}

/// The notices window, while open.
pub fn window(app: &mut OverdubApp, ctx: &egui::Context) {
    if !app.notices.open {
        return;
    }
    let mut open = true;
    egui::Window::new("Notices")
        .open(&mut open)
        .collapsible(false)
        .show(ctx, |ui| {
            for n in &app.notices.list {
                let text = egui::RichText::new(&n.text);
                ui.label(if n.read { text.weak() } else { text });
            }
            ui.horizontal(|ui| {
                if ui.button("Mark read").clicked() {
                    for n in &mut app.notices.list {
                        n.read = true;
                    }
                }
                if ui.button("Clear").clicked() {
                    app.notices.list.clear();
                    app.notices.burst = None;
                }
            });
        });
    app.notices.open = open;
}
