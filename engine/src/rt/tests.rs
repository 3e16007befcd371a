//! Every realtime path, run under `assert_no_alloc`: the test binary installs `AllocDisabler`
//! (see lib.rs), so any allocation or free inside `rt()` aborts the run.

use std::sync::atomic::Ordering;

use assert_no_alloc::assert_no_alloc as rt;
use rtrb::{Consumer, Producer, RingBuffer};

use super::*;

pub(super) const BLOCK: usize = 64;
pub(super) const IN: usize = 4;
const OUT: usize = 2;

/// A process driven block by block, as a driver would.
pub(super) struct Rig {
    pub p: Process,
    pub h: ProcessHandle,
    input: Vec<f32>,
    output: Vec<f32>,
}

impl Rig {
    pub fn new() -> Self {
        let (p, h) = Process::new(ProcessConfig {
            rate: 48_000,
            max_block: BLOCK,
        });
        Self {
            p,
            h,
            input: vec![0.0; BLOCK * IN],
            output: vec![0.0; BLOCK * OUT],
        }
    }

    pub fn send(&mut self, c: Command) {
        assert!(self.h.commands.push(c).is_ok());
    }

    /// One block with input channel `ch` carrying `f(frame_in_block)`, under the no-alloc check.
    pub fn block(&mut self, fill: impl Fn(usize, usize) -> f32) -> &[f32] {
        for (i, frame) in self.input.chunks_exact_mut(IN).enumerate() {
            for (c, s) in frame.iter_mut().enumerate() {
                *s = fill(i, c);
            }
        }
        let (p, input, output) = (&mut self.p, &self.input, &mut self.output);
        rt(|| p.process(input, IN, output, OUT, BLOCK));
        &self.output
    }

    fn silent_block(&mut self) -> &[f32] {
        self.block(|_, _| 0.0)
    }

    pub fn events(&mut self) -> Vec<Event> {
        let mut v = Vec::new();
        while let Ok(e) = self.h.events.pop() {
            v.push(e);
        }
        v
    }

    pub fn add(
        &mut self,
        id: TrackId,
        input: u16,
        f: impl FnOnce(&mut TrackRt),
    ) -> std::sync::Arc<TrackMeter> {
        let mut t = TrackRt::new(id, input);
        f(&mut t);
        let m = t.meter.clone();
        self.send(Command::AddTrack(Box::new(t)));
        m
    }
}

fn filled_ring(values: impl IntoIterator<Item = f32>, cap: usize) -> Consumer<f32> {
    let (mut tx, rx): (Producer<f32>, Consumer<f32>) = RingBuffer::new(cap);
    for v in values {
        assert!(tx.push(v).is_ok());
    }
    rx
}

fn left(out: &[f32]) -> Vec<f32> {
    out.chunks_exact(OUT).map(|f| f[0]).collect()
}

#[test]
fn play_mixes_playback_to_both_sides_at_unity() {
    let mut r = Rig::new();
    r.add(1, 0, |_| {});
    r.send(Command::SetPlayback(
        1,
        filled_ring((0..BLOCK * 2).map(|i| i as f32 / 1000.0), 4096),
    ));
    r.send(Command::Start);
    r.silent_block();
    let out = r.silent_block().to_vec();
    for (i, f) in out.chunks_exact(OUT).enumerate() {
        let want = (BLOCK + i) as f32 / 1000.0;
        assert_eq!(f, [want, want], "frame {i}");
    }
    assert_eq!(
        r.h.status.position.load(Ordering::Relaxed),
        2 * BLOCK as u64
    );
}

#[test]
fn record_captures_the_tracks_input_channel_exactly() {
    let mut r = Rig::new();
    let (tx, mut rx) = RingBuffer::<f32>::new(4096);
    r.add(1, 2, |t| t.armed = true);
    r.send(Command::SetCapture(1, tx));
    r.send(Command::SetRecording(true));
    r.send(Command::Start);
    r.block(|i, c| (c * 1000 + i) as f32);
    r.block(|i, c| (c * 1000 + BLOCK + i) as f32);
    let got: Vec<f32> = std::iter::from_fn(|| rx.pop().ok()).collect();
    let want: Vec<f32> = (0..2 * BLOCK).map(|i| (2000 + i) as f32).collect();
    assert_eq!(got, want);
    let ev = r.events();
    assert!(matches!(ev[0], Event::Started(0)));
    assert!(matches!(ev[1], Event::CaptureStarted(0)));
}

