//! Loop recording through the real binary on the virtual loopback, against a click track: every
//! pass becomes its own take at the loop start, the first ones exactly the loop long and the last
//! as long as it ran, every click in every pass within one frame of its place; and a loop shorter
//! than one buffer period, gapless.

use std::path::Path;

use overdub_tests::{World, click_session_with, clips, measure, read_wav};

const RATE: u32 = 44_100;

fn device(buffer: &'static str, delay: &'static str) -> Vec<&'static str> {
    vec![
        "--host",
        "virtual",
        "--input",
        "0",
        "--rate",
        "44100",
        "--buffer",
        buffer,
        "--loopback-delay",
        delay,
    ]
}

/// Whether the take holds a click within one frame of file frame `at` (clicks in a looped take
/// repeat every pass, so a search around it could find the next pass's).
fn click_near(take: &[f32], at: u64) -> bool {
    let at = at as usize;
    take.get(at.saturating_sub(1)..=at + 1)
        .is_some_and(|s| s.iter().any(|x| x.abs() > 0.5))
}

/// The passes on track 2, as (position, offset, length), and the take file they play.
fn passes(w: &World, dir: &Path) -> (Vec<(u64, u64, u64)>, Vec<f32>) {
    let info = w.info(dir);
    let c = clips(&info, 1);
    let file = c[0]["file"].as_str().expect("file").to_string();
    assert!(
        c.iter().all(|c| c["file"] == file.as_str()),
        "one take file for every pass"
    );
    let got = c
        .iter()
        .map(|c| {
            let n = |k: &str| c[k].as_u64().expect("number");
            (n("position"), n("offset"), n("length"))
        })
        .collect();
    (got, read_wav(&dir.join("audio").join(file)).1)
}

/// Loop-record track 2 of a click session (recording input `input`, which the device's loopback
/// returns from the master with `round_trip` frames of delay) round `a..a + len` (frames at
/// `rate`) for four and a half passes, and check each pass in the file on disk: the first four
/// exactly the loop long, the fifth half of it, every click in every pass within a frame of its
/// place. Returns false, checking nothing, if a real server counted a loss (an xrun) in the take.
fn four_and_a_half_passes(
    w: &World,
    dev: &[&str],
    (rate, input, round_trip): (u32, u16, u64),
    (a, len): (u64, u64),
    tag: &str,
) -> bool {
    let clicks = [
        a + 1_000,
        a + len / 3 + 7,
        a + len * 2 / 3 + 500,
        a + len - 299,
    ];
    let dir = w.path(tag);
    click_session_with(&dir, w, rate, input, &clicks, a + len + 10_000);
    let d = dir.to_string_lossy();
    let secs = |f: u64| format!("{}", f as f64 / f64::from(rate));
    let span = format!("{}:{}", secs(a), secs(a + len));
    let seconds = secs(len * 9 / 2);
    let mut args = vec![
        "record",
        &*d,
        "--loop",
        &span,
        "--seconds",
        &seconds,
        "--arm",
        "2",
    ];
    args.extend_from_slice(dev);
    let Some(run) = overdub_tests::take_unless_lost(w, &args, tag) else {
        return false;
    };
    assert!(run.stdout.contains("pass 5:"), "{}", run.stdout);
    let (got, take) = passes(w, &dir);
    let lengths: Vec<u64> = got.iter().map(|p| p.2).collect();
    assert_eq!(lengths, [len, len, len, len, len / 2], "{got:?}");
    for (k, &(pos, off, length)) in got.iter().enumerate() {
        assert_eq!(pos, a, "pass {} starts at the loop start", k + 1);
        assert_eq!(
            off,
            round_trip + k as u64 * len,
            "pass {} follows the one before",
            k + 1
        );
        for &c in clicks.iter().filter(|&&c| c < pos + length) {
            // Timeline frame c of this pass is file frame c - pos + off.
            assert!(
                click_near(&take, c - pos + off),
                "pass {}: the click at {c} is not within a frame of its place",
                k + 1
            );
        }
    }
    true
}

#[test]
fn four_and_a_half_passes_of_a_two_bar_loop_make_five_takes_that_line_up() {
    let w = World::new();
    let dev = device("96", "211");
    assert_eq!(measure(&w, &dev), 211);
    // Two bars at 120 BPM in 4/4 from 0.5 s: 4 s, 176 400 frames.
    assert!(four_and_a_half_passes(
        &w,
        &dev,
        (RATE, 0, 211),
        (22_050, 176_400),
        "loop"
    ));
}

