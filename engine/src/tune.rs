//! The buffer-size advisor (`overdub tune`, the settings page): what interface guides tell users
//! to do by hand (start at 512, go down until it crackles) done for them. It runs a real load on
//! the real device at each buffer size for a few seconds, counts xruns and DSP load, and
//! recommends the smallest size that ran clean. Not on the audio thread.

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde::Serialize;

use crate::engine::Engine;
use crate::error::Result;
use crate::io::{self, BufferSizes, Direction, StreamRequest};
use crate::rt::{Command, MonitorMode, TrackRt};
use crate::session::{Session, SessionDir};

/// Largest size tried first, frames: where the guides say to start.
pub const START_AT: u32 = 512;
/// Peak DSP load above which a size does not count as clean, however few xruns.
pub const MAX_CLEAN_LOAD: f32 = 0.8;
/// Tracks of synthetic load (input monitoring) when no session is given.
pub const DEFAULT_LOAD_TRACKS: usize = 16;

/// One size tried.
#[derive(Clone, Debug, Serialize)]
pub struct TuneStep {
    /// Buffer size the driver ran, frames, as the stream tells it (see `Engine::info`).
    pub buffer: u32,
    /// Buffer size asked for, frames: the driver may run another (PipeWire runs its server's
    /// quantum, a power of two at or below the size asked unless the server is set to another).
    pub asked: u32,
    /// One buffer in milliseconds.
    pub buffer_ms: f64,
    /// Xruns while it ran.
    pub xruns: u64,
    /// Input frames the duplex bridge had to drop while it ran (cpal hosts).
    pub slips: u64,
    /// Peak DSP load, percent.
    pub dsp_peak_pct: f32,
    /// No xruns, no slips and the load under [`MAX_CLEAN_LOAD`].
    pub clean: bool,
    /// Why it could not run, if it could not.
    pub error: Option<String>,
}

impl TuneStep {
    /// `gap` and "(N asked for)" where the driver ran another size than the one asked; else
    /// nothing.
    pub fn asked_note(&self, gap: &str) -> String {
        if self.asked == self.buffer {
            return String::new();
        }
        format!("{gap}({} asked for)", self.asked)
    }
}

/// The advice.
#[derive(Clone, Debug, Serialize)]
pub struct TuneReport {
    /// Every size tried, largest first.
    pub steps: Vec<TuneStep>,
    /// The smallest size that ran clean.
    pub recommended: Option<u32>,
    /// Anything the user should know (a server that fixes the size).
    pub note: Option<String>,
    /// What kept the recommendation from going lower.
    pub limit: Option<String>,
}

/// Sizes to try: the device's choices from [`START_AT`] down.
fn sizes(req: &StreamRequest) -> (Vec<u32>, Option<String>) {
    let info = io::describe(req.host);
    let dev = req
        .output
        .as_ref()
        .and_then(|n| info.find(n, Direction::Output).ok())
        .or_else(|| info.default_device(Direction::Output));
    match dev.map(|d| d.buffer) {
        Some(BufferSizes::Fixed { frames }) => (
            vec![frames],
            Some(format!(
                "{} sets the buffer size ({frames} frames); restart it with another size to try \
                 others",
                req.host
            )),
        ),
        Some(b) => {
            let mut v: Vec<u32> = b
                .choices()
                .into_iter()
                .filter(|s| *s <= START_AT && *s >= 16)
                .collect();
            v.sort_unstable_by(|a, b| b.cmp(a));
            (v, None)
        }
        None => (
            Vec::new(),
            Some(format!("{} has no output device", req.host)),
        ),
    }
}

/// Try each buffer size for `seconds` with the session's tracks playing (or a synthetic load of
/// [`DEFAULT_LOAD_TRACKS`] monitored inputs).
pub fn tune(
    req: &StreamRequest,
    session: Option<(&SessionDir, &Session)>,
    seconds: f64,
) -> Result<TuneReport> {
    tune_with_progress(req, session, seconds, &mut |_, _, _| {})
}

/// [`tune`], telling `progress` (step index from 0, steps, buffer size) as each size starts.
pub fn tune_with_progress(
    req: &StreamRequest,
    session: Option<(&SessionDir, &Session)>,
    seconds: f64,
    progress: &mut dyn FnMut(usize, usize, u32),
) -> Result<TuneReport> {
    let (list, note) = sizes(req);
    let mut steps = Vec::new();
    let count = list.len();
    for (i, buffer) in list.into_iter().enumerate() {
        progress(i, count, buffer);
        let r = StreamRequest {
            buffer: Some(buffer),
            ..req.clone()
        };
        steps.push(match run_one(&r, session, seconds) {
            Ok((ran, xruns, slips, peak)) => TuneStep {
                buffer: ran,
                asked: buffer,
                buffer_ms: f64::from(ran) * 1000.0 / f64::from(req.rate.max(1)),
                xruns,
                slips,
                dsp_peak_pct: peak * 100.0,
                clean: xruns == 0 && slips == 0 && peak < MAX_CLEAN_LOAD,
                error: None,
            },
            Err(e) => TuneStep {
                buffer,
                asked: buffer,
                buffer_ms: f64::from(buffer) * 1000.0 / f64::from(req.rate.max(1)),
                xruns: 0,
                slips: 0,
                dsp_peak_pct: 0.0,
                clean: false,
                error: Some(e.to_string()),
            },
        });
    }
    let recommended = steps.iter().filter(|s| s.clean).map(|s| s.buffer).min();
    let limit = limit(&steps, recommended, note.is_some());
    Ok(TuneReport {
        steps,
        recommended,
        note,
        limit,
    })
}

