//! Soak: a simulated 24-hour recording of four tracks through the real process function on the
//! offline driver. The capture rings hold only a few blocks and are drained the way the disk
//! thread drains them: irregularly, now a little, now everything, now nothing for several blocks,
//! each track on its own schedule, so that a ring is often filled to the last slot. Every captured
//! sample is checked against what went in, so a single lost, repeated or shifted frame on any
//! track fails it, and so does a single overrun; resident memory is sampled every simulated hour
//! and must stay flat.

use overdub_engine::io::OfflineDriver;
use overdub_engine::rt::{Command, MonitorMode, Process, ProcessConfig, TrackRt};

const TRACKS: usize = 4;
const BLOCK: usize = 8192;
const RATE: u64 = 48_000;
const HOURS: u64 = 24;
/// The input signal repeats every this many frames.
const PERIOD: usize = 65_536;
/// Blocks one capture ring holds.
const RING_BLOCKS: usize = 4;
const RING: usize = RING_BLOCKS * BLOCK;

/// Input channel `c` at device frame `n`: a 16-bit counter, offset per channel; exact in f32.
fn value(c: usize, n: u64) -> f32 {
    ((n as u32).wrapping_add(7919 * c as u32) & 0xFFFF) as f32 * (1.0 / 65_536.0)
}

fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

/// A deterministic pseudo-random sequence (PCG's LCG step, high bits out).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

/// How many of the `available` samples in a ring of `RING` slots the disk thread reads now: at
/// least enough to leave room for the next block (it keeps up, just), otherwise anything from
/// nothing to everything.
fn drain_amount(rng: &mut Lcg, available: usize) -> usize {
    let must = available.saturating_sub(RING - BLOCK);
    match rng.next() % 8 {
        // Busy elsewhere: only what the next block needs, often nothing for several blocks.
        0..=2 => must,
        // Catching up.
        3 => available,
        // A part, split anywhere (reads that end mid-block and wrap round the ring).
        _ => must + (rng.next() as usize) % (available - must + 1),
    }
}

/// Check the `n` samples at the front of a track's ring against the input it was fed (track `c`
/// has received `got` samples so before these) and release them.
fn check_and_release(ring: &mut rtrb::Consumer<f32>, c: usize, got: u64, n: usize, expect: &[f32]) {
    let chunk = ring.read_chunk(n).expect("available");
    let (x, y) = chunk.as_slices();
    let at = (got % PERIOD as u64) as usize;
    let ok = x == &expect[at..at + x.len()] && y == &expect[at + x.len()..at + x.len() + y.len()];
    if !ok {
        let all: Vec<f32> = x.iter().chain(y).copied().collect();
        let j = (0..n)
            .find(|&j| all[j] != value(c, got + j as u64))
            .unwrap_or(0);
        panic!(
            "track {c}: frame {} is {}, expected {}",
            got + j as u64,
            all[j],
            value(c, got + j as u64)
        );
    }
    chunk.commit_all();
}

#[test]
fn a_simulated_day_of_recording_loses_nothing_drifts_nothing_and_holds_memory_flat() {
    let (process, mut handle) = Process::new(ProcessConfig {
        rate: RATE as u32,
        max_block: BLOCK,
    });
    let mut rings = Vec::new();
    for c in 0..TRACKS {
        let mut t = TrackRt::new(c as u32 + 1, c as u16);
        t.armed = true;
        t.monitor = MonitorMode::Input;
        let (tx, rx) = rtrb::RingBuffer::new(RING);
        assert!(handle.commands.push(Command::AddTrack(Box::new(t))).is_ok());
        assert!(
            handle
                .commands
                .push(Command::SetCapture(c as u32 + 1, tx))
                .is_ok()
        );
        rings.push(rx);
    }
    assert!(handle.commands.push(Command::SetRecording(true)).is_ok());
    assert!(handle.commands.push(Command::Start).is_ok());
    let mut driver = OfflineDriver::new(process, TRACKS, 2, BLOCK);

    let total = HOURS * 3600 * RATE;
    let blocks = total.div_ceil(BLOCK as u64);
    let per_hour = 3600 * RATE / BLOCK as u64;
    // Tables a ring longer than the signal's period let each block be filled and each read
    // checked as whole slices.
    let span = PERIOD + RING + BLOCK;
    let input: Vec<f32> = (0..span)
        .flat_map(|n| (0..TRACKS).map(move |c| value(c, n as u64)))
        .collect();
    let expect: Vec<Vec<f32>> = (0..TRACKS)
        .map(|c| (0..span).map(|n| value(c, n as u64)).collect())
        .collect();
    // Each track's disk-thread schedule, seeded apart.
    let mut rng: Vec<Lcg> = (0..TRACKS).map(|c| Lcg(0x5eed + c as u64)).collect();
    let mut got = [0u64; TRACKS];
    // Blocks in a row a ring was left undrained, and the fullest it was found, per track.
    let mut idle = [0u32; TRACKS];
    let mut longest_idle = [0u32; TRACKS];
    let mut fullest = [0usize; TRACKS];
    let mut rss = Vec::new();
    for b in 0..blocks {
        driver.run_block(|buf, first| {
            let at = (first % PERIOD as u64) as usize * TRACKS;
            buf.copy_from_slice(&input[at..at + buf.len()]);
        });
        for (c, ring) in rings.iter_mut().enumerate() {
            let available = ring.slots();
            fullest[c] = fullest[c].max(available);
            let n = drain_amount(&mut rng[c], available);
            if n == 0 {
                idle[c] += 1;
                longest_idle[c] = longest_idle[c].max(idle[c]);
                continue;
            }
            idle[c] = 0;
            check_and_release(ring, c, got[c], n, &expect[c]);
            got[c] += n as u64;
        }
        if b % per_hour == 0 {
            rss.push(resident_bytes());
        }
    }
    // The recording ends: the disk thread takes what is left.
    for (c, ring) in rings.iter_mut().enumerate() {
        let n = ring.slots();
        check_and_release(ring, c, got[c], n, &expect[c]);
        got[c] += n as u64;
    }
    let status = handle.status.clone();
    assert_eq!(
        status
            .capture_overruns
            .load(std::sync::atomic::Ordering::Relaxed),
        0,
        "a ring with room for the next block took all of it"
    );
    assert_eq!(status.first_capture_loss(), None);
    for (c, n) in got.iter().enumerate() {
        assert_eq!(
            *n,
            driver.frames(),
            "track {c}: every frame of the day, no more"
        );
        // The schedule did what it is for: rings full to the last slot, left for blocks on end.
        assert_eq!(fullest[c], RING, "track {c}: its ring was never full");
        assert!(
            longest_idle[c] >= RING_BLOCKS as u32 - 1,
            "track {c}: never left for {} blocks",
            RING_BLOCKS - 1
        );
    }
    // The playhead counted every frame the device ran, as the takes did.
    assert_eq!(
        status.position.load(std::sync::atomic::Ordering::Relaxed),
        driver.frames()
    );
    assert_eq!(
        status.blocks.load(std::sync::atomic::Ordering::Relaxed),
        blocks
    );
    // Flat memory: after the first hour, resident size moves by less than 1 MiB.
    assert!(
        rss.iter().all(|&r| r > 0),
        "resident size unreadable, the memory check would check nothing: {rss:?}"
    );
    let later = &rss[1..];
    let (lo, hi) = (
        later.iter().min().copied().unwrap_or(0),
        later.iter().max().copied().unwrap_or(0),
    );
    assert!(
        hi - lo < 1 << 20,
        "resident memory grew from {lo} to {hi} bytes: {rss:?}"
    );
}
