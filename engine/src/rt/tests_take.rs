//! A take never shifts and never ends without being told: capture overruns padded in place,
//! silence a duplex bridge grew by left out, arming and inputs held until the take ends, Stop
//! during the count-in, and a full event ring.
//! Every block runs under `assert_no_alloc` (see [`super::tests::Rig`]).

use std::sync::atomic::Ordering;

use rtrb::{Consumer, RingBuffer};

use super::tests::{BLOCK, Rig};
use super::*;

/// Input channel `c` at device frame `n`: never zero, different per channel, exact in f32.
fn value(n: u64, c: usize) -> f32 {
    (n + 1 + 100_000 * c as u64) as f32
}

/// Run block `b` with the input carrying [`value`].
fn run(r: &mut Rig, b: u64) {
    r.block(|i, c| value(b * BLOCK as u64 + i as u64, c));
}

/// A mono track on input `input`, armed, recording into a ring of `blocks` blocks.
fn recording_rig(input: u16, blocks: usize) -> (Rig, Consumer<f32>) {
    let mut r = Rig::new();
    r.add(1, input, |t| t.armed = true);
    let (tx, rx) = RingBuffer::new(blocks * BLOCK);
    r.send(Command::SetCapture(1, tx));
    r.send(Command::SetRecording(true));
    r.send(Command::Start);
    (r, rx)
}

fn drain(rx: &mut Consumer<f32>, into: &mut Vec<f32>) {
    while let Ok(v) = rx.pop() {
        into.push(v);
    }
}

#[test]
fn a_capture_overrun_is_padded_in_place_and_every_later_frame_stays_where_it_belongs() {
    let (mut r, mut rx) = recording_rig(0, 4);
    let mut take = Vec::new();
    let blocks = 24u64;
    for b in 0..blocks {
        run(&mut r, b);
        // The disk thread stalls for eight blocks: the ring holds four.
        if !(5..=12).contains(&b) {
            drain(&mut rx, &mut take);
        }
    }
    let st = &r.h.status;
    let lost = st.capture_overruns.load(Ordering::Relaxed);
    assert!(lost > 0, "the stall overran the ring");
    let from = st
        .first_capture_loss()
        .expect("the loss is reported with its position");
    assert_eq!(from, 9 * BLOCK as u64, "the first frame that did not fit");
    assert_eq!(
        take.len() as u64,
        blocks * BLOCK as u64,
        "every frame has its place"
    );
    for (i, &v) in take.iter().enumerate() {
        let i = i as u64;
        if (from..from + lost).contains(&i) {
            assert_eq!(v, 0.0, "frame {i} was lost: silence in its place");
        } else {
            assert_eq!(v, value(i, 0), "frame {i} is where it belongs");
        }
    }
}

/// Run one block from a device whose input carries [`value`] of consecutive frames counted by
/// `dev`, except for `filler`: (first, frames) of silence a duplex bridge put in while growing,
/// which it tells the process about first.
fn run_with_filler(r: &mut Rig, dev: &mut u64, filler: Option<(usize, usize)>) {
    run_with_loss_and_filler(r, dev, 0, filler);
}

/// [`run_with_filler`], with the `lost` frames just before the filler silent too: input the
/// bridge lost (late, their place passed), so the device count moves on past them.
fn run_with_loss_and_filler(
    r: &mut Rig,
    dev: &mut u64,
    lost: usize,
    filler: Option<(usize, usize)>,
) {
    let (lost_at, left_out) =
        filler.map_or((0..0, 0..0), |(a, n)| (a.saturating_sub(lost)..a, a..a + n));
    let mut frames = [None; BLOCK];
    for (i, f) in frames.iter_mut().enumerate() {
        if left_out.contains(&i) {
            continue;
        }
        if lost_at.contains(&i) {
            *dev += 1;
            continue;
        }
        *f = Some(*dev);
        *dev += 1;
    }
    if let Some((a, n)) = filler {
        r.p.leave_out_of_takes(a, n);
    }
    r.block(|i, c| frames[i].map_or(0.0, |n| value(n, c)));
}

