//! `overdub record DIR --seconds S`: record the armed tracks while the others play.

use overdub_engine::disk::{DiskLoad, MAX_PART_BYTES, TakeFormat};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use overdub_engine::recorder::{
    self, PunchOptions, RecordHooks, RecordOptions, RecordStart, Roll, RunReport, time_of_day,
};
use overdub_engine::{Error, Result};

use super::{ms, stream_request};
use crate::cli::RecordArgs;

/// `--punch IN:OUT` (either side may be empty) with its rolls and crossfade.
fn punch(a: &RecordArgs, text: &str) -> Result<PunchOptions> {
    let bad = || {
        Error::InvalidSetting(format!(
            "--punch {text}: give IN:OUT in seconds (IN: or :OUT for one alone)"
        ))
    };
    let (x, y) = text.split_once(':').ok_or_else(bad)?;
    let side = |v: &str| -> Result<Option<f64>> {
        let v = v.trim();
        if v.is_empty() {
            Ok(None)
        } else {
            v.parse().map(Some).map_err(|_| bad())
        }
    };
    let (from, to) = (side(x)?, side(y)?);
    if from.is_none() && to.is_none() {
        return Err(bad());
    }
    let roll = |flag: &str, v: &str| {
        Roll::parse(v).ok_or_else(|| {
            Error::InvalidSetting(format!(
                "{flag} {v}: give seconds (\"2\") or bars (\"1bar\", \"2bars\")"
            ))
        })
    };
    Ok(PunchOptions {
        from,
        to,
        preroll: roll("--preroll", &a.preroll)?,
        postroll: roll("--postroll", &a.postroll)?,
        crossfade_ms: a.crossfade,
    })
}

pub fn run(a: &RecordArgs) -> Result<()> {
    let format = TakeFormat::parse(&a.format)
        .ok_or_else(|| Error::InvalidSetting(format!("--format {}: use 32f or 24", a.format)))?;
    let (req, settings) = stream_request(&a.audio)?;
    let loop_range = a
        .loop_range
        .as_deref()
        .map(|s| super::span("--loop", s))
        .transpose()?;
    let punch = a.punch.as_deref().map(|p| punch(a, p)).transpose()?;
    let seconds = match (a.seconds, a.passes, loop_range, punch) {
        (Some(s), _, _, _) => s,
        (None, Some(n), Some((x, y)), _) => (y - x) * f64::from(n),
        (None, _, _, Some(p)) if p.to.is_some() => 0.0,
        _ => {
            return Err(Error::InvalidSetting(
                "give --seconds (or --loop START:END with --passes N, or --punch IN:OUT)".into(),
            ));
        }
    };
    let opts = RecordOptions {
        seconds,
        loop_range,
        passes: a.passes,
        punch,
        arm: a.arm.clone(),
        monitor: a.monitor,
        format,
        measured: settings.latency,
        part_bytes: settings.take_part_bytes.unwrap_or(MAX_PART_BYTES),
    };
    // Ctrl+C stops the take cleanly (every file closed and placed) instead of killing it.
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed));
    let what = match (punch, a.punch.as_deref()) {
        (Some(p), Some(text)) if p.to.is_some() => {
            format!("punched in at {text} s with {} pre-roll", a.preroll)
        }
        (_, Some(text)) => format!("{seconds} s punched in at {text} s"),
        _ => format!("{seconds} s"),
    };
    let mut on_start = |s: &RecordStart| {
        let names: Vec<String> = s.files.iter().map(|p| p.display().to_string()).collect();
        println!(
            "recording {what} to {} (Ctrl+C stops and keeps the take)",
            names.join(", ")
        );
        let _ = std::io::stdout().flush();
    };
    let hooks = RecordHooks {
        on_start: &mut on_start,
        stop: Some(&stop),
    };
    let report = recorder::record(&a.dir, &req, &opts, hooks)?;
    let opts_looped = opts.loop_range.is_some();
    if let Some(r) = &report.recovered {
        super::recover::print(r);
    }
    print_stream(&report, req.buffer);
    if let Some(left) = report.seconds_left {
        println!("recording time left on disk: {}", duration(left));
        if punch.is_none() && left < seconds {
            println!(
                "warning: the disk holds only {} of recording for these tracks; the take will \
                 stop when it is full",
                duration(left)
            );
        }
    }
    let rate = report.stream.rate;
    for t in &report.takes {
        let len = t.length();
        println!(
            "take: {} (track '{}'): {} frames ({:.3} s) on the timeline{}",
            t.file.display(),
            t.track_name,
            len,
            len as f64 / f64::from(rate),
            t.clips
                .first()
                .map(|c| format!(" at frame {}", c.position))
                .unwrap_or_default()
        );
        if t.clips.len() > 1 && opts_looped {
            for (k, c) in t.clips.iter().enumerate() {
                println!(
                    "  pass {}: at frame {}, {} frames (file offset {})",
                    k + 1,
                    c.position,
                    c.length,
                    c.offset
                );
            }
        }
        if t.parts.len() > 1 {
            for (p, f) in &t.parts {
                println!("  part: {} ({f} frames)", p.display());
            }
        }
        if let Some(e) = &t.error {
            println!("  warning: {e} (what reached the disk is kept)");
        }
    }
    println!(
        "latency: {} frames ({:.2} ms) round trip, {}",
        report.latency_applied,
        ms(u64::from(report.latency_applied), rate),
        report.latency_source
    );
    print_health(&report);
    if let Some(why) = &report.interrupted {
        return Err(Error::Device(format!("{why}; the takes so far are saved")));
    }
    Ok(())
}

