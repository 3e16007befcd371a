//! `overdub bench` and `overdub tune`: numbers to choose a buffer size by.

use std::path::Path;

use overdub_engine::bench::{self, BenchOptions};
use overdub_engine::session::SessionDir;
use overdub_engine::{Result, io, tune};

use super::progress::{Plain, Progress};
use super::stream_request;
use crate::cli::AudioArgs;

pub fn bench(
    tracks: usize,
    record: usize,
    buffer: usize,
    rate: u32,
    seconds: f64,
    json: bool,
) -> Result<()> {
    let r = bench::run(&BenchOptions {
        tracks,
        record,
        buffer,
        rate,
        seconds,
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
        return Ok(());
    }
    println!(
        "{} playing + {} recording tracks (monitoring on), {} frames at {} Hz: {} blocks",
        r.tracks, r.record, r.buffer, r.rate, r.blocks
    );
    println!(
        "per block: mean {:.1} us, p99 {:.1} us, p99.9 {:.1} us, max {:.1} us of a {:.1} us \
         period",
        r.mean_us, r.p99_us, r.p999_us, r.max_us, r.period_us
    );
    println!(
        "DSP load: {:.2}% mean, {:.2}% p99, {:.2}% p99.9, {:.2}% max of one core at this buffer \
         size",
        r.load_mean_pct, r.load_p99_pct, r.load_p999_pct, r.load_max_pct
    );
    let q = r.reference;
    println!(
        "the machine beside it (a plain loop as long as the mean block, as many times): mean \
         {:.1} us, p99 {:.1} us, p99.9 {:.1} us, max {:.1} us",
        q.mean_us, q.p99_us, q.p999_us, q.max_us
    );
    if let Some(f) = r.page_faults {
        println!("page faults while processing: {f}");
    }
    println!(
        "disk: takes written at {:.0} MB/s, {:.0}x real time for {} track(s)",
        r.disk_write_mb_s,
        r.disk_write_x_realtime,
        r.record.max(1)
    );
    Ok(())
}

pub fn tune(session: Option<&Path>, seconds: f64, json: bool, audio: &AudioArgs) -> Result<()> {
    let (mut req, _) = stream_request(audio)?;
    let loaded = match session {
        Some(d) => {
            let dir = SessionDir::new(d);
            let s = dir.load()?;
            Some((dir, s))
        }
        None => None,
    };
    if req.rate == 0 {
        req.rate = match &loaded {
            Some((_, s)) => s.rate,
            None => {
                let host = io::describe(req.host);
                let device = match &req.output {
                    Some(name) => Some(host.find(name, io::Direction::Output)?),
                    None => host.default_device(io::Direction::Output),
                };
                device.map_or(48_000, |d| d.default_rate)
            }
        };
    }
    // A bar over the sizes on a terminal; off one, a line as each size starts.
    let mut shown = Progress::new("tuning", Plain::Stages);
    let r = tune::tune_with_progress(
        &req,
        loaded.as_ref().map(|(d, s)| (d, s)),
        seconds,
        &mut |i, n, buffer| {
            shown.stage(&format!("trying {buffer} frames ({}/{n})", i + 1));
            shown.set(i as f32 / n.max(1) as f32);
        },
    )?;
    shown.finish();
    if json {
        println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
        return Ok(());
    }
    if let Some(n) = &r.note {
        println!("note: {n}");
    }
    for s in &r.steps {
        match &s.error {
            Some(e) => println!(
                "{:5} frames ({:5.2} ms): could not run: {e}",
                s.buffer, s.buffer_ms
            ),
            None => println!(
                "{:5} frames ({:5.2} ms): {} xruns, {} slips, peak DSP load {:.1}%{}{}",
                s.buffer,
                s.buffer_ms,
                s.xruns,
                s.slips,
                s.dsp_peak_pct,
                if s.clean { "  clean" } else { "" },
                s.asked_note("  ")
            ),
        }
    }
    match r.recommended {
        Some(b) => println!(
            "recommended: {b} frames ({:.2} ms per buffer), the smallest that ran clean",
            f64::from(b) * 1000.0 / f64::from(req.rate)
        ),
        None => println!("no size ran clean: close other programs or try a larger buffer"),
    }
    if let Some(l) = &r.limit {
        println!("limited by: {l}");
    }
    Ok(())
}