/// Record `blocks` blocks with a stop at timeline frame `end` sent before block `stop_sent`
/// (as Live sends it when the user stops), the bridge growing by `grew` frames at the end of
/// block 4: the take, and where the transport stopped.
fn take_growing_in_block_4(
    end: u64,
    stop_sent: u64,
    grew: usize,
    blocks: u64,
) -> (Vec<f32>, Option<u64>) {
    take_losing_and_growing_in_block_4(end, stop_sent, 0, grew, blocks)
}

/// [`take_growing_in_block_4`], the bridge having lost the `lost` frames before the growth.
fn take_losing_and_growing_in_block_4(
    end: u64,
    stop_sent: u64,
    lost: usize,
    grew: usize,
    blocks: u64,
) -> (Vec<f32>, Option<u64>) {
    let (mut r, mut rx) = recording_rig(0, 64);
    let mut dev = 0;
    for b in 0..blocks {
        if b == stop_sent {
            r.send(Command::StopAt(end));
        }
        let filler = (b == 4).then_some((BLOCK - grew, grew));
        run_with_loss_and_filler(&mut r, &mut dev, lost, filler);
    }
    let mut take = Vec::new();
    drain(&mut rx, &mut take);
    let stopped = r.events().iter().find_map(|e| match e {
        Event::Stopped(p) => Some(*p),
        _ => None,
    });
    (take, stopped)
}

#[test]
fn silence_a_bridge_grew_by_mid_take_is_left_out_and_the_take_runs_on_by_it() {
    // A take of ten blocks; in block 4 the driver changed its callback order and the bridge grew
    // by 40 frames, at the end of that block. The take holds every input frame, in order, none
    // moved, and it is still ten blocks long.
    let end = 10 * BLOCK as u64;
    let (take, stopped) = take_growing_in_block_4(end, 0, 40, 12);
    assert_eq!(take.len() as u64, end, "as long as asked");
    for (i, &v) in take.iter().enumerate() {
        assert_eq!(
            v,
            value(i as u64, 0),
            "frame {i} is the input that belongs there"
        );
    }
    assert_eq!(
        stopped,
        Some(end + 40),
        "the transport ran on by what was left out"
    );
}

#[test]
fn late_input_that_partly_fits_is_silent_where_it_was_lost_and_left_out_where_it_grew() {
    // In block 4 the input for the last 40 frames came late while the bridge had room for only
    // 16 more: it lost the first 24 (silence in their place, counted) and grew by the other 16,
    // at the end of the block. The take keeps the lost frames' places, leaves out the growth, and
    // every frame after is the input that belongs there.
    let (lost, grew) = (24, 16);
    let end = 10 * BLOCK as u64;
    let (take, stopped) = take_losing_and_growing_in_block_4(end, 0, lost, grew, 12);
    assert_eq!(take.len() as u64, end, "as long as asked");
    let gap = 5 * BLOCK as u64 - (lost + grew) as u64;
    for (i, &v) in take.iter().enumerate() {
        let i = i as u64;
        let want = if (gap..gap + lost as u64).contains(&i) {
            0.0
        } else {
            value(i, 0)
        };
        assert_eq!(v, want, "frame {i}");
    }
    assert_eq!(
        stopped,
        Some(end + grew as u64),
        "the transport ran on by what was left out, not by what was lost"
    );
}

/// A rig with a mono track on input 0 armed, recording after a count-in of `count_in` frames,
/// stopping `length` frames into the timeline.
fn count_in_rig(count_in: usize, length: usize) -> (Rig, Consumer<f32>) {
    let mut r = Rig::new();
    r.add(1, 0, |t| t.armed = true);
    let (tx, rx) = RingBuffer::new(64 * BLOCK);
    r.send(Command::SetCapture(1, tx));
    r.send(Command::CountIn(count_in as u64));
    r.send(Command::SetRecording(true));
    r.send(Command::StopAt(length as u64));
    r.send(Command::Start);
    (r, rx)
}

#[test]
fn silence_a_bridge_grew_by_in_the_count_in_is_left_out_where_the_take_begins() {
    // The count-in ends halfway through block 2; the bridge grew by 32 frames at the end of
    // block 1. The take starts with the input that belonged at its start had the bridge not
    // grown: the 32 frames the growth moved into the take are left out, and it is as long as
    // asked.
    let half = BLOCK / 2;
    let (mut r, mut rx) = count_in_rig(2 * BLOCK + half, 4 * BLOCK);
    let mut dev = 0;
    for b in 0..8 {
        let filler = (b == 1).then_some((BLOCK - 32, 32));
        run_with_filler(&mut r, &mut dev, filler);
    }
    let mut take = Vec::new();
    drain(&mut rx, &mut take);
    assert_eq!(take.len(), 4 * BLOCK, "as long as asked");
    let first = (2 * BLOCK + half) as u64;
    for (i, &v) in take.iter().enumerate() {
        assert_eq!(v, value(first + i as u64, 0), "frame {i}");
    }
}