/// The stream line every audio command prints first.
pub fn print_stream(report: &RunReport, asked: Option<u32>) {
    let s = &report.stream;
    println!(
        "stream: {} in '{}' out '{}' at {} Hz, {} frames ({:.2} ms) per buffer, {} in / {} out, \
         reported latency {} in + {} out + {:.1} bridge",
        s.host,
        s.input_device.as_deref().unwrap_or("-"),
        s.output_device.as_deref().unwrap_or("-"),
        s.rate,
        s.buffer,
        ms(u64::from(s.buffer), s.rate),
        s.in_channels,
        s.out_channels,
        s.latency.input,
        s.latency.output,
        s.latency.bridge
    );
    super::print_buffer_asked(asked, s);
}

/// Seconds as "1 h 02 min", "3 min 20 s" or "12.5 s".
fn duration(s: f64) -> String {
    if s >= 3600.0 {
        format!(
            "{} h {:02} min",
            (s / 3600.0) as u64,
            ((s % 3600.0) / 60.0) as u64
        )
    } else if s >= 60.0 {
        format!("{} min {:02} s", (s / 60.0) as u64, (s % 60.0) as u64)
    } else {
        format!("{s:.1} s")
    }
}

/// Xruns, load and disk health: the last lines of every audio command.
pub fn print_health(report: &RunReport) {
    if !report.xrun_positions.is_empty() {
        let clock = |i: usize| report.xrun_clock.get(i).map(|&t| time_of_day(t));
        let at: Vec<String> = report
            .xrun_positions
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let s = *p as f64 / f64::from(report.stream.rate.max(1));
                match clock(i) {
                    Some(c) => format!("{s:.3} s ({c})"),
                    None => format!("{s:.3} s"),
                }
            })
            .collect();
        println!("xruns at: {}", at.join(", "));
    }
    let (input, output) = report.skipped_cycles;
    if input + output > 0 {
        println!(
            "xruns the driver did not report: {input} input, {output} output (seen from its \
             cycle times: it went on without calling the recorder); {} it reported",
            report.xruns.saturating_sub(input + output)
        );
    }
    println!(
        "xruns: {}  dsp load: peak {:.1}% mean {:.2}%  disk: {} frames lost in capture, {} \
         frames of playback late",
        report.xruns,
        report.dsp_peak * 100.0,
        report.dsp_mean * 100.0,
        report.capture_overruns,
        report.playback_underruns
    );
    if let Some(lock) = overdub_engine::io::memory_lock::outcome() {
        println!("memory: {}", lock.describe());
    }
    if let Some(at) = report.capture_lost_at {
        println!(
            "capture: the disk fell behind at {:.3} s; {} frames became silence there and every \
             later frame is in its place",
            at as f64 / f64::from(report.stream.rate.max(1)),
            report.capture_overruns
        );
    }
    if let Some((load, wall)) = report.disk {
        println!("{}", disk_load(load, wall));
    }
    let s = &report.stream;
    if s.bridged {
        println!(
            "bridge: {:.1} frames added, {} frames slipped, {} frames grown mid-take, {} frames \
             shifted by the driver  callback threads: {}",
            s.latency.bridge,
            report.bridge_slips,
            report.bridge_regrown,
            report.driver_shifts,
            report.priority
        );
        if !report.shift_clock.is_empty() {
            let at: Vec<String> = report.shift_clock.iter().map(|&t| time_of_day(t)).collect();
            println!("driver shifts noticed at: {}", at.join(", "));
        }
    }
}

/// The disk threads' share of the run, and how many times the tracks each could serve: "disk
/// threads: writing 1.2% busy (room for about 80x these tracks), reading 0.3% busy (...)".
fn disk_load(load: DiskLoad, wall: Duration) -> String {
    let side = |what: &str, frames: u64, busy: u64| {
        let pct = busy as f64 / wall.as_micros().max(1) as f64 * 100.0;
        match DiskLoad::room(busy, wall) {
            Some(room) if frames > 0 => format!(
                "{what} {frames} frames, {pct:.1}% busy (room for about {room:.0}x these tracks)"
            ),
            _ => format!("{what} nothing"),
        }
    };
    format!(
        "disk threads over {:.1} s: {}; {}",
        wall.as_secs_f64(),
        side("writing", load.frames_written, load.write_micros),
        side("reading", load.frames_read, load.read_micros)
    )
}
