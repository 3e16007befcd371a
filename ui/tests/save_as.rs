//! Session ▸ Save a copy, Save As and Close in the real window (egui_kittest), and a session at a
//! rate the device cannot run: the window says so, offers the device's rates, and a copy
//! converted to one of them opens with every take in its place.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{app_over, open_app, run_until, session_menu, type_into};
use egui_kittest::kittest::Queryable;
use overdub_engine::live::Live;
use overdub_engine::session::{Clip, Session, SessionDir};
use overdub_ui::Page;

/// The frame of the loudest sample of a WAV, and its rate.
fn click_at(path: &Path) -> (usize, u32) {
    let r = hound::WavReader::open(path).expect("open");
    let rate = r.spec().sample_rate;
    let x: Vec<f32> = r
        .into_samples::<f32>()
        .map(|v| v.expect("sample"))
        .collect();
    let at = (0..x.len())
        .max_by(|&a, &b| x[a].abs().total_cmp(&x[b].abs()))
        .expect("samples");
    (at, rate)
}

/// A session of one track at `rate` whose one clip, placed at `position`, has a click `click`
/// frames into its file.
fn session_with_click(dir: &SessionDir, rate: u32, position: u64, click: u32) {
    let mut s = Session::new(rate, 1);
    dir.create(&s).expect("create");
    let path = dir.audio().join("take.wav");
    common::write_wav_at(&path, rate, rate, |i| if i == click { 1.0 } else { 0.0 });
    let id = s.tracks[0].id;
    s.add_clip(
        id,
        Clip::new("take.wav".into(), position, 0, u64::from(rate)),
    );
    dir.save(&s).expect("save");
}

#[test]
fn save_a_copy_save_as_and_close_from_the_session_menu() {
    let tmp = tempfile::tempdir().expect("tmp");
    let first = SessionDir::new(tmp.path().join("Song"));
    session_with_click(&first, 48_000, 9_600, 4_800);
    let mut h = open_app(
        first.root(),
        common::virtual_request(256),
        &tmp.path().join("settings.json"),
    );
    h.run_steps(2);
    let folder = tmp.path().display().to_string();

    // A copy: written beside it, and this session stays open.
    session_menu(&mut h, "Save a copy…");
    type_into(&mut h, "New session's name", "Song backup");
    type_into(&mut h, "New session's folder", &folder);
    h.get_by_label("Save a copy now").click();
    assert!(
        run_until(&mut h, Duration::from_secs(10), |a| !a.copying()),
        "the copy ends"
    );
    h.run_steps(2);
    let backup = SessionDir::new(tmp.path().join("Song-backup"));
    let copied = backup.load().expect("the copy opens");
    assert_eq!(copied, first.load().expect("first"));
    assert_eq!(
        std::fs::read(backup.audio().join("take.wav")).expect("copy"),
        std::fs::read(first.audio().join("take.wav")).expect("original"),
        "the take is copied as it is"
    );
    assert_eq!(h.state().live().editor().dir().root(), first.root());

    // Save As: written, then open in its place.
    session_menu(&mut h, "Save As…");
    type_into(&mut h, "New session's name", "Song v2");
    type_into(&mut h, "New session's folder", &folder);
    h.get_by_label("Save As now").click();
    let v2 = tmp.path().join("Song-v2");
    assert!(
        run_until(&mut h, Duration::from_secs(10), |a| a
            .live()
            .editor()
            .dir()
            .root()
            == v2),
        "the new one is open: {:?}",
        h.state().messages()
    );
    assert!(h.state().live().engine().is_some(), "on the device");
    assert_eq!(h.state().live().editor().session().tracks[0].clips.len(), 1);
    // The first one is free again: another program can open it.
    Live::open(first.root(), common::virtual_request(256), Vec::new())
        .expect("the first session is no longer held");

    // Close: the start screen alone, and the folder is let go.
    session_menu(&mut h, "Close");
    h.run_steps(2);
    assert!(h.state().is_closed());
    assert_eq!(h.state().page(), Page::Start);
    assert!(h.state().live().engine().is_none(), "the device is closed");
    assert!(
        h.query_by_label("Record").is_none(),
        "no transport while closed"
    );
    drop(Live::open(&v2, common::virtual_request(256), Vec::new()).expect("let go"));
    h.get_by_label("Recent Song-backup").click();
    h.run_steps(3);
    assert!(!h.state().is_closed());
    assert_eq!(h.state().live().editor().dir().root(), backup.root());
    assert!(h.state().live().engine().is_some());
}

#[test]
fn a_session_at_a_rate_the_device_cannot_run_offers_a_converted_copy() {
    let tmp = tempfile::tempdir().expect("tmp");
    // 32 kHz: a valid session rate that the virtual devices do not run.
    let dir = SessionDir::new(tmp.path().join("Old demo"));
    session_with_click(&dir, 32_000, 6_400, 3_200);
    let live = Live::open(dir.root(), common::virtual_request(256), Vec::new()).expect("open");
    assert!(live.engine().is_none(), "the device refuses 32 kHz");
    let mut h = app_over(live, &tmp.path().join("settings.json"));
    h.run_steps(2);
    let offered = h.state().rate_refused().expect("the window says so");
    assert!(offered.contains(&48_000) && !offered.contains(&32_000));
    h.get_by_label("Convert a copy to 48000 Hz").click();
    h.run_steps(4);
    assert!(h.state().rate_refused().is_none());
    type_into(
        &mut h,
        "New session's folder",
        &tmp.path().display().to_string(),
    );
    h.get_by_label("Save As now").click();
    let copy = tmp.path().join("Old-demo-48000");
    assert!(
        run_until(&mut h, Duration::from_secs(20), |a| a
            .live()
            .editor()
            .dir()
            .root()
            == copy),
        "the converted copy is open: {:?}",
        h.state().messages()
    );
    let live = h.state().live();
    assert_eq!(
        live.engine().map(|e| e.info().rate),
        Some(48_000),
        "and plays"
    );
    assert!(h.state().rate_refused().is_none());
    let clip = live.editor().session().tracks[0].clips[0].clone();
    assert_eq!((clip.position, clip.length), (9_600, 48_000));
    // The click was 0.1 s into the take (0.3 s on the timeline); so it is still.
    let (at, rate) = click_at(&copy.join("audio").join(&clip.file));
    assert_eq!((at, rate), (4_800, 48_000));
    assert_eq!(clip.position + at as u64, 14_400);
    // The original is untouched.
    assert_eq!(click_at(&dir.audio().join("take.wav")), (3_200, 32_000));
    assert_eq!(dir.load().expect("original").rate, 32_000);
}
