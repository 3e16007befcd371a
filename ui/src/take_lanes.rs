//! Take lanes: a track with several takes (loop passes, retakes, punches) shows each under it,
//! in the order they were made, with the stretches that play lit. Click a lane to make that take
//! play whole; drag along a lane to make it play for that range only (a comp, crossfaded at its
//! joins). Both are one undo step each; no file is ever changed.

use egui::{Color32, CornerRadius, Rect, Sense, Stroke, StrokeKind, Vec2, pos2};
use overdub_engine::session::{Edit, TakeLane, Track, take_lanes};

use crate::app::OverdubApp;
use crate::timeline::snapper;
use crate::widgets::named;

/// Height of one take lane, points.
pub const TAKE_LANE: f32 = 24.0;

/// A track's takes as the window lays them out this frame, worked out once and shared by the
/// header column and the timeline.
pub struct Takes {
    lanes: Vec<TakeLane>,
    folded: bool,
    /// Height of the track's own lane above its take rows, points.
    pub height: f32,
}

impl Takes {
    /// The takes of `t`, and whether they are folded away.
    pub fn of(app: &OverdubApp, t: &Track) -> Self {
        Self {
            lanes: take_lanes(&t.clips),
            folded: app.takes_folded.contains(&t.id),
            height: crate::tracks::height(app, t.id),
        }
    }

    /// The lanes shown under the track: none unless it has two takes or more and they are not
    /// folded away.
    pub fn shown(&self) -> &[TakeLane] {
        if self.folded || self.lanes.len() < 2 {
            &[]
        } else {
            &self.lanes
        }
    }

    /// Rows under the track for its takes: one per lane shown, or one for the button that
    /// shows them when they are folded away; none for a track with one take or none.
    pub fn rows(&self) -> usize {
        match self.lanes.len() {
            0 | 1 => 0,
            n if self.folded => n.min(1),
            n => n,
        }
    }
}

/// The header column's side of a track's take rows: a label per lane, and the button that folds
/// them away (or shows them again).
pub fn headers(app: &mut OverdubApp, ui: &mut egui::Ui, width: f32, t: &Track, takes: &Takes) {
    let (rows, folded) = (takes.rows(), takes.folded);
    let takes = &takes.lanes;
    for k in 0..rows {
        let (rect, _) = ui.allocate_exact_size(Vec2::new(width, TAKE_LANE), Sense::hover());
        if k == 0 {
            let text = if folded {
                format!("Show {} takes", takes.len())
            } else {
                "Hide".to_string()
            };
            // A child of its own, so the button leaves the column's layout alone.
            let mut row =
                ui.new_child(egui::UiBuilder::new().max_rect(rect.shrink2(Vec2::new(8.0, 2.0))));
            let r = row.add(egui::Button::new(text).small());
            if named(r, egui::Role::Button, &format!("Take lanes of {}", t.name))
                .on_hover_text("Show or fold the takes under the track")
                .clicked()
                && !app.takes_folded.remove(&t.id)
            {
                app.takes_folded.insert(t.id);
            }
        }
        if folded {
            continue;
        }
        let text = if takes.get(k).is_some_and(|l| !l.playing.is_empty()) {
            format!("Take {}  (plays)", k + 1)
        } else {
            format!("Take {}", k + 1)
        };
        ui.painter().text(
            rect.left_center() + Vec2::new(60.0, 0.0),
            egui::Align2::LEFT_CENTER,
            text,
            egui::FontId::proportional(12.0),
            ui.visuals().weak_text_color(),
        );
    }
}

/// Draw and handle the take lanes of track `t` (`index` in the session), the first at `top`, in
/// the timeline's `rect`.
pub fn show(
    app: &mut OverdubApp,
    ui: &mut egui::Ui,
    rect: Rect,
    top: f32,
    t: &Track,
    lanes: &[TakeLane],
) {
    let painter = ui.painter_at(rect);
    // Copies of the view's scroll and zoom, so the helpers borrow nothing of `app`.
    let (scroll, per_px) = (app.view.scroll, app.view.frames_per_px);
    let x = |f: u64| rect.left() + ((f as f64 - scroll) / per_px) as f32;
    let frame = |px: f32| (scroll + f64::from(px - rect.left()) * per_px).max(0.0) as u64;
    for (k, lane) in lanes.iter().enumerate() {
        let row = Rect::from_min_size(
            pos2(rect.left(), top + TAKE_LANE * k as f32),
            Vec2::new(rect.width(), TAKE_LANE),
        );
        painter.rect_filled(row, 0.0, ui.visuals().faint_bg_color);
        let take = Rect::from_min_max(
            pos2(x(lane.start), row.top() + 2.0),
            pos2(x(lane.end), row.bottom() - 2.0),
        );
        painter.rect_filled(take, CornerRadius::same(2), Color32::from_rgb(45, 55, 70));
        for &(a, b) in &lane.playing {
            let lit = Rect::from_min_max(pos2(x(a), take.top()), pos2(x(b), take.bottom()));
            painter.rect_filled(lit, CornerRadius::same(2), Color32::from_rgb(70, 120, 180));
        }
        painter.rect_stroke(
            take,
            CornerRadius::same(2),
            Stroke::new(1.0, Color32::from_rgb(110, 130, 160)),
            StrokeKind::Inside,
        );
        let hit = take.intersect(rect);
        if !hit.is_positive() {
            continue;
        }
        let id = ui.scope_id().with(("take", t.id, k));
        let r = ui.interact(hit, id, Sense::click_and_drag());
        let r = named(
            r,
            egui::Role::Button,
            &format!("Take {} of {}", k + 1, t.name),
        )
        .on_hover_text("Click: this take plays. Drag: it plays for that range (a comp).");
        let clip = t.clips[lane.clip].id;
        let snap = snapper(app, ui.input(|i| i.modifiers.shift));
        let at = |p: egui::Pos2| snap(frame(p.x)).clamp(lane.start, lane.end);
        let pressed = r.ctx.input(|i| i.pointer.press_origin()).map(at);
        let pointer = r.interact_pointer_pos().map(at);
        if r.drag_started()
            && let Some(f) = pressed
        {
            app.view.comp_drag = Some((t.id, k, f, f));
        }
        if let Some((tid, lk, a, b)) = app.view.comp_drag
            && (tid, lk) == (t.id, k)
        {
            let b = pointer.unwrap_or(b);
            app.view.comp_drag = Some((tid, lk, a, b));
            let sel = Rect::from_min_max(
                pos2(x(a.min(b)), row.top()),
                pos2(x(a.max(b)), row.bottom()),
            );
            painter.rect_filled(sel, 0.0, Color32::from_rgba_unmultiplied(240, 200, 80, 90));
            if r.drag_stopped() {
                app.view.comp_drag = None;
                if a != b {
                    app.edit(Edit::UseTake {
                        clip,
                        range: Some((a.min(b), a.max(b))),
                    });
                }
            }
        }
        if r.clicked() {
            app.edit(Edit::UseTake { clip, range: None });
        }
    }
}
