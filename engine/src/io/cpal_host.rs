//! ALSA, WASAPI, ASIO and CoreAudio through cpal. cpal gives separate input and output callbacks,
//! so the input side hands its frames to the output side (which drives the process) through
//! [`crate::rt::duplex`]'s bridge, which adds only what the callback order forces (0 frames where
//! the driver runs input then output in one cycle, as ASIO does) and publishes what it adds. The
//! driver's own input and output latency come from the callbacks' timestamps; each callback thread
//! asks for realtime priority on its first call. Devices in any of f32, i32 or
//! i16 formats are converted at the edge. The callbacks are the audio thread and only call `rt/`
//! code and sample conversions.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample};

use super::{
    AudioStream, BufferSizes, DeviceInfo, Direction, HostId, HostInfo, Latency, MAX_BLOCK,
    StreamInfo, StreamRequest, check_config,
};
use crate::error::{Error, Result};
use crate::rt::{EngineStatus, Process, SteadyBlock, duplex, promote_current_thread};

const STANDARD_RATES: [u32; 6] = [44_100, 48_000, 88_200, 96_000, 176_400, 192_000];

fn cpal_id(host: HostId) -> Option<cpal::HostId> {
    match host {
        #[cfg(any(target_os = "linux", target_os = "freebsd"))]
        HostId::Alsa => Some(cpal::HostId::Alsa),
        #[cfg(target_os = "linux")]
        HostId::PipeWire => Some(cpal::HostId::PipeWire),
        #[cfg(target_os = "windows")]
        HostId::Wasapi => Some(cpal::HostId::Wasapi),
        #[cfg(all(target_os = "windows", feature = "asio"))]
        HostId::Asio => Some(cpal::HostId::Asio),
        #[cfg(target_os = "macos")]
        HostId::CoreAudio => Some(cpal::HostId::CoreAudio),
        _ => None,
    }
}

fn cpal_host(host: HostId) -> Result<cpal::Host> {
    let id = cpal_id(host).ok_or_else(|| Error::HostUnavailable {
        host: host.to_string(),
        reason: "not part of this build".into(),
    })?;
    cpal::host_from_id(id).map_err(|e| Error::HostUnavailable {
        host: host.to_string(),
        reason: e.to_string(),
    })
}

/// Largest channel count and the rates and buffer sizes of a set of config ranges.
fn summarize(
    configs: impl Iterator<Item = cpal::SupportedStreamConfigRange>,
) -> (u16, Vec<u32>, BufferSizes) {
    let mut channels = 0;
    let mut rates = Vec::new();
    let mut buffer = BufferSizes::Unknown;
    for c in configs {
        channels = channels.max(c.channels());
        for r in STANDARD_RATES {
            if c.contains_rate(r) && !rates.contains(&r) {
                rates.push(r);
            }
        }
        if let cpal::SupportedBufferSize::Range { min, max } = *c.buffer_size() {
            buffer = BufferSizes::Range { min, max };
        }
    }
    rates.sort_unstable();
    (channels, rates, buffer)
}

fn devices(host: HostId) -> Result<(cpal::Host, Vec<(cpal::Device, DeviceInfo)>)> {
    let h = cpal_host(host)?;
    let default_in = h.default_input_device().map(|d| d.to_string());
    let default_out = h.default_output_device().map(|d| d.to_string());
    let list = h.devices().map_err(|e| Error::HostUnavailable {
        host: host.to_string(),
        reason: e.to_string(),
    })?;
    let mut out = Vec::new();
    for (index, dev) in list.enumerate() {
        let label = dev.to_string();
        // ALSA users know their devices by PCM name (`hw:1`, `default`), PipeWire's tools by node
        // name; elsewhere the description is the readable name.
        let name = match (host, dev.id()) {
            (HostId::Alsa | HostId::PipeWire, Ok(id)) => id.id().to_string(),
            _ => label.clone(),
        };
        let (inputs, in_rates, in_buf) = dev.supported_input_configs().map(summarize).unwrap_or((
            0,
            Vec::new(),
            BufferSizes::Unknown,
        ));
        let (outputs, out_rates, out_buf) = dev
            .supported_output_configs()
            .map(summarize)
            .unwrap_or((0, Vec::new(), BufferSizes::Unknown));
        let rates = if out_rates.is_empty() {
            in_rates
        } else {
            out_rates
        };
        let default_rate = dev
            .default_output_config()
            .or_else(|_| dev.default_input_config())
            .map(|c| c.sample_rate())
            .unwrap_or(48_000);
        let info = DeviceInfo {
            index,
            default_input: default_in.as_deref() == Some(label.as_str()),
            default_output: default_out.as_deref() == Some(label.as_str()),
            description: (label != name).then_some(label),
            name,
            inputs,
            outputs,
            rates,
            default_rate,
            buffer: if outputs > 0 { out_buf } else { in_buf },
            default_buffer: None,
        };
        out.push((dev, info));
    }
    Ok((h, out))
}

