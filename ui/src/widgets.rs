//! Small helpers shared by the views.

use egui::{Response, Role, WidgetInfo};

/// Give a compact widget (a "M" button) a full accessible name ("Mute Vocal"), which screen
/// readers and the UI tests use.
pub fn named(resp: Response, kind: Role, name: &str) -> Response {
    let enabled = resp.enabled();
    resp.widget_info(|| WidgetInfo::labeled(kind, enabled, name));
    resp
}

/// Frames as `m:ss.mmm`.
pub fn clock(frames: u64, rate: u32) -> String {
    let s = frames as f64 / f64::from(rate.max(1));
    format!("{}:{:06.3}", (s / 60.0) as u64, s % 60.0)
}

/// Frames as bars|beats|ticks (1-based bars and beats, thousandths of a beat) on a grid.
pub fn bars_beats(frames: u64, grid: &overdub_engine::session::Grid) -> String {
    let (bar, beat, ticks) = grid.bar_beat(frames);
    format!("{bar}|{beat}|{ticks:03}")
}

/// A linear level as dBFS text.
pub fn db(level: f32) -> String {
    if level <= 1e-6 {
        "-inf".into()
    } else {
        format!("{:.1}", 20.0 * level.log10())
    }
}
