//! Headless record and play: what `overdub record` and `overdub play` do, as library calls so that
//! tests and the GUI use the same path. Not on the audio thread.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use serde::Serialize;

use crate::disk::{DiskEvent, TakeFormat};
use crate::engine::{Engine, RunOutcome, take_path};
use crate::error::{Error, Result};
use crate::io::{StreamInfo, StreamRequest};
use crate::latency::{StoredLatency, find_stored};
use crate::rt::{Command, MonitorMode, TrackId};
use crate::session::{Clip, Session, SessionDir};

/// What to record.
#[derive(Clone, Debug)]
pub struct RecordOptions {
    /// Length of the take on the timeline, seconds.
    pub seconds: f64,
    /// Tracks to arm, 1-based as the user counts them; None: the session's armed tracks, or the
    /// first track if none is armed.
    pub arm: Option<Vec<usize>>,
    /// Hear the armed inputs.
    pub monitor: bool,
    /// Take file format.
    pub format: TakeFormat,
    /// Stored loopback measurements: the one for this stream's set-up, if any, is compensated
    /// instead of the driver's reported latency.
    pub measured: Vec<StoredLatency>,
}

/// One take that was recorded.
#[derive(Clone, Debug, Serialize)]
pub struct TakeReport {
    /// Track id.
    pub track: TrackId,
    /// Track name.
    pub track_name: String,
    /// The WAV file.
    pub file: PathBuf,
    /// Frames in the file (the take plus the post-roll that latency compensation needs).
    pub file_frames: u64,
    /// The clip placed on the track, if the take held any audio.
    pub clip: Option<Clip>,
    /// Set if writing the take failed part-way; what reached the file is kept.
    pub error: Option<String>,
}

/// What a run did.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// The stream it ran on.
    pub stream: StreamInfo,
    /// Takes recorded (empty for playback).
    pub takes: Vec<TakeReport>,
    /// Round trip compensated, frames.
    pub latency_applied: u32,
    /// Where that figure came from ("reported" or "measured ...").
    pub latency_source: String,
    /// Device xruns.
    pub xruns: u64,
    /// Peak DSP load, 1.0 = 100 % of the block period.
    pub dsp_peak: f32,
    /// Mean DSP load.
    pub dsp_mean: f32,
    /// Frames captured that the disk thread could not take in time (lost).
    pub capture_overruns: u64,
    /// Frames of playback the disk thread did not deliver in time (played as silence).
    pub playback_underruns: u64,
    /// Timeline frames the transport rolled.
    pub frames_rolled: u64,
    /// Set when the run ended early (device lost, stalled); takes so far are kept.
    pub interrupted: Option<String>,
}

fn seconds_to_frames(seconds: f64, rate: u32) -> Result<u64> {
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(Error::InvalidSetting(format!(
            "--seconds must be a positive number, not {seconds}"
        )));
    }
    Ok((seconds * f64::from(rate)).round() as u64)
}

/// Resolve 1-based track numbers to ids.
fn armed_tracks(session: &Session, arm: Option<&[usize]>) -> Result<Vec<TrackId>> {
    match arm {
        Some(list) => list
            .iter()
            .map(|&n| {
                n.checked_sub(1)
                    .and_then(|i| session.tracks.get(i))
                    .map(|t| t.id)
                    .ok_or_else(|| {
                        Error::InvalidSetting(format!(
                            "no track {n}: the session has tracks 1..{}",
                            session.tracks.len()
                        ))
                    })
            })
            .collect(),
        None => {
            let armed: Vec<TrackId> = session
                .tracks
                .iter()
                .filter(|t| t.armed)
                .map(|t| t.id)
                .collect();
            if !armed.is_empty() {
                return Ok(armed);
            }
            session
                .tracks
                .first()
                .map(|t| vec![t.id])
                .ok_or_else(|| Error::InvalidSetting("the session has no tracks".into()))
        }
    }
}