/// Whether the host has a default output device that can actually be configured (on a machine
/// without a sound card, ALSA's `default` exists but cannot be opened).
pub(super) fn has_usable_default(host: HostId) -> bool {
    // Without a card, probing ALSA's `default` only prints a page of errors from libasound.
    #[cfg(target_os = "linux")]
    if host == HostId::Alsa
        && std::fs::read_to_string("/proc/asound/cards")
            .map_or(true, |cards| cards.contains("no soundcards"))
    {
        return false;
    }
    cpal_host(host)
        .ok()
        .and_then(|h| h.default_output_device())
        .is_some_and(|d| {
            let null = d.id().is_ok_and(|id| id.id() == "null");
            d.default_output_config().is_ok() && !null
        })
}

pub(super) fn describe(host: HostId) -> HostInfo {
    match devices(host) {
        Ok((_, list)) => {
            let devices: Vec<DeviceInfo> = list.into_iter().map(|(_, i)| i).collect();
            let available = !devices.is_empty();
            HostInfo {
                host,
                available,
                note: (!available).then(|| "no devices found".to_string()),
                devices,
            }
        }
        Err(e) => HostInfo::unavailable(host, e.to_string()),
    }
}

fn pick(
    list: &[(cpal::Device, DeviceInfo)],
    host: HostId,
    wanted: Option<&String>,
    dir: Direction,
) -> Result<Option<(cpal::Device, DeviceInfo)>> {
    let info = HostInfo {
        host,
        available: true,
        note: None,
        devices: list.iter().map(|(_, i)| i.clone()).collect(),
    };
    let chosen = match wanted {
        Some(name) => Some(info.find(name, dir)?),
        None => info.default_device(dir),
    };
    Ok(chosen.and_then(|c| list.iter().find(|(_, i)| i.index == c.index).cloned()))
}

fn device_error(e: cpal::Error) -> Error {
    Error::Device(e.to_string())
}

/// Choose the sample format: f32 where offered, else the widest integer format.
fn sample_format(
    configs: Vec<cpal::SupportedStreamConfigRange>,
    channels: u16,
    rate: u32,
) -> Option<SampleFormat> {
    let ok: Vec<SampleFormat> = configs
        .into_iter()
        .filter(|c| c.channels() == channels && c.contains_rate(rate))
        .map(|c| c.sample_format())
        .collect();
    [SampleFormat::F32, SampleFormat::I32, SampleFormat::I16]
        .into_iter()
        .find(|f| ok.contains(f))
}

struct CpalStream {
    info: StreamInfo,
    /// Kept open: dropping them stops the callbacks.
    _streams: Vec<cpal::Stream>,
    status: Arc<EngineStatus>,
}

impl AudioStream for CpalStream {
    fn info(&self) -> &StreamInfo {
        &self.info
    }

