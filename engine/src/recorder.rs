//! Headless record and play: what `overdub record` and `overdub play` do, as library calls so that
//! tests and the GUI use the same path. Not on the audio thread.
//!
//! A take is never lost: the take journal is written before recording starts and removed only
//! after the takes are in a saved `session.json`; a full disk or a vanished device stops the
//! recording cleanly and keeps everything that reached the disk.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::disk::{DiskEvent, MAX_PART_BYTES, TakeFormat};
use crate::engine::{Engine, RunOutcome, take_path};
use crate::error::{Error, Result};
use crate::io::{StreamInfo, StreamRequest};
use crate::latency::{StoredLatency, find_stored};
use crate::rt::{Command, MonitorMode, TrackId};
use crate::session::{
    Clip, JournalEntry, Recovered, Session, SessionDir, TakeJournal, clear_journal,
    recording_clips, recover, write_journal,
};

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
    /// Largest data size of one take file, bytes, before it continues in a new part
    /// ([`MAX_PART_BYTES`] keeps every part a valid WAV file).
    pub part_bytes: u64,
}

impl RecordOptions {
    /// Record `seconds` on the default (first or armed) track, 32-bit float.
    pub fn new(seconds: f64) -> Self {
        Self {
            seconds,
            arm: None,
            monitor: false,
            format: TakeFormat::F32,
            measured: Vec::new(),
            part_bytes: MAX_PART_BYTES,
        }
    }
}

/// One take that was recorded.
#[derive(Clone, Debug, Serialize)]
pub struct TakeReport {
    /// Track id.
    pub track: TrackId,
    /// Track name.
    pub track_name: String,
    /// The take's (first) WAV file.
    pub file: PathBuf,
    /// Every file of the take with its frames (more than one past the WAV size limit).
    pub parts: Vec<(PathBuf, u64)>,
    /// Frames in all files (the take plus the post-roll that latency compensation needs).
    pub file_frames: u64,
    /// The clips placed on the track (one, unless the take has several parts).
    pub clips: Vec<Clip>,
    /// Set if writing the take failed part-way; what reached the disk is kept.
    pub error: Option<String>,
}

