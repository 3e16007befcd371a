//! The engine under injected device faults (the virtual device's test double): xruns never stop
//! a take and every track stays in sync; a device that goes away leaves the takes so far saved.

use std::time::SystemTime;

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
    let began = SystemTime::now();
    let report = record(
        &dir,
        &request(vec![Fault::Xrun(40), Fault::Xrun(120)]),
        2.0,
        vec![1, 2, 3],
    );
    let ended = SystemTime::now();
    assert!(report.interrupted.is_none(), "{:?}", report.interrupted);
    // Each xrun has its time by the system clock, during the run, in order.
    let clock = &report.xrun_clock;
    assert_eq!(clock.len(), 2, "{clock:?}");
    assert!(
        began <= clock[0] && clock[0] < clock[1] && clock[1] <= ended,
        "{began:?} {clock:?} {ended:?}"
    );
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
    let start = test_signal_start(&takes[0]);
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

/// A driver that runs a cycle without calling the input callback, or the output callback, and
/// says nothing (a PipeWire client that missed its wake-up), costs the take that one cycle, in
/// place, and is counted: with split callbacks stamped with the driver's cycle times (the virtual
/// double on two threads), the lost input is one block of silence with everything after it where
/// it belongs, and the lost output drops the one block of input that had no output to meet, as a
/// whole-device xrun does. (Before, a skipped input cycle left the bridge a block off its input
/// for the rest of the stream, and it dropped input pull after pull until it started over.)
#[test]
fn a_cycle_the_driver_skips_on_one_side_costs_that_cycle_and_is_counted() {
    // Blocks 300 and 420 of the stream: 1.6 s and 2.2 s after it opens, inside the take (the
    // transport rolls about a second after the stream opens).
    let mut req = request(vec![Fault::MissInput(300), Fault::MissOutput(420)]);
    req.callbacks = CallbackOrder::Threads {
        input_late: 0,
        woken: false,
    };
    let takes = two_threads_unstalled(&req, 2 * BUFFER, |report| {
        assert!(
            report.xrun_positions.iter().all(|&p| p > 0),
            "both inside the take: {:?}",
            report.xrun_positions
        );
        assert!(
            report.xruns >= 2,
            "both skipped cycles counted: {}",
            report.xruns
        );
        assert_eq!(report.skipped_cycles, (1, 1), "one on each side, as such");
        assert!(
            report.bridge_slips >= 2 * BUFFER,
            "the two blocks lost: {}",
            report.bridge_slips
        );
    });
    let (silent, skipped) = walk_split(&takes);
    assert_eq!(
        silent,
        vec![BUFFER],
        "one block of silence where the input was skipped"
    );
    assert_eq!(
        skipped, BUFFER,
        "one block of input dropped where the output was skipped"
    );
}

/// A driver catching up a client that fell behind stamps each call with its latest cycle's time,
/// ahead of the block it hands over (PipeWire after a stall): the loss counted from that time is
/// too large, and the calls after it show by how much. The surplus is taken back: the take costs
/// two blocks beside each such call, and everything after it is where it belongs, on either side.
/// (Before, the input recorded after such a call lay a block late for the rest of the take, which
/// the PipeWire stall test caught once in a cold CI run.)
#[test]
fn a_time_ahead_of_its_block_costs_two_blocks_beside_it_and_nothing_after_it_moves() {
    // The input side as PipeWire after a stall: a cycle missed, the next block stamped ahead.
    // The output side: stamped ahead with nothing missed.
    let mut req = request(vec![
        Fault::MissInput(299),
        Fault::StampAheadInput(300),
        Fault::StampAheadOutput(420),
    ]);
    req.callbacks = CallbackOrder::Threads {
        input_late: 0,
        woken: false,
    };
    // The block missed, and two blocks out of place about each call stamped ahead (silence, and
    // a block handed on a block off), counted as slips: five blocks, or six where the output
    // came for the missed block before the input's silence did and counted it too.
    let takes = two_threads_unstalled(&req, 6 * BUFFER, |report| {
        assert!(report.xruns >= 2, "each counted: {}", report.xruns);
        assert_eq!(report.skipped_cycles, (1, 1), "one on each side, as such");
    });
    let (start, away) = out_of_place(&takes);
    let last = takes[0].len() - 1;
    assert!(
        !away.contains(&last),
        "the take ends where it belongs (it starts at device frame {start}); frames away \
         from their place: {} of {}",
        away.len(),
        takes[0].len()
    );
    // Runs of frames away from their place: (first take frame, length).
    let mut runs: Vec<(usize, u64)> = Vec::new();
    for &i in &away {
        match runs.last_mut() {
            Some((first, n)) if *first + *n as usize == i => *n += 1,
            _ => runs.push((i, 1)),
        }
    }
    assert!(
        runs.len() == 2 && runs[0].1 <= 3 * BUFFER && runs[1].1 <= 2 * BUFFER,
        "the input's missed block and two blocks beside it, and two blocks about the output's \
         call, nothing else: runs of frames away from their place (take frame, frames): {runs:?}"
    );
}