#[test]
fn loop_passes_on_a_jack_server_line_up_in_the_files() {
    // 44.1 kHz, 256-frame periods; the loopback returns one period later. Two bars at 240 BPM
    // from 0.25 s.
    let w = overdub_tests::jack_loopback_world(RATE, 256);
    let dev = overdub_tests::JACK_LOOPBACK;
    overdub_tests::whole_within_three(|k| {
        four_and_a_half_passes(
            &w,
            &dev,
            (RATE, 8, 256),
            (11_025, 88_200),
            &format!("jack-loop-{k}"),
        )
    });
}

#[test]
fn a_loop_shorter_than_a_buffer_records_gapless_passes() {
    let w = World::new();
    let dev = device("512", "600");
    assert_eq!(measure(&w, &dev), 600);
    // A 220-frame loop at 1 s with a click 100 frames in; 512-frame buffers.
    let (a, len) = (44_100u64, 220u64);
    let dir = w.path("short");
    click_session_with(&dir, &w, RATE, 0, &[a + 100], a + 1_000);
    let d = dir.to_string_lossy();
    let mut args = vec![
        "record",
        &*d,
        "--loop",
        "1:1.00498866",
        "--passes",
        "7",
        "--arm",
        "2",
    ];
    args.extend_from_slice(&dev);
    w.overdub(&args).ok();
    let (got, take) = passes(&w, &dir);
    assert_eq!(got.len(), 7, "{got:?}");
    for (k, &(pos, off, length)) in got.iter().enumerate() {
        assert_eq!((pos, off, length), (a, 600 + k as u64 * len, len));
        assert!(
            click_near(&take, off + 100),
            "pass {}: the click is not in place",
            k + 1
        );
    }
}

/// Ten passes of a 1000-frame loop from 0.1 s at 44.1 kHz, track 1 playing a signal that never
/// repeats and track 2 recording it back through the device's loopback (on input `input`):
/// every pass holds exactly the loop's stretch of the signal, sample for sample. False, checking
/// nothing, if a real server counted a loss.
fn ten_wraps(w: &World, dev: &[&str], input: u16, tag: &str) -> bool {
    let dir = w.path(tag);
    let d = dir.to_string_lossy().into_owned();
    w.overdub(&["new", &d, "--tracks", "2", "--rate", "44100"])
        .ok();
    let signal = |i: u64| (((i * 7919) % 2003) as f32 / 2003.0 - 0.5) * 0.8;
    overdub_tests::write_mono(&dir.join("audio/sig.wav"), RATE, 20_000, signal);
    overdub_tests::edit_track(
        &dir,
        0,
        "clips",
        serde_json::json!([{"id": 50, "file": "sig.wav", "position": 0, "offset": 0, "length": 20_000}]),
    );
    overdub_tests::edit_track(&dir, 1, "input", serde_json::json!(input));
    let mut args = vec![
        "record",
        &*d,
        "--loop",
        "0.1:0.12267574",
        "--passes",
        "10",
        "--arm",
        "2",
    ];
    args.extend_from_slice(dev);
    if overdub_tests::take_unless_lost(w, &args, tag).is_none() {
        return false;
    }
    let (got, take) = passes(w, &dir);
    assert_eq!(got.len(), 10, "{got:?}");
    let want: Vec<f32> = (4_410..5_410).map(signal).collect();
    for (k, &(pos, off, length)) in got.iter().enumerate() {
        assert_eq!((pos, length), (4_410, 1_000));
        let heard = &take[off as usize..(off + length) as usize];
        assert!(
            heard == want.as_slice(),
            "pass {}: the loop did not play back sample for sample",
            k + 1
        );
    }
    true
}

#[test]
fn ten_wraps_of_loop_playback_come_back_sample_for_sample_in_every_pass() {
    let w = World::new();
    let dev = device("96", "211");
    assert_eq!(measure(&w, &dev), 211);
    assert!(ten_wraps(&w, &dev, 0, "wraps"));
}

#[test]
fn ten_wraps_on_a_jack_server_come_back_sample_for_sample() {
    let w = overdub_tests::jack_loopback_world(RATE, 256);
    let dev = overdub_tests::JACK_LOOPBACK;
    overdub_tests::whole_within_three(|k| ten_wraps(&w, &dev, 8, &format!("jack-wraps-{k}")));
}
