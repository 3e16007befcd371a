//! The real app driven through its widgets by label (egui_kittest, no display needed), on the
//! built-in virtual device, which runs in real time.

mod common;

use common::{drag, open_app, run_until, wait_saved};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use overdub_engine::io::StreamRequest;
use overdub_engine::live::Transport;
use overdub_engine::rt::test_signal;
use overdub_engine::session::{Clip, Grid, Session, SessionDir};
use overdub_ui::OverdubApp;

fn request() -> StreamRequest {
    common::virtual_request(256)
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
    let harness = open_app(dir.root(), request(), &tmp.path().join("settings.json"));
    (tmp, harness)
}

/// A clip of `frames` frames on track 1 at frame 0, sample `i` being `sample(i)`.
fn write_clip(
    dir: &SessionDir,
    s: &mut Session,
    name: &str,
    frames: u32,
    sample: impl Fn(u32) -> f32,
) {
    common::write_wav(dir, name, frames, sample);
    let id = s.tracks[0].id;
    s.add_clip(id, Clip::new(name.into(), 0, 0, u64::from(frames)))
        .expect("clip");
}

/// A sine for clips whose content does not matter.
fn sine(i: u32) -> f32 {
    ((i as f32) * 0.05).sin() * 0.5
}

/// The samples of a mono 32-bit float WAV file (a take).
fn read_take(path: &Path) -> Vec<f32> {
    let mut r = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let spec = r.spec();
    assert_eq!(
        (spec.channels, spec.sample_format),
        (1, hound::SampleFormat::Float),
        "a mono float take"
    );
    r.samples::<f32>().map(|s| s.expect("sample")).collect()
}

