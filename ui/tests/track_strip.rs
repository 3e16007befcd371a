//! The track strip in the real window (egui_kittest): a track's handle dragged below the next
//! track moves it there (Ctrl+Z moves it back), and its menu gives it a colour; its bottom edge
//! makes it taller or lower; its input picker shows the inputs by name and leaves out those
//! switched off on the settings page.

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

#[test]
fn a_track_is_made_taller_by_its_bottom_edge() {
    let (_tmp, _dir, mut h) = common::new_app(2);
    h.run_steps(2);
    let id = h.state().live().editor().session().tracks[0].id;
    let before = h.state().track_height(id);
    let below = h.get_by_label("Handle of Track 2").rect().top();
    let edge = h.get_by_label("Height of Track 1").rect();
    drag_by(
        &mut h,
        edge.center(),
        egui::Vec2::new(0.0, 60.0),
        egui::Modifiers::NONE,
    );
    assert_eq!(h.state().track_height(id), before + 60.0);
    let moved = h.get_by_label("Handle of Track 2").rect().top();
    assert_eq!(moved - below, 60.0, "the track below moved down with it");
    // Every control is labelled, the meter is one.
    for label in ["In", "Gain", "Pan"] {
        assert_eq!(h.query_all_by_label(label).count(), 2, "{label}");
    }
    // As low as it goes: the row of buttons alone.
    let edge = h.get_by_label("Height of Track 1").rect();
    drag_by(
        &mut h,
        edge.center(),
        egui::Vec2::new(0.0, -400.0),
        egui::Modifiers::NONE,
    );
    assert_eq!(h.state().track_height(id), overdub_ui::MIN_TRACK_HEIGHT);
    assert!(h.query_by_label("Arm Track 1").is_some());
    assert!(h.query_by_label("Input of Track 1").is_none());
    assert_eq!(h.query_all_by_label("Pan").count(), 1, "only Track 2's");
}

#[test]
fn inputs_are_picked_by_their_names_and_those_switched_off_are_not_offered() {
    let (_tmp, _dir, mut h) = common::new_app(1);
    h.run_steps(2);
    // The test-signal device names its inputs; a name the musician gives wins.
    h.get_by_label("Audio settings").click();
    h.run_steps(2);
    assert!(
        h.query_by_label("Driver control panel").is_none(),
        "the virtual driver has no control panel of its own"
    );
    common::type_into(&mut h, "Name of input 2", "Guitar");
    h.key_press(egui::Key::Enter);
    h.get_by_label("Input 3 on").click();
    h.run_steps(2);
    // The transport bar's button (the page's heading says the same).
    let button = h.get_all_by_label("Audio settings").next().expect("button");
    button.click();
    h.run_steps(2);
    h.get_by_label("Input of Track 1").click();
    h.run_steps(2);
    assert_eq!(
        h.query_all_by_label("Test signal 3").count(),
        0,
        "switched off"
    );
    assert_eq!(h.query_all_by_label("Test signal 4").count(), 1);
    h.get_by_label("Guitar").click();
    h.run_steps(2);
    assert_eq!(h.state().live().editor().session().tracks[0].input, 1);
}
