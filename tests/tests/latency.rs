//! The round trip is measured, not believed, and takes line up with what the performer heard.
//! Checked on the files on disk.

use std::path::Path;

use overdub_tests::{World, clips, edit_track, read_wav};

/// Run `overdub latency` and return the measured round trip, frames.
fn measure(w: &World, args: &[&str]) -> u64 {
    let mut all = vec!["latency"];
    all.extend_from_slice(args);
    let run = w.overdub(&all).ok();
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("measured round trip: "))
        .unwrap_or_else(|| panic!("no measurement in {}", run.stdout));
    line["measured round trip: ".len()..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unparsable: {line}"))
}

#[test]
fn virtual_loopback_measures_exactly_its_delay_at_64_frames() {
    let w = World::new();
    for delay in [64, 200, 1000] {
        let d = delay.to_string();
        let got = measure(
            &w,
            &[
                "--host",
                "virtual",
                "--input",
                "Virtual Loopback",
                "--buffer",
                "64",
                "--loopback-delay",
                &d,
            ],
        );
        assert_eq!(got, delay, "buffer 64, delay {delay}");
    }
}

#[test]
fn virtual_loopback_measures_exactly_its_delay_at_256_frames() {
    let w = World::new();
    for delay in [256, 701] {
        let d = delay.to_string();
        let got = measure(
            &w,
            &[
                "--host",
                "virtual",
                "--input",
                "0",
                "--buffer",
                "256",
                "--loopback-delay",
                &d,
            ],
        );
        assert_eq!(got, delay, "buffer 256, delay {delay}");
    }
}

#[test]
fn nothing_connected_says_what_to_connect_and_exits_2() {
    let w = World::new();
    let run = w.overdub(&[
        "latency",
        "--host",
        "virtual",
        "--input",
        "Virtual Test Signal",
        "--in-channel",
        "3",
        "--out-channel",
        "3",
    ]);
    // The test-signal device's inputs never hear its outputs.
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr.contains("connect output 3 to input 3"),
        "{}",
        run.stderr
    );
}

/// Clicks (one-frame impulses) at these timeline frames.
const CLICKS: [u64; 5] = [4_800, 28_800, 52_800, 76_800, 100_800];

/// A session whose track 1 holds a click clip and whose track 2 records input 9, which the JACK
/// loopback (or the virtual cable) returns from the master on output 9.
fn click_session(dir: &Path, w: &World) {
    let d = dir.to_string_lossy();
    w.overdub(&["new", &d, "--tracks", "2"]).ok();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut wav = hound::WavWriter::create(dir.join("audio/click.wav"), spec).expect("wav");
    for i in 0..120_000u64 {
        wav.write_sample(if CLICKS.contains(&i) { 0.8f32 } else { 0.0 })
            .expect("sample");
    }
    wav.finalize().expect("finalize");
    edit_track(
        dir,
        0,
        "clips",
        serde_json::json!([{"id": 100, "file": "click.wav", "position": 0, "offset": 0, "length": 120_000}]),
    );
    edit_track(dir, 1, "input", serde_json::json!(8));
}

/// Record track 2 while the clicks play; every click must be in the take exactly where it is on
/// the timeline.
fn assert_take_lines_up(w: &World, dir: &Path, record_args: &[&str]) {
    let d = dir.to_string_lossy();
    let mut args = vec![
        "record",
        &d,
        "--seconds",
        "2.4",
        "--arm",
        "2",
        "--master-out",
        "9",
    ];
    args.extend_from_slice(record_args);
    let run = w.overdub(&args).ok();
    assert!(
        run.stdout.contains("measured by `overdub latency`"),
        "{}",
        run.stdout
    );
    let info = w.info(dir);
    let clip = &clips(&info, 1)[0];
    let (pos, off) = (
        clip["position"].as_u64().expect("position"),
        clip["offset"].as_u64().expect("offset"),
    );
    let (_, take) = read_wav(&dir.join("audio").join(clip["file"].as_str().expect("file")));
    for &c in &CLICKS {
        // Timeline frame c of the clip is file frame c - pos + off.
        let want = (c - pos + off) as usize;
        let lo = want.saturating_sub(2_000);
        let hi = (want + 2_000).min(take.len());
        let found = lo
            + take[lo..hi]
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
                .map(|(i, _)| i)
                .expect("window");
        assert!(
            take[found].abs() > 0.5,
            "click at {c} came back (got {})",
            take[found]
        );
        assert!(
            found.abs_diff(want) <= 1,
            "click at timeline {c} is at {} in the take, {} frames off",
            found as i64 - want as i64 + c as i64,
            found as i64 - want as i64
        );
    }
}

fn jack_round_trip_and_alignment(period: u32) {
    let w = World::with_jack(period);
    let got = measure(
        &w,
        &["--host", "jack", "--in-channel", "9", "--out-channel", "9"],
    );
    assert_eq!(
        got,
        u64::from(period),
        "the JACK loopback returns one period later"
    );
    let dir = w.path("clicks");
    click_session(&dir, &w);
    assert_take_lines_up(&w, &dir, &["--host", "jack"]);
}

#[test]
fn jack_loopback_at_128_measures_one_period_and_takes_line_up() {
    jack_round_trip_and_alignment(128);
}

#[test]
fn jack_loopback_at_256_measures_one_period_and_takes_line_up() {
    jack_round_trip_and_alignment(256);
}

#[test]
fn virtual_loopback_takes_line_up_after_measuring() {
    let w = World::new();
    let dev = [
        "--host",
        "virtual",
        "--input",
        "0",
        "--buffer",
        "64",
        "--loopback-delay",
        "333",
    ];
    let mut args = dev.to_vec();
    args.extend_from_slice(&["--in-channel", "9", "--out-channel", "9"]);
    // The virtual device has 8 channels: channel 9 does not exist.
    assert_eq!(
        w.overdub(&{
            let mut a = vec!["latency"];
            a.extend_from_slice(&args);
            a
        })
        .code,
        Some(2)
    );
    assert_eq!(measure(&w, &dev), 333);
    let dir = w.path("clicks");
    click_session(&dir, &w);
    edit_track(&dir, 1, "input", serde_json::json!(0));
    let d = dir.to_string_lossy();
    let mut rec = vec!["record", &*d, "--seconds", "2.4", "--arm", "2"];
    rec.extend_from_slice(&dev);
    let run = w.overdub(&rec).ok();
    assert!(run.stdout.contains("latency: 333 frames"), "{}", run.stdout);
    let info = w.info(&dir);
    let clip = &clips(&info, 1)[0];
    let (pos, off) = (
        clip["position"].as_u64().expect("p"),
        clip["offset"].as_u64().expect("o"),
    );
    let (_, take) = read_wav(&dir.join("audio").join(clip["file"].as_str().expect("file")));
    for &c in &CLICKS {
        let want = (c - pos + off) as usize;
        assert_eq!(
            take[want], 0.8,
            "click at timeline {c} sits at the same place in the take"
        );
    }
}
