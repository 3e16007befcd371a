//! Markers in the window: added at the playhead, jumped between, drawn as flags in the ruler's top
//! row, where a click locates to one, a drag moves it (snapping to the grid), a double click
//! renames it, and its context menu renames or deletes it, or loops or punches from it to the
//! next marker.

use egui::{Color32, Rect, Sense, Stroke, pos2};
use overdub_engine::session::Edit;

use crate::app::OverdubApp;
use crate::timeline::snapper;

/// Marker flag colour.
const FLAG: Color32 = Color32::from_rgb(240, 190, 90);

impl OverdubApp {
    /// Add a marker at the playhead, named "Marker N".
    pub(crate) fn add_marker(&mut self) {
        let position = self.live.position();
        let n = self.live.editor().session().markers.len() + 1;
        if let Some(id) = self.edit(Edit::AddMarker {
            name: format!("Marker {n}"),
            position,
        }) {
            self.tell(format!("added marker {id}"));
        }
    }

    /// Move the playhead to the next marker after it (or the previous one before it).
    pub(crate) fn jump_marker(&mut self, next: bool) {
        let pos = self.live.position();
        let markers = &self.live.editor().session().markers;
        let to = if next {
            markers.iter().map(|m| m.position).find(|&p| p > pos)
        } else {
            markers.iter().rev().map(|m| m.position).find(|&p| p < pos)
        };
        match to {
            Some(p) => self.live.locate(p),
            None => self.tell(if next {
                "no marker after the playhead"
            } else {
                "no marker before the playhead"
            }),
        }
    }
}

/// Draw the markers in `row` (the ruler's top row of the timeline `rect`) and handle clicks,
/// drags and the context menu on them.
pub fn show(app: &mut OverdubApp, ui: &mut egui::Ui, rect: Rect, row: Rect) {
    let painter = ui.painter_at(row);
    let markers = app.live.editor().session().markers.clone();
    for m in &markers {
        let dragging = app.view.marker_drag.filter(|(id, _)| *id == m.id);
        let at = dragging.map_or(m.position, |(_, f)| f);
        let x = app.view.x(rect, at as f64);
        if x < rect.left() - 100.0 || x > rect.right() {
            continue;
        }
        let galley = painter.layout_no_wrap(
            m.name.clone(),
            egui::FontId::proportional(10.0),
            Color32::BLACK,
        );
        let flag = Rect::from_min_size(
            pos2(x, row.top() + 1.0),
            egui::vec2(galley.size().x + 8.0, row.height() - 2.0),
        );
        painter.rect_filled(flag, 2.0, FLAG);
        painter.line_segment(
            [pos2(x, row.top()), pos2(x, rect.bottom())],
            Stroke::new(1.0, FLAG.gamma_multiply(0.6)),
        );
        painter.galley(pos2(x + 4.0, row.top() + 2.0), galley, Color32::BLACK);
        let r = ui.interact(
            flag,
            ui.scope_id().with(("marker", m.id)),
            Sense::click_and_drag(),
        );
        let r = crate::widgets::named(r, egui::Role::Button, &format!("Marker {}", m.name));
        interact(app, rect, &r, m.id, m.position);
    }
}

fn interact(app: &mut OverdubApp, rect: Rect, r: &egui::Response, id: u32, position: u64) {
    if r.drag_started() {
        app.view.marker_drag = Some((id, position));
    }
    if r.dragged()
        && let Some(p) = r.interact_pointer_pos()
    {
        let f = app.view.frame(rect, p.x) as u64;
        let shift = r.ctx.input(|i| i.modifiers.shift);
        app.view.marker_drag = Some((id, snapper(app, shift)(f)));
    }
    if r.drag_stopped()
        && let Some((_, to)) = app.view.marker_drag.take()
        && to != position
    {
        app.edit(Edit::MoveMarker(id, to));
    }
    if r.double_clicked() {
        start_rename(app, id);
    } else if r.clicked() {
        app.live.locate(position);
    }
    r.context_menu(|ui| {
        if ui.button("Rename…").clicked() {
            start_rename(app, id);
            ui.close();
        }
        if ui.button("Loop to the next marker").clicked() {
            match next_after(app, position) {
                Some(end) => app.live.set_loop(true, Some((position, end))),
                None => app.tell("no marker after this one"),
            }
            ui.close();
        }
        if ui.button("Punch to the next marker").clicked() {
            match next_after(app, position) {
                Some(end) => app.set_punch(position, end),
                None => app.tell("no marker after this one"),
            }
            ui.close();
        }
        if ui.button("Delete").clicked() {
            app.edit(Edit::DeleteMarker(id));
            ui.close();
        }
    });
}

fn start_rename(app: &mut OverdubApp, id: u32) {
    let name = app
        .live
        .editor()
        .session()
        .markers
        .iter()
        .find(|m| m.id == id)
        .map(|m| m.name.clone())
        .unwrap_or_default();
    app.renaming = Some((id, name));
}

/// The rename window, while a marker is being renamed.
pub fn rename_dialog(app: &mut OverdubApp, ctx: &egui::Context) {
    let Some((id, mut name)) = app.renaming.take() else {
        return;
    };
    let mut open = true;
    let mut done = false;
    egui::Window::new("Rename marker")
        .open(&mut open)
        .collapsible(false)
        .resizable(false)
        .show(ctx, |ui| {
            let r = ui.text_edit_singleline(&mut name);
            r.request_focus();
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui.button("Rename").clicked() || enter {
                done = true;
            }
        });
    if done {
        app.edit(Edit::RenameMarker(id, name));
    } else if open {
        app.renaming = Some((id, name));
    }
}

/// The position of the first marker after `position`.
fn next_after(app: &OverdubApp, position: u64) -> Option<u64> {
    app.live
        .editor()
        .session()
        .markers
        .iter()
        .map(|m| m.position)
        .find(|&p| p > position)
}
