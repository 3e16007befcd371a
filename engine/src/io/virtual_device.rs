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
    AudioStream, BufferSizes, CallbackOrder, DeviceInfo, Direction, Fault, HostId, HostInfo,
    Latency, StreamInfo, StreamRequest, check_config,
};
use crate::error::{Error, Result};
use crate::rt::{
    CableReceive, CableSend, DuplexInput, DuplexOutput, EngineStatus, LoopbackCable, Process,
    SharedCable, duplex, fill_test_signal, promote_current_thread,
};

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
    threads: Vec<JoinHandle<()>>,
}

impl AudioStream for VirtualStream {
    fn info(&self) -> &StreamInfo {
        &self.info
    }
}

impl Drop for VirtualStream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

pub(super) fn open(
    req: &StreamRequest,
    process: Process,
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
            bridge: 0.0,
        },
        bridged: false,
        input_names: (1..=ch)
            .map(|c| match kind {
                VirtualKind::Loopback => format!("Out {c} returned"),
                VirtualKind::TestSignal => format!("Test signal {c}"),
            })
            .collect(),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let cable = (kind == VirtualKind::Loopback).then(|| LoopbackCable::new(ch, delay, buffer));
    let pacing = Pacing {
        start: Instant::now(),
        buffer,
        rate,
        stop: stop.clone(),
    };
    let mut threads = Vec::new();
    let mut info = info;
    match req.callbacks {
        CallbackOrder::Duplex => {
            let faults = req.faults.clone();
            threads.push(spawn("overdub-virtual-audio", move || {
                run_duplex(&pacing, cable, process, &status, &faults);
            })?);
        }
        CallbackOrder::InputFirst
        | CallbackOrder::OutputFirst
        | CallbackOrder::Reordered { .. } => {
            info.bridged = true;
            let order = match req.callbacks {
                CallbackOrder::OutputFirst => Order::OutputFirst,
                CallbackOrder::Reordered { at } => Order::InputFirstUntil(at),
                _ => Order::InputFirst,
            };
            let (din, dout) = duplex(process, status, rate, (ch, ch), buffer, true);
            let faults = req.faults.clone();
            threads.push(spawn("overdub-virtual-audio", move || {
                run_one_thread(&pacing, cable, din, dout, order, &faults);
            })?);
        }
        CallbackOrder::Threads { input_late, woken } => {
            info.bridged = true;
            let late = input_late as usize;
            if kind == VirtualKind::Loopback && late >= delay {
                return Err(Error::InvalidSetting(format!(
                    "an input that starts {late} frames late needs a loopback delay above that \
                     (it is {delay})"
                )));
            }
            let (din, dout) = duplex(process, status, rate, (ch, ch), buffer, !woken);
            let (send, receive) = match kind {
                VirtualKind::Loopback => {
                    // Input frame n is taken when output frame n + late plays: it hears the
                    // output of `delay` frames before that.
                    let (s, r) = SharedCable::ends(ch, delay - late, buffer);
                    (Some(s), Some(r))
                }
                VirtualKind::TestSignal => (None, None),
            };
            let p = pacing.clone();
            let faults = req.faults.clone();
            threads.push(spawn("overdub-virtual-in", move || {
                run_input_thread(&p, receive, din, (late, woken), &faults);
            })?);
            let faults = req.faults.clone();
            threads.push(spawn("overdub-virtual-out", move || {
                run_output_thread(&pacing, send, dout, woken, &faults);
            })?);
        }
    }
    Ok(Box::new(VirtualStream {
        info,
        stop,
        threads,
    }))
}

/// The device's clock: block `n` is due at `start + n` periods.
#[derive(Clone)]
struct Pacing {
    start: Instant,
    buffer: usize,
    rate: u32,
    stop: Arc<AtomicBool>,
}

impl Pacing {
    fn at(&self, block: u64) -> Duration {
        Duration::from_secs_f64(block as f64 * self.buffer as f64 / f64::from(self.rate))
    }

    /// Sleep until block `block` is due, plus `jitter` of a period. False once stopped. True
    /// with `late` set when the block is more than a period overdue.
    fn wait(&self, block: u64, jitter: f64) -> Option<bool> {
        if self.stop.load(Ordering::Relaxed) {
            return None;
        }
        let due = self.start + self.at(block) + self.at(1).mul_f64(jitter);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
            return Some(false);
        }
        Some(now - due > self.at(1))
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map_err(|e| Error::Device(format!("cannot start the virtual device: {e}")))
}

