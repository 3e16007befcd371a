//! What `overdub bench` measures: the real process function run offline over N playing and M
//! recording tracks (monitoring on), timed block by block, and the disk thread's write speed.
//! Numbers for choosing a buffer size, not a test. Not on the audio thread.

use std::time::{Duration, Instant};

use rtrb::RingBuffer;
use serde::Serialize;

use crate::disk::{MAX_PART_BYTES, Take, TakeFormat};
use crate::error::{Error, Result};
use crate::rt::{Command, MonitorMode, Process, ProcessConfig, TrackRt};

/// What to run.
#[derive(Clone, Copy, Debug)]
pub struct BenchOptions {
    /// Tracks playing back.
    pub tracks: usize,
    /// Tracks recording (with input monitoring on).
    pub record: usize,
    /// Block size, frames.
    pub buffer: usize,
    /// Sample rate, Hz.
    pub rate: u32,
    /// Seconds of audio to process.
    pub seconds: f64,
}

/// The figures.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    /// Tracks playing.
    pub tracks: usize,
    /// Tracks recording.
    pub record: usize,
    /// Block size, frames.
    pub buffer: usize,
    /// Sample rate, Hz.
    pub rate: u32,
    /// Blocks processed.
    pub blocks: usize,
    /// Block period, microseconds.
    pub period_us: f64,
    /// Mean time in the process function per block, microseconds.
    pub mean_us: f64,
    /// 99th percentile, microseconds.
    pub p99_us: f64,
    /// 99.9th percentile, microseconds.
    pub p999_us: f64,
    /// Slowest block, microseconds.
    pub max_us: f64,
    /// Mean time as DSP load: share of the block period, percent.
    pub load_mean_pct: f64,
    /// 99th percentile as DSP load, percent.
    pub load_p99_pct: f64,
    /// 99.9th percentile as DSP load, percent.
    pub load_p999_pct: f64,
    /// Slowest block as DSP load, percent.
    pub load_max_pct: f64,
    /// The machine's own noise beside it: a plain arithmetic loop calibrated to the mean block's
    /// length, timed the same way as many times. When its slowest runs are as slow as the
    /// process function's, what costs those blocks is the machine (interrupts, the hypervisor,
    /// the other core's work), not the mixer.
    pub reference: Spread,
    /// Minor page faults during the calls of the process function, counted around each call
    /// (it should cause none once its buffers are touched); None where the OS does not say (not
    /// Linux).
    pub page_faults: Option<u64>,
    /// The disk thread's take writing: megabytes per second.
    pub disk_write_mb_s: f64,
    /// How many times real time the disk writes the recording tracks.
    pub disk_write_x_realtime: f64,
}

/// Mean, p99, p99.9 and slowest of a set of timings, microseconds.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Spread {
    /// Mean.
    pub mean_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// 99.9th percentile.
    pub p999_us: f64,
    /// Slowest.
    pub max_us: f64,
}

impl Spread {
    /// The spread of `times` (sorted here).
    fn of(times: &mut [Duration]) -> Self {
        times.sort_unstable();
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        let n = times.len().max(1);
        let at = |per_mille: usize| {
            times
                .get((n * per_mille / 1000).min(n - 1))
                .map_or(0.0, |d| us(*d))
        };
        Self {
            mean_us: times.iter().map(|d| us(*d)).sum::<f64>() / n as f64,
            p99_us: at(990),
            p999_us: at(999),
            max_us: times.last().map_or(0.0, |d| us(*d)),
        }
    }
}

/// The reference: `blocks` runs of an arithmetic loop as long as `mean` on average, each timed.
fn reference(blocks: usize, mean: Duration) -> Spread {
    let work = |n: u64| {
        let mut x = std::hint::black_box(1.000_001f64);
        for _ in 0..n {
            x = x * 1.000_000_1 + 1e-9;
        }
        std::hint::black_box(x);
    };
    // Calibrate: iterations per microsecond, from a run long enough to time well.
    let probe = 200_000;
    let t0 = Instant::now();
    work(probe);
    let per_us = probe as f64 / (t0.elapsed().as_secs_f64() * 1e6).max(1e-3);
    let n = (per_us * mean.as_secs_f64() * 1e6).max(1.0) as u64;
    let mut times = vec![Duration::ZERO; blocks];
    for t in &mut times {
        let t0 = Instant::now();
        work(n);
        *t = t0.elapsed();
    }
    Spread::of(&mut times)
}

