//! The built-in virtual host: devices paced in real time by a timer thread at the chosen rate and
//! buffer size, so that recording works on any machine. "Virtual Loopback" is a software cable:
//! its inputs hear its outputs a configurable number of frames later. "Virtual Test Signal" feeds
//! its inputs with [`crate::rt::test_signal`]. The timer thread is this driver's audio thread; per
//! block it only calls `rt/` code.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{
    AudioStream, BufferSizes, DeviceInfo, Direction, Fault, HostId, HostInfo, Latency, StreamInfo,
    StreamRequest, check_config,
};
use crate::error::{Error, Result};
use crate::rt::{EngineStatus, LoopbackCable, Process, fill_test_signal};

/// Channels of every virtual device, in and out (like an 8-channel interface).
pub const VIRTUAL_CHANNELS: usize = 8;
/// Names of the virtual devices, by index.
pub const VIRTUAL_DEVICES: [&str; 2] = ["Virtual Loopback", "Virtual Test Signal"];
const RATES: [u32; 6] = [44_100, 48_000, 88_200, 96_000, 176_400, 192_000];
const DEFAULT_BUFFER: u32 = 256;

/// What a virtual device's inputs carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VirtualKind {
    /// The outputs, delayed.
    Loopback,
    /// The test signal.
    TestSignal,
}

pub(super) fn describe() -> HostInfo {
    let devices = VIRTUAL_DEVICES
        .iter()
        .enumerate()
        .map(|(index, name)| DeviceInfo {
            index,
            name: (*name).to_string(),
            description: None,
            inputs: VIRTUAL_CHANNELS as u16,
            outputs: VIRTUAL_CHANNELS as u16,
            rates: RATES.to_vec(),
            default_rate: 48_000,
            buffer: BufferSizes::Range { min: 16, max: 8192 },
            default_buffer: Some(DEFAULT_BUFFER),
            default_input: index == 1,
            default_output: index == 1,
        })
        .collect();
    HostInfo {
        host: HostId::Virtual,
        available: true,
        note: Some(
            "built in: Loopback returns the outputs on the inputs; Test Signal plays a test tone \
             into every input"
                .into(),
        ),
        devices,
    }
}

struct VirtualStream {
    info: StreamInfo,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl AudioStream for VirtualStream {
    fn info(&self) -> &StreamInfo {
        &self.info
    }
}

impl Drop for VirtualStream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub(super) fn open(
    req: &StreamRequest,
    mut process: Process,
    status: Arc<EngineStatus>,
) -> Result<Box<dyn AudioStream>> {
    let host = describe();
    let input = match &req.input {
        Some(name) => host.find(name, Direction::Input)?,
        None => host
            .default_device(Direction::Input)
            .ok_or_else(|| Error::Device("no virtual device".into()))?,
    };
    let output = match &req.output {
        Some(name) => host.find(name, Direction::Output)?,
        None => input,
    };
    let kind = if input.index == 0 {
        VirtualKind::Loopback
    } else {
        VirtualKind::TestSignal
    };
    check_config(input, req.rate, req.buffer)?;
    let buffer = req.buffer.unwrap_or(DEFAULT_BUFFER) as usize;
    let rate = req.rate;
    let delay = req.loopback_delay.map_or(buffer, |d| d as usize);
    if kind == VirtualKind::Loopback && delay < buffer {
        return Err(Error::InvalidSetting(format!(
            "the virtual loopback delay ({delay} frames) must be at least one buffer ({buffer} \
             frames): a block's input exists before its output"
        )));
    }
    let ch = VIRTUAL_CHANNELS;
    let info = StreamInfo {
        host: HostId::Virtual,
        input_device: Some(input.name.clone()),
        output_device: Some(output.name.clone()),
        rate,
        buffer: buffer as u32,
        in_channels: ch,
        out_channels: ch,
        // Like a real driver, it reports its own buffer on the way out and knows nothing of the
        // cable: the measured round trip is the truth.
        latency: Latency {
            input: 0,
            output: if kind == VirtualKind::Loopback {
                buffer as u32
            } else {
                0
            },
            bridge: 0,
        },
    };
    let stop = Arc::new(AtomicBool::new(false));
    let stop_flag = stop.clone();
    let mut cable = (kind == VirtualKind::Loopback).then(|| LoopbackCable::new(ch, delay, buffer));
    let faults = req.faults.clone();
    let thread = std::thread::Builder::new()
        .name("overdub-virtual-audio".into())
        .spawn(move || {
            let mut input = vec![0.0f32; buffer * ch];
            let mut output = vec![0.0f32; buffer * ch];
            let period = |n: u64| Duration::from_secs_f64(n as f64 * buffer as f64 / rate as f64);
            let start = Instant::now();
            let mut block: u64 = 0;
            while !stop_flag.load(Ordering::Relaxed) {
                let due = start + period(block);
                let now = Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                } else if now - due > period(1) {
                    // A real device would have dropped out here; count it, keep every frame.
                    status.note_xrun();
                }
                if faults.contains(&Fault::Disconnect(block)) {
                    status.device_lost.store(true, Ordering::Relaxed);
                    return;
                }
                if faults.contains(&Fault::Xrun(block)) {
                    status.note_xrun();
                    block += 1;
                    continue;
                }
                assert_no_alloc::assert_no_alloc(|| {
                    match cable.as_mut() {
                        Some(c) => c.receive(&mut input),
                        None => fill_test_signal(&mut input, ch, block * buffer as u64, rate),
                    }
                    process.process(&input, ch, &mut output, ch, buffer);
                    if let Some(c) = cable.as_mut() {
                        c.send(&output);
                    }
                });
                block += 1;
            }
        })
        .map_err(|e| Error::Device(format!("cannot start the virtual device: {e}")))?;
    Ok(Box::new(VirtualStream {
        info,
        stop,
        thread: Some(thread),
    }))
}