#[test]
fn stop_at_ends_capture_mid_block_and_returns_the_ring() {
    let mut r = Rig::new();
    let (tx, rx) = RingBuffer::<f32>::new(4096);
    r.add(1, 0, |t| t.armed = true);
    r.send(Command::SetCapture(1, tx));
    r.send(Command::SetRecording(true));
    r.send(Command::StopAt(100));
    r.send(Command::Start);
    r.block(|_, _| 0.5);
    r.block(|_, _| 0.5);
    r.block(|_, _| 0.5);
    assert_eq!(rx.slots(), 100, "exactly the frames before the stop point");
    assert_eq!(r.h.status.position.load(Ordering::Relaxed), 100);
    assert!(!r.h.status.rolling.load(Ordering::Relaxed));
    let ev = r.events();
    assert!(ev.iter().any(|e| matches!(e, Event::CaptureEnded(100))));
    assert!(ev.iter().any(|e| matches!(e, Event::Stopped(100))));
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::Garbage(Garbage::Capture(1, _))))
    );
    drop(ev);
    assert!(
        rx.is_abandoned(),
        "the producer came back to the control side and was dropped"
    );
}

#[test]
fn monitoring_modes_choose_input_or_playback() {
    for (mode, armed, want) in [
        (MonitorMode::Input, false, 0.25),
        (MonitorMode::Off, true, 0.5),
        (MonitorMode::Auto, true, 0.25),
        (MonitorMode::Auto, false, 0.5),
    ] {
        let mut r = Rig::new();
        r.add(1, 1, |t| {
            t.monitor = mode;
            t.armed = armed;
        });
        r.send(Command::SetPlayback(1, filled_ring(vec![0.5; BLOCK], 4096)));
        r.send(Command::Start);
        let out = r.block(|_, c| if c == 1 { 0.25 } else { 0.9 });
        assert!(
            left(out).iter().all(|&s| s == want),
            "{mode:?} armed={armed}"
        );
    }
}

#[test]
fn meter_holds_peak_and_flags_clipping() {
    let mut r = Rig::new();
    let m = r.add(1, 0, |t| {
        t.monitor = MonitorMode::Input;
    });
    r.block(|i, _| if i == 7 { -0.75 } else { 0.1 });
    assert_eq!(m.peak.take(), 0.75);
    assert!(!m.clipped.load(Ordering::Relaxed));
    r.block(|i, _| if i == 3 { 1.5 } else { 0.0 });
    assert_eq!(m.peak.take(), 1.5);
    assert!(m.clipped.load(Ordering::Relaxed));
}

#[test]
fn locate_moves_a_stopped_playhead_only() {
    let mut r = Rig::new();
    r.send(Command::Locate(1000));
    r.silent_block();
    assert_eq!(r.h.status.position.load(Ordering::Relaxed), 1000);
    r.send(Command::Start);
    r.silent_block();
    r.send(Command::Locate(5));
    r.silent_block();
    assert_eq!(
        r.h.status.position.load(Ordering::Relaxed),
        1000 + 2 * BLOCK as u64
    );
}

#[test]
fn tracks_are_added_and_removed_while_running() {
    let mut r = Rig::new();
    r.add(1, 0, |t| t.monitor = MonitorMode::Input);
    r.add(2, 1, |t| t.monitor = MonitorMode::Input);
    let out = left(r.block(|_, c| [0.125, 0.25, 0.0, 0.0][c]));
    assert!(out.iter().all(|&s| s == 0.375));
    r.send(Command::RemoveTrack(1));
    let out = left(r.block(|_, c| [0.125, 0.25, 0.0, 0.0][c]));
    assert!(out.iter().all(|&s| s == 0.25));
    assert!(
        r.events()
            .iter()
            .any(|e| matches!(e, Event::Garbage(Garbage::Track(t)) if t.id == 1))
    );
}