/// Record the armed tracks for `opts.seconds` while every other track plays, add the takes to
/// their tracks and save the session. Takes are kept even when the run is interrupted.
pub fn record(dir: &Path, req: &StreamRequest, opts: &RecordOptions) -> Result<RunReport> {
    let sdir = SessionDir::new(dir);
    let mut session = sdir.load()?;
    let armed = armed_tracks(&session, opts.arm.as_deref())?;
    let length = seconds_to_frames(opts.seconds, session.rate)?;
    let req = request_at_rate(req, &session)?;
    let mut engine = Engine::start(&req)?;
    let (latency, source) = match find_stored(&opts.measured, engine.info()) {
        Some(m) => (
            m.frames,
            format!(
                "measured by `overdub latency` (output {} to input {}; the driver reports {})",
                m.out_channel, m.in_channel, m.reported
            ),
        ),
        None => (
            engine.info().latency.round_trip(),
            "reported by the driver (run `overdub latency` to measure it)".into(),
        ),
    };

    let mut players = Vec::new();
    for t in &mut session.tracks {
        let is_armed = armed.contains(&t.id);
        t.armed = is_armed;
        let monitor = match (is_armed, opts.monitor) {
            (true, true) => MonitorMode::Input,
            _ => MonitorMode::Off,
        };
        engine.add_track(t, monitor)?;
        if !is_armed && !t.clips.is_empty() {
            players.push(t.id);
        }
    }
    engine.load_playback(&sdir, &session, &players, 0)?;
    let mut files = Vec::new();
    for &id in &armed {
        let Some(track) = session.track(id) else {
            continue;
        };
        let path = take_path(&sdir.audio(), track);
        engine.prepare_take(track, &path, opts.format)?;
        files.push((id, path));
    }
    // Run past the end by the round trip so the compensated take is as long as asked.
    let stop_at = length + u64::from(latency);
    engine.send(Command::SetRecording(true))?;
    engine.send(Command::StopAt(stop_at))?;
    engine.send(Command::Start)?;
    let mut run = engine.wait_until_stopped(stop_at);
    let mut report = finish(engine, &mut run, latency, source);
    let disk_events = std::mem::take(&mut run.disk);

    for (id, path) in files {
        let (frames, error) = take_result(&disk_events, &path);
        let clip = (frames > u64::from(latency)).then(|| Clip {
            id: 0,
            file: file_name(&path),
            position: report.capture_start,
            offset: u64::from(latency),
            length: (frames - u64::from(latency)).min(length),
        });
        let track_name = session
            .track(id)
            .map(|t| t.name.clone())
            .unwrap_or_default();
        let clip = clip.and_then(|c| {
            let cid = session.add_clip(id, c.clone())?;
            Some(Clip { id: cid, ..c })
        });
        report.run.takes.push(TakeReport {
            track: id,
            track_name,
            file: path,
            file_frames: frames,
            clip,
            error,
        });
    }
    sdir.save(&session)?;
    Ok(report.run)
}

/// Play the session from `from` for `length` frames (None: to the end of the last clip).
pub fn play(
    dir: &Path,
    req: &StreamRequest,
    from_seconds: f64,
    seconds: Option<f64>,
) -> Result<RunReport> {
    let sdir = SessionDir::new(dir);
    let session = sdir.load()?;
    if !(from_seconds.is_finite() && from_seconds >= 0.0) {
        return Err(Error::InvalidSetting(format!(
            "--from must be 0 or more seconds, not {from_seconds}"
        )));
    }
    let from = (from_seconds * f64::from(session.rate)).round() as u64;
    let end = match seconds {
        Some(s) => from + seconds_to_frames(s, session.rate)?,
        None => session.end(),
    };
    let req = request_at_rate(req, &session)?;
    let mut engine = Engine::start(&req)?;
    let ids: Vec<TrackId> = session.tracks.iter().map(|t| t.id).collect();
    for t in &session.tracks {
        let mut t = t.clone();
        t.armed = false;
        engine.add_track(&t, MonitorMode::Off)?;
    }
    engine.load_playback(&sdir, &session, &ids, from)?;
    let latency = engine.info().latency.round_trip();
    if end > from {
        engine.send(Command::StopAt(end))?;
        engine.send(Command::Start)?;
    }
    let mut run = if end > from {
        engine.wait_until_stopped(end - from)
    } else {
        RunOutcome::default()
    };
    let report = finish(engine, &mut run, latency, "reported by the driver".into());
    Ok(report.run)
}

/// The request with the session's rate; a different `--rate` is refused rather than resampled.
fn request_at_rate(req: &StreamRequest, session: &Session) -> Result<StreamRequest> {
    if req.rate != 0 && req.rate != session.rate {
        return Err(Error::InvalidSetting(format!(
            "the session runs at {} Hz; --rate {} would play it at the wrong speed",
            session.rate, req.rate
        )));
    }
    Ok(StreamRequest {
        rate: session.rate,
        ..req.clone()
    })
}

struct Finished {
    run: RunReport,
    capture_start: u64,
}

/// Shut the engine down (finishing every take) and build the report.
fn finish(engine: Engine, run: &mut RunOutcome, latency: u32, latency_source: String) -> Finished {
    let stream = engine.info().clone();
    let status = engine.status().clone();
    let position = status.position.load(Ordering::Relaxed);
    run.disk.extend(engine.shutdown());
    let frames_rolled = run
        .stopped
        .unwrap_or(position)
        .saturating_sub(run.started.unwrap_or(0));
    Finished {
        capture_start: run.capture_start.unwrap_or(0),
        run: RunReport {
            stream,
            takes: Vec::new(),
            latency_applied: latency,
            latency_source,
            xruns: status.xruns.load(Ordering::Relaxed),
            dsp_peak: status.dsp_peak.load(),
            dsp_mean: status.dsp_mean(),
            capture_overruns: status.capture_overruns.load(Ordering::Relaxed),
            playback_underruns: status.playback_underruns.load(Ordering::Relaxed),
            frames_rolled,
            interrupted: run.interrupted.take(),
        },
    }
}

fn take_result(events: &[DiskEvent], path: &Path) -> (u64, Option<String>) {
    for ev in events {
        match ev {
            DiskEvent::TakeDone {
                path: p, frames, ..
            } if p == path => return (*frames, None),
            DiskEvent::TakeFailed {
                path: p,
                frames,
                error,
                ..
            } if p == path => return (*frames, Some(error.clone())),
            _ => {}
        }
    }
    (0, Some("the disk thread did not report this take".into()))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
