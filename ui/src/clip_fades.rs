//! Clip fades and clip gain on the timeline: each clip shows its fade-in and fade-out as lines
//! from its bottom corners, with a handle at the end of each fade to drag it longer or shorter
//! (one undo step when let go); its right-click menu sets its gain in dB and the session's fade
//! length (the crossfade of comps and punches, and the fade a trim puts on the edge it moves).

use egui::{Color32, Rect, Sense, Stroke, Vec2, pos2};
use overdub_engine::session::{Clip, Edit};

use crate::app::OverdubApp;
use crate::widgets::{Settle, held_value, named, settle};

/// Side of a fade handle, points.
const HANDLE: f32 = 8.0;

/// A fade handle being dragged: clip id, which end (true: fade-in), frames of fade so far.
pub type FadeDrag = (u32, bool, u64);

/// Draw `clip`'s fades inside `r` (its whole rectangle on the timeline `rect`) and handle their
/// handles.
pub fn show(
    app: &mut OverdubApp,
    ui: &mut egui::Ui,
    rect: Rect,
    r: Rect,
    clip: &Clip,
    track: &str,
) {
    let (scroll, per_px) = (app.view.scroll, app.view.frames_per_px);
    let x = |f: u64| rect.left() + ((f as f64 - scroll) / per_px) as f32;
    let dragging = app.view.fade_drag.filter(|d| d.0 == clip.id);
    let fade_in = dragging.filter(|d| d.1).map_or(clip.fade_in, |d| d.2);
    let fade_out = dragging.filter(|d| !d.1).map_or(clip.fade_out, |d| d.2);
    let painter = ui.painter_at(rect);
    let line = Stroke::new(1.5, Color32::from_rgb(250, 220, 120));
    let (xi, xo) = (x(clip.position + fade_in), x(clip.end() - fade_out));
    if fade_in > 0 {
        painter.line_segment([r.left_bottom(), pos2(xi, r.top())], line);
    }
    if fade_out > 0 {
        painter.line_segment([pos2(xo, r.top()), r.right_bottom()], line);
    }
    // No handles on a clip too narrow to hold both apart from its edges.
    if r.width() < 4.0 * HANDLE {
        return;
    }
    for fade_is_in in [true, false] {
        let hx = if fade_is_in {
            xi.max(r.left() + HANDLE / 2.0)
        } else {
            xo.min(r.right() - HANDLE / 2.0)
        };
        let handle = Rect::from_center_size(pos2(hx, r.top() + HANDLE / 2.0), Vec2::splat(HANDLE));
        if !rect.contains_rect(handle) {
            continue;
        }
        let id = ui.scope_id().with(("fade", clip.id, fade_is_in));
        let what = if fade_is_in { "Fade-in" } else { "Fade-out" };
        let h = ui.interact(handle, id, Sense::drag());
        let h = named(
            h,
            egui::Role::Slider,
            &format!("{what} of {} on {track}", clip.file),
        )
        .on_hover_text(format!("{what}: drag to lengthen or shorten"));
        if h.hovered() || h.dragged() {
            ui.ctx().set_cursor_icon(egui::CursorIcon::ResizeHorizontal);
        }
        painter.rect_filled(handle, 1.0, Color32::from_rgb(250, 220, 120));
        // The fade follows the pointer by as much as it moved since the press.
        if let (Some(p), Some(from)) = (
            h.interact_pointer_pos(),
            h.ctx.input(|i| i.pointer.press_origin()),
        ) && h.dragged()
        {
            let delta = f64::from(p.x - from.x) * per_px;
            let (now, room) = if fade_is_in {
                (clip.fade_in as f64 + delta, clip.length - clip.fade_out)
            } else {
                (clip.fade_out as f64 - delta, clip.length - clip.fade_in)
            };
            let len = (now.round().max(0.0) as u64).min(room);
            app.view.fade_drag = Some((clip.id, fade_is_in, len));
        }
        if h.drag_stopped()
            && let Some((_, _, len)) = app.view.fade_drag.take()
        {
            let (fade_in, fade_out) = if fade_is_in {
                (len, clip.fade_out)
            } else {
                (clip.fade_in, len)
            };
            if (fade_in, fade_out) != (clip.fade_in, clip.fade_out) {
                app.edit(Edit::SetClipFades {
                    clip: clip.id,
                    fade_in,
                    fade_out,
                });
            }
        }
    }
}

/// The clip's right-click menu: its gain, and the session's fade length. A drag on either shows
/// the value as it goes and makes one edit when let go.
pub fn menu(app: &mut OverdubApp, ui: &mut egui::Ui, clip: &Clip) {
    let gain_key = format!("clip gain {}", clip.id);
    let mut gain = held_value(&app.held, &gain_key).unwrap_or(clip.gain_db);
    let g = ui.add(
        egui::DragValue::new(&mut gain)
            .range(-96.0..=24.0)
            .speed(0.1)
            .fixed_decimals(1)
            .prefix("Clip gain ")
            .suffix(" dB"),
    );
    let g = named(g, egui::Role::SpinButton, "Clip gain");
    if let Settle::Done(db) = settle(&mut app.held, &g, &gain_key, gain) {
        app.edit(Edit::SetClipGain(clip.id, db));
    }
    let mut ms =
        held_value(&app.held, "fade length").unwrap_or(app.live.editor().session().fade_ms);
    let f = ui.add(
        egui::DragValue::new(&mut ms)
            .range(0.0..=1000.0)
            .speed(0.5)
            .fixed_decimals(1)
            .prefix("Session fade ")
            .suffix(" ms"),
    );
    let f = named(f, egui::Role::SpinButton, "Session fade length")
        .on_hover_text("Crossfade of comps and punches, and the fade a trim puts on a cut edge");
    if let Settle::Done(ms) = settle(&mut app.held, &f, "fade length", ms) {
        app.edit(Edit::SetFadeLength(ms));
    }
    if ui.button("Remove fades").clicked() {
        app.edit(Edit::SetClipFades {
            clip: clip.id,
            fade_in: 0,
            fade_out: 0,
        });
        ui.close();
    }
}