#[test]
fn a_track_beyond_capacity_comes_back() {
    let mut r = Rig::new();
    for id in 0..MAX_TRACKS as u32 + 1 {
        r.add(id, 0, |_| {});
        if id % 200 == 0 {
            r.silent_block();
        }
    }
    r.silent_block();
    let back: Vec<u32> = r
        .events()
        .iter()
        .filter_map(|e| match e {
            Event::Garbage(Garbage::Track(t)) => Some(t.id),
            _ => None,
        })
        .collect();
    assert_eq!(back, vec![MAX_TRACKS as u32]);
}

#[test]
fn mute_solo_and_pan_shape_the_mix() {
    let mut r = Rig::new();
    r.add(1, 0, |t| t.monitor = MonitorMode::Input);
    r.add(2, 1, |t| {
        t.monitor = MonitorMode::Input;
        t.pan = 1.0;
    });
    let both = |i: usize, c: usize| {
        let _ = i;
        [0.5, 0.25, 0.0, 0.0][c]
    };
    let out = r.block(both).to_vec();
    assert_eq!(&out[..2], &[0.5, 0.75], "track 2 panned hard right");
    r.send(Command::SetSolo(2, true));
    r.block(both); // gain ramps over one block
    let out = r.block(both).to_vec();
    assert_eq!(&out[..2], &[0.0, 0.25]);
    r.send(Command::SetMute(2, true));
    r.block(both);
    assert!(r.block(both).iter().all(|&s| s == 0.0));
}

#[test]
fn gain_changes_ramp_without_a_jump() {
    let mut r = Rig::new();
    r.add(1, 0, |t| t.monitor = MonitorMode::Input);
    r.block(|_, _| 1.0);
    r.send(Command::SetGain(1, 0.0));
    let out = left(r.block(|_, _| 1.0));
    for w in out.windows(2) {
        assert!(
            w[0] - w[1] <= 1.0 / BLOCK as f32 + 1e-6,
            "step too large: {w:?}"
        );
    }
    assert_eq!(*out.last().unwrap_or(&1.0), 0.0);
}

#[test]
fn playback_underrun_plays_silence_then_catches_up_in_sync() {
    let mut r = Rig::new();
    r.add(1, 0, |t| t.monitor = MonitorMode::Off);
    let (mut tx, rx) = RingBuffer::<f32>::new(4096);
    for i in 0..BLOCK / 2 {
        assert!(tx.push(i as f32).is_ok());
    }
    r.send(Command::SetPlayback(1, rx));
    r.send(Command::Start);
    let first = left(r.silent_block());
    assert_eq!(first[BLOCK / 2 - 1], (BLOCK / 2 - 1) as f32);
    assert_eq!(first[BLOCK / 2], 0.0);
    assert_eq!(
        r.h.status.playback_underruns.load(Ordering::Relaxed),
        (BLOCK / 2) as u64
    );
    // The disk thread catches up with the timeline from frame BLOCK/2 on.
    for i in BLOCK / 2..3 * BLOCK {
        assert!(tx.push(i as f32).is_ok());
    }
    let second = left(r.silent_block());
    assert_eq!(
        second[0], BLOCK as f32,
        "timeline frame BLOCK plays at frame BLOCK"
    );
}

