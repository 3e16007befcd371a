//! The duplex bridge driven as drivers drive it: input then output on one thread (ASIO), output
//! first, two jittery threads, input blocks larger than output blocks, a driver that changes its
//! order or runs an input late while a take holds the latency, a shortfall that only partly fits
//! the block, and another clock running faster. Every pull runs under
//! `assert_no_alloc`.

use assert_no_alloc::assert_no_alloc as rt;

use super::tests::BLOCK;
use super::*;

/// A bridge driven like a driver would: `cycles` periods of BLOCK frames at 48 kHz, input block
/// `n` carrying frame numbers `n * BLOCK ..`, pushed at `push_at(n)` ns and pulled at `pull_at(n)`
/// ns (events in time order, as the driver's threads would run them), input and output on one
/// thread. Returns, per pull, the first frame number heard (None: silence), the reports and the
/// bridge's own latency figure.
fn drive_bridge(
    cycles: usize,
    push_at: impl Fn(usize) -> u64,
    pull_at: impl Fn(usize) -> u64,
    may_grow: impl Fn(usize) -> bool,
) -> (Vec<Option<usize>>, Vec<PullReport>, usize) {
    drive_split_bridge(BLOCK, false, cycles, push_at, pull_at, may_grow)
}

/// [`drive_bridge`] with input blocks of `in_block` frames (a multiple of BLOCK; block `k`
/// carries frame numbers `k * in_block ..` and is pushed at `push_at(k)`), input and output on
/// two threads or one. Every block pulled must be contiguous input or silence.
fn drive_split_bridge(
    in_block: usize,
    two_threads: bool,
    cycles: usize,
    push_at: impl Fn(usize) -> u64,
    pull_at: impl Fn(usize) -> u64,
    may_grow: impl Fn(usize) -> bool,
) -> (Vec<Option<usize>>, Vec<PullReport>, usize) {
    let (mut tx, mut rx) = bridge(1, in_block);
    rx.set_two_threads(two_threads);
    let pushes = cycles * BLOCK / in_block;
    let mut events: Vec<(u64, bool, usize)> = (0..pushes)
        .map(|k| (push_at(k), true, k))
        .chain((0..cycles).map(|n| (pull_at(n), false, n)))
        .collect();
    events.sort_by_key(|&(t, is_push, _)| (t, !is_push));
    let mut heard = Vec::new();
    let mut reports = Vec::new();
    for (_, is_push, n) in events {
        if is_push {
            // Frame numbers start at 1 so that silence (0.0) is told apart.
            let block: Vec<f32> = (0..in_block)
                .map(|i| (n * in_block + i + 1) as f32)
                .collect();
            rt(|| tx.push(&block));
        } else {
            let grow = may_grow(n);
            // On one thread with blocks of one size: did this cycle's input come first?
            let fresh = in_block == BLOCK && push_at(n) <= pull_at(n);
            let (first, report) = rt(|| {
                let (got, report) = rx.pull(BLOCK, grow, fresh);
                // Every frame of the block follows the first: no gap inside a block.
                let first = got[0];
                let whole = got
                    .iter()
                    .enumerate()
                    .all(|(i, &v)| v == 0.0 || v == first + i as f32);
                (whole.then_some(first), report)
            });
            let first = first.expect("a block is contiguous input or silence");
            heard.push((first != 0.0).then(|| first as usize - 1));
            reports.push(report);
        }
    }
    (heard, reports, rx.latency())
}

const PERIOD_NS: u64 = BLOCK as u64 * 1_000_000_000 / 48_000;

#[test]
fn bridge_adds_nothing_when_input_comes_first_in_the_cycle() {
    // ASIO's buffer switch: input, then output, on one thread.
    let (heard, reports, latency) = drive_bridge(
        50,
        |n| n as u64 * PERIOD_NS,
        |n| n as u64 * PERIOD_NS + 2_000,
        |_| true,
    );
    assert_eq!(latency, 0);
    for (n, h) in heard.iter().enumerate() {
        assert_eq!(*h, Some(n * BLOCK), "cycle {n} hears its own input");
    }
    assert!(reports.iter().all(|r| *r == PullReport::default()));
}

#[test]
fn bridge_adds_one_block_when_output_comes_first_in_the_cycle() {
    // Output first: the input of a cycle does not exist yet when its output is asked for, so the
    // output can only hear the previous cycle: one block, and no more.
    let (heard, reports, latency) = drive_bridge(
        50,
        |n| n as u64 * PERIOD_NS + 2_000,
        |n| n as u64 * PERIOD_NS,
        |_| true,
    );
    assert_eq!(latency, BLOCK);
    assert_eq!(heard[0], None, "the first cycle has nothing to hear");
    for (n, h) in heard.iter().enumerate().skip(1) {
        assert_eq!(
            *h,
            Some((n - 1) * BLOCK),
            "cycle {n} hears the previous one"
        );
    }
    // No silence was put in front of the input: the block is the order's, found at the start.
    assert!(reports.iter().all(|r| *r == PullReport::default()));
}

