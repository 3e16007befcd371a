//! Headless record and play: what `overdub record` and `overdub play` do, as library calls so that
//! tests and the GUI use the same path. Not on the audio thread.
//!
//! A take is never lost: the take journal is written before recording starts and removed only
//! after the takes are in a saved `session.json`; a full disk or a vanished device stops the
//! recording cleanly and keeps everything that reached the disk.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

use crate::disk::{DiskLoad, MAX_PART_BYTES, TakeFormat};
use crate::engine::STALL_GRACE;
use crate::error::{Error, Result};
use crate::io::{StreamInfo, StreamRequest};
use crate::latency::StoredLatency;
use crate::live::{Access, Live, Transport};
use crate::rt::{EngineStatus, TrackId};
use crate::session::validate::MAX_FRAME;
use crate::session::{Edit, Punch, Recovered, Session, SessionDir};

pub use crate::live::{DISK_RESERVE_BYTES, TakeReport};

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
    /// Loop recording: start and end of the loop, seconds. The recording starts at the loop's
    /// start, goes round it, and each pass becomes a take.
    pub loop_range: Option<(f64, f64)>,
    /// With a loop: record this many whole passes (instead of `seconds`).
    pub passes: Option<u32>,
    /// Punch in and/or out: the take shows only within the range, crossfaded into what lies
    /// under it, after a pre-roll in which the armed tracks play what they hold.
    pub punch: Option<PunchOptions>,
}

/// A punch as asked for: seconds on the timeline, rolls in seconds or bars.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PunchOptions {
    /// Punch-in, seconds (None: where the recording starts, at 0).
    pub from: Option<f64>,
    /// Punch-out, seconds (None: the take runs for `seconds`).
    pub to: Option<f64>,
    /// Played before the punch-in.
    pub preroll: Roll,
    /// Played after the punch-out (the run stops there).
    pub postroll: Roll,
    /// Crossfade at each edge, milliseconds (None: the session's fade length).
    pub crossfade_ms: Option<f64>,
}

/// A stretch of time before or after a punch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Roll {
    /// Seconds.
    Seconds(f64),
    /// Bars of the session's tempo and time signature.
    Bars(f64),
}

impl Roll {
    /// Read "2" or "2s" (seconds) or "1bar" / "2bars" (bars).
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        let (num, bars) = if let Some(n) = t.strip_suffix("bars").or_else(|| t.strip_suffix("bar"))
        {
            (n, true)
        } else {
            (t.strip_suffix('s').unwrap_or(t), false)
        };
        let v: f64 = num.trim().parse().ok()?;
        (v.is_finite() && v >= 0.0).then_some(if bars {
            Self::Bars(v)
        } else {
            Self::Seconds(v)
        })
    }

    fn frames(self, session: &Session) -> u64 {
        let f = match self {
            Self::Seconds(s) => s * f64::from(session.rate),
            Self::Bars(b) => b * crate::session::Grid::of(session).frames_per_bar(),
        };
        (f.round().max(0.0) as u64).min(MAX_FRAME)
    }
}