#[test]
fn arm_a_track_record_and_the_take_appears_on_its_track() {
    let (_tmp, mut h) = app(2, |_, _| {});
    h.get_by_label("Arm Track 1").click();
    h.run_steps(2);
    assert!(h.state().live().editor().session().tracks[0].armed);
    // The test-signal device feeds input channel c at device frame n with test_signal(c, n),
    // one callback of `buffer` frames at a time, so device frame = blocks run x buffer.
    let status = h.state().live().status().expect("running").clone();
    let buffer = u64::from(h.state().live().engine().expect("running").info().buffer);
    let from = h.state().live().position();
    let blocks_before = status.blocks.load(Ordering::Relaxed);
    h.get_by_label("Record").click();
    assert!(run_until(&mut h, Duration::from_secs(3), |a| a
        .live()
        .position()
        > 48_000));
    assert_eq!(h.state().live().transport(), Transport::Recording);
    let rolled = h.state().live().position();
    h.get_by_label("Stop").click();
    assert!(
        run_until(&mut h, Duration::from_secs(10), |a| a.live().transport()
            == Transport::Stopped),
        "the take is closed and placed"
    );
    let stopped_at = h.state().live().position();
    let blocks_after = status.blocks.load(Ordering::Relaxed);
    let s = h.state().live().editor().session().clone();
    assert_eq!(s.tracks[0].clips.len(), 1, "the take is on track 1");
    assert!(s.tracks[1].clips.is_empty());
    let clip = s.tracks[0].clips[0].clone();
    // Where it is: from the playhead where Record was pressed to the one where Stop was, the
    // round trip compensated by the file offset.
    assert_eq!(clip.position, from, "the take starts where recording did");
    assert_eq!(
        clip.position + clip.length,
        stopped_at,
        "the take ends where it was stopped"
    );
    assert!(clip.length >= rolled - from, "everything heard before Stop");
    assert_eq!(
        clip.offset,
        u64::from(h.state().live().latency().0),
        "the round trip is skipped at the file's start"
    );
    // What it holds: the file on disk is every captured frame, and those are the test signal
    // of track 1's input from the first frame of a device block after Record was pressed,
    // sample for sample: no frame lost, repeated or moved, and no other channel.
    let take = read_take(&h.state().live().editor().dir().audio().join(&clip.file));
    assert_eq!(
        take.len() as u64,
        clip.offset + clip.length,
        "the file holds the take and nothing else"
    );
    let (ch, rate) = (usize::from(s.tracks[0].input), s.rate);
    let block = (blocks_before..=blocks_after)
        .find(|b| (0..64).all(|i| take[i] == test_signal(ch, b * buffer + i as u64, rate)))
        .unwrap_or_else(|| {
            panic!(
                "the take does not begin with input {ch} of a device block run while recording \
                 (blocks {blocks_before}..={blocks_after}): {:?}",
                &take[..8]
            )
        });
    for (i, &x) in take.iter().enumerate() {
        assert_eq!(
            x,
            test_signal(ch, block * buffer + i as u64, rate),
            "frame {i} of the take (device block {block})"
        );
    }
    // It was saved (on the saving thread), and the clip is a widget on the timeline.
    wait_saved(&mut h);
    assert!(
        !h.state().live().editor().dir().journal().exists(),
        "the take journal is gone"
    );
    let saved = h.state().live().editor().dir().load().expect("saved");
    assert_eq!(saved.tracks[0].clips, vec![clip.clone()], "saved as placed");
    assert!(
        h.query_by_label(&format!("Clip {} on Track 1", clip.file))
            .is_some(),
        "the take is shown on track 1"
    );
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
    let (_tmp, mut h) = app(1, |dir, s| write_clip(dir, s, "a.wav", 48_000 * 20, sine));
    h.get_by_label("Session").click();
    h.run_steps(3);
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
fn the_export_dialog_writes_a_dawproject_file_alone() {
    let (_tmp, mut h) = app(2, |dir, s| write_clip(dir, s, "a.wav", 48_000, sine));
    h.get_by_label("Session").click();
    h.run_steps(3);
    h.get_by_label("Export…").click();
    h.run_steps(2);
    h.get_by_label("Stems").click();
    h.get_by_label("Mix").click();
    h.get_by_label("DAWproject").click();
    h.run_steps(1);
    h.get_by_role_and_label(Role::Button, "Export").click();
    let done = run_until(&mut h, Duration::from_secs(60), |a| {
        a.export_result().is_some()
    });
    assert!(done, "the export finished");
    let result = h.state().export_result().unwrap_or("").to_string();
    assert!(result.starts_with("wrote "), "{result}");
    let out = h.state().live().editor().dir().root().join("export");
    let file = out.join("s.dawproject");
    let archive = zip::ZipArchive::new(std::fs::File::open(&file).expect("the file is there"))
        .expect("a zip");
    let names: Vec<String> = archive
        .file_names()
        .map(|n| n.expect("a name").into_owned())
        .collect();
    for want in ["project.xml", "metadata.xml", "audio/a.wav"] {
        assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
    }
    assert!(
        !out.join("mix.wav").exists(),
        "no audio export was asked for"
    );
}

#[test]
fn a_clip_dragged_near_a_bar_line_snaps_to_it_and_shift_places_it_freely() {
    // 97 BPM: bar lines fall between frames, and the grid rounds each to the nearest one.
    let (_tmp, mut h) = app(1, |dir, s| {
        write_clip(dir, s, "a.wav", 48_000, sine);
        s.tempo_bpm = 97.0;
    });
    h.run_steps(3);
    let grid = Grid::of(h.state().live().editor().session());
    let bar2 = grid.beat_frame(u64::from(grid.beats_per_bar));
    assert_eq!(bar2, 118_763);
    let r = h.get_by_label("Clip a.wav on Track 1").rect();
    let frames_per_point = 48_000.0 / r.width();
    // Let go 3000 frames past the second bar line.
    let dx = (bar2 as f32 + 3_000.0) / frames_per_point;
    drag(&mut h, r.center(), dx, egui::Modifiers::NONE);
    let position = |h: &Harness<'_, OverdubApp>| {
        h.state().live().editor().session().tracks[0].clips[0].position
    };
    assert_eq!(position(&h), bar2, "snapped to the bar line");
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run_steps(2);
    assert_eq!(position(&h), 0);
    let r = h.get_by_label("Clip a.wav on Track 1").rect();
    drag(&mut h, r.center(), dx, egui::Modifiers::SHIFT);
    let free = position(&h);
    assert!(
        free > bar2 + 2_000 && free < bar2 + 4_000,
        "with Shift it lands where it was let go: {free}"
    );
}

#[test]
fn markers_are_added_at_the_playhead_jumped_between_and_clicked_to() {
    let (_tmp, mut h) = app(1, |dir, s| write_clip(dir, s, "a.wav", 48_000 * 4, sine));
    h.run_steps(2);
    let at = |h: &mut Harness<'_, OverdubApp>, f: u64, what: &str| {
        assert!(
            run_until(h, Duration::from_secs(3), |a| a.live().position() == f),
            "{what}: the playhead is at {}, not {f}",
            h.state().live().position()
        );
    };
    h.state_mut().live_mut().locate(30_000);
    at(&mut h, 30_000, "located");
    h.get_by_label("Add marker").click();
    h.run_steps(2);
    h.state_mut().live_mut().locate(90_000);
    at(&mut h, 90_000, "located");
    h.key_press(egui::Key::M);
    h.run_steps(2);
    let positions: Vec<u64> = h
        .state()
        .live()
        .editor()
        .session()
        .markers
        .iter()
        .map(|m| m.position)
        .collect();
    assert_eq!(positions, [30_000, 90_000]);
    h.state_mut().live_mut().locate(0);
    at(&mut h, 0, "located");
    h.get_by_label("Next marker").click();
    at(&mut h, 30_000, "next marker");
    h.key_press(egui::Key::CloseBracket);
    at(&mut h, 90_000, "] to the next marker");
    h.get_by_label("Previous marker").click();
    at(&mut h, 30_000, "previous marker");
    h.state_mut().live_mut().locate(0);
    at(&mut h, 0, "located");
    h.get_by_label("Marker Marker 2").click();
    at(&mut h, 90_000, "clicked the second marker");
}