/// Jitter in [0, 0.3) of a period, deterministic per seed and cycle.
fn jitter_ns(seed: u64, n: usize) -> u64 {
    let x = (n as u64 ^ seed)
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    (x >> 33) % (PERIOD_NS * 3 / 10)
}

#[test]
fn bridge_on_two_jittery_threads_adds_at_most_a_block_and_holds_it() {
    for seed in [1, 7, 42, 1234] {
        let (heard, reports, latency) = drive_bridge(
            400,
            |n| n as u64 * PERIOD_NS + jitter_ns(seed, n),
            |n| n as u64 * PERIOD_NS + jitter_ns(seed ^ 0xff, n),
            // Free to grow for the first 40 cycles, then a take holds it.
            |n| n < 40,
        );
        assert!(latency <= BLOCK, "seed {seed}: {latency}");
        let lag = latency / BLOCK;
        for (n, h) in heard.iter().enumerate().skip(40) {
            assert_eq!(*h, Some((n - lag) * BLOCK), "seed {seed}, cycle {n}");
        }
        assert!(reports[40..].iter().all(|r| *r == PullReport::default()));
    }
}

#[test]
fn bridge_holding_grows_once_when_the_order_changes_and_loses_nothing() {
    // Input first, but from cycle 20 on the driver calls output first (PipeWire after a stall).
    // While a take holds the latency, cycle 20 finds its input missing: the bridge grows by that
    // block, once, and says so, so the takes leave the silence out. Every input frame is then
    // heard a block later; none is lost.
    let change = 20;
    let (heard, reports, latency) = drive_bridge(
        60,
        |n| n as u64 * PERIOD_NS + if n >= change { 3_000 } else { 0 },
        |n| n as u64 * PERIOD_NS + 2_000,
        |_| false,
    );
    assert_eq!(latency, BLOCK, "grown by the block the new order needs");
    for (n, h) in heard.iter().enumerate() {
        match n {
            n if n < change => assert_eq!(*h, Some(n * BLOCK), "cycle {n} hears its own input"),
            n if n == change => assert_eq!(*h, None, "the cycle whose input came after"),
            n => assert_eq!(*h, Some((n - 1) * BLOCK), "cycle {n} hears the one before"),
        }
    }
    let regrew: Vec<usize> = reports.iter().map(|r| r.regrew).collect();
    assert_eq!(
        regrew[change], BLOCK,
        "the growth is reported where it happened"
    );
    assert_eq!(regrew.iter().sum::<usize>(), BLOCK, "once");
    assert!(reports.iter().all(|r| r.slipped == 0), "no input lost");
}

#[test]
fn bridge_holding_a_block_replaces_late_input_and_keeps_every_later_frame_in_place() {
    // Output first, so the bridge already holds the block one clock can need; then cycle 20's
    // input comes a cycle late. While a take holds the latency the bridge grows no further:
    // cycle 21 hears silence where cycle 20's input belonged, and everything after is in place.
    let late = 20;
    let (heard, reports, latency) = drive_bridge(
        60,
        |n| n as u64 * PERIOD_NS + 2_000 + if n == late { PERIOD_NS } else { 0 },
        |n| n as u64 * PERIOD_NS,
        |n| n < 10,
    );
    assert_eq!(latency, BLOCK);
    for (n, h) in heard.iter().enumerate().skip(1) {
        if n == late + 1 {
            assert_eq!(*h, None, "the late block is lost");
        } else {
            assert_eq!(*h, Some((n - 1) * BLOCK), "cycle {n} stays in place");
        }
    }
    let slipped: usize = reports.iter().map(|r| r.slipped).sum();
    assert_eq!(slipped, BLOCK, "the loss is counted");
    assert!(
        reports.iter().all(|r| r.regrew == 0),
        "no growth beyond a block"
    );
}

#[test]
fn bridge_catches_up_when_another_clock_runs_faster() {
    // The input device runs 1% fast: the backlog stays bounded and the drops are counted.
    let (heard, reports, _) = drive_bridge(
        2_000,
        |n| n as u64 * PERIOD_NS * 99 / 100,
        |n| n as u64 * PERIOD_NS + 2_000,
        |_| false,
    );
    let at = 1_500;
    let pushed = (at as u64 * PERIOD_NS + 2_000) / (PERIOD_NS * 99 / 100) + 1;
    let heard_at = heard[at].unwrap_or_else(|| panic!("input heard: {:?}", &heard[at - 5..at + 5]));
    let behind = pushed as usize * BLOCK - heard_at;
    assert!(behind <= 8 * BLOCK, "backlog bounded: {behind} frames");
    assert!(reports.iter().map(|r| r.slipped).sum::<usize>() > 0);
}