/// One callback per block with input and output, as JACK gives them.
fn run_duplex(
    pacing: &Pacing,
    mut cable: Option<LoopbackCable>,
    mut process: Process,
    status: &EngineStatus,
    faults: &[Fault],
) {
    let (buffer, ch, rate) = (pacing.buffer, VIRTUAL_CHANNELS, pacing.rate);
    let mut input = vec![0.0f32; buffer * ch];
    let mut output = vec![0.0f32; buffer * ch];
    let mut block: u64 = 0;
    // Like a real driver's thread: a timer thread at normal priority wakes late now and then on
    // a busy machine, and each time that is an xrun the test did not inject.
    promote_current_thread(&status.priority);
    while let Some(late) = pacing.wait(block, 0.0) {
        if late {
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
}

/// The order of the callbacks on one thread.
#[derive(Clone, Copy)]
enum Order {
    InputFirst,
    OutputFirst,
    /// Input first until the transport has run past this timeline frame, then output first.
    InputFirstUntil(u64),
}

/// Separate input and output callbacks on one thread, in the order given (ASIO calls input then
/// output from its buffer switch).
fn run_one_thread(
    pacing: &Pacing,
    mut cable: Option<LoopbackCable>,
    mut din: DuplexInput,
    mut dout: DuplexOutput,
    mut order: Order,
    faults: &[Fault],
) {
    let (buffer, ch, rate) = (pacing.buffer, VIRTUAL_CHANNELS, pacing.rate);
    let mut input = vec![0.0f32; buffer * ch];
    let mut output = vec![0.0f32; buffer * ch];
    let mut block: u64 = 0;
    promote_current_thread(&dout.status().priority);
    while pacing.wait(block, 0.0).is_some() {
        // One buffer switch, one instant for both callbacks: when the block is due on the device's
        // clock, as a driver that timestamps its cycles says.
        let called = Some(pacing.at(block));
        assert_no_alloc::assert_no_alloc(|| {
            let miss_in = faults.contains(&Fault::MissInput(block));
            let miss_out = faults.contains(&Fault::MissOutput(block));
            let mut capture = |input: &mut [f32], din: &mut DuplexInput| {
                match cable.as_mut() {
                    Some(c) => c.receive(input),
                    None => fill_test_signal(input, ch, block * buffer as u64, rate),
                }
                if !miss_in {
                    din.run(input, called);
                }
            };
            let play = |output: &mut [f32], dout: &mut DuplexOutput| {
                if miss_out {
                    // The device plays silence for a cycle nobody filled.
                    output.fill(0.0);
                } else {
                    dout.run(output, buffer, called);
                }
            };
            if let Order::InputFirstUntil(at) = order {
                let st = dout.status();
                if st.rolling.load(Ordering::Relaxed) && st.ran.load(Ordering::Relaxed) > at {
                    order = Order::OutputFirst;
                }
            }
            if !matches!(order, Order::OutputFirst) {
                capture(&mut input, &mut din);
                play(&mut output, &mut dout);
            } else {
                play(&mut output, &mut dout);
                capture(&mut input, &mut din);
            }
            if let Some(c) = cable.as_mut() {
                c.send(&output);
            }
        });
        block += 1;
    }
}

/// A small deterministic jitter in [0, 0.3) of a period, different for each thread.
fn jitter(seed: &mut u64) -> f64 {
    *seed = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    (*seed >> 40) as f64 / (1u64 << 24) as f64 * 0.3
}

/// The input callback on its own thread, woken with its own jitter, its blocks due `late` frames
/// after the output's.
fn run_input_thread(
    pacing: &Pacing,
    mut cable: Option<CableReceive>,
    mut din: DuplexInput,
    (late, woken): (usize, bool),
    faults: &[Fault],
) {
    let (buffer, ch, rate) = (pacing.buffer, VIRTUAL_CHANNELS, pacing.rate);
    let mut input = vec![0.0f32; buffer * ch];
    let mut seed = 0x0005_eed1;
    let mut block: u64 = 0;
    let late_periods = late as f64 / buffer.max(1) as f64;
    let late_time = Duration::from_secs_f64(late as f64 / f64::from(rate.max(1)));
    promote_current_thread(&din.status().priority);
    while pacing
        .wait(block, jitter(&mut seed) + late_periods)
        .is_some()
    {
        // When the block is due on the device's clock, as a driver that timestamps its cycles says,
        // however late the thread that runs it wakes; or when the thread woke.
        let ahead = u64::from(faults.contains(&Fault::StampAheadInput(block)));
        let called = Some(match woken {
            true => pacing.start.elapsed(),
            false => pacing.at(block + ahead) + late_time,
        });
        assert_no_alloc::assert_no_alloc(|| {
            match cable.as_mut() {
                Some(c) => c.receive(&mut input),
                None => fill_test_signal(&mut input, ch, block * buffer as u64, rate),
            }
            if !faults.contains(&Fault::MissInput(block)) {
                din.run(&input, called);
            }
        });
        block += 1;
    }
}

/// The output callback on its own thread, woken with its own jitter.
fn run_output_thread(
    pacing: &Pacing,
    mut cable: Option<CableSend>,
    mut dout: DuplexOutput,
    woken: bool,
    faults: &[Fault],
) {
    let ch = VIRTUAL_CHANNELS;
    let mut output = vec![0.0f32; pacing.buffer * ch];
    let mut seed = 0x0005_eed2;
    let mut block: u64 = 0;
    promote_current_thread(&dout.status().priority);
    while pacing.wait(block, jitter(&mut seed)).is_some() {
        // As for the input.
        let ahead = u64::from(faults.contains(&Fault::StampAheadOutput(block)));
        let called = Some(match woken {
            true => pacing.start.elapsed(),
            false => pacing.at(block + ahead),
        });
        assert_no_alloc::assert_no_alloc(|| {
            if faults.contains(&Fault::MissOutput(block)) {
                // The device plays silence for a cycle nobody filled.
                output.fill(0.0);
            } else {
                dout.run(&mut output, pacing.buffer, called);
            }
            if let Some(c) = cable.as_mut() {
                c.send(&output);
            }
        });
        block += 1;
    }
}