#[test]
fn hostile_values_never_panic_or_blow_up() {
    // Input channel c at frame i of a block, and the sane track's playback at timeline frame k:
    // multiples of 2^-12 well inside f32's precision, so that every mix of them is exact.
    let input = |i: usize, c: usize| (c + 1) as f32 / 8.0 + i as f32 / 4096.0;
    let played = |k: usize| (k % 509) as f32 / 4096.0;
    // sanitize_gain caps a fader at +24 dB and pan_gains keeps both sides at or below unity, so
    // no track can put more than CAP times its input into either side of the master.
    const CAP: f32 = 16.0;
    let hostile: [(TrackId, u16, f32, f32); 5] = [
        (1, 99, f32::MAX, 0.0), // an input the device does not have
        (2, 0, f32::NAN, f32::INFINITY),
        (3, 1, f32::INFINITY, f32::NAN),
        (4, 2, 1e30, -1e30),
        (5, 3, -4.0, f32::NEG_INFINITY),
    ];
    let mut r = Rig::new();
    for &(id, ch, gain, pan) in &hostile {
        r.add(id, ch, |t| t.monitor = MonitorMode::Input);
        r.send(Command::SetGain(id, gain));
        r.send(Command::SetPan(id, pan));
    }
    // A sane track playing from disk at unity, centre, through all of it.
    r.add(6, 0, |t| t.monitor = MonitorMode::Off);
    r.send(Command::SetPlayback(
        6,
        filled_ring((0..16 * BLOCK).map(played), 4096),
    ));
    r.send(Command::Start);
    let mut rolled = 0;
    let bound = |i: usize, k: usize| {
        hostile
            .iter()
            .filter(|h| usize::from(h.1) < IN)
            .map(|h| CAP * input(i, usize::from(h.1)).abs())
            .sum::<f32>()
            + played(k).abs()
    };
    for _ in 0..4 {
        let out = r.block(input).to_vec();
        for (i, f) in out.chunks_exact(OUT).enumerate() {
            let b = bound(i, rolled + i);
            assert!(
                f.iter().all(|s| s.is_finite() && s.abs() <= b),
                "frame {}: {f:?}, bound {b}",
                rolled + i
            );
        }
        rolled += BLOCK;
    }
    // Buffers shorter than the frame count claims: treated as no channels (nothing written, the
    // transport still rolls), no panic.
    let mut out = vec![0.0; 3];
    let p = &mut r.p;
    rt(|| p.process(&[0.0; 5], IN, &mut out, OUT, BLOCK));
    assert_eq!(out, [0.0; 3]);
    rolled += BLOCK;
    // Muted, the hostile tracks leave nothing behind (a NaN pan or gain times zero would): after
    // the one-block ramp the master is the sane track's playback, in step with the timeline.
    for &(id, ..) in &hostile {
        r.send(Command::SetMute(id, true));
    }
    r.block(input);
    rolled += BLOCK;
    let out = r.block(input).to_vec();
    for (i, f) in out.chunks_exact(OUT).enumerate() {
        let want = played(rolled + i);
        assert_eq!(
            f,
            [want, want],
            "frame {} with the others muted",
            rolled + i
        );
    }
    rolled += BLOCK;
    // A track given sane values again plays at them: unity, centre.
    r.send(Command::SetGain(2, 1.0));
    r.send(Command::SetPan(2, 0.0));
    r.send(Command::SetMute(2, false));
    let ramp = r.block(input).to_vec();
    for (i, f) in ramp.chunks_exact(OUT).enumerate() {
        let most = played(rolled + i) + input(i, 0);
        assert!(
            f.iter().all(|s| s.is_finite() && s.abs() <= most),
            "frame {} ramping up: {f:?}",
            rolled + i
        );
    }
    rolled += BLOCK;
    let out = r.block(input).to_vec();
    for (i, f) in out.chunks_exact(OUT).enumerate() {
        let want = played(rolled + i) + input(i, 0);
        assert_eq!(
            f,
            [want, want],
            "frame {} of the recovered track",
            rolled + i
        );
    }
    rolled += BLOCK;
    // A device block larger than max_block is split, and every piece mixes the same way.
    let big = 3 * BLOCK;
    let big_in: Vec<f32> = (0..big * IN).map(|s| input(s / IN, s % IN)).collect();
    let mut big_out = vec![0.0; big * OUT];
    let p = &mut r.p;
    rt(|| p.process(&big_in, IN, &mut big_out, OUT, big));
    for (i, f) in big_out.chunks_exact(OUT).enumerate() {
        let want = played(rolled + i) + input(i, 0);
        assert_eq!(f, [want, want], "frame {i} of the split block");
    }
    rolled += big;
    assert_eq!(r.h.status.position.load(Ordering::Relaxed), rolled as u64);
}

