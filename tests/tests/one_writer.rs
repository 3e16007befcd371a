//! One writer per session: a second recorder, an import or an edit on a session that another
//! process is writing is refused with one line naming the holder (exit 2), and the holder's take
//! is kept; readers (info, export) still work; a holder killed with -9 never blocks the next one;
//! the window holding a session refuses the command line the same way.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use overdub_tests::{World, Xvfb, clips, start_recording, write_source};

/// Run `overdub ARGS` and expect the one-line refusal naming `holder`.
fn refused(w: &World, args: &[&str], holder: &str) {
    let run = w.overdub(args);
    assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("is open in") && run.stderr.contains(holder),
        "{args:?}: {}",
        run.stderr
    );
}

fn holder_pid(child: &Child) -> String {
    format!("(pid {})", child.id())
}

#[test]
fn a_second_recorder_is_refused_and_the_first_take_is_kept() {
    let w = World::new();
    let dir = w.path("s");
    let d = dir.to_string_lossy().to_string();
    w.overdub(&["new", &d, "--tracks", "2"]).ok();
    let wav = w.path("in.wav");
    write_source(&wav, 48_000, 1, 16, false, 4_800);
    let (mut first, _) = start_recording(
        &w,
        &[
            "record",
            &d,
            "--seconds",
            "3",
            "--arm",
            "1",
            "--host",
            "virtual",
        ],
    );
    let holder = format!("overdub record {}", holder_pid(&first));
    refused(
        &w,
        &[
            "record",
            &d,
            "--seconds",
            "1",
            "--arm",
            "2",
            "--host",
            "virtual",
        ],
        &holder,
    );
    refused(&w, &["import", &d, &wav.to_string_lossy()], &holder);
    refused(&w, &["track", &d, "add"], &holder);
    refused(&w, &["recover", &d], &holder);
    // Readers are not writers.
    w.overdub(&["info", &d]).ok();
    let status = first.wait().expect("wait");
    assert!(status.success(), "the first recorder finished: {status:?}");
    let info = w.info(&dir);
    let takes = clips(&info, 0);
    assert_eq!(takes.len(), 1, "the first take is in the session: {info}");
    assert_eq!(takes[0]["length"], 144_000, "all 3 s of it");
    assert!(
        clips(&info, 1).is_empty(),
        "the refused recorder left nothing"
    );
    // Once it is done the session is free again.
    w.overdub(&["track", &d, "add"]).ok();
}

#[test]
fn a_holder_killed_with_minus_9_never_blocks_the_next_writer() {
    let w = World::new();
    let dir = w.path("s");
    let d = dir.to_string_lossy().to_string();
    w.overdub(&["new", &d, "--tracks", "1"]).ok();
    let (mut child, _) =
        start_recording(&w, &["record", &d, "--seconds", "30", "--host", "virtual"]);
    std::thread::sleep(Duration::from_millis(700));
    child.kill().expect("kill -9");
    child.wait().expect("reaped");
    assert!(
        dir.join(".overdub.lock").exists(),
        "the lock file is left behind"
    );
    let t0 = Instant::now();
    let run = w
        .overdub(&["record", &d, "--seconds", "0.5", "--host", "virtual"])
        .ok();
    assert!(
        t0.elapsed() < Duration::from_secs(10),
        "the next writer did not wait for anything"
    );
    assert!(
        run.stdout.contains("recovered an interrupted recording"),
        "{}",
        run.stdout
    );
    assert_eq!(
        clips(&w.info(&dir), 0).len(),
        2,
        "the killed take and the new one"
    );
}

#[test]
fn the_window_holding_a_session_refuses_the_command_line_until_it_is_gone() {
    let w = World::new();
    let x = Xvfb::start();
    let dir = w.path("s");
    let d = dir.to_string_lossy().to_string();
    w.overdub(&["new", &d, "--tracks", "1"]).ok();
    let mut window = w
        .window(&x, &dir, &[])
        .stderr(Stdio::null())
        .spawn()
        .expect("start overdub");
    let holder_file = dir.join(".overdub.lock.holder");
    let t0 = Instant::now();
    while !std::fs::read_to_string(&holder_file).is_ok_and(|h| h.contains("Overdub window")) {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the window took the session"
        );
        assert!(
            window.try_wait().expect("try_wait").is_none(),
            "the window is running"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let holder = format!("the Overdub window {}", holder_pid(&window));
    refused(
        &w,
        &["record", &d, "--seconds", "0.5", "--host", "virtual"],
        &holder,
    );
    refused(&w, &["track", &d, "add"], &holder);
    window.kill().expect("kill -9 the window");
    window.wait().expect("reaped");
    w.overdub(&["record", &d, "--seconds", "0.5", "--host", "virtual"])
        .ok();
    assert_eq!(clips(&w.info(&dir), 0).len(), 1);
}
