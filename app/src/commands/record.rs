//! `overdub record DIR --seconds S`: record the armed tracks while the others play.

use overdub_engine::disk::TakeFormat;
use overdub_engine::recorder::{self, RecordOptions, RunReport};
use overdub_engine::{Error, Result};

use super::{ms, stream_request};
use crate::cli::RecordArgs;

pub fn run(a: &RecordArgs) -> Result<()> {
    let format = TakeFormat::parse(&a.format)
        .ok_or_else(|| Error::InvalidSetting(format!("--format {}: use 32f or 24", a.format)))?;
    let (req, settings) = stream_request(&a.audio)?;
    let opts = RecordOptions {
        seconds: a.seconds,
        arm: a.arm.clone(),
        monitor: a.monitor,
        format,
        measured: settings.latency,
    };
    let report = recorder::record(&a.dir, &req, &opts)?;
    print_stream(&report);
    let rate = report.stream.rate;
    for t in &report.takes {
        let len = t.clip.as_ref().map_or(0, |c| c.length);
        println!(
            "take: {} (track '{}'): {} frames ({:.3} s) on the timeline{}",
            t.file.display(),
            t.track_name,
            len,
            len as f64 / f64::from(rate),
            t.clip
                .as_ref()
                .map(|c| format!(" at frame {}", c.position))
                .unwrap_or_default()
        );
        if let Some(e) = &t.error {
            println!("  warning: {e} (what reached the file is kept)");
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
pub fn print_stream(report: &RunReport) {
    let s = &report.stream;
    println!(
        "stream: {} in '{}' out '{}' at {} Hz, {} frames ({:.2} ms) per buffer, {} in / {} out",
        s.host,
        s.input_device.as_deref().unwrap_or("-"),
        s.output_device.as_deref().unwrap_or("-"),
        s.rate,
        s.buffer,
        ms(u64::from(s.buffer), s.rate),
        s.in_channels,
        s.out_channels
    );
}

/// Xruns, load and disk health: the last lines of every audio command.
pub fn print_health(report: &RunReport) {
    println!(
        "xruns: {}  dsp load: peak {:.1}% mean {:.2}%  disk: {} frames lost in capture, {} \
         frames of playback late",
        report.xruns,
        report.dsp_peak * 100.0,
        report.dsp_mean * 100.0,
        report.capture_overruns,
        report.playback_underruns
    );
}
