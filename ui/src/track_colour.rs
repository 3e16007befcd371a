//! Track colours and the track handle: each track has a colour (its own, or one of the palette's
//! by its id) that its header's handle and its clips show. The handle's right-click menu picks
//! another colour; dragging the handle up or down moves the track (one undo step).

use egui::{Color32, Rect, Sense};
use overdub_engine::session::{Edit, Track};

use crate::app::OverdubApp;
use crate::widgets::named;

/// The palette: distinct on the dark background, none of them the clip light's red.
const PALETTE: [[u8; 3]; 8] = [
    [70, 130, 200],
    [90, 170, 110],
    [200, 150, 60],
    [160, 100, 190],
    [60, 170, 170],
    [200, 110, 140],
    [140, 150, 70],
    [120, 120, 200],
];

/// A track's colour.
pub fn of(t: &Track) -> Color32 {
    let [r, g, b] = t
        .colour
        .unwrap_or(PALETTE[(t.id as usize).saturating_sub(1) % PALETTE.len()]);
    Color32::from_rgb(r, g, b)
}

/// The handle at the left of track `index`'s header (`rect`: the header; `tops`: where each
/// track's row starts, as the timeline lays them out).
pub fn handle(
    app: &mut OverdubApp,
    ui: &mut egui::Ui,
    rect: Rect,
    (index, tops): (usize, &[f32]),
    t: &Track,
) {
    let handle = Rect::from_min_size(rect.min, egui::vec2(8.0, rect.height()));
    let id = ui.scope_id().with(("track-handle", t.id));
    let r = ui.interact(handle, id, Sense::click_and_drag());
    let r = named(r, egui::Role::Button, &format!("Handle of {}", t.name))
        .on_hover_text("Drag to move the track; right-click for its colour");
    if r.hovered() || r.dragged() {
        ui.ctx().set_cursor_icon(egui::CursorIcon::Grab);
    }
    ui.painter().rect_filled(handle, 2.0, of(t));
    // Where the rows start on screen: this header's top less its own offset.
    let rows_top = rect.top() - tops[index];
    if let Some(p) = r.interact_pointer_pos()
        && r.dragged()
    {
        let to = crate::timeline::row_at(tops, p.y - rows_top);
        // Moved down, it goes below the row it is dropped on; moved up, above it.
        let edge = if to > index { to + 1 } else { to };
        let y = rows_top + tops[edge.min(tops.len() - 1)];
        ui.painter()
            .hline(rect.x_range(), y, egui::Stroke::new(2.0, of(t)));
    }
    if r.drag_stopped()
        && let Some(p) = r.interact_pointer_pos()
    {
        let to = crate::timeline::row_at(tops, p.y - rows_top);
        if to != index {
            app.edit(Edit::MoveTrack(t.id, to));
        }
    }
    r.context_menu(|ui| {
        ui.horizontal(|ui| {
            for (k, c) in PALETTE.into_iter().enumerate() {
                let [red, g, b] = c;
                let swatch = egui::Button::new("  ").fill(Color32::from_rgb(red, g, b));
                let s = named(
                    ui.add(swatch),
                    egui::Role::Button,
                    &format!("Colour {}", k + 1),
                );
                if s.clicked() {
                    app.edit(Edit::SetColour(t.id, Some(c)));
                    ui.close();
                }
            }
        });
    });
}
