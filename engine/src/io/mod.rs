//! Audio backends behind one interface: every host of this build is listed by [`hosts`], described
//! by [`describe`] and opened by [`open`], which hands the [`Process`] to the driver's callback.
//! One file per backend: `virtual_device` (built in, timer-paced), `offline` (freewheel, for tests,
//! export and benchmarks), `jack_host` (one JACK client holding inputs and outputs) and
//! `cpal_host` (ALSA, WASAPI, ASIO, CoreAudio through cpal, bridged by a FIFO).
//!
//! Opening and describing happen on the control thread; only the callbacks that the backends
//! register run on the audio thread, and those only call into `rt/`.

pub mod control_panel;
mod cpal_host;
#[cfg(target_os = "linux")]
mod jack_host;
pub mod memory_lock;
mod offline;
mod virtual_device;

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::rt::{EngineStatus, Process};

pub use offline::OfflineDriver;

pub use virtual_device::{VIRTUAL_CHANNELS, VIRTUAL_DEVICES, VirtualKind};

/// Largest block the process handles in one piece; larger device blocks are split.
pub const MAX_BLOCK: usize = 8192;

/// An audio host (driver family).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HostId {
    /// Built-in timer-paced devices: a loopback cable and a test-signal source.
    Virtual,
    /// JACK (Linux; also PipeWire's JACK).
    Jack,
    /// ALSA (Linux).
    Alsa,
    /// PipeWire's native API (Linux).
    PipeWire,
    /// WASAPI (Windows).
    Wasapi,
    /// Steinberg ASIO (Windows, `asio` feature).
    Asio,
    /// CoreAudio (macOS).
    CoreAudio,
}

impl HostId {
    /// Name used on the command line and in settings.
    pub fn name(self) -> &'static str {
        match self {
            HostId::Virtual => "virtual",
            HostId::Jack => "jack",
            HostId::Alsa => "alsa",
            HostId::PipeWire => "pipewire",
            HostId::Wasapi => "wasapi",
            HostId::Asio => "asio",
            HostId::CoreAudio => "coreaudio",
        }
    }

    /// Parse a host name, case-insensitively, among the hosts of this build.
    pub fn parse(name: &str) -> Result<Self> {
        hosts()
            .into_iter()
            .find(|h| h.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| Error::UnknownHost {
                name: name.to_string(),
                available: hosts()
                    .iter()
                    .map(|h| h.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

impl fmt::Display for HostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Every host of this build, the platform's native ones first.
pub fn hosts() -> Vec<HostId> {
    let mut v = Vec::new();
    #[cfg(target_os = "linux")]
    v.extend([HostId::Jack, HostId::PipeWire, HostId::Alsa]);
    #[cfg(target_os = "windows")]
    v.push(HostId::Wasapi);
    #[cfg(all(target_os = "windows", feature = "asio"))]
    v.push(HostId::Asio);
    #[cfg(target_os = "macos")]
    v.push(HostId::CoreAudio);
    v.push(HostId::Virtual);
    v
}

/// Buffer sizes a device takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum BufferSizes {
    /// Any size in this range, frames.
    Range {
        /// Smallest, frames.
        min: u32,
        /// Largest, frames.
        max: u32,
    },
    /// Only this size (set by the server, as with JACK).
    Fixed {
        /// Frames.
        frames: u32,
    },
    /// The driver does not say before a stream runs.
    Unknown,
}

impl BufferSizes {
    /// Whether `frames` is acceptable.
    pub fn accepts(&self, frames: u32) -> bool {
        match *self {
            BufferSizes::Range { min, max } => (min..=max).contains(&frames),
            BufferSizes::Fixed { frames: f } => f == frames,
            BufferSizes::Unknown => true,
        }
    }

    /// The sizes to offer in a picker: powers of two in range, or the fixed one.
    pub fn choices(&self) -> Vec<u32> {
        match *self {
            BufferSizes::Range { min, max } => (4..=14)
                .map(|p| 1u32 << p)
                .filter(|s| (min..=max).contains(s))
                .collect(),
            BufferSizes::Fixed { frames } => vec![frames],
            BufferSizes::Unknown => (5..=11).map(|p| 1u32 << p).collect(),
        }
    }
}

impl fmt::Display for BufferSizes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BufferSizes::Range { min, max } => write!(f, "{min}..{max} frames"),
            BufferSizes::Fixed { frames } => write!(f, "{frames} frames (fixed)"),
            BufferSizes::Unknown => f.write_str("driver default"),
        }
    }
}

