//! The track strip in the real window (egui_kittest): a track's handle dragged below the next
//! track moves it there (Ctrl+Z moves it back), and its menu gives it a colour.

mod common;

use common::drag_by;

use egui_kittest::kittest::Queryable;

#[test]
fn a_track_dragged_by_its_handle_moves_and_takes_a_colour() {
    let (_tmp, _dir, mut h) = common::new_app(3);
    h.run_steps(2);
    let names = |h: &egui_kittest::Harness<'_, overdub_ui::OverdubApp>| -> Vec<String> {
        h.state()
            .live()
            .editor()
            .session()
            .tracks
            .iter()
            .map(|t| t.name.clone())
            .collect()
    };
    let handle = h.get_by_label("Handle of Track 1").rect();
    // Down by one row: into Track 2's row.
    drag_by(
        &mut h,
        handle.center(),
        egui::Vec2::new(0.0, handle.height()),
        egui::Modifiers::NONE,
    );
    assert_eq!(names(&h), ["Track 2", "Track 1", "Track 3"]);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run_steps(2);
    assert_eq!(names(&h), ["Track 1", "Track 2", "Track 3"]);

    h.get_by_label("Handle of Track 3").click_secondary();
    h.run_steps(2);
    h.get_by_label("Colour 3").click();
    h.run_steps(2);
    let colour = h.state().live().editor().session().tracks[2].colour;
    assert_eq!(colour, Some([200, 150, 60]));
}
