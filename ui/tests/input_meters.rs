//! The settings page's input meters in the real window (egui_kittest) on the virtual
//! test-signal device: every input's meter moves with nothing armed.

mod common;

use common::run_until;
use std::time::Duration;

use egui_kittest::kittest::Queryable;

#[test]
fn input_meters_move_on_the_settings_page_with_nothing_armed() {
    let (_tmp, _dir, mut h) = common::new_app(2);
    h.run_steps(2);
    assert!(
        h.state()
            .live()
            .editor()
            .session()
            .tracks
            .iter()
            .all(|t| !t.armed),
        "nothing armed"
    );
    h.get_by_label("Audio settings").click();
    h.run_steps(2);
    let inputs = h.state().live().engine().expect("open").info().in_channels;
    assert_eq!(inputs, 8);
    for c in 1..=inputs {
        assert!(
            h.query_by_label(&format!("Input {c} level")).is_some(),
            "a meter for input {c}"
        );
    }
    // The test signal is on every input: every meter moves.
    assert!(
        run_until(&mut h, Duration::from_secs(3), |a| {
            let l = a.input_levels();
            l.len() == inputs && l.iter().all(|&v| v > 0.01)
        }),
        "every input meter moves: {:?}",
        h.state().input_levels()
    );
}