    /// PipeWire runs the graph at one quantum for all its streams: a power of two at or below
    /// the smallest size its streams ask for, or what the server is set to (`clock.force-quantum`),
    /// and it changes when a stream forces one: the size once the callbacks ran at it for a while
    /// (see `rt/steady_block.rs`; the size asked where none holds, as in most streams PipeWire
    /// resamples, whose callbacks vary by a frame). Other
    /// hosts keep the size opened with as the stream's (WASAPI's shared mode calls back every
    /// device period whatever size is asked, but the size asked sets its buffering, so a
    /// measurement belongs to that).
    fn buffer_now(&self) -> Option<u32> {
        if self.info.host != HostId::PipeWire {
            return None;
        }
        let b = self.status.steady_block.load(Ordering::Relaxed);
        u32::try_from(b).ok().filter(|&b| b > 0)
    }
}

fn on_error(status: Arc<EngineStatus>) -> impl FnMut(cpal::Error) + Send + 'static {
    move |e| match e.kind() {
        cpal::ErrorKind::Xrun => {
            status.note_xrun();
        }
        cpal::ErrorKind::DeviceNotAvailable
        | cpal::ErrorKind::StreamInvalidated
        | cpal::ErrorKind::DeviceChanged => status.device_lost.store(true, Ordering::Relaxed),
        _ => {}
    }
}

pub(super) fn open(
    req: &StreamRequest,
    process: Process,
    status: Arc<EngineStatus>,
) -> Result<Box<dyn AudioStream>> {
    let (_host, list) = devices(req.host)?;
    let input = pick(&list, req.host, req.input.as_ref(), Direction::Input)?;
    let output = pick(&list, req.host, req.output.as_ref(), Direction::Output)?;
    if input.is_none() && output.is_none() {
        return Err(Error::HostUnavailable {
            host: req.host.to_string(),
            reason: "no input or output device".into(),
        });
    }
    for (_, info) in input.iter().chain(output.iter()) {
        check_config(info, req.rate, req.buffer)?;
    }
    let buffer_size = req
        .buffer
        .map_or(cpal::BufferSize::Default, cpal::BufferSize::Fixed);
    let block = req.buffer.unwrap_or(512) as usize;
    let mut streams = Vec::new();
    let mut info = StreamInfo {
        host: req.host,
        input_device: input.as_ref().map(|(_, i)| i.name.clone()),
        output_device: output.as_ref().map(|(_, i)| i.name.clone()),
        rate: req.rate,
        buffer: block as u32,
        in_channels: input.as_ref().map_or(0, |(_, i)| usize::from(i.inputs)),
        out_channels: output.as_ref().map_or(0, |(_, i)| usize::from(i.outputs)),
        // Filled in from the callbacks' timestamps and the bridge once the stream runs
        // (`Engine::start` waits for that).
        latency: Latency::default(),
        bridged: false,
        // cpal names no channels.
        input_names: Vec::new(),
    };
    let in_ch = info.in_channels;
    let out_ch = info.out_channels;
    let config = |channels: usize| cpal::StreamConfig {
        channels: channels as u16,
        sample_rate: req.rate,
        buffer_size,
    };
    let clock = Clock::new(req.host, req.rate, status.clone());
    match (input, output) {
        (Some((idev, _)), Some((odev, _))) => {
            info.bridged = true;
            let (mut din, mut dout) = duplex(
                process,
                status.clone(),
                req.rate,
                (in_ch, out_ch),
                MAX_BLOCK,
                clock.driver_time(),
            );
            let ifmt = format_for(&idev, Direction::Input, in_ch, req.rate)?;
            let run = move |inp: &[f32], _frames: usize, called| din.run(inp, called);
            streams.push(build_input(&idev, ifmt, config(in_ch), run, clock.clone())?);
            let ofmt = format_for(&odev, Direction::Output, out_ch, req.rate)?;
            let run = move |out: &mut [f32], frames: usize, called| dout.run(out, frames, called);
            streams.push(build_output(&odev, ofmt, config(out_ch), run, clock)?);
        }
        (None, Some((odev, _))) => {
            let ofmt = format_for(&odev, Direction::Output, out_ch, req.rate)?;
            let mut process = process;
            let run = move |out: &mut [f32], frames: usize, _: Option<Duration>| {
                process.process(&[], 0, out, out_ch, frames);
            };
            streams.push(build_output(&odev, ofmt, config(out_ch), run, clock)?);
        }
        (Some((idev, _)), None) => {
            let ifmt = format_for(&idev, Direction::Input, in_ch, req.rate)?;
            let mut process = process;
            let run = move |inp: &[f32], frames: usize, _: Option<Duration>| {
                process.process(inp, in_ch, &mut [], 0, frames);
            };
            streams.push(build_input(&idev, ifmt, config(in_ch), run, clock)?);
        }
        (None, None) => return Err(Error::Device("no device to open".into())),
    }
    for s in &streams {
        s.play().map_err(device_error)?;
    }
    // With no size asked for, the driver chose one (ASIO: its preferred size; JACK-like drivers:
    // the server's period): say which.
    if req.buffer.is_none()
        && let Some(b) = streams.iter().find_map(|s| s.buffer_size().ok())
    {
        info.buffer = b;
    }
    Ok(Box::new(CpalStream {
        info,
        _streams: streams,
        status,
    }))
}