#[test]
fn loopback_cable_returns_output_after_its_delay() {
    let delay = 100;
    let mut cable = LoopbackCable::new(1, delay, BLOCK);
    let mut heard = Vec::new();
    let mut inp = vec![0.0; BLOCK];
    for b in 0..4 {
        let out: Vec<f32> = (0..BLOCK).map(|i| (b * BLOCK + i + 1) as f32).collect();
        rt(|| {
            cable.receive(&mut inp);
            cable.send(&out);
        });
        heard.extend_from_slice(&inp);
    }
    assert!(heard[..delay].iter().all(|&s| s == 0.0));
    assert_eq!(
        heard[delay], 1.0,
        "output frame 0 arrives at input frame {delay}"
    );
}

#[test]
fn test_signal_is_deterministic_and_differs_per_channel() {
    let mut a = vec![0.0; 8 * 2];
    rt(|| fill_test_signal(&mut a, 2, 1234, 48_000));
    assert_eq!(a[0], test_signal(0, 1234, 48_000));
    assert_eq!(a[3], test_signal(1, 1235, 48_000));
    assert_ne!(a[0], a[1]);
}

#[test]
fn master_can_go_to_any_output_pair() {
    let (p, h) = Process::new(ProcessConfig {
        rate: 48_000,
        max_block: BLOCK,
    });
    let mut r = Rig {
        p,
        h,
        input: vec![0.0; BLOCK * IN],
        output: vec![0.0; BLOCK * 4],
    };
    r.add(1, 0, |t| {
        t.monitor = MonitorMode::Input;
        t.pan = -1.0;
    });
    r.send(Command::SetMasterOut(2));
    let (p, output) = (&mut r.p, &mut r.output);
    let input = vec![0.5; BLOCK * IN];
    rt(|| p.process(&input, IN, output, 4, BLOCK));
    assert_eq!(&r.output[..4], &[0.0, 0.0, 0.5, 0.0]);
}

#[test]
fn a_stereo_track_records_two_channels_and_plays_them_to_both_sides() {
    let mut r = Rig::new();
    let (tx, mut rx) = RingBuffer::<f32>::new(4096);
    r.add(1, 1, |t| {
        t.channels = 2;
        t.armed = true;
        t.monitor = MonitorMode::Off;
    });
    r.send(Command::SetCapture(1, tx));
    let play: Vec<f32> = (0..BLOCK).flat_map(|i| [i as f32, -(i as f32)]).collect();
    r.send(Command::SetPlayback(1, filled_ring(play, 4096)));
    r.send(Command::SetRecording(true));
    r.send(Command::Start);
    let out = r.block(|i, c| (c * 1000 + i) as f32).to_vec();
    let got: Vec<f32> = std::iter::from_fn(|| rx.pop().ok()).collect();
    let want: Vec<f32> = (0..BLOCK)
        .flat_map(|i| [(1000 + i) as f32, (2000 + i) as f32])
        .collect();
    assert_eq!(got, want, "inputs 2 and 3, interleaved");
    for (i, f) in out.chunks_exact(OUT).enumerate() {
        assert_eq!(
            f,
            [i as f32, -(i as f32)],
            "left plays left, right plays right"
        );
    }
}

