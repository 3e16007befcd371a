//! The transport never wedges and no take is lost, driven through the real window's widgets
//! (egui_kittest) on the built-in virtual device, which runs in real time: a device change while
//! recording, Stop during the count-in, and closing the window while recording.

mod common;

use common::{open_app, run_until};
use std::time::Duration;

use egui::{ViewportEvent, ViewportId};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use overdub_engine::live::{Metronome, Transport};
use overdub_engine::session::{Edit, Session, SessionDir};
use overdub_ui::OverdubApp;

const RATE: u32 = 48_000;

/// A session of two tracks on the virtual test-signal device, open in the window.
fn app() -> (tempfile::TempDir, SessionDir, Harness<'static, OverdubApp>) {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = SessionDir::new(tmp.path().join("s"));
    dir.create(&Session::new(RATE, 2)).expect("create");
    let req = common::virtual_request(192);
    let harness = open_app(dir.root(), req, &tmp.path().join("settings.json"));
    (tmp, dir, harness)
}

/// Arm track 1 and press Record; wait until the take has rolled past `frames`.
fn record_past(h: &mut Harness<'_, OverdubApp>, frames: u64) {
    h.get_by_label("Arm Track 1").click();
    h.run_steps(2);
    h.get_by_label("Record").click();
    assert!(
        run_until(h, Duration::from_secs(5), |a| a.live().position() > frames),
        "the recording rolls"
    );
    assert_eq!(h.state().live().transport(), Transport::Recording);
}

/// The take file's frames, read from disk.
fn take_frames(dir: &SessionDir, file: &str) -> u64 {
    let r = hound::WavReader::open(dir.audio().join(file)).expect("take file");
    u64::from(r.duration())
}

/// The files in the session's audio folder.
fn audio_files(dir: &SessionDir) -> Vec<String> {
    std::fs::read_dir(dir.audio())
        .expect("audio folder")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn apply_on_the_settings_page_while_recording_places_the_take_and_stops() {
    let (_tmp, dir, mut h) = app();
    record_past(&mut h, 24_000);
    h.get_by_label("Audio settings").click();
    h.run_steps(2);
    h.get_by_label("Apply").click();
    h.run_steps(2);
    let live = h.state().live();
    assert_eq!(live.transport(), Transport::Stopped, "not wedged");
    let s = live.editor().session().clone();
    assert_eq!(s.tracks[0].clips.len(), 1, "the take is on its track");
    let clip = &s.tracks[0].clips[0];
    assert!(clip.length >= 24_000, "the take holds what was recorded");
    assert!(take_frames(&dir, &clip.file) >= clip.length);
    // The new stream runs, and the transport answers: Play rolls, Stop stops.
    assert!(live.engine().is_some(), "the device is open again");
    // Back to the session page (the page has a heading of the same name).
    h.get_all_by_label("Audio settings")
        .next()
        .expect("the page switch")
        .click();
    h.run_steps(2);
    h.get_by_label("Play").click();
    let from = h.state().live().position();
    assert!(run_until(&mut h, Duration::from_secs(3), |a| a
        .live()
        .position()
        > from + 4_800));
    h.get_by_label("Stop").click();
    h.run_steps(2);
    assert_eq!(h.state().live().transport(), Transport::Stopped);
}

#[test]
fn stop_during_the_count_in_stops_at_once_and_leaves_no_file() {
    let (_tmp, dir, mut h) = app();
    // One bar at 40 BPM: six seconds of count-in, far longer than this test waits.
    h.state_mut()
        .live_mut()
        .apply(Edit::SetTempo(40.0))
        .expect("tempo");
    h.state_mut().live_mut().set_metronome(Metronome {
        on: true,
        count_in_bars: 1,
    });
    h.get_by_label("Arm Track 1").click();
    h.run_steps(2);
    h.get_by_label("Record").click();
    assert!(run_until(&mut h, Duration::from_secs(3), |a| {
        a.live().transport() == Transport::Recording
    }));
    // Counting in: the playhead waits.
    assert!(!run_until(&mut h, Duration::from_millis(300), |a| a
        .live()
        .position()
        > 0));
    h.get_by_label("Stop").click();
    assert!(
        run_until(&mut h, Duration::from_secs(2), |a| a.live().transport()
            == Transport::Stopped),
        "Stop works during the count-in"
    );
    let live = h.state().live();
    assert_eq!(live.position(), 0, "nothing rolled");
    let rolling = live
        .status()
        .expect("status")
        .rolling
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(!rolling, "the audio thread stopped too");
    assert!(live.editor().session().tracks[0].clips.is_empty());
    assert_eq!(
        audio_files(&dir),
        Vec::<String>::new(),
        "no orphan take file"
    );
    assert!(!dir.journal().exists(), "no take journal left behind");
}

#[test]
fn closing_the_window_while_recording_keeps_the_take_to_its_last_block() {
    let (_tmp, dir, mut h) = app();
    record_past(&mut h, 36_000);
    let at_close = h.state().live().position();
    h.input_mut()
        .viewports
        .entry(ViewportId::ROOT)
        .or_default()
        .events
        .push(ViewportEvent::Close);
    h.step();
    // What is on disk now, as the next start would find it.
    let saved = dir.load().expect("the session was saved");
    assert_eq!(
        saved.tracks[0].clips.len(),
        1,
        "the take is in the saved session"
    );
    let clip = &saved.tracks[0].clips[0];
    assert!(
        clip.length >= at_close,
        "the take runs to where the window closed: {} < {at_close}",
        clip.length
    );
    assert!(take_frames(&dir, &clip.file) >= clip.length);
    assert!(
        !dir.journal().exists(),
        "placed and saved, nothing left to recover"
    );
}
