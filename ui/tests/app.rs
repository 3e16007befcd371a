//! The real app driven through its widgets by label (egui_kittest, no display needed), on the
//! built-in virtual device, which runs in real time.

use std::path::Path;
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use overdub_engine::io::{CallbackOrder, HostId, StreamRequest};
use overdub_engine::live::{Live, Transport};
use overdub_engine::session::{Clip, Session, SessionDir};
use overdub_engine::settings::Settings;
use overdub_ui::OverdubApp;

fn request() -> StreamRequest {
    StreamRequest {
        host: HostId::Virtual,
        input: Some("Virtual Test Signal".into()),
        output: None,
        rate: 0,
        buffer: Some(256),
        loopback_delay: None,
        master_out: 0,
        faults: Vec::new(),
        callbacks: CallbackOrder::Duplex,
    }
}

/// A session with `tracks` tracks; `prepare` may add files and clips before the app opens it.
fn app(
    tracks: usize,
    prepare: impl FnOnce(&SessionDir, &mut Session),
) -> (tempfile::TempDir, Harness<'static, OverdubApp>) {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = SessionDir::new(tmp.path().join("s"));
    let mut s = Session::new(48_000, tracks);
    dir.create(&s).expect("create");
    prepare(&dir, &mut s);
    dir.save(&s).expect("save");
    let live = Live::open(dir.root(), request(), Vec::new()).expect("open");
    assert!(live.engine().is_some(), "the virtual device opens");
    let settings_path = tmp.path().join("settings.json");
    let harness = Harness::builder()
        .with_size(egui::Vec2::new(1400.0, 800.0))
        .build_eframe(move |_cc| {
            OverdubApp::new(live, Settings::default()).with_settings_path(Some(settings_path))
        });
    (tmp, harness)
}

/// Step the app in real time (the virtual device runs at real speed) until `done` or `limit`.
fn run_until(
    h: &mut Harness<'_, OverdubApp>,
    limit: Duration,
    mut done: impl FnMut(&OverdubApp) -> bool,
) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        h.step();
        if done(h.state()) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(15));
    }
    false
}

fn write_clip(dir: &SessionDir, s: &mut Session, name: &str, frames: u32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(dir.audio().join(name), spec).expect("wav");
    for i in 0..frames {
        w.write_sample(((i as f32) * 0.05).sin() * 0.5).expect("s");
    }
    w.finalize().expect("fin");
    let id = s.tracks[0].id;
    s.add_clip(
        id,
        Clip {
            id: 0,
            file: name.into(),
            position: 0,
            offset: 0,
            length: u64::from(frames),
        },
    )
    .expect("clip");
}

#[test]
fn arm_a_track_record_and_the_take_appears_on_its_track() {
    let (_tmp, mut h) = app(2, |_, _| {});
    h.get_by_label("Arm Track 1").click();
    h.run_steps(2);
    assert!(h.state().live().editor().session().tracks[0].armed);
    h.get_by_label("Record").click();
    assert!(run_until(&mut h, Duration::from_secs(3), |a| a
        .live()
        .position()
        > 48_000));
    assert_eq!(h.state().live().transport(), Transport::Recording);
    h.get_by_label("Stop").click();
    assert!(
        run_until(&mut h, Duration::from_secs(10), |a| a.live().transport()
            == Transport::Stopped),
        "the take is closed and placed"
    );
    let s = h.state().live().editor().session().clone();
    assert_eq!(s.tracks[0].clips.len(), 1, "the take is on track 1");
    assert!(s.tracks[1].clips.is_empty());
    let len = s.tracks[0].clips[0].length;
    assert!((48_000..96_000).contains(&len), "about a second: {len}");
    // It was saved (on the saving thread), and the clip is a widget on the timeline.
    assert!(
        run_until(&mut h, Duration::from_secs(5), |a| !a
            .live()
            .editor()
            .is_dirty()),
        "the session is saved"
    );
    assert!(
        !h.state().live().editor().dir().journal().exists(),
        "the take journal is gone"
    );
    let saved = h.state().live().editor().dir().load().expect("saved");
    assert_eq!(saved.tracks[0].clips.len(), 1);
    let file = s.tracks[0].clips[0].file.clone();
    h.get_by_label(&format!("Clip {file} on Track 1"));
}