impl TakeReport {
    /// Timeline frames the take covers.
    pub fn length(&self) -> u64 {
        self.clips.iter().map(|c| c.length).sum()
    }
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
    /// Timeline frames where the first xruns happened.
    pub xrun_positions: Vec<u64>,
    /// Peak DSP load, 1.0 = 100 % of the block period.
    pub dsp_peak: f32,
    /// Mean DSP load.
    pub dsp_mean: f32,
    /// Frames captured that the disk thread could not take in time: silence in their place,
    /// every later frame where it belongs.
    pub capture_overruns: u64,
    /// Timeline frame where the first of them was, if any.
    pub capture_lost_at: Option<u64>,
    /// Frames of playback the disk thread did not deliver in time (played as silence).
    pub playback_underruns: u64,
    /// Input frames the duplex bridge lost while holding its latency (replaced by silence, never
    /// shifting what follows); 0 where input and output share a callback.
    pub bridge_slips: u64,
    /// Scheduling of the driver's callback threads.
    pub priority: String,
    /// Timeline frames the transport rolled.
    pub frames_rolled: u64,
    /// Seconds of recording the free disk space held when the take started (for the armed
    /// tracks in this format); None where it cannot be known.
    pub seconds_left: Option<f64>,
    /// Takes of an earlier, interrupted recording that were put back first.
    pub recovered: Option<Recovered>,
    /// Set when the run ended early (device lost, disk full, stalled); takes so far are kept.
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

/// Disk space held back while recording, bytes: when the disk fills up, it is released so that the
/// take files can be closed and `session.json` saved.
pub const DISK_RESERVE_BYTES: usize = 1 << 20;

/// A file that holds [`DISK_RESERVE_BYTES`] of the session's disk while recording. Removed on
/// drop.
struct DiskReserve(PathBuf);

impl DiskReserve {
    fn claim(sdir: &SessionDir) -> Result<Self> {
        use std::io::Write;
        let path = sdir.audio().join(".overdub-reserve");
        let full = |e: std::io::Error| {
            let _ = std::fs::remove_file(&path);
            Error::Io {
                path: sdir.audio(),
                source: std::io::Error::new(
                    e.kind(),
                    format!("not enough free space to start recording ({e})"),
                ),
            }
        };
        let mut f = std::fs::File::create(&path).map_err(full)?;
        f.write_all(&vec![0u8; DISK_RESERVE_BYTES]).map_err(full)?;
        f.sync_all().map_err(full)?;
        Ok(Self(path))
    }
}

impl Drop for DiskReserve {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Seconds of recording that fit in the free space of `dir` at `bytes_per_second`.
pub fn recording_time_left(dir: &Path, bytes_per_second: u64) -> Option<f64> {
    let free = fs4::available_space(dir).ok()?;
    (bytes_per_second > 0).then(|| free as f64 / bytes_per_second as f64)
}

/// Told when the transport starts recording.
#[derive(Clone, Debug, Serialize)]
pub struct RecordStart {
    /// The stream.
    pub stream: StreamInfo,
    /// The take files being written.
    pub files: Vec<PathBuf>,
    /// Seconds of recording the free disk space holds for these tracks.
    pub seconds_left: Option<f64>,
    /// Round trip compensated, frames, and where the figure came from.
    pub latency: (u32, String),
}

/// Hooks into a running [`record`]: a call when recording starts, and a flag that stops it early
/// (Ctrl+C, a Stop button) with every take kept.
pub struct RecordHooks<'a> {
    /// Called once, when recording starts.
    pub on_start: &'a mut dyn FnMut(&RecordStart),
    /// Set to stop now.
    pub stop: Option<&'a AtomicBool>,
}

/// Record the armed tracks for `opts.seconds` while every other track plays, add the takes to
/// their tracks and save the session. Takes of an earlier recording that was interrupted are put
/// back first. Takes are kept even when this run is interrupted.
pub fn record(
    dir: &Path,
    req: &StreamRequest,
    opts: &RecordOptions,
    hooks: RecordHooks<'_>,
) -> Result<RunReport> {
    let sdir = SessionDir::new(dir);
    let mut session = sdir.load()?;
    let armed = armed_tracks(&session, opts.arm.as_deref())?;
    let length = seconds_to_frames(opts.seconds, session.rate)?;
    let req = request_at_rate(req, &session)?;
    let recovered = recover(&sdir)?;
    if recovered.is_some() {
        session = sdir.load()?;
    }
    let mut engine = Engine::start(&req)?;
    let (latency, source) = match find_stored(&opts.measured, engine.info()) {
        Some(m) => (
            m.frames_now(engine.latency_now().bridge),
            format!(
                "measured by `overdub latency` (output {} to input {}; the driver reports {})",
                m.out_channel, m.in_channel, m.reported
            ),
        ),
        None => (
            engine.latency_now().round_trip(),
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

    let reserve = DiskReserve::claim(&sdir)?;
    let bytes_per_frame: u64 = armed
        .iter()
        .filter_map(|id| session.track(*id))
        .map(|t| u64::from(t.channels.clamp(1, 2)) * opts.format.bytes_per_sample())
        .sum();
    let seconds_left =
        recording_time_left(&sdir.audio(), bytes_per_frame * u64::from(session.rate));

    let start = 0;
    let mut journal = TakeJournal::default();
    let mut files = Vec::new();
    for &id in &armed {
        let Some(track) = session.track(id) else {
            continue;
        };
        let path = take_path(&sdir.audio(), track);
        engine.prepare_take(track, &path, opts.format, opts.part_bytes)?;
        journal.takes.push(JournalEntry {
            track: id,
            file: file_name(&path),
            position: start,
            offset: u64::from(latency),
            length: Some(length),
        });
        files.push((id, path));
    }
    write_journal(&sdir, &journal)?;

    // Run past the end by the round trip so the compensated take is as long as asked.
    let stop_at = start + length + u64::from(latency);
    engine.send(Command::SetRecording(true))?;
    engine.send(Command::StopAt(stop_at))?;
    engine.send(Command::Start)?;
    (hooks.on_start)(&RecordStart {
        stream: engine.info().clone(),
        files: files.iter().map(|(_, p)| p.clone()).collect(),
        seconds_left,
        latency: (latency, source.clone()),
    });
    let mut run = engine.wait_until_stopped(stop_at - start, hooks.stop);
    let capture_start = run.capture_start.unwrap_or(start);
    let mut report = finish(engine, &mut run, latency, source);
    // The takes are closed: give the reserve back so the session can be saved on a full disk.
    drop(reserve);
    report.seconds_left = seconds_left;
    report.recovered = recovered;

    let results: Vec<_> = files
        .into_iter()
        .map(|(id, path)| {
            let (parts, error) = take_result(&run.disk, &path);
            (id, path, parts, error)
        })
        .collect();
    let takes: Vec<(TrackId, &[(PathBuf, u64)])> = results
        .iter()
        .map(|(id, _, parts, _)| (*id, parts.as_slice()))
        .collect();
    let mut placed = recording_clips(&takes, capture_start, u64::from(latency), Some(length));
    for (id, path, parts, error) in results {
        let mut clips = Vec::new();
        for (_, clip) in placed.extract_if(.., |(t, _)| *t == id) {
            if let Some(cid) = session.add_clip(id, clip.clone()) {
                clips.push(Clip { id: cid, ..clip });
            }
        }
        report.takes.push(TakeReport {
            track: id,
            track_name: session
                .track(id)
                .map(|t| t.name.clone())
                .unwrap_or_default(),
            file: path,
            file_frames: parts.iter().map(|(_, f)| f).sum(),
            parts,
            clips,
            error,
        });
    }
    // Only once the takes are in a saved session is the journal dropped.
    sdir.save(&session)?;
    clear_journal(&sdir)?;
    Ok(report)
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
    let latency = engine.latency_now().round_trip();
    let mut run = if end > from {
        engine.send(Command::StopAt(end))?;
        engine.send(Command::Start)?;
        engine.wait_until_stopped(end - from, None)
    } else {
        RunOutcome::default()
    };
    Ok(finish(
        engine,
        &mut run,
        latency,
        "reported by the driver".into(),
    ))
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

/// Shut the engine down (finishing every take) and build the report.
fn finish(engine: Engine, run: &mut RunOutcome, latency: u32, latency_source: String) -> RunReport {
    let mut stream = engine.info().clone();
    stream.latency = engine.latency_now();
    let status = engine.status().clone();
    let position = status.position.load(Ordering::Relaxed);
    run.disk.extend(engine.shutdown());
    let frames_rolled = run
        .stopped
        .unwrap_or(position)
        .saturating_sub(run.started.unwrap_or(0));
    RunReport {
        stream,
        takes: Vec::new(),
        latency_applied: latency,
        latency_source,
        xruns: status.xruns.load(Ordering::Relaxed),
        xrun_positions: status.xrun_log(),
        dsp_peak: status.dsp_peak.load(),
        dsp_mean: status.dsp_mean(),
        capture_overruns: status.capture_overruns.load(Ordering::Relaxed),
        capture_lost_at: status.first_capture_loss(),
        playback_underruns: status.playback_underruns.load(Ordering::Relaxed),
        bridge_slips: status.bridge_underruns.load(Ordering::Relaxed),
        priority: status.priority.get().describe(),
        frames_rolled,
        seconds_left: None,
        recovered: None,
        interrupted: run.interrupted.take(),
    }
}

fn take_result(events: &[DiskEvent], path: &Path) -> (Vec<(PathBuf, u64)>, Option<String>) {
    for ev in events {
        match ev {
            DiskEvent::TakeDone { path: p, parts, .. } if p == path => {
                return (parts.clone(), None);
            }
            DiskEvent::TakeFailed {
                path: p,
                parts,
                error,
                ..
            } if p == path => return (parts.clone(), Some(error.clone())),
            _ => {}
        }
    }
    (
        crate::disk::salvage_parts(path),
        Some("the disk thread did not report this take; its files were checked and kept".into()),
    )
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