#[test]
fn a_clip_dragged_along_the_timeline_moves_and_ctrl_z_undoes_it() {
    let (_tmp, mut h) = app(2, |dir, s| write_clip(dir, s, "a.wav", 48_000 * 2, sine));
    h.run_steps(3);
    let r = h.get_by_label("Clip a.wav on Track 1").rect();
    drag(&mut h, r.center(), 150.0, egui::Modifiers::NONE);
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
    // Saved, the session file holds the move.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::S);
    wait_saved(&mut h);
    let saved = h.state().live().editor().dir().load().expect("saved");
    assert_eq!(
        saved.tracks[0].clips[0].position, moved,
        "the move is saved"
    );
}

#[test]
fn play_loops_inside_the_loop_range() {
    // Track 1's clip says where it is on the timeline by its level (a square wave, so that every
    // block of it peaks at exactly that level): before the loop, the loop's first half, its
    // second half, after the loop.
    let (a, b) = (6_000u32, 30_000u32);
    let levels = [0.1f32, 0.2, 0.3, 0.9];
    let region = move |f: u32| match f {
        f if f < a => 0,
        f if f < (a + b) / 2 => 1,
        f if f < b => 2,
        _ => 3,
    };
    let (_tmp, mut h) = app(1, |dir, s| {
        write_clip(dir, s, "a.wav", 48_000 * 4, |i| {
            levels[region(i)] * if i % 2 == 0 { 1.0 } else { -1.0 }
        });
    });
    let (a, b) = (u64::from(a), u64::from(b));
    h.state_mut().live_mut().set_loop(true, Some((a, b)));
    let id = h.state().live().editor().session().tracks[0].id;
    let meter = h.state().live().meter(id).expect("a meter").clone();
    let status = h.state().live().status().expect("running").clone();
    let blocks = || status.blocks.load(Ordering::Relaxed);
    h.get_by_label("Play").click();
    // Each turn: the window's meter takes the peak while it draws (h.step), then what played
    // in the next few milliseconds is read here: the loudest level of what was heard then, with
    // how many device blocks ran meanwhile (of two or more, one ran wholly inside the window).
    let level_of = |peak: f32| levels.iter().position(|l| (l - peak).abs() < 1e-4);
    let mut last = 0;
    let mut wraps = 0;
    let mut furthest = 0;
    let mut lowest_after_wrap = u64::MAX;
    let mut heard = Vec::new();
    let heard_again = |heard: &[(u32, u64, f32)], r: usize| {
        heard
            .iter()
            .any(|&(w, _, p)| w > 0 && level_of(p) == Some(r))
    };
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10)
        && !(wraps >= 2 && heard_again(&heard, 1) && heard_again(&heard, 2))
    {
        h.step();
        let before = blocks();
        std::thread::sleep(Duration::from_millis(10));
        let ran = blocks() - before;
        // The wraps seen before this window opened: with one or more, all of it came after one.
        heard.push((wraps, ran, meter.peak.take()));
        let p = h.state().live().position();
        if p < last {
            wraps += 1;
        }
        if wraps > 0 {
            lowest_after_wrap = lowest_after_wrap.min(p);
        }
        last = p;
        furthest = furthest.max(p);
    }
    assert_eq!(h.state().live().transport(), Transport::Playing);
    assert!(furthest < b, "never past the loop end: {furthest}");
    assert!(wraps >= 2, "went round the loop");
    assert!(
        lowest_after_wrap >= a,
        "went back to the loop start, not before it: {lowest_after_wrap}"
    );
    // What was heard: only the clip's audio, never what lies past the loop end; after a wrap,
    // both halves of the loop again and never the part before it; never silence in a window
    // in which the device ran (a playhead that loops over rings that do not would give that).
    for &(w, ran, peak) in &heard {
        match level_of(peak) {
            Some(3) => panic!("heard the clip past the loop end: {heard:?}"),
            Some(0) if w > 0 => panic!("heard the clip before the loop after a wrap: {heard:?}"),
            Some(_) => {}
            None if peak == 0.0 && w > 0 && ran >= 2 => {
                panic!("heard silence while looping: {heard:?}")
            }
            None if peak == 0.0 => {}
            None => panic!("heard {peak}, which is not the clip: {heard:?}"),
        }
    }
    assert!(
        heard_again(&heard, 1) && heard_again(&heard, 2),
        "both halves of the loop heard again after a wrap: {heard:?}"
    );
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
