//! The round trip is measured, not believed, and takes line up with what the performer heard.
//! Checked on the files on disk.

use overdub_tests::{CLICKS, World, assert_take_lines_up, click_session, clips, measure, read_wav};

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
    click_session(&dir, &w, 48_000, 8);
    assert_take_lines_up(&w, &dir, "2.4", &["--host", "jack", "--master-out", "9"]);
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
    click_session(&dir, &w, 48_000, 0);
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