/// The punch in frames, where the run starts and, with a punch-out, where it stops.
fn punch_frames(p: &PunchOptions, session: &Session) -> Result<(Punch, u64, Option<u64>)> {
    let rate = f64::from(session.rate);
    let frame = |s: f64, what: &str| {
        if s.is_finite() && s >= 0.0 && s * rate <= MAX_FRAME as f64 {
            Ok((s * rate).round() as u64)
        } else {
            Err(Error::InvalidSetting(format!(
                "--punch {what} must be 0 or more seconds, not {s}"
            )))
        }
    };
    let from = p.from.map(|s| frame(s, "in")).transpose()?;
    let to = p.to.map(|s| frame(s, "out")).transpose()?;
    if let (Some(a), Some(b)) = (from, to)
        && b <= a
    {
        return Err(Error::InvalidSetting(
            "--punch IN:OUT: the punch-out must come after the punch-in".into(),
        ));
    }
    let fade = match p.crossfade_ms {
        Some(ms) if ms.is_finite() && (0.0..=1000.0).contains(&ms) => {
            (ms * rate / 1000.0).round() as u64
        }
        Some(ms) => {
            return Err(Error::InvalidSetting(format!(
                "--crossfade {ms}: give 0 to 1000 milliseconds"
            )));
        }
        None => session.fade_frames(),
    };
    let start = from.map_or(0, |a| a.saturating_sub(p.preroll.frames(session)));
    let end = to.map(|b| (b + p.postroll.frames(session)).min(MAX_FRAME));
    let punch = Punch {
        from: from.unwrap_or(start),
        to,
        fade,
    };
    Ok((punch, start, end))
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
            loop_range: None,
            passes: None,
            punch: None,
        }
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
    /// Of those, the ones the driver did not report, input and output side: times it went on
    /// without calling that callback, seen from its cycle times (one each time, however many
    /// cycles; the rest of the xruns the driver reported).
    pub skipped_cycles: (u64, u64),
    /// Timeline frames where the first xruns happened.
    pub xrun_positions: Vec<u64>,
    /// When each of those happened by the system clock (from the frames the stream had run, to
    /// within a block and the cycles lost before it; also for one before the transport rolled),
    /// to line an xrun up with what else the machine did then.
    pub xrun_clock: Vec<SystemTime>,
    /// When each shift by the driver (see `driver_shifts`) was noticed, by the system clock, as
    /// for the xruns: half a second or so after the callbacks' timing changed.
    pub shift_clock: Vec<SystemTime>,
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
    /// Frames the duplex bridge grew by during the take because the driver changed its callback
    /// order: silence heard in the monitoring, left out of the takes (nothing recorded moves).
    pub bridge_regrown: u64,
    /// Frames by which the driver moved input against output during the take without saying so
    /// (read from when the bridge's callbacks ran); 0 where input and output share a callback.
    pub driver_shifts: u64,
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
    /// What the disk threads did while the transport rolled, and over how long.
    pub disk: Option<(DiskLoad, Duration)>,
}

/// A loop given in seconds, as frames: start before end.
fn loop_frames(a: f64, b: f64, rate: u32) -> Result<(u64, u64)> {
    let f = |s: f64| (s * f64::from(rate)).round() as u64;
    if !(a.is_finite() && b.is_finite() && a >= 0.0 && b > a) || f(b) <= f(a) || f(b) > MAX_FRAME {
        return Err(Error::InvalidSetting(format!(
            "--loop {a}:{b}: give START:END in seconds with END after START"
        )));
    }
    Ok((f(a), f(b)))
}

