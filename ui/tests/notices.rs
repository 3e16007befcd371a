//! Notices in the real window (egui_kittest): a burst of xruns on the virtual device (its
//! injected faults) is listed, as one notice, until read, behind a status-bar button; a driver
//! that changes its callback order during a take is told, and the take keeps every frame. (A lost
//! device reaches the notices the same way as every engine message; `transport.rs` and the
//! engine tests cover losing it.)

mod common;

use common::{open_app, run_until};
use std::time::Duration;

use egui_kittest::kittest::Queryable;
use overdub_engine::io::{CallbackOrder, Fault};
use overdub_engine::live::Transport;
use overdub_engine::rt::test_signal;
use overdub_engine::session::{Session, SessionDir};
use overdub_ui::OverdubApp;

#[test]
fn a_burst_of_xruns_stays_as_one_notice_until_read() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = SessionDir::new(tmp.path().join("s"));
    dir.create(&Session::new(48_000, 1)).expect("create");
    let mut req = common::virtual_request(256);
    // Two dropped blocks close together: one burst.
    req.faults = vec![Fault::Xrun(20), Fault::Xrun(30)];
    let mut h = open_app(dir.root(), req, &tmp.path().join("settings.json"));
    // The virtual device also counts its timer's own late wake-ups as xruns, as a real device
    // would drop out there; a busy machine can add some. So the count the notices must show is
    // the engine's, read beside them, and never less than the two injected.
    assert!(
        run_until(&mut h, Duration::from_secs(5), |a| {
            let counted = engine_xruns(a);
            counted >= 2 && noticed_xruns(&a.unread_notices()) == counted
        }),
        "the xruns are noticed: {:?}, {} counted",
        h.state().unread_notices(),
        engine_xruns(h.state())
    );
    let unread = h.state().unread_notices();
    assert!(
        unread.iter().all(|t| t.contains("xrun(s)")),
        "only the xruns: {unread:?}"
    );
    // Later, long after a status-bar message would have gone, they are all still there, word for
    // word, unless the device counted a late wake-up meanwhile; then look again.
    let mut stayed = false;
    for _ in 0..5 {
        let (before, counted) = (h.state().unread_notices(), engine_xruns(h.state()));
        std::thread::sleep(Duration::from_secs(1));
        h.run_steps(2);
        if engine_xruns(h.state()) == counted {
            assert_eq!(
                h.state().unread_notices(),
                before,
                "the notices stay until read"
            );
            stayed = true;
            break;
        }
    }
    assert!(stayed, "the device kept counting late wake-ups");
    // The two injected drops, 10 blocks apart, are one burst: the first notice counts both.
    let unread = h.state().unread_notices();
    assert!(
        unread.first().map_or(0, |t| count(t)) >= 2,
        "one notice per burst: {unread:?}"
    );
    h.get_by_label("Notices").click();
    h.run_steps(2);
    h.get_by_label("Mark read").click();
    h.run_steps(2);
    assert!(h.state().unread_notices().is_empty(), "read");
}

#[test]
fn a_driver_that_changes_its_callback_order_mid_take_is_told_and_the_take_is_whole() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = SessionDir::new(tmp.path().join("s"));
    dir.create(&Session::new(48_000, 1)).expect("create");
    let mut req = common::virtual_request(256);
    // Input then output on one thread, until a quarter of a second into the take.
    req.callbacks = CallbackOrder::Reordered { at: 12_000 };
    let mut h = open_app(dir.root(), req, &tmp.path().join("settings.json"));
    h.run_steps(2);
    h.get_by_label("Arm Track 1").click();
    h.run_steps(2);
    h.get_by_label("Record").click();
    assert!(
        run_until(&mut h, Duration::from_secs(8), |a| a
            .live()
            .status()
            .is_some_and(
                |s| s.ran.load(std::sync::atomic::Ordering::Relaxed) > 48_000
            )),
        "the take rolls"
    );
    h.get_by_label("Stop").click();
    assert!(
        run_until(&mut h, Duration::from_secs(5), |a| {
            a.live().transport() == Transport::Stopped
                && !a.live().editor().session().tracks[0].clips.is_empty()
        }),
        "the take is placed"
    );
    h.run_steps(2);
    let unread = h.state().unread_notices();
    assert!(
        unread.iter().any(|t| t.contains("changed the order")
            && t.contains("silent for 256 frames")
            && t.contains("kept every frame")),
        "the change is told: {unread:?}"
    );
    // The take is the test signal of consecutive device frames from its first to its last: no
    // block of silence where the order changed, and no input frame missing or moved.
    let clip = h.state().live().editor().session().tracks[0].clips[0].clone();
    let mut r = hound::WavReader::open(dir.root().join("audio").join(&clip.file)).expect("take");
    let take: Vec<f32> = r.samples::<f32>().map(|s| s.expect("sample")).collect();
    let first = (0..480_000u64)
        .find(|&k| (0..32).all(|i| take[i] == test_signal(0, k + i as u64, 48_000)))
        .expect("the take starts with the test signal");
    for (i, &v) in take.iter().enumerate() {
        assert_eq!(
            v,
            test_signal(0, first + i as u64, 48_000),
            "take frame {i}"
        );
    }
    assert!(take.len() > 48_000, "{} frames", take.len());
}

/// What the engine has counted.
fn engine_xruns(a: &OverdubApp) -> u64 {
    a.live()
        .status()
        .map_or(0, |s| s.xruns.load(std::sync::atomic::Ordering::Relaxed))
}

/// The xruns the notices add up to: each burst's notice starts with its count.
fn noticed_xruns(notices: &[String]) -> u64 {
    notices.iter().map(|t| count(t)).sum()
}

/// The count a notice starts with ("3 xrun(s) ..."), 0 if none.
fn count(notice: &str) -> u64 {
    notice
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
