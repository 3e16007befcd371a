//! Headless record and play: what `overdub record` and `overdub play` do, as library calls so that
//! tests and the GUI use the same path. Not on the audio thread.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::disk::{DiskEvent, TakeFormat};
use crate::engine::{Engine, Notice, take_path};
use crate::error::{Error, Result};
use crate::io::{StreamInfo, StreamRequest};
use crate::rt::{Command, MonitorMode, TrackId};
use crate::session::{Clip, Session, SessionDir};

/// How long past its expected end a run may take before the device is declared stalled.
const STALL_GRACE: Duration = Duration::from_secs(5);

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
    /// Round trip to compensate, frames, and where the figure came from. None: the driver's
    /// reported latency.
    pub latency: Option<(u32, String)>,
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
    let (latency, source) = opts.latency.clone().unwrap_or_else(|| {
        (
            engine.info().latency.round_trip(),
            "reported by the driver".into(),
        )
    });

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
        engine.prepare_take(id, &path, opts.format)?;
        files.push((id, path));
    }
    // Run past the end by the round trip so the compensated take is as long as asked.
    let stop_at = length + u64::from(latency);
    engine.send(Command::SetRecording(true))?;
    engine.send(Command::StopAt(stop_at))?;
    engine.send(Command::Start)?;
    let (run, mut disk_events) = wait_for_stop(&mut engine, stop_at, session.rate);
    let mut report = finish(engine, &mut disk_events, run, latency, source);

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
    let (run, mut disk_events) = if end > from {
        wait_for_stop(&mut engine, end - from, session.rate)
    } else {
        (Run::default(), Vec::new())
    };
    let report = finish(
        engine,
        &mut disk_events,
        run,
        latency,
        "reported by the driver".into(),
    );
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

#[derive(Default)]
struct Run {
    capture_start: u64,
    started: Option<u64>,
    stopped: Option<u64>,
    interrupted: Option<String>,
}

/// Wait until the transport has stopped (or the device is lost, or stalls), collecting notices.
fn wait_for_stop(engine: &mut Engine, frames: u64, rate: u32) -> (Run, Vec<DiskEvent>) {
    let expected = Duration::from_secs_f64(frames as f64 / f64::from(rate));
    let deadline = Instant::now() + expected + STALL_GRACE;
    let mut run = Run::default();
    let mut disk = Vec::new();
    loop {
        for n in engine.poll() {
            match n {
                Notice::Started(f) => run.started = Some(f),
                Notice::Stopped(f) => run.stopped = Some(f),
                Notice::CaptureStarted(f) => run.capture_start = f,
                Notice::CaptureEnded(_) => {}
                Notice::Disk(ev) => disk.push(ev),
            }
        }
        if run.stopped.is_some() {
            break;
        }
        if engine.device_lost() {
            run.interrupted = Some("the audio device went away during the run".into());
            break;
        }
        if Instant::now() > deadline {
            run.interrupted = Some(format!(
                "the audio device stopped calling back (after {:.1} s of a {:.1} s run)",
                engine.status().position.load(Ordering::Relaxed) as f64 / f64::from(rate),
                expected.as_secs_f64()
            ));
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    (run, disk)
}

struct Finished {
    run: RunReport,
    capture_start: u64,
}

/// Shut the engine down (finishing every take) and build the report.
fn finish(
    engine: Engine,
    disk_events: &mut Vec<DiskEvent>,
    run: Run,
    latency: u32,
    latency_source: String,
) -> Finished {
    let stream = engine.info().clone();
    let status = engine.status().clone();
    let position = status.position.load(Ordering::Relaxed);
    disk_events.extend(engine.shutdown());
    let frames_rolled = run
        .stopped
        .unwrap_or(position)
        .saturating_sub(run.started.unwrap_or(0));
    Finished {
        capture_start: run.capture_start,
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
            interrupted: run.interrupted,
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
