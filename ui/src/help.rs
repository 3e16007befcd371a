//! The keyboard shortcuts, and the overlay that lists them.

/// Every shortcut, as (keys, what it does).
pub const SHORTCUTS: &[(&str, &str)] = &[
    ("Space", "Play / stop"),
    ("Shift+R", "Record"),
    ("Home", "Return to start"),
    ("Ctrl+Z", "Undo"),
    ("Ctrl+Shift+Z", "Redo"),
    ("Ctrl+S", "Save"),
    ("+ / -", "Zoom in / out"),
    ("Ctrl+I", "Import audio"),
    ("Ctrl+E", "Export"),
    ("S", "Split the selected clip at the playhead"),
    ("Delete", "Delete the selected clip"),
    ("Drag on the ruler", "Set the loop range (Loop turns it on)"),
    ("M", "Add a marker at the playhead"),
    ("[ / ]", "Jump to the previous / next marker"),
    (
        "Click / drag / double-click a marker",
        "Locate to it / move it / rename it (right-click: loop to the next one, delete)",
    ),
    ("Shift while dragging", "Place freely, off the grid (Snap)"),
    (
        "Drag a clip / its edges",
        "Move it (onto another track too) / trim it",
    ),
    ("F1", "This help"),
];

/// Show the help window while `open`.
pub fn show(ctx: &egui::Context, open: &mut bool) {
    egui::Window::new("Keyboard shortcuts")
        .open(open)
        .collapsible(false)
        .resizable(false)
        .show(ctx, |ui| {
            egui::Grid::new("shortcuts").striped(true).show(ui, |ui| {
                for (keys, what) in SHORTCUTS {
                    ui.monospace(*keys);
                    ui.label(*what);
                    ui.end_row();
                }
            });
        });
}