/// Record 3 s on tracks 1 and 2 with `req` (split callbacks on two threads woken by the wall
/// clock), `check` each run, and keep the first that slipped no more than `slips` frames: a
/// machine that stalls a thread beyond the bridge's block of cushion loses more, and says so;
/// such a take is done again, up to three. The takes.
fn two_threads_unstalled(
    req: &StreamRequest,
    slips: u64,
    check: impl Fn(&recorder::RunReport),
) -> Vec<Vec<f32>> {
    for attempt in 1..=3 {
        let (_tmp, dir) = session(2);
        let report = record(&dir, req, 3.0, vec![1, 2]);
        assert!(report.interrupted.is_none(), "{:?}", report.interrupted);
        check(&report);
        if report.bridge_slips > slips {
            eprintln!(
                "attempt {attempt}: {} frames slipped, the machine stalled a thread; again",
                report.bridge_slips
            );
            continue;
        }
        return report.takes.iter().map(|t| read_wav(&t.file).1).collect();
    }
    panic!("the machine stalled a callback thread in each of three takes");
}

/// The device frame a take of the test signal on input 1 starts at: where its first 32 frames
/// are the signal, within ten seconds of the device's start.
fn test_signal_start(take: &[f32]) -> u64 {
    (0..480_000u64)
        .find(|&k| (0..32).all(|i| take[i] == test_signal(0, k + i as u64, 48_000)))
        .expect("the take starts with the test signal")
}

/// Where takes of the test signal (track c records input c) start on the device, and the take
/// frames that do not hold the signal of the device frame that far after the start on every
/// track.
fn out_of_place(takes: &[Vec<f32>]) -> (u64, Vec<usize>) {
    let t0 = &takes[0];
    let start = test_signal_start(t0);
    let away = (0..t0.len())
        .filter(|&i| {
            let dev = start + i as u64;
            takes
                .iter()
                .enumerate()
                .any(|(c, t)| t[i] != test_signal(c, dev, 48_000))
        })
        .collect();
    (start, away)
}

/// Walk takes of the test signal (track c records input c): each frame is the signal at one
/// device frame, every track alike, except for runs of silence (whose lengths are returned) and
/// whole blocks skipped (whose total is returned).
fn walk_split(takes: &[Vec<f32>]) -> (Vec<u64>, u64) {
    let t0 = &takes[0];
    let start = test_signal_start(t0);
    let (mut skip, mut silent, mut run) = (0, Vec::new(), 0);
    for i in 0..t0.len() {
        let mut dev = start + i as u64 + skip;
        if takes.iter().all(|t| t[i] == 0.0) {
            run += 1;
            continue;
        }
        if run > 0 {
            silent.push(run);
            run = 0;
        }
        if t0[i] != test_signal(0, dev, 48_000) {
            skip += BUFFER;
            dev += BUFFER;
        }
        for (c, t) in takes.iter().enumerate() {
            assert_eq!(
                t[i],
                test_signal(c, dev, 48_000),
                "track {c} frame {i}: only silence in place or whole blocks skipped"
            );
        }
    }
    (silent, skip)
}

/// Record `seconds` on track 1 from the virtual double with split callbacks stamped with when
/// their threads woke (as ALSA's and WASAPI's are), at `buffer` frames, with `faults`; the take ran
/// to its end. Keep the folder while reading the take.
fn record_woken(
    faults: Vec<Fault>,
    buffer: u32,
    seconds: f64,
) -> (tempfile::TempDir, recorder::RunReport) {
    let mut req = request(faults);
    req.buffer = Some(buffer);
    req.callbacks = CallbackOrder::Threads {
        input_late: 0,
        woken: true,
    };
    let (tmp, dir) = session(1);
    let report = record(&dir, &req, seconds, vec![1]);
    assert!(report.interrupted.is_none(), "{:?}", report.interrupted);
    (tmp, report)
}

