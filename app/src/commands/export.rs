//! `overdub export DIR --out OUTDIR`: stems and/or mix, with a progress bar on standard error;
//! `--dawproject FILE` writes the session for another program.

use std::time::Duration;

use overdub_engine::dawproject;
use overdub_engine::export::{self, ExportFormat, ExportOptions, ExportProgress};
use overdub_engine::{Error, Result};

use super::progress::{Plain, Progress};
use crate::cli::ExportArgs;

pub fn run(a: &ExportArgs) -> Result<()> {
    let range = a
        .range
        .as_deref()
        .map(|r| super::span("--range", r))
        .transpose()?;
    match (&a.out, a.stems || a.mix) {
        (Some(out), _) => audio(a, out, range)?,
        (None, true) => {
            return Err(Error::InvalidSetting(
                "--stems and --mix need --out FOLDER".into(),
            ));
        }
        (None, false) if a.dawproject.is_none() => {
            return Err(Error::InvalidSetting(
                "nothing to export: give --out FOLDER with --stems and/or --mix, or \
                 --dawproject FILE"
                    .into(),
            ));
        }
        (None, false) => {}
    }
    if let Some(file) = &a.dawproject {
        let r = dawproject::export_project(&a.dir, file, range)?;
        println!(
            "wrote {}: {} track(s), {} clip(s) playing, {} take(s) kept as disabled clips, {} \
             marker(s), {} audio file(s)",
            r.path.display(),
            r.tracks,
            r.clips,
            r.takes,
            r.markers,
            r.files
        );
        if !r.missing.is_empty() {
            eprintln!(
                "warning: left out the clips of missing files (silent in Overdub too): {}",
                r.missing.join(", ")
            );
        }
        if r.gains_left_out > 0 {
            eprintln!(
                "warning: {} clip(s) have a clip gain, which DAWproject cannot hold: they play at \
                 0 dB in another program",
                r.gains_left_out
            );
        }
    }
    Ok(())
}

fn audio(a: &ExportArgs, out: &std::path::Path, range: Option<(f64, f64)>) -> Result<()> {
    let format = ExportFormat::parse(&a.format).ok_or_else(|| {
        Error::InvalidSetting(format!("--format {}: use 16, 24 or 32f", a.format))
    })?;
    let opts = ExportOptions {
        out_dir: out.to_path_buf(),
        stems: a.stems,
        mix: a.mix,
        format,
        range,
        tail: a.tail,
        normalize: a.normalize,
        include_muted: a.include_muted,
    };
    let progress = ExportProgress::default();
    let mut shown = Progress::new("exporting", Plain::Quarters);
    let report = std::thread::scope(|s| {
        let job = s.spawn(|| export::export(&a.dir, &opts, &progress));
        while !job.is_finished() {
            shown.set(progress.fraction());
            std::thread::sleep(Duration::from_millis(100));
        }
        job.join()
            .unwrap_or_else(|_| Err(Error::Device("the export thread failed".into())))
    });
    let report = report?;
    shown.finish();
    for f in &report.files {
        println!("wrote {}", f.display());
    }
    println!(
        "{} file(s), {} frames each from frame {}, in {:.2} s ({:.0} track-seconds per second){}",
        report.files.len(),
        report.frames,
        report.start,
        report.seconds,
        report.track_seconds_per_second,
        if a.normalize.is_some() {
            format!(", gain {:+.2} dB", report.gain_db)
        } else {
            String::new()
        }
    );
    Ok(())
}
