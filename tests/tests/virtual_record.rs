//! Recording on the built-in virtual test-signal device: the take holds exactly the signal.

use overdub_engine::rt::test_signal;
use overdub_tests::{World, clips, read_wav};

#[test]
fn a_two_second_take_on_the_test_signal_equals_the_signal() {
    let w = World::new();
    let dir = w.path("song");
    let d = dir.to_string_lossy();
    w.overdub(&["new", &d, "--tracks", "3"]).ok();
    let run = w
        .overdub(&[
            "record",
            &d,
            "--seconds",
            "2",
            "--arm",
            "2",
            "--host",
            "virtual",
            "--input",
            "Virtual Test Signal",
            "--buffer",
            "128",
        ])
        .ok();
    assert!(run.stdout.contains("take: "), "{}", run.stdout);

    let info = w.info(&dir);
    let clip = &clips(&info, 1)[0];
    assert_eq!(clip["length"], 96_000, "2 s at 48 kHz");
    assert_eq!(clip["position"], 0);
    let file = dir
        .join("audio")
        .join(clip["file"].as_str().expect("file name"));
    let (spec, take) = read_wav(&file);
    assert_eq!(spec.sample_format, hound::SampleFormat::Float);
    assert_eq!(take.len(), 96_000);

    // Track 2 listens to input channel 2 (index 1). Find where in the device's signal the take
    // began, then every sample must be the signal's, bit for bit.
    let start = (0..48_000 * 10u64)
        .find(|&k| (0..64).all(|i| take[i] == test_signal(1, k + i as u64, 48_000)))
        .expect("the take starts somewhere in the test signal");
    for (i, &s) in take.iter().enumerate() {
        assert_eq!(s, test_signal(1, start + i as u64, 48_000), "frame {i}");
    }
    // And it is not another channel's signal.
    assert_ne!(
        take[1..65],
        (1..65)
            .map(|i| test_signal(0, start + i, 48_000))
            .collect::<Vec<_>>()[..]
    );
}

#[test]
fn a_24_bit_take_is_the_signal_within_one_lsb() {
    let w = World::new();
    let dir = w.path("song24");
    let d = dir.to_string_lossy();
    w.overdub(&["new", &d, "--tracks", "1"]).ok();
    w.overdub(&[
        "record",
        &d,
        "--seconds",
        "1",
        "--host",
        "virtual",
        "--format",
        "24",
    ])
    .ok();
    let info = w.info(&dir);
    let file = dir
        .join("audio")
        .join(clips(&info, 0)[0]["file"].as_str().expect("file"));
    let (spec, take) = read_wav(&file);
    assert_eq!(
        (spec.bits_per_sample, spec.sample_format),
        (24, hound::SampleFormat::Int)
    );
    let lsb = 1.0 / 8_388_607.0;
    let start = (0..48_000 * 10u64)
        .find(|&k| (0..64).all(|i| (take[i] - test_signal(0, k + i as u64, 48_000)).abs() <= lsb))
        .expect("the take starts somewhere in the test signal");
    for (i, &s) in take.iter().enumerate() {
        assert!(
            (s - test_signal(0, start + i as u64, 48_000)).abs() <= lsb,
            "frame {i}"
        );
    }
}