/// Where the driver's callbacks carry only when their threads woke (ALSA without hardware stamps,
/// WASAPI), a period lost below the driver's interface shows only in their timing, about half a
/// second later. It is counted then ("frames shifted by the driver"): a whole period, and no
/// xrun, since the driver said nothing. The take is not mended (following such timing moved
/// takes wrongly under Wine, whose timing is rough by hundreds of frames), but nothing in it is
/// other than the signal in place, the signal a period on, or silence.
#[test]
fn a_period_lost_silently_is_counted_when_the_timing_shows_it() {
    let began = SystemTime::now();
    let (_tmp, report) = record_woken(vec![Fault::MissInput(300)], BUFFER as u32, 4.0);
    let ended = SystemTime::now();
    assert_eq!(report.xruns, 0, "the driver said nothing");
    // When it was noticed, to hold against what else the machine did then: block 300 is 1.6 s
    // after the stream opened, noticed within the second of timing after it.
    assert!(!report.shift_clock.is_empty(), "the shift has its time");
    for t in &report.shift_clock {
        assert!(began < *t && *t < ended, "noticed during the run");
    }
    // A period, read from when the threads woke: a busy machine wakes them late by up to a few
    // hundred microseconds, which moves the reading by some frames (250 in a cold CI run), never
    // by anything near a period.
    let near = BUFFER / 8;
    assert!(
        (BUFFER - near..=BUFFER + near).contains(&report.driver_shifts),
        "the shift is seen, a period: {}",
        report.driver_shifts
    );
    let take = read_wav(&report.takes[0].file).1;
    let base = alignments(&take).first().map_or(0, |s| s.1);
    let signal = |i: usize, d: i64| test_signal(0, (base + d + i as i64) as u64, 48_000);
    let off: Vec<usize> = (0..take.len())
        .filter(|&i| take[i] != signal(i, 0))
        .collect();
    assert!(!off.is_empty(), "the loss shows in the take");
    for &i in &off {
        assert!(
            take[i] == 0.0 || take[i] == signal(i, BUFFER as i64),
            "frame {i} is neither in place, silent, nor a period on"
        );
    }
}

/// Walk a take of the test signal's channel 0: the stretches in which each frame is the signal at
/// one device frame, as (first take frame, device frame minus take frame). Silence between
/// stretches is passed over.
fn alignments(take: &[f32]) -> Vec<(u64, i64)> {
    let at = |i: usize| -> Option<i64> {
        let window = take.get(i..i + 32)?;
        (0..480_000i64).find(|&d| {
            window
                .iter()
                .enumerate()
                .all(|(k, &s)| s == test_signal(0, (d + (i + k) as i64) as u64, 48_000))
        })
    };
    let mut out: Vec<(u64, i64)> = Vec::new();
    let mut i = 0;
    while i + 32 <= take.len() {
        let d = match out.last() {
            Some(&(_, d)) if take[i] == test_signal(0, (d + i as i64) as u64, 48_000) => {
                i += 1;
                continue;
            }
            _ if take[i] == 0.0 => {
                i += 1;
                continue;
            }
            _ => at(i).expect("every frame is the test signal or silence"),
        };
        out.push((i as u64, d));
        i += 1;
    }
    out
}

/// Wake-up timing is rough by a share of the period, and at a large block each eighth of a
/// second holds few callbacks to take the least late of: the phase read from them wanders by
/// more frames than at a small one. The driver moved nothing, so no shift is counted, at 256
/// frames or at 2048 (the virtual device wakes its threads up to 0.3 of a period late, at
/// random). Bridge slips are not checked: on a busy machine the double's threads are late for
/// real now and then, and the bridge then drops input it counts (768 frames in a cold CI run).
#[test]
fn wake_up_jitter_alone_is_not_counted_as_a_shift_at_any_block() {
    for buffer in [256, 2048] {
        let (_tmp, report) = record_woken(Vec::new(), buffer, 6.0);
        assert_eq!(
            (report.xruns, report.driver_shifts),
            (0, 0),
            "at {buffer} frames: the driver moved nothing, so no shift is counted (bridge slips: \
             {})",
            report.bridge_slips
        );
    }
}
