//! Sessions from the window (egui_kittest) on the virtual test-signal device: a new session made
//! on the start screen at 44.1 kHz with four tracks records a take; the session before it and
//! then the new one open again from the recent list.

mod common;

use common::{choose, open_app, run_until, session_menu, type_into};
use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use overdub_engine::live::Transport;
use overdub_engine::session::{Session, SessionDir};
use overdub_ui::OverdubApp;

fn open_start_screen(h: &mut Harness<'_, OverdubApp>) {
    session_menu(h, "New, open, recent…");
}

#[test]
fn a_new_session_from_the_start_screen_records_and_reopens_from_recent() {
    let tmp = tempfile::tempdir().expect("tmp");
    let first = SessionDir::new(tmp.path().join("First song"));
    first.create(&Session::new(48_000, 1)).expect("create");
    let mut h = open_app(
        first.root(),
        common::virtual_request(256),
        &tmp.path().join("settings.json"),
    );
    h.run_steps(2);
    open_start_screen(&mut h);
    type_into(&mut h, "Session name", "Second song");
    type_into(&mut h, "Session folder", &tmp.path().display().to_string());
    choose(&mut h, "New session's sample rate", "44100 Hz");
    choose(&mut h, "New session's mono tracks", "3 mono tracks");
    choose(&mut h, "New session's stereo tracks", "1 stereo tracks");
    h.get_by_label("Create session").click();
    h.run_steps(3);
    let second = tmp.path().join("Second-song");
    {
        let live = h.state().live();
        assert_eq!(
            live.editor().dir().root(),
            second.as_path(),
            "the new one is open: {:?}",
            h.state().messages()
        );
        let s = live.editor().session();
        assert_eq!(s.rate, 44_100);
        assert_eq!(s.tracks.len(), 4);
        assert_eq!(s.tracks[3].channels, 2);
        let engine = live.engine().expect("the device runs");
        assert_eq!(engine.info().rate, 44_100, "at the session's rate");
    }
    // Record a take on its first track (armed when made).
    h.get_by_label("Record").click();
    assert!(
        run_until(&mut h, Duration::from_secs(5), |a| a.live().position()
            > 22_050),
        "recording"
    );
    h.get_by_label("Stop").click();
    assert!(
        run_until(&mut h, Duration::from_secs(5), |a| {
            a.live().transport() == Transport::Stopped
                && a.live().editor().session().tracks[0].clips.len() == 1
        }),
        "the take is placed"
    );
    common::save(&mut h);

    // Back to the first from the recent list, then the new one again.
    open_start_screen(&mut h);
    h.get_by_label("Recent First song").click();
    h.run_steps(3);
    assert_eq!(h.state().live().editor().dir().root(), first.root());
    assert_eq!(h.state().live().editor().session().rate, 48_000);
    open_start_screen(&mut h);
    h.get_by_label("Recent Second-song").click();
    h.run_steps(3);
    let live = h.state().live();
    assert_eq!(live.editor().dir().root(), second.as_path());
    let clip = &live.editor().session().tracks[0].clips[0];
    assert!(
        second.join("audio").join(&clip.file).exists(),
        "its take is there"
    );
    assert!(clip.length > 22_050);
}

#[test]
fn a_new_session_from_a_template_takes_its_tracks_and_none_of_its_audio() {
    let tmp = tempfile::tempdir().expect("tmp");
    let band = SessionDir::new(tmp.path().join("Band"));
    let mut s = Session::new(48_000, 2);
    s.tracks[0].name = "Vocal".into();
    s.tracks[1].name = "Keys".into();
    s.tracks[1].channels = 2;
    s.tracks[1].gain_db = -4.0;
    s.add_marker("Chorus".into(), 96_000);
    band.create(&s).expect("create");
    let mut h = open_app(
        band.root(),
        common::virtual_request(256),
        &tmp.path().join("settings.json"),
    );
    h.run_steps(2);
    let folder = tmp.path().display().to_string();
    // Any other session first, so Band is among the recent ones.
    open_start_screen(&mut h);
    type_into(&mut h, "Session name", "Other");
    type_into(&mut h, "Session folder", &folder);
    h.get_by_label("Create session").click();
    h.run_steps(3);
    open_start_screen(&mut h);
    type_into(&mut h, "Session name", "Gig");
    type_into(&mut h, "Session folder", &folder);
    choose(&mut h, "New session's sample rate", "96000 Hz");
    choose(&mut h, "New session's template", "Band");
    h.get_by_label("Create session").click();
    h.run_steps(3);
    let live = h.state().live();
    assert_eq!(live.editor().dir().root(), tmp.path().join("Gig"));
    let gig = live.editor().session();
    let names: Vec<&str> = gig.tracks.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Vocal", "Keys"]);
    assert_eq!((gig.tracks[1].channels, gig.tracks[1].gain_db), (2, -4.0));
    assert_eq!(gig.rate, 96_000);
    assert_eq!(
        gig.markers[0].position, 192_000,
        "the marker at the same time"
    );
    assert!(gig.tracks.iter().all(|t| t.clips.is_empty()));
}