/// What both callbacks of a stream share: the rate to turn the driver's timestamps into frames,
/// the status they publish to, and the clock their calls are timed on.
#[derive(Clone)]
struct Clock {
    rate: u32,
    status: Arc<EngineStatus>,
    /// Where the driver's callback instants are on one clock for both directions (PipeWire: the
    /// graph's cycle time on CLOCK_MONOTONIC, free of the threads' wake-up jitter): None. Where
    /// each stream counts from its own origin (ALSA) or the clock is coarse (ASIO's millisecond
    /// system time): the moment each callback runs, from this origin.
    wall: Option<Instant>,
}

impl Clock {
    fn new(host: HostId, rate: u32, status: Arc<EngineStatus>) -> Self {
        let driver_time = matches!(host, HostId::PipeWire);
        Self {
            rate,
            status,
            wall: (!driver_time).then(Instant::now),
        }
    }

    /// Whether the callbacks' stamps are the driver's cycle times (not when they ran).
    fn driver_time(&self) -> bool {
        self.wall.is_none()
    }

    /// When a callback that the driver stamped `callback` was called at `now`, on the clock both
    /// directions share.
    fn called(&self, callback: cpal::StreamInstant, now: Instant) -> Duration {
        match self.wall {
            Some(origin) => now.saturating_duration_since(origin),
            None => callback.duration_since(cpal::StreamInstant::ZERO),
        }
    }

    fn frames(&self, d: std::time::Duration) -> u64 {
        (d.as_secs_f64() * f64::from(self.rate)).round() as u64
    }
}

fn format_for(dev: &cpal::Device, dir: Direction, ch: usize, rate: u32) -> Result<SampleFormat> {
    let configs: Vec<_> = match dir {
        Direction::Input => dev.supported_input_configs().map(|c| c.collect()),
        Direction::Output => dev.supported_output_configs().map(|c| c.collect()),
    }
    .map_err(device_error)?;
    sample_format(configs, ch as u16, rate).ok_or_else(|| {
        Error::Device(format!(
            "{dev} offers no f32, i32 or i16 {} format at {rate} Hz",
            dir.name()
        ))
    })
}

fn config_error(dev: &cpal::Device, cfg: &cpal::StreamConfig, e: cpal::Error) -> Error {
    match (e.kind(), cfg.buffer_size) {
        (cpal::ErrorKind::UnsupportedConfig, cpal::BufferSize::Fixed(b)) => {
            Error::UnsupportedBuffer {
                device: dev.to_string(),
                buffer: b,
                available: e.to_string(),
            }
        }
        _ => device_error(e),
    }
}

fn build_input<F>(
    dev: &cpal::Device,
    fmt: SampleFormat,
    cfg: cpal::StreamConfig,
    run: F,
    clock: Clock,
) -> Result<cpal::Stream>
where
    F: FnMut(&[f32], usize, Option<Duration>) + Send + 'static,
{
    let r = match fmt {
        SampleFormat::I16 => input_typed::<i16, F>(dev, &cfg, run, clock),
        SampleFormat::I32 => input_typed::<i32, F>(dev, &cfg, run, clock),
        _ => input_typed::<f32, F>(dev, &cfg, run, clock),
    };
    r.map_err(|e| config_error(dev, &cfg, e))
}