#[test]
fn count_in_clicks_without_rolling_then_records_from_the_playhead() {
    let mut r = Rig::new();
    let (tx, mut rx) = RingBuffer::<f32>::new(8192);
    r.add(1, 0, |t| t.armed = true);
    r.send(Command::SetCapture(1, tx));
    r.send(Command::SetClick {
        on: false,
        beat_frames: 24_000.0,
        beats_per_bar: 4,
    });
    r.send(Command::CountIn(100));
    r.send(Command::SetRecording(true));
    r.send(Command::Start);
    let first = r.block(|i, _| i as f32).to_vec();
    // The first beat of the count-in clicks at frame 0 even with the click off.
    assert!(first.iter().any(|s| s.abs() > 0.01), "the count-in clicks");
    r.block(|i, _| (BLOCK + i) as f32);
    // 100 frames of count-in, then 2 * BLOCK - 100 recorded from timeline frame 0.
    assert_eq!(
        r.h.status.position.load(Ordering::Relaxed),
        2 * BLOCK as u64 - 100
    );
    let got: Vec<f32> = std::iter::from_fn(|| rx.pop().ok()).collect();
    assert_eq!(got.len(), 2 * BLOCK - 100);
    assert_eq!(got[0], 100.0, "capture starts when the count-in ends");
    assert!(
        r.events()
            .iter()
            .any(|e| matches!(e, Event::CaptureStarted(0)))
    );
}

#[test]
fn the_click_marks_every_beat_and_the_test_tone_plays_while_stopped() {
    let (p, h) = Process::new(ProcessConfig {
        rate: 48_000,
        max_block: 4800,
    });
    let mut r = Rig {
        p,
        h,
        input: vec![0.0; 4800 * IN],
        output: vec![0.0; 4800 * OUT],
    };
    // 400 BPM: a beat every 7200 frames.
    r.send(Command::SetClick {
        on: true,
        beat_frames: 7_200.0,
        beats_per_bar: 4,
    });
    r.send(Command::Start);
    let (p, input, output) = (&mut r.p, &r.input, &mut r.output);
    rt(|| p.process(input, IN, output, OUT, 4800));
    // 400 BPM = 7200 frames a beat: a click at 0, silence in between.
    assert!(r.output[..200].iter().any(|s| s.abs() > 0.1));
    assert!(r.output[2 * 2000..2 * 4800].iter().all(|s| *s == 0.0));
    r.send(Command::Stop);
    r.send(Command::TestTone(true));
    let (p, input, output) = (&mut r.p, &r.input, &mut r.output);
    rt(|| p.process(input, IN, output, OUT, 4800));
    let peak = r.output.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    assert!((peak - 0.125).abs() < 0.01, "test tone at -18 dBFS: {peak}");
}

#[test]
fn a_loop_jumps_back_to_its_start_while_playing() {
    let mut r = Rig::new();
    r.add(1, 0, |_| {});
    r.send(Command::SetLoop(Some((10, 50))));
    r.send(Command::Locate(20));
    r.send(Command::Start);
    r.silent_block();
    // 30 frames to the loop end, then 34 more from frame 10.
    assert_eq!(
        r.h.status.position.load(Ordering::Relaxed),
        10 + (BLOCK as u64 - 30)
    );
    r.silent_block();
    assert!(r.h.status.position.load(Ordering::Relaxed) < 50);
}

#[test]
fn a_loop_shorter_than_a_block_records_every_frame_and_stops_where_asked_unwrapped() {
    let mut r = Rig::new();
    let (tx, mut rx) = RingBuffer::<f32>::new(8192);
    r.add(1, 0, |t| t.armed = true);
    r.send(Command::SetCapture(1, tx));
    // A 20-frame loop: three and more wraps in every 64-frame block.
    r.send(Command::SetLoop(Some((10, 30))));
    r.send(Command::Locate(10));
    r.send(Command::SetRecording(true));
    // Stop after 150 frames rolled (as if nothing looped): frame 160.
    r.send(Command::StopAt(160));
    r.send(Command::Start);
    for k in 0..3 {
        r.block(|i, c| if c == 0 { (k * BLOCK + i) as f32 } else { 0.0 });
    }
    let got: Vec<f32> = std::iter::from_fn(|| rx.pop().ok()).collect();
    let want: Vec<f32> = (0..150).map(|i| i as f32).collect();
    assert_eq!(got, want, "every input frame, in order, across the wraps");
    assert_eq!(r.h.status.ran.load(Ordering::Relaxed), 160);
    // 150 frames round a 20-frame loop from its start: 7 passes and 10 frames in.
    assert_eq!(r.h.status.position.load(Ordering::Relaxed), 20);
    assert!(
        !r.h.status.rolling.load(Ordering::Relaxed),
        "stopped where asked"
    );
}