#[test]
fn growing_in_the_count_in_and_again_as_the_take_begins_leaves_out_each() {
    // The count-in is blocks 0 and 1 (the transport rolls, and a take holds the latency, from
    // the first block's commands on: block 1 is the first the bridge can grow in); block 1 grew
    // by 32 at its end, block 2, the take's first, by 16 more at its end. The take leaves out
    // the 32 input frames the first growth moved into it and then the second's silence: every
    // frame in place, none lost, as long as asked.
    let (mut r, mut rx) = count_in_rig(2 * BLOCK, 4 * BLOCK);
    let mut dev = 0;
    for b in 0..8 {
        let filler = match b {
            1 => Some((BLOCK - 32, 32)),
            2 => Some((BLOCK - 16, 16)),
            _ => None,
        };
        run_with_filler(&mut r, &mut dev, filler);
    }
    let mut take = Vec::new();
    drain(&mut rx, &mut take);
    assert_eq!(take.len(), 4 * BLOCK, "as long as asked");
    for (i, &v) in take.iter().enumerate() {
        assert_eq!(v, value(2 * BLOCK as u64 + i as u64, 0), "frame {i}");
    }
}

#[test]
fn a_stop_sent_after_the_growth_still_ends_the_take_where_asked() {
    // Live sends the stop when the user presses it: after the growth, here during block 7.
    let end = 8 * BLOCK as u64 + 5;
    let (take, stopped) = take_growing_in_block_4(end, 7, 40, 12);
    assert_eq!(take.len() as u64, end, "as long as asked");
    for (i, &v) in take.iter().enumerate() {
        assert_eq!(v, value(i as u64, 0), "frame {i}");
    }
    assert_eq!(stopped, Some(end + 40));
}

#[test]
fn a_stop_inside_a_whole_block_of_silence_runs_on_past_all_of_it() {
    // The whole of block 4 is silence the bridge grew by, and the stop falls one frame into it:
    // the take runs on past the block and ends with the frame asked for (where each stretch is
    // cut is `LeaveOut::reach`'s, tested in `rt/leave_out.rs`).
    let end = 4 * BLOCK as u64 + 1;
    let (take, stopped) = take_growing_in_block_4(end, 0, BLOCK, 7);
    assert_eq!(take.len() as u64, end);
    for (i, &v) in take.iter().enumerate() {
        assert_eq!(v, value(i as u64, 0), "frame {i}");
    }
    assert_eq!(stopped, Some(end + BLOCK as u64));
}

#[test]
fn a_stop_before_the_silence_does_not_run_the_take_on() {
    // The stop falls in block 4 before the silence the bridge put at its end: nothing was left
    // out, so the take ends at the stop.
    let end = 4 * BLOCK as u64 + 10;
    let (take, stopped) = take_growing_in_block_4(end, 0, 40, 6);
    assert_eq!(take.len() as u64, end);
    assert_eq!(stopped, Some(end), "stopped where asked");
}

#[test]
fn a_stereo_overrun_never_swaps_channels() {
    let mut r = Rig::new();
    r.add(1, 0, |t| {
        t.armed = true;
        t.channels = 2;
    });
    // An odd number of samples: a partial frame fits when the ring fills.
    let (tx, mut rx) = RingBuffer::new(3 * BLOCK * 2 + 1);
    r.send(Command::SetCapture(1, tx));
    r.send(Command::SetRecording(true));
    r.send(Command::Start);
    let mut take = Vec::new();
    for b in 0..16 {
        run(&mut r, b);
        if !(3..=7).contains(&b) {
            drain(&mut rx, &mut take);
        }
    }
    assert!(r.h.status.capture_overruns.load(Ordering::Relaxed) > 0);
    assert_eq!(take.len(), 16 * BLOCK * 2);
    // Each sample is its own or, where it was lost, silence: never the other channel's.
    for (i, f) in take.chunks_exact(2).enumerate() {
        let i = i as u64;
        for (c, &v) in f.iter().enumerate() {
            assert!(
                v == 0.0 || v == value(i, c),
                "frame {i} channel {c} holds {v}"
            );
        }
    }
    let last = take.len() / 2 - 1;
    assert_eq!(
        take[last * 2 + 1],
        value(last as u64, 1),
        "the end is in place"
    );
}