fn input_typed<T, F>(
    dev: &cpal::Device,
    cfg: &cpal::StreamConfig,
    mut run: F,
    clock: Clock,
) -> std::result::Result<cpal::Stream, cpal::Error>
where
    T: SizedSample + Send + 'static,
    f32: FromSample<T>,
    F: FnMut(&[f32], usize, Option<Duration>) + Send + 'static,
{
    let ch = usize::from(cfg.channels).max(1);
    let mut scratch = vec![0.0f32; MAX_BLOCK * ch];
    let mut first = true;
    let mut steady = SteadyBlock::default();
    let status = clock.status.clone();
    dev.build_input_stream::<T, _, _>(
        *cfg,
        move |data: &[T], info: &cpal::InputCallbackInfo| {
            if first {
                first = false;
                promote_current_thread(&clock.status.priority);
            }
            let now = Instant::now();
            assert_no_alloc::assert_no_alloc(|| {
                let ts = info.timestamp();
                let mut called = Some(clock.called(ts.callback, now));
                let delay = ts.callback.duration_since(ts.capture);
                clock
                    .status
                    .driver_input_latency
                    .store(clock.frames(delay), Ordering::Relaxed);
                steady.called(data.len() / ch, &clock.status.steady_block);
                for chunk in data.chunks(scratch.len()) {
                    let dst = &mut scratch[..chunk.len()];
                    for (d, s) in dst.iter_mut().zip(chunk) {
                        *d = f32::from_sample_(*s);
                    }
                    run(dst, chunk.len() / ch, called.take());
                }
            });
        },
        on_error(status),
        None,
    )
}

fn build_output<F>(
    dev: &cpal::Device,
    fmt: SampleFormat,
    cfg: cpal::StreamConfig,
    run: F,
    clock: Clock,
) -> Result<cpal::Stream>
where
    F: FnMut(&mut [f32], usize, Option<Duration>) + Send + 'static,
{
    let r = match fmt {
        SampleFormat::I16 => output_typed::<i16, F>(dev, &cfg, run, clock),
        SampleFormat::I32 => output_typed::<i32, F>(dev, &cfg, run, clock),
        _ => output_typed::<f32, F>(dev, &cfg, run, clock),
    };
    r.map_err(|e| config_error(dev, &cfg, e))
}

fn output_typed<T, F>(
    dev: &cpal::Device,
    cfg: &cpal::StreamConfig,
    mut run: F,
    clock: Clock,
) -> std::result::Result<cpal::Stream, cpal::Error>
where
    T: SizedSample + FromSample<f32> + Send + 'static,
    F: FnMut(&mut [f32], usize, Option<Duration>) + Send + 'static,
{
    let ch = usize::from(cfg.channels).max(1);
    let mut scratch = vec![0.0f32; MAX_BLOCK * ch];
    let mut first = true;
    let mut steady = SteadyBlock::default();
    let status = clock.status.clone();
    dev.build_output_stream::<T, _, _>(
        *cfg,
        move |data: &mut [T], info: &cpal::OutputCallbackInfo| {
            if first {
                first = false;
                promote_current_thread(&clock.status.priority);
            }
            let now = Instant::now();
            assert_no_alloc::assert_no_alloc(|| {
                let ts = info.timestamp();
                let mut called = Some(clock.called(ts.callback, now));
                let delay = ts.playback.duration_since(ts.callback);
                clock
                    .status
                    .driver_output_latency
                    .store(clock.frames(delay), Ordering::Relaxed);
                steady.called(data.len() / ch, &clock.status.steady_block);
                let step = scratch.len();
                for chunk in data.chunks_mut(step) {
                    let src = &mut scratch[..chunk.len()];
                    run(src, chunk.len() / ch, called.take());
                    for (d, s) in chunk.iter_mut().zip(src.iter()) {
                        *d = T::from_sample_(*s);
                    }
                }
            });
        },
        on_error(status),
        None,
    )
}
