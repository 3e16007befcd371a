//! The engine under injected device faults (the virtual device's test double): xruns never stop
//! a take and every track stays in sync; a device that goes away leaves the takes so far saved.

use overdub_engine::io::{CallbackOrder, Fault, HostId, StreamRequest};
use overdub_engine::recorder::{self, RecordHooks, RecordOptions};
use overdub_engine::rt::test_signal;
use overdub_engine::session::{Session, SessionDir};
use overdub_tests::read_wav;

const BUFFER: u64 = 256;

fn request(faults: Vec<Fault>) -> StreamRequest {
    StreamRequest {
        host: HostId::Virtual,
        input: Some("Virtual Test Signal".into()),
        output: None,
        rate: 48_000,
        buffer: Some(BUFFER as u32),
        loopback_delay: None,
        master_out: 0,
        faults,
        callbacks: CallbackOrder::Duplex,
    }
}

fn session(tracks: usize) -> (tempfile::TempDir, SessionDir) {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = SessionDir::new(tmp.path().join("s"));
    dir.create(&Session::new(48_000, tracks)).expect("create");
    (tmp, dir)
}

fn record(
    dir: &SessionDir,
    req: &StreamRequest,
    seconds: f64,
    arm: Vec<usize>,
) -> recorder::RunReport {
    let mut opts = RecordOptions::new(seconds);
    opts.arm = Some(arm);
    let hooks = RecordHooks {
        on_start: &mut |_| {},
        stop: None,
    };
    recorder::record(dir.root(), req, &opts, hooks).expect("record")
}

#[test]
fn xruns_are_counted_where_they_happen_and_every_track_stays_in_sync() {
    let (_tmp, dir) = session(3);
    let report = record(
        &dir,
        &request(vec![Fault::Xrun(40), Fault::Xrun(120)]),
        2.0,
        vec![1, 2, 3],
    );
    assert!(report.interrupted.is_none(), "{:?}", report.interrupted);
    assert_eq!(report.xruns, 2);
    // The device blocks count from when the stream opened, a little before the transport
    // started; between the two xruns the playhead rolled 79 blocks (block 40 was lost).
    let at = &report.xrun_positions;
    assert_eq!(at.len(), 2);
    assert_eq!(at[1] - at[0], 79 * BUFFER, "{at:?}");
    assert!(
        at.iter().all(|p| p % BUFFER == 0) && at[0] <= 40 * BUFFER,
        "{at:?}"
    );
    let takes: Vec<Vec<f32>> = report
        .takes
        .iter()
        .map(|t| {
            assert_eq!(t.length(), 96_000, "the take is as long as asked");
            read_wav(&t.file).1
        })
        .collect();
    assert!(
        takes.iter().all(|t| t.len() == takes[0].len()),
        "all tracks the same length"
    );
    // Track c records input c. Walk the takes: each frame is the test signal at one device
    // frame, the same for every track; where a block was lost, all tracks skip it together.
    let start = (0..480_000u64)
        .find(|&k| (0..32).all(|i| takes[0][i] == test_signal(0, k + i as u64, 48_000)))
        .expect("aligned");
    let mut skip = 0;
    for i in 0..takes[0].len() {
        let mut dev = start + i as u64 + skip;
        if takes[0][i] != test_signal(0, dev, 48_000) {
            skip += BUFFER;
            dev += BUFFER;
            assert_eq!(
                takes[0][i],
                test_signal(0, dev, 48_000),
                "frame {i}: only whole blocks are lost"
            );
        }
        for (c, t) in takes.iter().enumerate() {
            assert_eq!(
                t[i],
                test_signal(c, dev, 48_000),
                "track {c} frame {i} out of step"
            );
        }
    }
    assert_eq!(skip, 2 * BUFFER, "exactly the two dropped blocks");
}

#[test]
fn a_device_that_goes_away_mid_take_leaves_the_take_so_far_saved() {
    let (_tmp, dir) = session(2);
    let report = record(
        &dir,
        &request(vec![Fault::Disconnect(100)]),
        10.0,
        vec![1, 2],
    );
    let why = report.interrupted.clone().expect("interrupted");
    assert!(why.contains("went away"), "{why}");
    let saved = dir.load().expect("session saved");
    // Every frame the transport rolled before the device went (the stream opened a block or two
    // before the transport started, so that is a little under 100 blocks).
    let rolled = report.frames_rolled;
    assert!(rolled > 80 * BUFFER && rolled <= 100 * BUFFER, "{rolled}");
    for t in 0..2 {
        let c = &saved.tracks[t].clips[0];
        assert_eq!(c.length, rolled, "track {t}");
        assert_eq!(read_wav(&dir.audio().join(&c.file)).1.len() as u64, rolled);
    }
    assert!(!dir.journal().exists());
}