#[test]
fn bridge_on_two_threads_keeps_a_cushion_of_the_larger_input_block() {
    // The input callback brings two output blocks at a time (Wine's WASAPI calls back with
    // blocks of its own size over a driver with another): whatever the order of the two threads,
    // an output that runs just before an input block can find up to that block missing. While
    // free to grow the bridge takes that much cushion, and then a take holding it loses nothing.
    const IN: usize = 2 * BLOCK;
    for seed in [3, 11, 99] {
        // Input block k comes with cycle 2k + 1, the second of the two it covers.
        let in_cycle = |k: usize| 2 * k + 1;
        let (heard, reports, _) = drive_split_bridge(
            IN,
            true,
            400,
            |k| in_cycle(k) as u64 * PERIOD_NS + jitter_ns(seed, in_cycle(k)),
            |n| n as u64 * PERIOD_NS + jitter_ns(seed ^ 0xff, n),
            // Free to grow for the first 40 cycles, then a take holds it.
            |n| n < 40,
        );
        let slipped: usize = reports[40..].iter().map(|r| r.slipped).sum();
        // What the bridge holds a frame for, as heard (its own count of the silence it put in
        // front misses what it skipped to start from the newest input; where the callbacks are
        // timed the published figure is read from that timing instead).
        let lag = heard[40].map_or(usize::MAX, |f| 40 * BLOCK - f);
        assert!(lag <= IN, "seed {seed}: {lag} frames, more than a block");
        assert_eq!(slipped, 0, "seed {seed}: input lost while the take held");
        for (n, h) in heard.iter().enumerate().skip(40) {
            assert_eq!(*h, Some(n * BLOCK - lag), "seed {seed}, cycle {n}");
        }
    }
}

#[test]
fn a_skipped_cycles_silence_does_not_widen_the_cushion() {
    // PipeWire skipped four cycles on both sides (a stalled machine): the input side puts four
    // blocks of silence in their place. That is no callback's block: the most the bridge may grow
    // to stays one block.
    let (mut tx, mut rx) = bridge(1, BLOCK);
    rx.set_two_threads(true);
    let block = vec![0.5f32; BLOCK];
    for n in 0..40 {
        rt(|| {
            if n == 20 {
                tx.lose(4 * BLOCK as u64);
                rx.skip(4 * BLOCK as u64);
            }
            tx.push(&block);
            let _ = rx.pull(BLOCK, true, true);
        });
    }
    assert_eq!(rx.cushion_limit(), BLOCK);
    assert!(rx.latency() <= BLOCK, "{}", rx.latency());
}

#[test]
fn a_shortfall_that_partly_fits_the_block_grows_by_what_fits_and_loses_only_the_rest() {
    // Input and output on one thread, input first. One input callback brings two blocks (the
    // most an output can then find missing is two blocks), and while free to grow the bridge
    // grew by a block and a half. Then, while a take holds, a whole block of input is late: half
    // a block still fits in the two, so the bridge grows by that (the takes leave it out) and
    // only the other half is lost. Every sample carries its own frame number plus one (0 is
    // silence).
    const H: usize = BLOCK / 2;
    let (mut tx, mut rx) = bridge(1, 4 * BLOCK);
    let frames =
        |from: usize, n: usize| (from..from + n).map(|f| (f + 1) as f32).collect::<Vec<_>>();
    let (one, two, half, late) = (
        frames(0, BLOCK),
        frames(BLOCK, 2 * BLOCK),
        frames(3 * BLOCK, H),
        frames(3 * BLOCK + H, 2 * BLOCK),
    );
    // One cycle: push, pull a block; what was heard first, the report, the bridge's latency and
    // the most it may grow to.
    let mut cycle = |tx: &mut BridgeInput, push: &[f32], hold: bool| {
        rt(|| {
            tx.push(push);
            let (got, report) = rx.pull(BLOCK, !hold, true);
            (
                got.first().copied(),
                report,
                rx.latency(),
                rx.cushion_limit(),
            )
        })
    };
    cycle(&mut tx, &one, false);
    cycle(&mut tx, &two, false);
    cycle(&mut tx, &[], false);
    cycle(&mut tx, &[], false);
    let (_, _, grown, limit) = cycle(&mut tx, &half, false);
    assert_eq!(
        (grown, limit),
        (BLOCK + H, 2 * BLOCK),
        "free: grown by a block and a half"
    );
    // A take holds: this cycle's input is late.
    let (heard, report, grown, _) = cycle(&mut tx, &[], true);
    assert_eq!(report.regrew, H, "grows by what fits in the block");
    assert_eq!(report.slipped, H, "the rest is lost, and counted");
    assert_eq!(grown, 2 * BLOCK);
    assert_eq!(
        heard,
        Some(0.0),
        "silence: the late input's place, then the growth"
    );
    // The late input comes with the next: the half whose place passed is dropped (already
    // counted), and the next frame is the one that follows it, where it belongs.
    let (heard, report, _, _) = cycle(&mut tx, &late, true);
    assert_eq!(heard, Some((4 * BLOCK + 1) as f32));
    assert_eq!(
        report,
        PullReport::default(),
        "nothing lost twice, no growth"
    );
}