#[test]
fn a_punch_plays_the_old_take_outside_and_only_the_input_inside_to_the_frame() {
    // Old material 0.5 on disk, input 0.25; punch frames 37..101 across block edges.
    for (mode, inside_want, outside_want) in [
        (MonitorMode::Auto, 0.25, 0.5),
        (MonitorMode::Off, 0.0, 0.5),
        (MonitorMode::Input, 0.25, 0.25),
    ] {
        let mut r = Rig::new();
        let (tx, mut rx) = RingBuffer::<f32>::new(8192);
        r.add(1, 1, |t| {
            t.monitor = mode;
            t.armed = true;
        });
        r.send(Command::SetCapture(1, tx));
        r.send(Command::SetPlayback(
            1,
            filled_ring(vec![0.5; 3 * BLOCK], 4096),
        ));
        r.send(Command::SetPunch(Some((37, 101))));
        r.send(Command::SetRecording(true));
        r.send(Command::Start);
        let mut heard = Vec::new();
        for _ in 0..3 {
            let out = r.block(|_, c| if c == 1 { 0.25 } else { 0.9 });
            heard.extend(left(out));
        }
        for (f, &v) in heard.iter().enumerate() {
            let want = if (37..101).contains(&f) {
                inside_want
            } else {
                outside_want
            };
            assert_eq!(v, want, "{mode:?}: frame {f}");
        }
        // The take keeps every frame of the run: pre-roll, range and post-roll.
        let got = std::iter::from_fn(|| rx.pop().ok()).count();
        assert_eq!(got, 3 * BLOCK, "{mode:?}");
    }
    // Not recording: a punch range changes nothing.
    let mut r = Rig::new();
    r.add(1, 1, |t| t.armed = true);
    r.send(Command::SetPlayback(1, filled_ring(vec![0.5; BLOCK], 4096)));
    r.send(Command::SetPunch(Some((0, 1000))));
    r.send(Command::Start);
    let out = r.block(|_, c| if c == 1 { 0.25 } else { 0.9 });
    assert!(left(out).iter().all(|&s| s == 0.25));
}

#[test]
fn the_master_fader_scales_the_mix_not_the_click_and_its_meter_reads_after_it() {
    let mut r = Rig::new();
    r.add(1, 0, |_| {});
    r.send(Command::SetPlayback(
        1,
        filled_ring(vec![0.5; 4 * BLOCK], 4096),
    ));
    r.send(Command::SetMasterGain {
        gain: 0.25,
        ramp: false,
    });
    r.send(Command::Start);
    let out = left(r.block(|_, _| 0.0));
    assert!(out.iter().all(|&s| s == 0.125), "{out:?}");
    let status = r.h.status.clone();
    let m = &status.master;
    assert_eq!(m.sides[0].peak.take(), 0.125);
    assert!((m.mean_square[1].load() - 0.125 * 0.125).abs() < 1e-9);
    assert!(!m.sides[0].clipped.load(Ordering::Relaxed));
    // Ramped: the next block moves from 0.25 to 4.0 and ends there, clipping the meter.
    r.send(Command::SetMasterGain {
        gain: 4.0,
        ramp: true,
    });
    let out = left(r.block(|_, _| 0.0));
    assert!(
        out.windows(2).all(|w| w[1] >= w[0]),
        "a ramp, never a jump back"
    );
    assert_eq!(out[BLOCK - 1], 2.0);
    assert!(m.sides[1].clipped.load(Ordering::Relaxed));
}

#[test]
fn every_input_channel_is_metered_whether_or_not_a_track_listens() {
    let mut r = Rig::new();
    r.block(|i, c| if i == 5 { 0.1 * (c + 1) as f32 } else { 0.0 });
    let got: Vec<f32> = (0..IN).map(|c| r.h.status.inputs[c].take()).collect();
    assert_eq!(got, [0.1, 0.2, 0.3, 0.4].map(|v: f32| v));
    assert_eq!(r.h.status.inputs[IN].take(), 0.0, "no such channel");
}
