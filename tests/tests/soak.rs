//! Soak: a simulated 24-hour recording of four tracks through the real process function on the
//! offline driver. Every captured sample is checked against what went in, so a single lost,
//! repeated or shifted frame on any track fails it; resident memory is sampled every simulated
//! hour and must stay flat.

use overdub_engine::io::OfflineDriver;
use overdub_engine::rt::{Command, MonitorMode, Process, ProcessConfig, TrackRt};

const TRACKS: usize = 4;
const BLOCK: usize = 8192;
const RATE: u64 = 48_000;
const HOURS: u64 = 24;

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
        let (tx, rx) = rtrb::RingBuffer::new(BLOCK * 4);
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
    // The signal repeats every 65536 frames: tables one block longer than that let each block be
    // filled and checked as whole slices.
    const PERIOD: usize = 65_536;
    let span = PERIOD + 2 * BLOCK;
    let input: Vec<f32> = (0..span)
        .flat_map(|n| (0..TRACKS).map(move |c| value(c, n as u64)))
        .collect();
    let expect: Vec<Vec<f32>> = (0..TRACKS)
        .map(|c| (0..span).map(|n| value(c, n as u64)).collect())
        .collect();
    let mut got = [0u64; TRACKS];
    let mut rss = Vec::new();
    for b in 0..blocks {
        driver.run_block(|buf, first| {
            let at = (first % PERIOD as u64) as usize * TRACKS;
            buf.copy_from_slice(&input[at..at + buf.len()]);
        });
        for (c, ring) in rings.iter_mut().enumerate() {
            let n = ring.slots();
            let chunk = ring.read_chunk(n).expect("available");
            let (x, y) = chunk.as_slices();
            let at = (got[c] % PERIOD as u64) as usize;
            let ok = x == &expect[c][at..at + x.len()]
                && y == &expect[c][at + x.len()..at + x.len() + y.len()];
            if !ok {
                let all: Vec<f32> = x.iter().chain(y).copied().collect();
                let j = (0..n)
                    .find(|&j| all[j] != value(c, got[c] + j as u64))
                    .unwrap_or(0);
                panic!(
                    "track {c}: frame {} is {}, expected {}",
                    got[c] + j as u64,
                    all[j],
                    value(c, got[c] + j as u64)
                );
            }
            chunk.commit_all();
            got[c] += n as u64;
        }
        if b % per_hour == 0 {
            rss.push(resident_bytes());
        }
    }
    let status = handle.status.clone();
    assert_eq!(
        status
            .capture_overruns
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    for (c, n) in got.iter().enumerate() {
        assert_eq!(
            *n,
            blocks * BLOCK as u64,
            "track {c}: every frame of the day"
        );
    }
    assert!(got.iter().all(|n| *n == got[0]), "no drift between tracks");
    assert!(blocks * BLOCK as u64 >= total);
    // Flat memory: after the first hour, resident size moves by less than 1 MiB.
    let later = &rss[1..];
    let (lo, hi) = (
        later.iter().min().copied().unwrap_or(0),
        later.iter().max().copied().unwrap_or(0),
    );
    assert!(
        hi - lo < 1 << 20,
        "resident memory grew from {lo} to {hi} bytes: {rss:?}"
    );
    assert_eq!(rss.len() as u64, HOURS + 1);
}
