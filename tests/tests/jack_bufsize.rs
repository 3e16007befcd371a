//! The JACK server changes its buffer size under a running session (`jack_bufsize`, as PipeWire
//! changes its quantum): playback keeps rolling through the change, the engine follows the new
//! size and its latency, and a take recorded after it lines up as one recorded before it does.
//!
//! The session runs in one long-lived [`Live`], as the window runs it. It runs in a child
//! process of this test (the test binary started again), because the JACK client finds its
//! server through `JACK_DEFAULT_SERVER`, which a test must not set in its own process.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use overdub_engine::io::{CallbackOrder, HostId, StreamRequest};
use overdub_engine::live::{Live, Transport};
use overdub_engine::rt::MonitorMode;
use overdub_engine::session::Edit;
use overdub_engine::settings::Settings;
use overdub_tests::{CLICKS, World, click_session, find_click, measure};

/// Set in the child: the session folder it runs.
const CHILD: &str = "OVERDUB_TEST_BUFSIZE_SESSION";
const TEST: &str = "the_server_changes_its_buffer_size_mid_session_and_the_engine_follows";
/// The loopback input (0-based) and the master output pair that feeds it.
const LOOP_IN: u16 = 8;
const LOOP_OUT: u16 = 8;

/// Set the buffer size of JACK server `server`.
fn bufsize(server: &str, frames: u32) {
    let ok = Command::new("jack_bufsize")
        .arg(frames.to_string())
        .env("JACK_DEFAULT_SERVER", server)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "jack_bufsize {frames}");
}

#[test]
fn the_server_changes_its_buffer_size_mid_session_and_the_engine_follows() {
    if let Some(dir) = std::env::var_os(CHILD) {
        in_session(Path::new(&dir));
        return;
    }
    let w = World::with_jack(128);
    let server = w.jack.as_ref().map(|j| j.name.clone()).expect("server");
    let loopback = ["--host", "jack", "--in-channel", "9", "--out-channel", "9"];
    // A musician measures each buffer size once; the measurements are kept per size.
    assert_eq!(measure(&w, &loopback), 128);
    bufsize(&server, 256);
    assert_eq!(measure(&w, &loopback), 256);
    bufsize(&server, 128);
    let dir = w.path("clicks");
    click_session(&dir, &w, 48_000, LOOP_IN);
    let exe = std::env::current_exe().expect("test binary");
    let out = Command::new(exe)
        .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
        .env(CHILD, &dir)
        .env("JACK_DEFAULT_SERVER", &server)
        .env("JACK_NO_START_SERVER", "1")
        .env("OVERDUB_CONFIG_DIR", w.path("config").join("overdub"))
        .output()
        .expect("run the session");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("session done"), "{stdout}\n{stderr}");
}

/// Poll the session until `done`, at most `limit`.
fn poll_until(live: &mut Live, limit: Duration, mut done: impl FnMut(&Live) -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        live.poll();
        if done(live) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

/// Record track 2 from the start for `seconds` while the clicks play, then stop and wait for
/// the take to be placed. Returns the latency it was compensated by.
fn take(live: &mut Live, seconds: f64) -> u32 {
    live.locate(0);
    live.record();
    let frames = (seconds * 48_000.0) as u64;
    assert!(
        poll_until(live, Duration::from_secs(10), |l| l.transport()
            == Transport::Recording
            && l.position() > frames),
        "the take rolls: {:?}",
        live.take_messages()
    );
    let latency = live.latency().0;
    live.stop_and_wait();
    assert_eq!(live.transport(), Transport::Stopped);
    latency
}

/// Every click within one frame of its place in the newest take on track 2.
fn assert_newest_take_lines_up(live: &Live, dir: &Path) {
    let s = live.editor().session();
    let clip = s.tracks[1].clips.last().expect("a take on track 2");
    let r = hound::WavReader::open(dir.join("audio").join(&clip.file)).expect("take file");
    let take: Vec<f32> = r
        .into_samples::<f32>()
        .collect::<Result<_, _>>()
        .expect("samples");
    for &c in CLICKS.iter().filter(|&&c| c + 4_000 < clip.length) {
        let off = find_click(&take, c, clip.position, clip.offset);
        assert!(
            off.is_some_and(|o| o.abs() <= 1),
            "click at {c} in {}: {off:?} frames off",
            clip.file
        );
    }
}

fn in_session(dir: &Path) {
    let (settings, _) = Settings::load();
    let req = StreamRequest {
        host: HostId::Jack,
        input: None,
        output: None,
        rate: 48_000,
        buffer: None,
        loopback_delay: None,
        master_out: LOOP_OUT,
        faults: Vec::new(),
        callbacks: CallbackOrder::Duplex,
    };
    let mut live = Live::open(dir, req, settings.latency.clone()).expect("open on JACK");
    let engine = live.engine().expect("JACK client");
    assert_eq!(engine.info().buffer, 128);
    live.apply(Edit::SetArmed(2, true)).expect("arm track 2");
    // The loopback returns the master: hearing the input would feed it back round and round.
    live.apply(Edit::SetMonitor(2, MonitorMode::Off))
        .expect("monitoring off");

    let before = take(&mut live, 2.2);
    assert_eq!(before, 128, "the round trip measured at 128 frames");
    assert_newest_take_lines_up(&live, dir);

    // Play, and change the server's buffer size while rolling.
    live.locate(0);
    live.play();
    assert!(poll_until(&mut live, Duration::from_secs(5), |l| l
        .transport()
        == Transport::Playing
        && l.position() > 12_000));
    let server = std::env::var("JACK_DEFAULT_SERVER").expect("the server's name");
    bufsize(&server, 256);
    assert!(
        poll_until(&mut live, Duration::from_secs(5), |l| l
            .engine()
            .is_some_and(|e| e.info().buffer == 256)),
        "the engine follows the new buffer size"
    );
    let at = live.position();
    assert!(
        poll_until(&mut live, Duration::from_secs(5), |l| l.position()
            > at + 24_000),
        "playback rolls on after the change"
    );
    let status = live.status().expect("status");
    assert!(status.rolling.load(Ordering::Relaxed));
    assert!(!status.device_lost.load(Ordering::Relaxed));
    live.stop();

    let after = take(&mut live, 2.2);
    assert_eq!(
        after, 256,
        "the latency now is the one measured at 256 frames"
    );
    assert_newest_take_lines_up(&live, dir);
    println!("session done");
}
