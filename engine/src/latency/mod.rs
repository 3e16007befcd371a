//! Loopback latency measurement, as Ardour's calibration and `jack_iodelay` do it: with output N
//! cabled to input N, play a train of impulses through the real engine (a track playing them,
//! panned to output N) while another track records input N, then find them in the take. The
//! delay between a frame leaving the process and coming back into it is exactly the round trip
//! the latency model compensates, whatever the driver reports. Not on the audio thread.

mod analyze;
mod store;

use std::time::{SystemTime, UNIX_EPOCH};

use rtrb::RingBuffer;
use serde::Serialize;

pub use analyze::{Analysis, SILENCE, TOO_HOT, analyze};
pub use store::{StoredLatency, find_stored, remember};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::io::{Latency, StreamInfo, StreamRequest};
use crate::rt::{Command, MonitorMode, TrackRt};

/// Impulses per measurement: enough for a median and a stability check.
const IMPULSES: usize = 8;
/// Level of each impulse (-6 dBFS): loud enough to stand out, far from clipping.
const IMPULSE_LEVEL: f32 = 0.5;
/// Seconds between impulses; also the longest round trip that can be measured.
const SPACING_SECONDS: f64 = 0.25;

/// What to measure.
#[derive(Clone, Debug)]
pub struct LatencyOptions {
    /// Input channel the loopback returns on, 0-based.
    pub in_channel: u16,
    /// Output channel the impulses go out on, 0-based.
    pub out_channel: u16,
}

/// A finished measurement.
#[derive(Clone, Debug, Serialize)]
pub struct Measurement {
    /// The stream it ran on.
    pub stream: StreamInfo,
    /// What the driver reports.
    pub reported: Latency,
    /// What was measured.
    pub analysis: Analysis,
}

impl Measurement {
    /// The record to store in the settings.
    pub fn stored(&self, opts: &LatencyOptions) -> StoredLatency {
        StoredLatency {
            host: self.stream.host.to_string(),
            input: self.stream.input_device.clone().unwrap_or_default(),
            output: self.stream.output_device.clone().unwrap_or_default(),
            rate: self.stream.rate,
            buffer: self.stream.buffer,
            frames: self.analysis.frames,
            bridge: self.reported.bridge,
            reported: self.reported.round_trip(),
            in_channel: opts.in_channel + 1,
            out_channel: opts.out_channel + 1,
            measured_at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        }
    }
}

/// Open the stream and measure its round trip from output `out_channel` to input `in_channel`.
/// Fails with a usage error (the user must connect the two) when nothing comes back.
pub fn measure(req: &StreamRequest, opts: &LatencyOptions) -> Result<Measurement> {
    let req = StreamRequest {
        master_out: opts.out_channel,
        ..req.clone()
    };
    let mut engine = Engine::start(&req)?;
    let info = engine.info().clone();
    if usize::from(opts.in_channel) >= info.in_channels {
        return Err(Error::InvalidSetting(format!(
            "input {} is out of range: the device has inputs 1..{}",
            opts.in_channel + 1,
            info.in_channels
        )));
    }
    let rate = f64::from(info.rate);
    let spacing = (SPACING_SECONDS * rate) as usize;
    // Uneven spacing, so that nothing periodic in the path can line up with every impulse.
    let sent: Vec<usize> = (0..IMPULSES)
        .map(|k| spacing / 2 + k * spacing + (k * 37) % 101)
        .collect();
    let total = sent.last().copied().unwrap_or(0) + 2 * spacing;

    // Silence after the impulses: a bridge that grows during the run runs it on by as much
    // (see `rt/leave_out.rs`), a block at most, and that must not find the playback short.
    let played = total + 4 * info.buffer as usize;
    let (mut play_tx, play_rx) = RingBuffer::new(played);
    let mut next = 0;
    for i in 0..played {
        let v = if sent.get(next) == Some(&i) {
            next += 1;
            IMPULSE_LEVEL
        } else {
            0.0
        };
        let _ = play_tx.push(v);
    }
    let (cap_tx, mut cap_rx) = RingBuffer::new(total + info.buffer as usize * 4);

    // Track 1 plays the impulses, hard left, into the master pair that starts at output N.
    let mut source = TrackRt::new(1, 0);
    source.monitor = MonitorMode::Off;
    source.pan = -1.0;
    engine.send(Command::AddTrack(Box::new(source)))?;
    engine.send(Command::SetPlayback(1, play_rx))?;
    // Track 2 records input N, silently.
    let mut sink = TrackRt::new(2, opts.in_channel);
    sink.monitor = MonitorMode::Off;
    sink.armed = true;
    sink.mute = true;
    engine.send(Command::AddTrack(Box::new(sink)))?;
    engine.send(Command::SetCapture(2, cap_tx))?;
    engine.send(Command::SetRecording(true))?;
    engine.send(Command::StopAt(total as u64))?;
    engine.send(Command::Start)?;
    let interrupted = engine.wait_until_stopped(total as u64);
    // What the bridge added while the impulses went round (it holds still while recording). If
    // the driver changed its callback order meanwhile, the bridge grew, and what it grew by was
    // left out of the capture: the impulses are where the bridge's start put them.
    let mut reported = engine.latency_now();
    let status = engine.status().clone();
    let regrown = status
        .bridge_regrown
        .load(std::sync::atomic::Ordering::Relaxed);
    reported.bridge = (reported.bridge - regrown as f64).max(0.0);
    let _ = engine.shutdown();
    if let Some(why) = interrupted {
        return Err(Error::Device(why));
    }
    let captured: Vec<f32> = std::iter::from_fn(|| cap_rx.pop().ok()).collect();
    let underruns = status
        .playback_underruns
        .load(std::sync::atomic::Ordering::Relaxed);
    if underruns > 0 {
        return Err(Error::Device(format!(
            "{underruns} frames of the test signal did not reach the output in time"
        )));
    }
    let analysis = analyze(&sent, &captured, spacing).ok_or_else(|| {
        Error::InvalidSetting(format!(
            "no signal came back on input {} within {:.1} s: connect output {} to input {} \
             (a cable, or on JACK a port connection) and measure again",
            opts.in_channel + 1,
            total as f64 / rate,
            opts.out_channel + 1,
            opts.in_channel + 1
        ))
    })?;
    Ok(Measurement {
        reported,
        stream: info,
        analysis,
    })
}