/// One device of a host.
#[derive(Clone, Debug, Serialize)]
pub struct DeviceInfo {
    /// Index within its host, as the command line accepts it.
    pub index: usize,
    /// Name as the command line accepts it.
    pub name: String,
    /// A longer description, where the driver gives one beside the name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Input channels.
    pub inputs: u16,
    /// Output channels.
    pub outputs: u16,
    /// Sample rates offered, Hz.
    pub rates: Vec<u32>,
    /// Rate used when none is asked for, Hz.
    pub default_rate: u32,
    /// Buffer sizes taken.
    pub buffer: BufferSizes,
    /// Buffer size used when none is asked for, frames (None: the driver's own default).
    pub default_buffer: Option<u32>,
    /// The host's default input.
    pub default_input: bool,
    /// The host's default output.
    pub default_output: bool,
}

/// A host and its devices.
#[derive(Clone, Debug, Serialize)]
pub struct HostInfo {
    /// Which host.
    pub host: HostId,
    /// Whether it can be used now.
    pub available: bool,
    /// Why not, or anything else worth saying (JACK: rate and buffer are the server's).
    pub note: Option<String>,
    /// Its devices.
    pub devices: Vec<DeviceInfo>,
}

impl HostInfo {
    fn unavailable(host: HostId, note: impl Into<String>) -> Self {
        Self {
            host,
            available: false,
            note: Some(note.into()),
            devices: Vec::new(),
        }
    }

    /// Find a device by index or name (case-insensitive), among those with channels in the wanted
    /// direction.
    pub fn find(&self, wanted: &str, direction: Direction) -> Result<&DeviceInfo> {
        let usable = || self.devices.iter().filter(move |d| d.has(direction));
        let found = match wanted.trim().parse::<usize>() {
            Ok(i) => usable().find(|d| d.index == i),
            Err(_) => usable().find(|d| d.name.eq_ignore_ascii_case(wanted.trim())),
        };
        found.ok_or_else(|| {
            let names: Vec<String> = usable()
                .map(|d| format!("{}: {}", d.index, d.name))
                .collect();
            Error::UnknownDevice {
                host: self.host.to_string(),
                direction: direction.name(),
                name: wanted.to_string(),
                available: if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                },
            }
        })
    }

    /// The default device in a direction, else the first that has channels there.
    pub fn default_device(&self, direction: Direction) -> Option<&DeviceInfo> {
        let mut usable = self.devices.iter().filter(|d| d.has(direction));
        usable
            .clone()
            .find(|d| d.is_default(direction))
            .or_else(|| usable.next())
    }
}

impl DeviceInfo {
    /// Whether it has channels in this direction.
    pub fn has(&self, direction: Direction) -> bool {
        match direction {
            Direction::Input => self.inputs > 0,
            Direction::Output => self.outputs > 0,
        }
    }

    /// Whether it is the host's default in this direction.
    pub fn is_default(&self, direction: Direction) -> bool {
        match direction {
            Direction::Input => self.default_input,
            Direction::Output => self.default_output,
        }
    }
}

/// Input or output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Capture.
    Input,
    /// Playback.
    Output,
}

impl Direction {
    /// "input" or "output".
    pub fn name(self) -> &'static str {
        match self {
            Direction::Input => "input",
            Direction::Output => "output",
        }
    }
}

/// Describe a host and its devices. Never fails: an unusable host says why in its note.
pub fn describe(host: HostId) -> HostInfo {
    match host {
        HostId::Virtual => virtual_device::describe(),
        #[cfg(target_os = "linux")]
        HostId::Jack => jack_host::describe(),
        other => cpal_host::describe(other),
    }
}

/// The host to use when none is chosen: a running JACK server, else the platform's own hosts in
/// order (PipeWire, then ALSA on Linux) if one has a usable default device, else the virtual
/// host, so that recording always works.
pub fn default_host() -> HostId {
    #[cfg(target_os = "linux")]
    if describe(HostId::Jack).available {
        return HostId::Jack;
    }
    hosts()
        .into_iter()
        .filter(|h| !matches!(h, HostId::Virtual | HostId::Jack))
        .find(|h| cpal_host::has_usable_default(*h))
        .unwrap_or(HostId::Virtual)
}