fn seconds_to_frames(seconds: f64, rate: u32) -> Result<u64> {
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(Error::InvalidSetting(format!(
            "--seconds must be a positive number, not {seconds}"
        )));
    }
    let frames = (seconds * f64::from(rate)).round();
    if frames > MAX_FRAME as f64 {
        return Err(Error::InvalidSetting(format!(
            "--seconds {seconds}: longer than any recording"
        )));
    }
    Ok(frames as u64)
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
/// back first. Takes are kept even when this run is interrupted. Drives the same transport as
/// the window ([`Live`]), headless.
pub fn record(
    dir: &Path,
    req: &StreamRequest,
    opts: &RecordOptions,
    hooks: RecordHooks<'_>,
) -> Result<RunReport> {
    let sdir = SessionDir::new(dir);
    let session = sdir.load()?;
    let armed = armed_tracks(&session, opts.arm.as_deref())?;
    let looped = opts
        .loop_range
        .map(|(a, b)| loop_frames(a, b, session.rate))
        .transpose()?;
    let punch = opts.punch.map(|p| punch_frames(&p, &session)).transpose()?;
    if punch.is_some() && looped.is_some() {
        return Err(Error::InvalidSetting(
            "--punch and --loop do not go together: record one way at a time".into(),
        ));
    }
    let length = match (looped, opts.passes) {
        (None, None) if let Some((_, start, Some(end))) = punch => end - start,
        (Some((a, b)), Some(n)) if n > 0 => (b - a)
            .checked_mul(u64::from(n))
            .filter(|&l| l <= MAX_FRAME)
            .ok_or_else(|| {
                Error::InvalidSetting(format!("--passes {n}: longer than any recording"))
            })?,
        (_, Some(n)) if n == 0 || looped.is_none() => {
            return Err(Error::InvalidSetting(
                "--passes counts whole passes of a --loop, 1 or more".into(),
            ));
        }
        _ => seconds_to_frames(opts.seconds, session.rate)?,
    };
    let req = request_at_rate(req, &session)?;
    let mut live = Live::open_session(
        dir,
        req.clone(),
        opts.measured.clone(),
        Access::Write("overdub record"),
    )?;
    live.set_headless(opts.monitor);
    live.format = opts.format;
    live.part_bytes = opts.part_bytes;
    for t in live.editor().session().tracks.clone() {
        let on = armed.contains(&t.id);
        if t.armed != on {
            live.apply(Edit::SetArmed(t.id, on))?;
        }
    }
    live.set_stream(req)?;
    let bytes_per_frame: u64 = armed
        .iter()
        .filter_map(|id| session.track(*id))
        .map(|t| u64::from(t.channels.clamp(1, 2)) * opts.format.bytes_per_sample())
        .sum();
    let seconds_left =
        recording_time_left(&sdir.audio(), bytes_per_frame * u64::from(session.rate));
    if let Some((a, b)) = looped {
        live.locate(a);
        live.set_loop(true, Some((a, b)));
    }
    if let Some((p, start, _)) = punch {
        live.locate(start);
        live.set_punch(Some(p));
    }
    live.stop_after(Some(length));
    live.start(true)?;
    let mut report = run(&mut live, length, hooks, seconds_left)?;
    report.seconds_left = seconds_left;
    report.takes = live.last_takes().to_vec();
    report.recovered = live.recovered().cloned();
    // Only once the takes are in a saved session is the journal dropped.
    live.close()?;
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
    let mut live = Live::open_session(dir, req.clone(), Vec::new(), Access::ReadOnly)?;
    live.set_headless(false);
    live.set_stream(req)?;
    live.locate(from);
    let report = if end > from {
        live.stop_after(Some(end - from));
        live.start(false)?;
        let hooks = RecordHooks {
            on_start: &mut |_| {},
            stop: None,
        };
        run(&mut live, end - from, hooks, None)?
    } else {
        report_of(&live, None, 0)?
    };
    live.close_stream();
    Ok(report)
}

/// The UTC time of day of `t` to the millisecond ("19:45:12.345 UTC"), as `overdub record`
/// prints when each xrun and driver shift happened, to find it in another program's log.
pub fn time_of_day(t: SystemTime) -> String {
    let ms = t
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        % 86_400_000;
    let (h, m) = (ms / 3_600_000, ms / 60_000 % 60);
    format!("{h:02}:{m:02}:{:02}.{:03} UTC", ms / 1000 % 60, ms % 1000)
}

/// How long a start may take to fill its playback buffers and make its take files.
const START_WAIT: Duration = Duration::from_secs(30);

