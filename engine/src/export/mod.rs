//! Exporting stems and the mix to WAV. Every file starts at the range start and has the same
//! length, so they line up when dropped into any other DAW. Stems are post-fader with pan, as
//! heard (solo is a listening aid and does not apply to stems; muted tracks are left out unless
//! asked for); the mix is the session as heard. Files render in parallel, one per worker, with
//! the live mixer code ([`render`]). Progress and cancel go through [`ExportProgress`]. Not on
//! the audio thread.

mod render;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use serde::Serialize;

pub use render::{RENDER_BLOCK, render, render_split};
pub use writer::{ExportFormat, ExportWriter};

use crate::error::{Error, Result};
use crate::session::{Session, SessionDir, Track};

/// What to export.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    /// Folder for the files (created if missing).
    pub out_dir: PathBuf,
    /// One file per track.
    pub stems: bool,
    /// The master mix.
    pub mix: bool,
    /// Sample format.
    pub format: ExportFormat,
    /// Start and end, seconds; None: the session start to the end of the last clip plus `tail`.
    pub range: Option<(f64, f64)>,
    /// Seconds added after the last clip (reverb tails, ringing notes) when no range is given.
    pub tail: f64,
    /// Scale every file by one gain so the loudest file (the mix, if exported) peaks here, dBFS.
    pub normalize: Option<f32>,
    /// Also export muted tracks' stems.
    pub include_muted: bool,
}

/// Shared between the exporting thread and whoever watches it (a progress bar, the GUI).
#[derive(Debug, Default)]
pub struct ExportProgress {
    /// Frames rendered so far, over all files and passes.
    pub done: AtomicU64,
    /// Frames to render in all.
    pub total: AtomicU64,
    /// Set to stop the export; its files are removed.
    pub cancel: AtomicBool,
}

impl ExportProgress {
    /// Fraction done, 0..1.
    pub fn fraction(&self) -> f32 {
        let total = self.total.load(Ordering::Relaxed);
        if total == 0 {
            return 0.0;
        }
        (self.done.load(Ordering::Relaxed) as f64 / total as f64).min(1.0) as f32
    }
}

/// What an export did.
#[derive(Clone, Debug, Serialize)]
pub struct ExportReport {
    /// Files written, stems first, mix last.
    pub files: Vec<PathBuf>,
    /// First timeline frame exported.
    pub start: u64,
    /// Frames per file.
    pub frames: u64,
    /// Gain applied by normalisation, dB (0 without it).
    pub gain_db: f32,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Track-seconds rendered per second of wall clock.
    pub track_seconds_per_second: f64,
}

struct Job {
    path: PathBuf,
    tracks: Vec<Track>,
    /// The master fader, linear (the mix goes through it; a stem does not).
    master: f32,
}

/// Export the session in `dir`.
pub fn export(dir: &Path, opts: &ExportOptions, progress: &ExportProgress) -> Result<ExportReport> {
    let sdir = SessionDir::new(dir);
    let session = sdir.load()?;
    if !opts.stems && !opts.mix {
        return Err(Error::InvalidSetting(
            "nothing to export: ask for --stems, --mix or both".into(),
        ));
    }
    let (start, end) = range_frames(&session, opts)?;
    let frames = end - start;
    std::fs::create_dir_all(&opts.out_dir).map_err(|e| Error::io(&opts.out_dir, e))?;
    let jobs = jobs(&session, opts);
    if jobs.is_empty() {
        return Err(Error::InvalidSetting(
            "nothing to export: every track is muted (add --include-muted)".into(),
        ));
    }
    let passes = if opts.normalize.is_some() { 2 } else { 1 };
    // Fewer files than cores (a mix alone): split each file's time range across the cores.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_job = (cores / jobs.len()).max(1);
    progress
        .total
        .store(frames * jobs.len() as u64 * passes, Ordering::Relaxed);
    progress.done.store(0, Ordering::Relaxed);
    let t0 = Instant::now();

    let gain = match opts.normalize {
        None => 1.0,
        Some(db) => {
            let peaks = run_jobs(&jobs, |job| {
                let mut peak = 0.0f32;
                render_split(
                    &sdir,
                    session.rate,
                    &job.tracks,
                    job.master,
                    start,
                    frames,
                    per_job,
                    |b| {
                        check_cancel(progress)?;
                        peak = b.iter().fold(peak, |m, s| m.max(s.abs()));
                        progress
                            .done
                            .fetch_add((b.len() / 2) as u64, Ordering::Relaxed);
                        Ok(())
                    },
                )?;
                Ok(peak)
            })?;
            // The mix, when exported, is the reference; otherwise the loudest stem.
            let reference = if opts.mix {
                peaks.last().copied().unwrap_or(0.0)
            } else {
                peaks.iter().copied().fold(0.0, f32::max)
            };
            if reference > 0.0 {
                10f32.powf(db / 20.0) / reference
            } else {
                1.0
            }
        }
    };

    let written = run_jobs(&jobs, |job| {
        let mut w = ExportWriter::create(&job.path, session.rate, opts.format, gain)?;
        render_split(
            &sdir,
            session.rate,
            &job.tracks,
            job.master,
            start,
            frames,
            per_job,
            |b| {
                check_cancel(progress)?;
                w.write(b)?;
                progress
                    .done
                    .fetch_add((b.len() / 2) as u64, Ordering::Relaxed);
                Ok(())
            },
        )?;
        w.finish()?;
        Ok(job.path.clone())
    });
    let files = match written {
        Ok(f) => f,
        Err(e) => {
            for j in &jobs {
                let _ = std::fs::remove_file(&j.path);
            }
            return Err(e);
        }
    };
    let seconds = t0.elapsed().as_secs_f64();
    let track_count: usize = jobs.iter().map(|j| j.tracks.len()).sum();
    Ok(ExportReport {
        files,
        start,
        frames,
        gain_db: 20.0 * gain.log10(),
        seconds,
        track_seconds_per_second: track_count as f64 * frames as f64
            / f64::from(session.rate)
            / seconds.max(1e-9),
    })
}