#[test]
fn disarming_rearming_or_changing_input_mid_take_leaves_no_gap_and_no_switch() {
    let (mut r, mut rx) = recording_rig(0, 64);
    for b in 0..9u64 {
        match b {
            2 => r.send(Command::SetArmed(1, false)),
            4 => r.send(Command::SetArmed(1, true)),
            6 => r.send(Command::SetInput(1, 2)),
            _ => {}
        }
        run(&mut r, b);
    }
    r.send(Command::Stop);
    run(&mut r, 9);
    let mut take = Vec::new();
    drain(&mut rx, &mut take);
    let want: Vec<f32> = (0..9 * BLOCK as u64).map(|n| value(n, 0)).collect();
    assert_eq!(take, want, "one take, one channel, no gap");
    // The input change applies from the next take on.
    let (tx, mut rx) = RingBuffer::new(4 * BLOCK);
    r.send(Command::SetCapture(1, tx));
    r.send(Command::Start);
    run(&mut r, 10);
    let mut next = Vec::new();
    drain(&mut rx, &mut next);
    assert_eq!(next.first(), Some(&value(10 * BLOCK as u64, 2)));
}

#[test]
fn stop_during_the_count_in_ends_at_once_and_hands_the_takes_back() {
    let mut r = Rig::new();
    r.add(1, 0, |t| t.armed = true);
    let (tx, _rx) = RingBuffer::<f32>::new(4 * BLOCK);
    r.send(Command::SetCapture(1, tx));
    r.send(Command::SetRecording(true));
    r.send(Command::CountIn(100 * BLOCK as u64));
    r.send(Command::Start);
    run(&mut r, 0);
    run(&mut r, 1);
    // The control side asks to stop a round trip later, as it does for a take.
    r.send(Command::StopAt(500));
    run(&mut r, 2);
    let st = &r.h.status;
    assert!(!st.rolling.load(Ordering::Relaxed), "stopped in this block");
    assert_eq!(
        st.captures_ended.load(Ordering::Relaxed),
        1,
        "the take is told it ended"
    );
    let ev = r.events();
    assert!(ev.iter().any(|e| matches!(e, Event::Stopped(0))));
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::Garbage(Garbage::Capture(1, _))))
    );
    assert!(!ev.iter().any(|e| matches!(e, Event::CaptureStarted(_))));
}

#[test]
fn a_full_event_ring_loses_neither_the_stop_nor_the_end_of_a_take() {
    let mut r = Rig::new();
    r.add(1, 0, |t| t.armed = true);
    // Fill the event ring with garbage nobody reads (a window that does not draw).
    let capacity = r.h.events.buffer().capacity();
    let mut sent = 0;
    while sent < capacity {
        let n = (capacity - sent).min(200);
        for _ in 0..n {
            let (tx, _) = RingBuffer::<f32>::new(1);
            r.send(Command::SetCapture(999, tx));
        }
        sent += n;
        run(&mut r, 0);
    }
    assert_eq!(r.h.events.slots(), capacity, "nobody read the events");
    let (tx, _rx) = RingBuffer::<f32>::new(4 * BLOCK);
    r.send(Command::SetCapture(1, tx));
    r.send(Command::SetRecording(true));
    r.send(Command::Start);
    run(&mut r, 1);
    r.send(Command::Stop);
    run(&mut r, 2);
    let mut seen = r.events();
    assert_eq!(seen.len(), capacity, "the ring was full");
    run(&mut r, 3);
    seen.extend(r.events());
    let after: Vec<&Event> = seen[capacity..].iter().collect();
    assert!(after.iter().any(|e| matches!(e, Event::Started(_))));
    assert!(after.iter().any(|e| matches!(e, Event::Stopped(_))));
    assert!(
        after
            .iter()
            .any(|e| matches!(e, Event::Garbage(Garbage::Capture(1, _))))
    );
}