/// What to open.
#[derive(Clone, Debug)]
pub struct StreamRequest {
    /// Host.
    pub host: HostId,
    /// Input device by name or index; None: the host's default (or none if it has no inputs).
    pub input: Option<String>,
    /// Output device by name or index; None: the host's default.
    pub output: Option<String>,
    /// Sample rate, Hz (the session's).
    pub rate: u32,
    /// Buffer size, frames; None: the device's default.
    pub buffer: Option<u32>,
    /// Virtual loopback device only: the round trip of its cable, frames (default: one buffer).
    pub loopback_delay: Option<u32>,
    /// First output channel (0-based) of the stereo master pair.
    pub master_out: u16,
    /// Virtual host only, a test double: faults to inject, like a device that drops a block or
    /// is unplugged.
    pub faults: Vec<Fault>,
    /// Virtual host only, a test double of cpal's drivers: how it calls back (one duplex
    /// callback, or separate input and output callbacks in a given order, through the same bridge
    /// as the cpal hosts).
    pub callbacks: CallbackOrder,
}

/// How a driver calls the engine back: one callback with input and output (JACK, the virtual
/// device), or separate input and output callbacks, as cpal gives them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CallbackOrder {
    /// One callback carries the input and the output of a cycle.
    #[default]
    Duplex,
    /// Input, then output, on one thread in each cycle (ASIO's buffer switch).
    InputFirst,
    /// Output, then input, on one thread in each cycle.
    OutputFirst,
    /// Input then output on one thread, until the transport has run past timeline frame `at`;
    /// output then input from then on (PipeWire calling a stream's two nodes in the other order
    /// after a stall).
    Reordered {
        /// Timeline frame after which the order changes.
        at: u64,
    },
    /// Input and output on two threads paced by one clock, each woken with its own jitter (ALSA,
    /// WASAPI). `input_late`: frames by which the input side started after the output side, as
    /// when a driver starts its two streams one after the other (its count lags by that much,
    /// and the cable's round trip is that much shorter in its frames).
    Threads {
        /// Frames the input side started late.
        input_late: u32,
        /// The callbacks are stamped with when their thread woke (ALSA without hardware stamps,
        /// WASAPI), not with the driver's cycle times (PipeWire), so a cycle the driver skips
        /// shows only in their timing over a while.
        woken: bool,
    },
}

impl CallbackOrder {
    /// Parse a command-line name: duplex, asio (input first), reverse (output first), threads,
    /// threads:N (the input side started N frames after the output side), or asio-then-reverse:N
    /// (input first until the transport has run past timeline frame N, then output first).
    pub fn parse(name: &str) -> Result<Self> {
        let name = name.trim().to_ascii_lowercase();
        let late = |n: &str| {
            n.parse::<u32>()
                .ok()
                .filter(|&n| n <= 1 << 16)
                .ok_or_else(|| {
                    Error::InvalidSetting(format!(
                        "threads:{n}: the input's late start is 0 to 65536 frames"
                    ))
                })
        };
        match name.as_str() {
            "duplex" => Ok(Self::Duplex),
            "asio" | "input-first" => Ok(Self::InputFirst),
            "reverse" | "output-first" => Ok(Self::OutputFirst),
            "threads" => Ok(Self::Threads {
                input_late: 0,
                woken: false,
            }),
            other => {
                if let Some(n) = other.strip_prefix("threads:") {
                    return Ok(Self::Threads {
                        input_late: late(n)?,
                        woken: false,
                    });
                }
                if let Some(n) = other.strip_prefix("asio-then-reverse:") {
                    let at = n.parse::<u64>().map_err(|_| {
                        Error::InvalidSetting(format!(
                            "asio-then-reverse:{n}: N is the timeline frame after which the \
                             order changes"
                        ))
                    })?;
                    return Ok(Self::Reordered { at });
                }
                Err(Error::InvalidSetting(format!(
                    "unknown callback order '{other}': use duplex, asio, reverse, threads, \
                     threads:N or asio-then-reverse:N"
                )))
            }
        }
    }
}

/// A fault the virtual device injects (a test double for real devices' misbehaviour).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Drop this block (counted from 0): the process is not called and its input is lost, as
    /// when a real device over- or underruns.
    Xrun(u64),
    /// The device goes away before this block and never calls back again.
    Disconnect(u64),
    /// With split callbacks: the driver runs this block's cycle without calling the input
    /// callback (a client that missed its wake-up), and says nothing. Its input is never given.
    MissInput(u64),
    /// With split callbacks: as [`Fault::MissInput`], for the output callback.
    MissOutput(u64),
    /// With split callbacks stamped with the driver's cycle times: the input callback for this
    /// block is stamped with the next cycle's time, as PipeWire stamps a client catching up
    /// (with its latest cycle's time, not the time of the buffer it hands over).
    StampAheadInput(u64),
    /// As [`Fault::StampAheadInput`], for the output callback.
    StampAheadOutput(u64),
}