fn check_cancel(progress: &ExportProgress) -> Result<()> {
    if progress.cancel.load(Ordering::Relaxed) {
        Err(Error::Cancelled)
    } else {
        Ok(())
    }
}

/// The export range in timeline frames.
fn range_frames(session: &Session, opts: &ExportOptions) -> Result<(u64, u64)> {
    let rate = f64::from(session.rate);
    let (start, end) = match opts.range {
        Some((a, b)) => {
            if !(a.is_finite() && b.is_finite() && a >= 0.0 && b > a) {
                return Err(Error::InvalidSetting(format!(
                    "--range {a}:{b}: give START:END in seconds with END after START"
                )));
            }
            ((a * rate).round() as u64, (b * rate).round() as u64)
        }
        None => {
            if !(opts.tail.is_finite() && opts.tail >= 0.0) {
                return Err(Error::InvalidSetting(format!(
                    "--tail must be 0 or more seconds, not {}",
                    opts.tail
                )));
            }
            (0, session.end() + (opts.tail * rate).round() as u64)
        }
    };
    if end <= start {
        return Err(Error::InvalidSetting(
            "nothing to export: the session has no clips (give a --range)".into(),
        ));
    }
    Ok((start, end))
}

/// One job per stem (in track order), then the mix.
fn jobs(session: &Session, opts: &ExportOptions) -> Vec<Job> {
    let mut jobs = Vec::new();
    if opts.stems {
        for (i, t) in session.tracks.iter().enumerate() {
            if t.mute && !opts.include_muted {
                continue;
            }
            let mut t = t.clone();
            t.mute = false;
            t.solo = false;
            let name = crate::session::file_safe(&t.name);
            jobs.push(Job {
                path: opts.out_dir.join(format!("{:02}-{name}.wav", i + 1)),
                tracks: vec![t],
                master: 1.0,
            });
        }
    }
    if opts.mix {
        jobs.push(Job {
            path: opts.out_dir.join("mix.wav"),
            tracks: session.tracks.clone(),
            master: crate::session::db_to_gain(session.master_gain_db),
        });
    }
    jobs
}

/// Run `f` over every job on as many threads as there are cores; results in job order.
fn run_jobs<T: Send>(jobs: &[Job], f: impl Fn(&Job) -> Result<T> + Sync) -> Result<Vec<T>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len());
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<Result<T>>> = (0..jobs.len()).map(|_| None).collect();
    let slots = std::sync::Mutex::new(&mut results);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let r = f(job);
                    let failed = r.is_err();
                    if let Ok(mut slots) = slots.lock() {
                        slots[i] = Some(r);
                    }
                    if failed {
                        // Let the other workers stop at their next job.
                        next.store(jobs.len(), Ordering::Relaxed);
                    }
                }
            });
        }
    });
    // The first real error wins over jobs that were skipped because of it.
    if let Some(i) = results.iter().position(|r| matches!(r, Some(Err(_))))
        && let Some(Err(e)) = results.swap_remove(i)
    {
        return Err(e);
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or(Err(Error::Cancelled)))
        .collect()
}
