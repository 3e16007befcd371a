//! JACK through the `jack` crate: ONE client that owns an input port per physical capture port and
//! an output port per physical playback port, so input and output are handled in the same graph
//! cycle and the engine adds no bridge latency (DESIGN.md). cpal's JACK host opens two clients
//! that JACK may order either way, which can cost a block; that is why JACK is not opened through
//! cpal. Rate and buffer size belong to the server.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use jack::{
    AudioIn, AudioOut, Client, ClientOptions, ClientStatus, Control, LatencyType,
    NotificationHandler, Port, PortFlags, ProcessHandler, ProcessScope,
};

use super::{
    AudioStream, BufferSizes, DeviceInfo, Direction, HostId, HostInfo, Latency, MAX_BLOCK,
    StreamInfo, StreamRequest,
};
use crate::error::{Error, Result};
use crate::rt::{EngineStatus, Process};

/// The one device JACK offers: the server itself.
pub const JACK_DEVICE: &str = "JACK";
const AUDIO_TYPE: &str = "32 bit float mono audio";

/// Connect to the server. A server that is up but busy (it is still taking a client away, or
/// starting) can refuse a connection with a communication error; that is retried a few times. A
/// server that is not running fails at once.
fn connect(name: &str) -> Result<Client> {
    let mut tries = 0;
    loop {
        match Client::new(name, ClientOptions::NO_START_SERVER) {
            Ok((c, _)) => return Ok(c),
            Err(jack::Error::ClientError(status))
                if !status.contains(ClientStatus::SERVER_FAILED) && tries < 10 =>
            {
                tries += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => {
                return Err(Error::HostUnavailable {
                    host: "jack".into(),
                    reason: format!(
                        "cannot reach the JACK server '{}' ({e}); start jackd (or PipeWire's \
                         JACK) first",
                        std::env::var("JACK_DEFAULT_SERVER").unwrap_or_else(|_| "default".into())
                    ),
                });
            }
        }
    }
}

/// Physical capture ports (our inputs) and playback ports (our outputs), in server order.
fn physical_ports(client: &Client) -> (Vec<String>, Vec<String>) {
    let captures = client.ports(
        None,
        Some(AUDIO_TYPE),
        PortFlags::IS_PHYSICAL | PortFlags::IS_OUTPUT,
    );
    let playbacks = client.ports(
        None,
        Some(AUDIO_TYPE),
        PortFlags::IS_PHYSICAL | PortFlags::IS_INPUT,
    );
    (captures, playbacks)
}

pub(super) fn describe() -> HostInfo {
    match connect("overdub-probe") {
        Ok(client) => describe_server(&client),
        Err(e) => HostInfo::unavailable(HostId::Jack, e.to_string()),
    }
}

fn describe_server(client: &Client) -> HostInfo {
    let (captures, playbacks) = physical_ports(client);
    let rate = client.sample_rate();
    let buffer = client.buffer_size();
    HostInfo {
        host: HostId::Jack,
        available: true,
        note: Some(format!(
            "rate ({rate} Hz) and buffer size ({buffer} frames) are set by the JACK server; \
             restart it to change them"
        )),
        devices: vec![DeviceInfo {
            index: 0,
            name: JACK_DEVICE.into(),
            description: None,
            inputs: u16::try_from(captures.len()).unwrap_or(u16::MAX),
            outputs: u16::try_from(playbacks.len().max(2)).unwrap_or(u16::MAX),
            rates: vec![rate],
            default_rate: rate,
            buffer: BufferSizes::Fixed { frames: buffer },
            default_buffer: Some(buffer),
            default_input: true,
            default_output: true,
        }],
    }
}

struct Notifications {
    status: Arc<EngineStatus>,
}

impl NotificationHandler for Notifications {
    fn xrun(&mut self, _: &Client) -> Control {
        self.status.note_xrun();
        Control::Continue
    }

    // The jack crate declares this callback unsafe (it runs like a signal handler); it only sets a
    // flag.
    #[allow(unsafe_code)]
    unsafe fn shutdown(&mut self, _status: ClientStatus, _reason: &str) {
        self.status.device_lost.store(true, Ordering::Relaxed);
    }
}

/// The JACK process callback: interleave the input ports, run the process, spread the output over
/// the output ports. Runs on JACK's audio thread; realtime-safe (buffers allocated up front, and
/// again by the buffer-size callback, which JACK calls outside the realtime cycle).
struct JackProcess {
    process: Process,
    ins: Vec<Port<AudioIn>>,
    outs: Vec<Port<AudioOut>>,
    in_buf: Vec<f32>,
    out_buf: Vec<f32>,
    /// Frames the buffers hold.
    frames: usize,
    status: Arc<EngineStatus>,
}

impl ProcessHandler for JackProcess {
    fn process(&mut self, _: &Client, ps: &ProcessScope) -> Control {
        let (ni, no) = (self.ins.len(), self.outs.len());
        let n = ps.n_frames() as usize;
        if n > self.frames {
            // The buffer-size callback always comes first; should a server not call it, the
            // block is silence out (never stale ports) and counts as an xrun.
            for port in self.outs.iter_mut() {
                port.as_mut_slice(ps).fill(0.0);
            }
            self.status.note_xrun();
            return Control::Continue;
        }
        assert_no_alloc::assert_no_alloc(|| {
            for (c, port) in self.ins.iter().enumerate() {
                for (i, s) in port.as_slice(ps).iter().take(n).enumerate() {
                    self.in_buf[i * ni + c] = *s;
                }
            }
            self.process.process(
                &self.in_buf[..n * ni],
                ni,
                &mut self.out_buf[..n * no],
                no,
                n,
            );
            for (c, port) in self.outs.iter_mut().enumerate() {
                for (i, d) in port.as_mut_slice(ps).iter_mut().take(n).enumerate() {
                    *d = self.out_buf[i * no + c];
                }
            }
        });
        Control::Continue
    }

    /// The server changes the buffer size (`jack_bufsize`, PipeWire's quantum): make room for
    /// blocks of the new size. Allowed to allocate: JACK calls it outside the process cycle.
    fn buffer_size(&mut self, _: &Client, size: jack::Frames) -> Control {
        let frames = size as usize;
        if frames > self.frames {
            self.in_buf = vec![0.0; frames * self.ins.len()];
            self.out_buf = vec![0.0; frames * self.outs.len()];
            self.frames = frames;
        }
        Control::Continue
    }
}

struct JackStream {
    info: StreamInfo,
    /// The physical ports connected first, whose latency is the driver's.
    capture: Option<String>,
    playback: Option<String>,
    client: jack::AsyncClient<Notifications, JackProcess>,
}

impl AudioStream for JackStream {
    fn info(&self) -> &StreamInfo {
        &self.info
    }

    fn buffer_now(&self) -> Option<u32> {
        Some(self.client.as_client().buffer_size())
    }

    fn reported_latency_now(&self) -> Option<Latency> {
        let c = self.client.as_client();
        Some(port_latency(
            c,
            self.capture.as_ref(),
            self.playback.as_ref(),
        ))
    }
}

/// What the driver reports: the latency on the physical ports we connected to (our own ports
/// only get it once the server has propagated latencies through the new connections).
fn port_latency(c: &Client, capture: Option<&String>, playback: Option<&String>) -> Latency {
    let range = |name: Option<&String>, kind| {
        name.and_then(|n| c.port_by_name(n))
            .map_or(0, |p| p.get_latency_range(kind).1)
    };
    Latency {
        input: range(capture, LatencyType::Capture),
        output: range(playback, LatencyType::Playback),
        bridge: 0.0,
    }
}

pub(super) fn open(
    req: &StreamRequest,
    process: Process,
    status: Arc<EngineStatus>,
) -> Result<Box<dyn AudioStream>> {
    let host = describe();
    if !host.available {
        return Err(Error::HostUnavailable {
            host: "jack".into(),
            reason: host.note.unwrap_or_default(),
        });
    }
    for (wanted, dir) in [
        (&req.input, Direction::Input),
        (&req.output, Direction::Output),
    ] {
        if let Some(name) = wanted {
            host.find(name, dir)?;
        }
    }
    let client = connect("overdub")?;
    let (rate, buffer) = (client.sample_rate(), client.buffer_size());
    if rate != req.rate {
        return Err(Error::UnsupportedRate {
            device: JACK_DEVICE.into(),
            rate: req.rate,
            available: format!(
                "{rate} only: the JACK server sets the rate; restart jackd with -r {} or use a \
                 session at {rate} Hz",
                req.rate
            ),
        });
    }
    if let Some(b) = req.buffer
        && b != buffer
    {
        return Err(Error::UnsupportedBuffer {
            device: JACK_DEVICE.into(),
            buffer: b,
            available: format!(
                "{buffer} only: the JACK server sets the buffer size; restart jackd with -p {b}"
            ),
        });
    }
    let (captures, playbacks) = physical_ports(&client);
    let register = |e: jack::Error| Error::Device(format!("cannot register a JACK port: {e}"));
    let ins = (0..captures.len())
        .map(|i| client.register_port(&format!("in_{}", i + 1), AudioIn::default()))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(register)?;
    let outs = (0..playbacks.len().max(2))
        .map(|i| client.register_port(&format!("out_{}", i + 1), AudioOut::default()))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(register)?;
    let in_names: Vec<String> = ins.iter().filter_map(|p| p.name().ok()).collect();
    let out_names: Vec<String> = outs.iter().filter_map(|p| p.name().ok()).collect();
    let frames = (buffer as usize).max(MAX_BLOCK);
    let handler = JackProcess {
        process,
        in_buf: vec![0.0; frames * ins.len()],
        out_buf: vec![0.0; frames * outs.len()],
        frames,
        ins,
        outs,
        status: status.clone(),
    };
    let active = client
        .activate_async(Notifications { status }, handler)
        .map_err(|e| Error::Device(format!("cannot start the JACK client: {e}")))?;
    let c = active.as_client();
    for (from, to) in captures.iter().zip(&in_names) {
        let _ = c.connect_ports_by_name(from, to);
    }
    for (from, to) in out_names.iter().zip(&playbacks) {
        let _ = c.connect_ports_by_name(from, to);
    }
    let latency = port_latency(c, captures.first(), playbacks.first());
    let info = StreamInfo {
        host: HostId::Jack,
        input_device: Some(JACK_DEVICE.into()),
        output_device: Some(JACK_DEVICE.into()),
        rate,
        buffer,
        in_channels: in_names.len(),
        out_channels: out_names.len(),
        latency,
        bridged: false,
        input_names: captures.clone(),
    };
    Ok(Box::new(JackStream {
        info,
        capture: captures.first().cloned(),
        playback: playbacks.first().cloned(),
        client: active,
    }))
}