/// Latency figures of a running stream, frames.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Latency {
    /// Input latency the driver reports.
    pub input: u32,
    /// Output latency the driver reports.
    pub output: u32,
    /// What the engine's duplex bridge adds: how long it holds a frame, from the callbacks'
    /// timing, to a fraction of a frame (0 when input and output run in one callback).
    pub bridge: f64,
}

impl Latency {
    /// Round trip: input + output + bridge, to the nearest frame.
    pub fn round_trip(&self) -> u32 {
        (f64::from(self.input) + f64::from(self.output) + self.bridge)
            .round()
            .clamp(0.0, f64::from(u32::MAX)) as u32
    }
}

/// What a running stream is.
#[derive(Clone, Debug, Serialize)]
pub struct StreamInfo {
    /// Host.
    pub host: HostId,
    /// Input device name, if any.
    pub input_device: Option<String>,
    /// Output device name, if any.
    pub output_device: Option<String>,
    /// Sample rate, Hz.
    pub rate: u32,
    /// Block size, frames (as configured; some drivers vary it).
    pub buffer: u32,
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Reported latency.
    pub latency: Latency,
    /// Input and output run in separate callbacks joined by the bridge, whose latency can change
    /// while the stream runs (read it from `EngineStatus::bridge_latency`).
    pub bridged: bool,
    /// The driver's name for each input channel, where it gives one (JACK: the physical capture
    /// port's); empty otherwise.
    pub input_names: Vec<String>,
}

/// A running stream. Dropping it stops the callbacks.
pub trait AudioStream: Send {
    /// What it is, as opened.
    fn info(&self) -> &StreamInfo;

    /// The buffer size now, for a driver whose server may change it while the stream runs or
    /// run another size than the one asked (JACK's period; PipeWire's quantum, which is a power
    /// of two at or below the size asked unless the server is set to another); None where it
    /// stays as opened.
    fn buffer_now(&self) -> Option<u32> {
        None
    }

    /// The latency the driver reports now, for one that reports it anew when its server changes
    /// (JACK's port latencies); None where it stays as opened or comes from the callbacks'
    /// timestamps (cpal's hosts; see `Engine::latency_now`).
    fn reported_latency_now(&self) -> Option<Latency> {
        None
    }
}

/// Open a stream and start it: from now on the driver calls `process` once per block on its audio
/// thread. `status` receives xruns and device loss.
pub fn open(
    req: &StreamRequest,
    process: Process,
    status: Arc<EngineStatus>,
) -> Result<Box<dyn AudioStream>> {
    if req.rate == 0 {
        return Err(Error::InvalidSetting(
            "the sample rate must be above 0 Hz".into(),
        ));
    }
    if let Some(b) = req.buffer
        && !(1..=MAX_BLOCK as u32).contains(&b)
    {
        return Err(Error::InvalidSetting(format!(
            "a buffer of {b} frames is out of range (1..{MAX_BLOCK})"
        )));
    }
    if req.host != HostId::Virtual {
        // A driver paced by hardware: keep the process in RAM from now on (see memory_lock.rs).
        memory_lock::lock();
    }
    match req.host {
        HostId::Virtual => virtual_device::open(req, process, status),
        #[cfg(target_os = "linux")]
        HostId::Jack => jack_host::open(req, process, status),
        _ => cpal_host::open(req, process, status),
    }
}

/// Check a rate and buffer size against what a device offers; the error names what it offers.
fn check_config(dev: &DeviceInfo, rate: u32, buffer: Option<u32>) -> Result<()> {
    if !dev.rates.is_empty() && !dev.rates.contains(&rate) {
        return Err(Error::UnsupportedRate {
            device: dev.name.clone(),
            rate,
            available: dev
                .rates
                .iter()
                .map(|r| format!("{r}"))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    if let Some(b) = buffer
        && !dev.buffer.accepts(b)
    {
        return Err(Error::UnsupportedBuffer {
            device: dev.name.clone(),
            buffer: b,
            available: dev.buffer.to_string(),
        });
    }
    Ok(())
}
