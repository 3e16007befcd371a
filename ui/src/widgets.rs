//! Small helpers shared by the views.

use egui::{Response, Role, WidgetInfo};

/// Give a compact widget (a "M" button) a full accessible name ("Mute Vocal"), which screen
/// readers and the UI tests use.
pub fn named(resp: Response, kind: Role, name: &str) -> Response {
    let enabled = resp.enabled();
    resp.widget_info(|| WidgetInfo::labeled(kind, enabled, name));
    resp
}

/// The job in `slot`, taken out once its thread (`handle` of it) has finished; None while it
/// runs, or when there is none. The window's background jobs (import, export, measurement,
/// tuning, copies) end this way.
pub fn take_finished<J, T>(
    slot: &mut Option<J>,
    handle: impl Fn(&J) -> &std::thread::JoinHandle<T>,
) -> Option<J> {
    if slot.as_ref().is_some_and(|j| handle(j).is_finished()) {
        slot.take()
    } else {
        None
    }
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

/// A value a widget is being dragged through, held until it is let go: what it belongs to and
/// the value so far. One for the whole window: only one drag runs at a time.
pub type Held = Option<(String, f32)>;

/// What a value field (slider, fader, drag value) asks for this frame.
pub enum Settle {
    /// Nothing.
    Idle,
    /// Being dragged through this value: show it (and let it be heard), but no edit yet.
    Moving(f32),
    /// Let go at (or typed) this value: one edit.
    Done(f32),
}

/// Read a value field named `key` showing `value`: while it is dragged the value is kept in
/// `held` (no edit); it is handed back to be applied when the drag ends, or at once when set
/// any other way.
pub fn settle(held: &mut Held, r: &Response, key: &str, value: f32) -> Settle {
    if r.dragged() {
        if !r.changed() {
            return Settle::Idle;
        }
        *held = Some((key.to_string(), value));
        return Settle::Moving(value);
    }
    if r.drag_stopped() {
        return match held.take() {
            Some((k, v)) if k == key => Settle::Done(v),
            other => {
                *held = other;
                Settle::Idle
            }
        };
    }
    if r.changed() {
        Settle::Done(value)
    } else {
        Settle::Idle
    }
}

/// The value held for `key`, while it is being dragged.
pub fn held_value(held: &Held, key: &str) -> Option<f32> {
    held.as_ref().filter(|(k, _)| k == key).map(|(_, v)| *v)
}
