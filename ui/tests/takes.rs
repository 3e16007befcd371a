//! Loop recording into take lanes in the real window (egui_kittest) on the virtual test-signal
//! device, which runs in real time: every pass shows as a lane under its track, a click on a lane
//! makes that take play, a drag along a lane comps that range of it in, and undo takes it back.

mod common;

use common::{drag, open_app, run_until};
use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use overdub_engine::live::Transport;
use overdub_engine::session::{Clip, Session, SessionDir};
use overdub_ui::OverdubApp;

/// The loop: 0.25 s to 0.75 s at 48 kHz.
const LOOP: (u64, u64) = (12_000, 36_000);

fn clips(h: &Harness<'_, OverdubApp>) -> Vec<Clip> {
    h.state().live().editor().session().tracks[0].clips.clone()
}

/// Which take a clip is cut from: its file and alignment.
fn take_of(c: &Clip) -> (String, i128) {
    (
        c.file.clone(),
        i128::from(c.position) - i128::from(c.offset),
    )
}

#[test]
fn a_loop_recorded_in_the_window_shows_its_passes_as_lanes_to_choose_and_comp() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = SessionDir::new(tmp.path().join("s"));
    dir.create(&Session::new(48_000, 1)).expect("create");
    let req = common::virtual_request(256);
    let mut h = open_app(dir.root(), req, &tmp.path().join("settings.json"));
    h.run_steps(2);
    h.state_mut().live_mut().set_loop(true, Some(LOOP));
    h.state_mut().live_mut().locate(LOOP.0);
    h.get_by_label("Arm Track 1").click();
    h.run_steps(2);
    h.get_by_label("Record").click();
    // Two whole passes and part of a third.
    let len = LOOP.1 - LOOP.0;
    assert!(
        run_until(&mut h, Duration::from_secs(8), |a| {
            a.live().status().is_some_and(|s| {
                s.ran.load(std::sync::atomic::Ordering::Relaxed) > LOOP.0 + 2 * len + len / 2
            })
        }),
        "the loop recording rolls"
    );
    h.get_by_label("Stop").click();
    assert!(
        run_until(&mut h, Duration::from_secs(5), |a| {
            a.live().transport() == Transport::Stopped
                && a.live().editor().session().tracks[0].clips.len() >= 3
        }),
        "the passes are placed"
    );
    h.run_steps(2);
    let passes = clips(&h);
    let n = passes.len();
    assert!(passes.iter().all(|c| c.position == LOOP.0));
    assert!(passes[..n - 1].iter().all(|c| c.length == len));
    for k in 1..=n {
        assert!(
            h.query_by_label(&format!("Take {k} of Track 1")).is_some(),
            "take {k} has a lane"
        );
    }

    // Click the first pass: it plays (it goes over the others).
    h.get_by_label("Take 1 of Track 1").click();
    h.run_steps(2);
    let now = clips(&h);
    assert_eq!(now.last().map(|c| c.id), Some(passes[0].id), "take 1 plays");
    assert_eq!(now.len(), n, "choosing a take makes no clip");

    // Drag along the second pass's lane from a quarter to three quarters of it (Shift: off the
    // grid): that range of it plays, crossfaded at both ends.
    let r = h.get_by_label("Take 2 of Track 1").rect();
    let per_point = len as f64 / f64::from(r.width());
    let from = r.left_center() + egui::Vec2::new(r.width() * 0.25, 0.0);
    drag(&mut h, from, r.width() * 0.5, egui::Modifiers::SHIFT);
    let comped = clips(&h);
    assert_eq!(comped.len(), n + 1, "one comp piece");
    let piece = comped.last().expect("piece");
    assert_eq!(take_of(piece), take_of(&passes[1]), "a piece of take 2");
    let (a, b) = (
        piece.position + piece.fade_in / 2,
        piece.end() - piece.fade_out / 2,
    );
    let want = (LOOP.0 + len / 4, LOOP.0 + 3 * len / 4);
    let near = |x: u64, y: u64| (x as f64 - y as f64).abs() <= 2.0 * per_point;
    assert!(
        near(a, want.0) && near(b, want.1),
        "the comp covers {a}..{b}, not about {want:?}"
    );
    assert_eq!(
        (piece.fade_in, piece.fade_out),
        (240, 240),
        "5 ms crossfades"
    );
    // Lanes stay in the order the takes were made.
    assert!(
        h.query_by_label(&format!("Take {} of Track 1", n + 1))
            .is_none()
    );

    // Undo takes the comp back.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run_steps(2);
    assert_eq!(clips(&h), now, "undo returns the comp before");

    // The lanes fold away and come back.
    h.get_by_label("Take lanes of Track 1").click();
    h.run_steps(2);
    assert!(h.query_by_label("Take 1 of Track 1").is_none(), "folded");
    h.get_by_label("Take lanes of Track 1").click();
    h.run_steps(2);
    assert!(
        h.query_by_label("Take 1 of Track 1").is_some(),
        "shown again"
    );
}

#[test]
fn a_punch_set_from_two_markers_records_only_between_them_after_a_preroll() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = SessionDir::new(tmp.path().join("s"));
    let mut s = Session::new(48_000, 1);
    dir.create(&s).expect("create");
    // An old take over the first 4 s.
    common::write_wav(&dir, "old.wav", 4 * 48_000, |i| {
        ((i as f32) * 0.01).sin() * 0.3
    });
    let id = s.tracks[0].id;
    s.add_clip(id, Clip::new("old.wav".into(), 0, 0, 4 * 48_000))
        .expect("clip");
    dir.save(&s).expect("save");
    let req = common::virtual_request(256);
    let mut h = open_app(dir.root(), req, &tmp.path().join("settings.json"));
    h.run_steps(2);
    // Markers at 1 s and 1.5 s; punch from the first to the next.
    for at in [48_000, 72_000] {
        h.state_mut().live_mut().locate(at);
        assert!(run_until(&mut h, Duration::from_secs(2), |a| a
            .live()
            .position()
            == at));
        h.get_by_label("Add marker").click();
        h.run_steps(2);
    }
    h.get_by_label("Marker Marker 1").click_secondary();
    h.run_steps(2);
    h.get_by_label("Punch to the next marker").click();
    h.run_steps(2);
    h.state_mut().live_mut().locate(0);
    h.get_by_label("Arm Track 1").click();
    h.run_steps(2);
    h.get_by_label("Record").click();
    assert!(
        run_until(&mut h, Duration::from_secs(6), |a| a.live().position()
            > 80_000),
        "the punch recording rolls past the punch-out"
    );
    h.get_by_label("Stop").click();
    assert!(
        run_until(&mut h, Duration::from_secs(5), |a| {
            a.live().transport() == Transport::Stopped
                && a.live().editor().session().tracks[0].clips.len() == 2
        }),
        "the punched take is placed"
    );
    let c = clips(&h);
    assert_eq!(c[0].file, "old.wav", "the old take stays");
    let piece = &c[1];
    // 5 ms crossfades (240 frames) centred on the markers.
    assert_eq!(
        (piece.position, piece.length, piece.fade_in, piece.fade_out),
        (48_000 - 120, 24_000 + 240, 240, 240)
    );
    // The pre-roll ran: the take file begins a bar (2 s at 120 BPM) before the punch-in, here
    // at the session start, so the piece starts well into its file.
    let frames = hound::WavReader::open(dir.audio().join(&piece.file))
        .expect("take")
        .duration();
    assert!(piece.offset >= 48_000 - 120, "offset {}", piece.offset);
    assert!(u64::from(frames) >= piece.offset + piece.length);
}