#[test]
fn pick_a_buffer_size_on_the_settings_page_and_the_engine_runs_at_it() {
    let (tmp, mut h) = app(1, |_, _| {});
    h.get_by_label("Audio settings").click();
    h.run_steps(2);
    h.get_by_role_and_label(Role::ComboBox, "Buffer size")
        .click();
    h.run_steps(2);
    h.get_by_label("128 frames (2.7 ms)").click();
    h.run_steps(2);
    h.get_by_label("Apply").click();
    h.run_steps(2);
    let engine = h.state().live().engine().expect("running");
    assert_eq!(engine.info().buffer, 128);
    let blocks = |a: &OverdubApp| {
        a.live()
            .status()
            .map_or(0, |s| s.blocks.load(std::sync::atomic::Ordering::Relaxed))
    };
    assert!(
        run_until(&mut h, Duration::from_secs(3), |a| blocks(a) > 100),
        "the device runs"
    );
    let saved = std::fs::read_to_string(tmp.path().join("settings.json")).expect("settings saved");
    assert!(saved.contains("\"buffer\": 128"), "{saved}");
}

#[test]
fn export_runs_to_the_end_with_progress() {
    let (_tmp, mut h) = app(1, |dir, s| write_clip(dir, s, "a.wav", 48_000 * 20));
    h.get_by_label("Export…").click();
    h.run_steps(2);
    h.get_by_role_and_label(Role::Button, "Export").click();
    let mut saw_progress = false;
    let done = run_until(&mut h, Duration::from_secs(60), |a| {
        saw_progress |= a.exporting();
        a.export_result().is_some()
    });
    assert!(done, "the export finished");
    assert!(saw_progress, "a progress bar was shown while it ran");
    let result = h.state().export_result().unwrap_or("").to_string();
    assert!(result.starts_with("exported 2 file(s)"), "{result}");
    let out = h.state().live().editor().dir().root().join("export");
    assert!(out.join("mix.wav").exists() && out.join("01-Track-1.wav").exists());
}

#[test]
fn a_clip_dragged_along_the_timeline_moves_and_ctrl_z_undoes_it() {
    let (_tmp, mut h) = app(2, |dir, s| write_clip(dir, s, "a.wav", 48_000 * 2));
    h.run_steps(3);
    let r = h.get_by_label("Clip a.wav on Track 1").rect();
    let from = r.center();
    let to = from + egui::Vec2::new(150.0, 0.0);
    let button = |pos, pressed| egui::Event::PointerButton {
        pos,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers: egui::Modifiers::NONE,
    };
    h.event(egui::Event::PointerMoved(from));
    h.run_steps(1);
    h.event(button(from, true));
    h.run_steps(1);
    for k in 1..=5 {
        h.event(egui::Event::PointerMoved(
            from + egui::Vec2::new(30.0 * k as f32, 0.0),
        ));
        h.run_steps(1);
    }
    h.event(button(to, false));
    h.run_steps(2);
    let moved = h.state().live().editor().session().tracks[0].clips[0].position;
    assert!(moved > 0, "the clip moved right");
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run_steps(2);
    assert_eq!(
        h.state().live().editor().session().tracks[0].clips[0].position,
        0,
        "undone"
    );
    h.key_press_modifiers(
        egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
        egui::Key::Z,
    );
    h.run_steps(2);
    assert_eq!(
        h.state().live().editor().session().tracks[0].clips[0].position,
        moved,
        "redone"
    );
    let _ = Path::new("");
}

#[test]
fn play_loops_inside_the_loop_range() {
    let (_tmp, mut h) = app(1, |dir, s| write_clip(dir, s, "a.wav", 48_000 * 4));
    h.state_mut().live_mut().set_loop(true, Some((0, 12_000)));
    h.get_by_label("Play").click();
    let mut furthest = 0;
    let mut wrapped = false;
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(1200) {
        h.step();
        let p = h.state().live().position();
        wrapped |= p < furthest;
        furthest = furthest.max(p);
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(h.state().live().transport(), Transport::Playing);
    assert!(furthest < 12_000, "never past the loop end: {furthest}");
    assert!(wrapped, "went round the loop");
    h.get_by_label("Stop").click();
    h.run_steps(2);
    assert_eq!(h.state().live().transport(), Transport::Stopped);
}

#[test]
fn the_buffer_size_advisor_recommends_a_size_and_the_stream_comes_back() {
    let (_tmp, mut h) = app(1, |_, _| {});
    h.get_by_label("Audio settings").click();
    h.run_steps(2);
    h.get_by_label("Find the best buffer size").click();
    assert!(
        run_until(&mut h, Duration::from_secs(60), |a| a
            .audio_result()
            .is_some()),
        "tuning finished"
    );
    let text = h.state().audio_result().unwrap_or("").to_string();
    assert!(text.contains("512 frames"), "it started at 512: {text}");
    assert!(text.contains("Recommended: "), "{text}");
    assert!(
        h.state().live().engine().is_some(),
        "the stream is open again"
    );
}