/// Drive a started transport until it is stopped again (by itself after `frames`, by the stop
/// flag, or because the run was cut short) with its takes placed.
fn run(
    live: &mut Live,
    frames: u64,
    hooks: RecordHooks<'_>,
    seconds_left: Option<f64>,
) -> Result<RunReport> {
    let RecordHooks { on_start, stop } = hooks;
    let rate = f64::from(live.editor().session().rate.max(1));
    let from = live.position();
    let began = Instant::now();
    let mut rolled: Option<(Instant, Option<StreamInfo>)> = None;
    // The system clock's time when the stream's first frame ran.
    let mut clock_at_start = None;
    // The disk threads' figures when the transport rolled.
    let mut disk_from: Option<DiskLoad> = None;
    let mut stalled = None;
    loop {
        live.poll();
        let transport = live.transport();
        if rolled.is_none() && matches!(transport, Transport::Recording | Transport::Playing) {
            let stream = stream_now(live);
            if transport == Transport::Recording
                && let Some(stream) = &stream
            {
                on_start(&RecordStart {
                    stream: stream.clone(),
                    files: live.take_files(),
                    seconds_left,
                    latency: live.latency().clone(),
                });
            }
            rolled = Some((Instant::now(), stream));
            clock_at_start = live.status().and_then(|s| {
                let run = s.frames_run.load(Ordering::Relaxed) as f64 / rate;
                SystemTime::now().checked_sub(Duration::from_secs_f64(run))
            });
            disk_from = live.engine().map(|e| e.disk().stats().snapshot());
        }
        if transport == Transport::Stopped {
            break;
        }
        if stop.is_some_and(|s| s.swap(false, Ordering::Relaxed)) {
            // The user asked to stop: a clean stop, every take closed where it is.
            live.stop();
        }
        let expected =
            Duration::from_secs_f64((frames + u64::from(live.latency().0)) as f64 / rate);
        let late = match rolled {
            Some((at, _)) => at.elapsed() > expected + STALL_GRACE,
            None => began.elapsed() > START_WAIT,
        };
        if late {
            let ran = live
                .status()
                .map_or(live.position(), |s| s.ran.load(Ordering::Relaxed));
            let at = ran.saturating_sub(from);
            stalled = Some(crate::engine::stalled(
                at as f64 / rate,
                expected.as_secs_f64(),
            ));
            live.abandon_stream();
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let Some((rolled_at, stream)) = rolled else {
        let why = live.take_messages().join("; ");
        return Err(Error::Device(if why.is_empty() {
            "the transport did not start".into()
        } else {
            why
        }));
    };
    let interrupted = stalled.or_else(|| live.take_interruption());
    let mut report = report_of(live, stream, from)?;
    report.interrupted = interrupted;
    if let (Some(start), Some(status)) = (clock_at_start, live.last_status()) {
        let clock = |frames: Vec<u64>| {
            frames
                .iter()
                .map(|&f| start + Duration::from_secs_f64(f as f64 / rate))
                .collect()
        };
        report.xrun_clock = clock(status.xrun_times());
        report.shift_clock = clock(status.shift_times());
    }
    report.disk = disk_from.and_then(|start| {
        let now = live.engine()?.disk().stats().snapshot();
        Some((now.since(start), rolled_at.elapsed()))
    });
    Ok(report)
}

/// The stream as it runs now, with the latency that holds for it.
fn stream_now(live: &Live) -> Option<StreamInfo> {
    live.engine().map(|e| {
        let mut s = e.info().clone();
        s.latency = e.latency_now();
        s
    })
}

/// What the engine counted during a run that started at `from`.
fn report_of(live: &Live, stream: Option<StreamInfo>, from: u64) -> Result<RunReport> {
    let stream = stream_now(live)
        .or(stream)
        .ok_or_else(|| Error::Device("no audio device is open".into()))?;
    let status = live.last_status();
    let get = |f: fn(&EngineStatus) -> u64| status.map_or(0, |s| f(s));
    let (latency_applied, latency_source) = live.latency().clone();
    Ok(RunReport {
        stream,
        takes: Vec::new(),
        latency_applied,
        latency_source,
        // The sides before the total: each is raised after it.
        skipped_cycles: (
            get(|s| s.skipped_input.load(Ordering::Acquire)),
            get(|s| s.skipped_output.load(Ordering::Acquire)),
        ),
        xruns: get(|s| s.xruns.load(Ordering::Relaxed)),
        xrun_positions: status.map(|s| s.xrun_log()).unwrap_or_default(),
        xrun_clock: Vec::new(),
        shift_clock: Vec::new(),
        dsp_peak: status.map_or(0.0, |s| s.dsp_peak.load()),
        dsp_mean: status.map_or(0.0, |s| s.dsp_mean()),
        capture_overruns: get(|s| s.capture_overruns.load(Ordering::Relaxed)),
        capture_lost_at: status.and_then(|s| s.first_capture_loss()),
        playback_underruns: get(|s| s.playback_underruns.load(Ordering::Relaxed)),
        bridge_slips: get(|s| s.bridge_underruns.load(Ordering::Relaxed)),
        bridge_regrown: get(|s| s.bridge_regrown.load(Ordering::Relaxed)),
        driver_shifts: get(|s| s.driver_shifts.load(Ordering::Relaxed)),
        priority: status
            .map(|s| s.priority.get().describe())
            .unwrap_or_default(),
        frames_rolled: get(|s| s.ran.load(Ordering::Relaxed)).saturating_sub(from),
        seconds_left: None,
        recovered: None,
        interrupted: None,
        disk: None,
    })
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
