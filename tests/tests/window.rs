//! The real binary in a real window under Xvfb, on a session with a few clips: it starts, draws,
//! and keeps running; screenshots of the main window and the audio settings page are saved to
//! `target/screenshots/` (the README shows them).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use overdub_tests::{World, Xvfb, write_source};

fn screenshot_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("exe");
    let target = exe.ancestors().nth(3).expect("target dir").to_path_buf();
    let d = target.join("screenshots");
    std::fs::create_dir_all(&d).expect("screenshot dir");
    d
}

/// Open the window on `dir` and take a screenshot after it has settled.
fn shoot(w: &World, x: &Xvfb, dir: &Path, page: &str, out: &Path) {
    let mut app = w
        .window(x, dir, &["--page", page])
        .spawn()
        .expect("start overdub");
    std::thread::sleep(Duration::from_secs(6));
    let alive = app.try_wait().expect("try_wait").is_none();
    let shot = Command::new("import")
        .args(["-display", &x.display, "-window", "root"])
        .arg(out)
        .status()
        .expect("ImageMagick's import (apt-get install imagemagick)");
    let _ = app.kill();
    let output = app.wait_with_output().expect("wait");
    assert!(
        alive,
        "the window stayed up: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(shot.success(), "screenshot taken");
    // Not a blank screen: the image has real contrast.
    // ImageMagick's own convert: some machines put a different `convert` earlier on PATH.
    let convert = if Path::new("/usr/bin/convert").exists() {
        "/usr/bin/convert"
    } else {
        "convert"
    };
    let sd = Command::new(convert)
        .arg(out)
        .args(["-format", "%[fx:standard_deviation]", "info:"])
        .output()
        .expect("convert");
    let sd: f64 = String::from_utf8_lossy(&sd.stdout)
        .trim()
        .parse()
        .unwrap_or(0.0);
    assert!(
        sd > 0.05,
        "the screenshot shows a drawn window (standard deviation {sd})"
    );
}

#[test]
fn the_window_opens_on_a_session_with_clips_and_draws_it() {
    let w = World::new();
    let dir = w.path("Demo song");
    let d = dir.to_string_lossy().to_string();
    w.overdub(&["new", &d, "--tracks", "3"]).ok();
    // Three passes of a loop on track 1, with the middle of the second comped in: take lanes.
    w.overdub(&[
        "record", &d, "--loop", "0.5:1.5", "--passes", "3", "--arm", "1", "--host", "virtual",
    ])
    .ok();
    w.overdub(&[
        "takes", &d, "--track", "1", "--use", "2", "--range", "0.8:1.2",
    ])
    .ok();
    let src = w.path("guitar.wav");
    write_source(&src, 48_000, 2, 24, false, 48_000 * 6);
    w.overdub(&["import", &d, &src.to_string_lossy(), "--at", "1.5"])
        .ok();
    w.overdub(&[
        "track", &d, "set", "2", "--name", "Bass", "--gain", "-3", "--arm", "on",
    ])
    .ok();
    w.overdub(&["track", &d, "set", "1", "--name", "Vocal", "--pan", "-0.3"])
        .ok();
    w.overdub(&["tempo", &d, "--bpm", "96", "--meter", "3/4"])
        .ok();
    w.overdub(&["marker", &d, "add", "--at", "1.875", "--name", "Verse"])
        .ok();
    w.overdub(&["marker", &d, "add", "--at", "5.625", "--name", "Chorus"])
        .ok();
    let x = Xvfb::start();
    let shots = screenshot_dir();
    shoot(&w, &x, &dir, "mixer", &shots.join("main-window.png"));
    shoot(&w, &x, &dir, "audio", &shots.join("audio-settings.png"));
    shoot(&w, &x, &dir, "start", &shots.join("start-screen.png"));
}