/// Why the recommendation is not smaller: the next size down and what went wrong there, or that
/// there is no smaller size.
fn limit(steps: &[TuneStep], recommended: Option<u32>, fixed: bool) -> Option<String> {
    let best = recommended?;
    if fixed {
        return Some("the server sets the size".into());
    }
    let Some(next) = steps
        .iter()
        .filter(|s| s.buffer < best)
        .max_by_key(|s| s.buffer)
    else {
        // Asked for less, the driver ran this size all the same.
        let floor = steps
            .iter()
            .any(|s| s.error.is_none() && s.asked < best && s.buffer == best);
        return Some(if floor {
            format!(
                "asked for fewer frames, the driver still ran {best} (PipeWire runs the quantum \
                 its server, or another program, forces)"
            )
        } else {
            format!("{best} frames is the smallest size this device offers")
        });
    };
    let at = next.buffer;
    Some(match &next.error {
        Some(e) => format!("{at} frames did not open: {e}"),
        None if next.xruns > 0 => format!(
            "at {at} frames the device ran late ({} xruns): the system could not keep up",
            next.xruns
        ),
        None if next.slips > 0 => format!(
            "at {at} frames the input and output callbacks fell out of step ({} frames dropped \
             by the bridge)",
            next.slips
        ),
        None => format!(
            "at {at} frames the audio thread took {:.0}% of the period at its peak (the limit \
             is {:.0}%): the CPU",
            next.dsp_peak_pct,
            MAX_CLEAN_LOAD * 100.0
        ),
    })
}

fn run_one(
    req: &StreamRequest,
    session: Option<(&SessionDir, &Session)>,
    seconds: f64,
) -> Result<(u32, u64, u64, f32)> {
    let mut engine = Engine::start(req)?;
    match session {
        Some((dir, s)) => {
            for t in &s.tracks {
                engine.add_track(t, MonitorMode::Off)?;
            }
            let ids: Vec<_> = s.tracks.iter().map(|t| t.id).collect();
            engine.load_playback(dir, s, &ids, 0)?;
        }
        None => {
            for i in 0..DEFAULT_LOAD_TRACKS {
                let mut t = TrackRt::new(i as u32 + 1, (i % 8) as u16);
                t.monitor = MonitorMode::Input;
                engine.send(Command::AddTrack(Box::new(t)))?;
            }
        }
    }
    engine.send(Command::Start)?;
    // Let the stream settle, then measure.
    std::thread::sleep(Duration::from_millis(300));
    // The size the driver runs (PipeWire's quantum may not be the size asked), before and after.
    let _ = engine.poll();
    let before = engine.info().buffer;
    let status = engine.status().clone();
    let x0 = status.xruns.load(Ordering::Relaxed);
    let s0 = status.bridge_underruns.load(Ordering::Relaxed);
    status.dsp_peak.take();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    let xruns = status.xruns.load(Ordering::Relaxed) - x0;
    let slips = status.bridge_underruns.load(Ordering::Relaxed) - s0;
    let peak = status.dsp_peak.take();
    let _ = engine.poll();
    let ran = engine.info().buffer;
    let lost = engine.device_lost();
    let _ = engine.shutdown();
    if lost {
        return Err(crate::Error::Device("the device went away".into()));
    }
    if ran != before {
        return Err(crate::Error::Device(format!(
            "the server changed the buffer size from {before} to {ran} frames during the step"
        )));
    }
    Ok((ran, xruns, slips, peak))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(asked: u32, buffer: u32, xruns: u64) -> TuneStep {
        TuneStep {
            buffer,
            asked,
            buffer_ms: 0.0,
            xruns,
            slips: 0,
            dsp_peak_pct: 1.0,
            clean: xruns == 0,
            error: None,
        }
    }

    #[test]
    fn the_next_size_down_says_what_went_wrong_there() {
        let steps = [step(256, 256, 0), step(128, 128, 3)];
        let why = limit(&steps, Some(256), false).unwrap_or_default();
        assert!(
            why.starts_with("at 128 frames the device ran late (3 xruns)"),
            "{why}"
        );
    }

    #[test]
    fn a_driver_that_runs_one_size_whatever_is_asked_is_the_limit() {
        // PipeWire with its quantum set to 256: every size asked ran at 256.
        let steps = [step(512, 256, 0), step(256, 256, 0), step(128, 256, 0)];
        let why = limit(&steps, Some(256), false).unwrap_or_default();
        assert!(
            why.starts_with("asked for fewer frames, the driver still ran 256"),
            "{why}"
        );
        let alone = [step(256, 256, 0)];
        let why = limit(&alone, Some(256), false).unwrap_or_default();
        assert_eq!(why, "256 frames is the smallest size this device offers");
    }
}
