//! A session another program is writing opens read-only in the window, behind a dialog that
//! names the holder: recording, edits and saves are refused and nothing in its folder changes.

mod common;

use common::{run_until, virtual_request};
use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use overdub_engine::live::Transport;
use overdub_engine::session::{Session, SessionDir};
use overdub_engine::settings::Settings;
use overdub_ui::OverdubApp;

/// Every file in the session folder with its bytes.
fn snapshot(dir: &SessionDir) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = walk(dir.root())
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).expect("read");
            (p.display().to_string(), bytes)
        })
        .collect();
    out.sort();
    out
}

fn walk(p: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(p).expect("read_dir").flatten() {
        let path = e.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_session_held_by_another_writer_opens_read_only_and_is_left_untouched() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = SessionDir::new(tmp.path().join("s"));
    let mut s = Session::new(48_000, 2);
    s.tracks[0].armed = true;
    dir.create(&s).expect("create");
    // Another writer (a lock on its own open file, as another process holds it).
    let _held = dir.lock("overdub record").expect("the other writer");
    let before = snapshot(&dir);
    let req = virtual_request(256);
    let (live, notice) = overdub_ui::open_live(dir.root(), req, Vec::new()).expect("opens");
    let notice = notice.expect("told who holds it");
    assert!(notice.contains("overdub record"), "{notice}");
    assert!(live.is_read_only());
    let settings_path = tmp.path().join("settings.json");
    let mut h = Harness::builder()
        .with_size(egui::Vec2::new(1400.0, 800.0))
        .build_eframe(move |_cc| {
            OverdubApp::new(live, Settings::default())
                .with_settings_path(Some(settings_path))
                .with_lock_notice(Some(notice))
        });
    h.run_steps(2);
    h.get_by_label("This session is in use");
    h.get_by_label("Open read-only").click();
    h.run_steps(2);
    assert!(h.state().lock_notice().is_none(), "the dialog is gone");
    // Record is refused, and says why.
    h.get_by_label("Record").click();
    h.run_steps(3);
    assert_eq!(h.state().live().transport(), Transport::Stopped);
    assert!(
        h.state().messages().iter().any(|m| m.contains("read-only")),
        "{:?}",
        h.state().messages()
    );
    // Playing is fine.
    h.get_by_label("Play").click();
    assert!(
        run_until(&mut h, Duration::from_secs(5), |a| a.live().position()
            > 4_800),
        "it plays"
    );
    h.get_by_label("Stop").click();
    h.run_steps(2);
    h.state_mut().leave();
    assert_eq!(snapshot(&dir), before, "nothing in the folder changed");
}