/// Run the benchmark.
pub fn run(o: &BenchOptions) -> Result<BenchReport> {
    if o.buffer == 0
        || o.rate == 0
        || !o.seconds.is_finite()
        || o.seconds <= 0.0
        || o.tracks + o.record == 0
    {
        return Err(Error::InvalidSetting(
            "bench needs a buffer, a rate, some seconds and at least one track".into(),
        ));
    }
    let (mut process, mut handle) = Process::new(ProcessConfig {
        rate: o.rate,
        max_block: o.buffer,
    });
    let mut players = Vec::new();
    let mut captures = Vec::new();
    let send = |h: &mut crate::rt::ProcessHandle, c| {
        h.commands
            .push(c)
            .map_err(|_| Error::InvalidSetting("too many tracks".into()))
    };
    for i in 0..o.tracks {
        let id = i as u32 + 1;
        let mut t = TrackRt::new(id, 0);
        t.monitor = MonitorMode::Off;
        t.pan = (i % 7) as f32 / 7.0 - 0.4;
        let (tx, rx) = RingBuffer::new(o.buffer * 4);
        send(&mut handle, Command::AddTrack(Box::new(t)))?;
        send(&mut handle, Command::SetPlayback(id, rx))?;
        players.push(tx);
    }
    for i in 0..o.record {
        let id = (o.tracks + i) as u32 + 1;
        let mut t = TrackRt::new(id, (i % 8) as u16);
        t.armed = true;
        t.monitor = MonitorMode::Input;
        let (tx, rx) = RingBuffer::new(o.buffer * 4);
        send(&mut handle, Command::AddTrack(Box::new(t)))?;
        send(&mut handle, Command::SetCapture(id, tx))?;
        captures.push(rx);
    }
    send(&mut handle, Command::SetRecording(true))?;
    send(&mut handle, Command::Start)?;

    let in_ch = 8;
    let input: Vec<f32> = (0..o.buffer * in_ch)
        .map(|i| ((i * 7919) % 1000) as f32 / 2000.0 - 0.25)
        .collect();
    let mut output = vec![0.0f32; o.buffer * 2];
    let feed: Vec<f32> = (0..o.buffer)
        .map(|i| (i as f32 * 0.01).sin() * 0.3)
        .collect();
    let blocks = ((o.seconds * f64::from(o.rate)) / o.buffer as f64)
        .ceil()
        .max(1.0) as usize;
    // Written before the count starts (a zero-filled vector's pages are first touched when
    // written): their first faults are the bench's, not the mixer's.
    let mut times = vec![Duration::from_nanos(1); blocks];
    // Counted around each call alone: the feeding and draining between calls (the disk
    // thread's side, here on this thread) are not the audio thread's.
    let mut page_faults = Some(0u64);
    // The count and the clock fault once of their own the first time (a stack page, the vDSO's
    // data page): let them before counting.
    let _ = (minor_faults(), Instant::now());
    for time in &mut times {
        for p in &mut players {
            let _ = p.push_entire_slice(&feed);
        }
        let faults_before = minor_faults();
        let t0 = Instant::now();
        process.process(&input, in_ch, &mut output, 2, o.buffer);
        *time = t0.elapsed();
        page_faults = page_faults
            .zip(minor_faults().zip(faults_before))
            .map(|(n, (after, before))| n + after.saturating_sub(before));
        for c in &mut captures {
            let n = c.slots();
            if let Ok(chunk) = c.read_chunk(n) {
                chunk.commit_all();
            }
        }
    }
    let Spread {
        mean_us: mean,
        p99_us: p99,
        p999_us: p999,
        max_us: max,
    } = Spread::of(&mut times);
    let period = o.buffer as f64 / f64::from(o.rate) * 1e6;
    let reference = reference(blocks, Duration::from_secs_f64(mean / 1e6));

    let (mb_s, x) = disk_write(o)?;
    Ok(BenchReport {
        tracks: o.tracks,
        record: o.record,
        buffer: o.buffer,
        rate: o.rate,
        blocks,
        period_us: period,
        mean_us: mean,
        p99_us: p99,
        p999_us: p999,
        max_us: max,
        load_mean_pct: mean / period * 100.0,
        load_p99_pct: p99 / period * 100.0,
        load_p999_pct: p999 / period * 100.0,
        load_max_pct: max / period * 100.0,
        reference,
        page_faults,
        disk_write_mb_s: mb_s,
        disk_write_x_realtime: x,
    })
}

/// This thread's minor page faults so far (Linux: field 10 of `/proc/thread-self/stat`). Read
/// into a buffer on the stack, so the count does not count its own allocation; other threads'
/// faults are not in it. None where the OS does not say.
fn minor_faults() -> Option<u64> {
    use std::io::Read;
    let mut buf = [0u8; 1024];
    let n = std::fs::File::open("/proc/thread-self/stat")
        .ok()?
        .read(&mut buf)
        .ok()?;
    let stat = std::str::from_utf8(&buf[..n]).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(7)?.parse().ok()
}

/// Write the recording tracks' worth of takes (at least one track) through the take writer to a
/// temporary folder, fsync included; megabytes per second and times real time.
fn disk_write(o: &BenchOptions) -> Result<(f64, f64)> {
    let tracks = o.record.max(1);
    let dir = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let frames = (o.seconds * f64::from(o.rate)) as usize;
    let block: Vec<f32> = (0..4096).map(|i| (i as f32 * 0.01).sin() * 0.3).collect();
    let t0 = Instant::now();
    for t in 0..tracks {
        let path = dir.path().join(format!("t{t}.wav"));
        let mut take = Take::create(&path, o.rate, 1, TakeFormat::F32, MAX_PART_BYTES)?;
        let mut left = frames;
        while left > 0 {
            let n = left.min(block.len());
            take.write(&block[..n])?;
            left -= n;
        }
        take.finish()?;
    }
    let secs = t0.elapsed().as_secs_f64().max(1e-9);
    let bytes = (tracks * frames * 4) as f64;
    Ok((
        bytes / secs / 1e6,
        (tracks as f64 * o.seconds) / secs / tracks as f64,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spread_reads_its_percentiles_from_the_sorted_timings() {
        // 1 to 1000 us, shuffled.
        let mut times: Vec<Duration> = (1..=1000u64)
            .map(|i| Duration::from_micros((i * 389) % 1000 + 1))
            .collect();
        let s = Spread::of(&mut times);
        assert!((s.mean_us - 500.5).abs() < 1e-6);
        assert!((s.p99_us - 991.0).abs() < 1e-6);
        assert!((s.p999_us - 1000.0).abs() < 1e-6);
        assert!((s.max_us - 1000.0).abs() < 1e-6);
        assert_eq!(Spread::of(&mut []).max_us, 0.0);
    }
}
