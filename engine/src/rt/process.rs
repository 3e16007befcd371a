//! [`Process`]: the one object that runs on the audio thread. The driver calls
//! [`Process::process`] once per device block; it drains commands, records armed tracks into their
//! capture rings, plays tracks from their playback rings, mixes, meters and reports.
//!
//! Realtime-safe: after [`Process::new`] nothing here allocates, frees, locks, blocks or panics;
//! work is bounded by frames x tracks. Blocks larger than `max_block` are split, never refused.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use rtrb::{Consumer, Producer, RingBuffer};

use super::click::Click;
use super::command::{Command, Event, Garbage, TrackId};
use super::denormals::DenormalGuard;
use super::leave_out::{LeaveOut, Span};
use super::meter::EngineStatus;
use super::track::{MonitorMode, TrackRt, pan_gains};

/// Most tracks one engine holds; the track list is allocated this large up front.
pub const MAX_TRACKS: usize = 256;
/// Commands applied per block at most, so a burst of edits cannot stretch one callback.
const MAX_COMMANDS_PER_BLOCK: usize = 256;
/// Command ring size: room for a whole session's worth of set-up commands at once.
const COMMAND_CAPACITY: usize = 4096;
/// Event ring size: garbage from removing every track plus transport events.
const EVENT_CAPACITY: usize = 4096;
/// Events kept on the audio thread when the ring is full (nobody read it for a while), sent
/// again at the next block: a full ring never loses the end of a take or a stop.
const EVENT_OVERFLOW: usize = 2 * MAX_TRACKS + 64;

/// Sizes fixed when the engine is built.
#[derive(Clone, Copy, Debug)]
pub struct ProcessConfig {
    /// Sample rate, Hz.
    pub rate: u32,
    /// Largest block processed in one piece, frames; larger device blocks are split.
    pub max_block: usize,
}

/// The control side's ends of the realtime queues and the shared status.
pub struct ProcessHandle {
    /// Commands to the audio thread.
    pub commands: Producer<Command>,
    /// Events from the audio thread.
    pub events: Consumer<Event>,
    /// Numbers the audio thread publishes.
    pub status: Arc<EngineStatus>,
}

/// The realtime process. See the module docs.
pub struct Process {
    commands: Consumer<Command>,
    events: Producer<Event>,
    /// Events that did not fit in the ring, oldest first; capacity fixed at construction.
    overflow: VecDeque<Event>,
    status: Arc<EngineStatus>,
    // Boxed on purpose: tracks arrive and leave as boxes, so adding or removing one moves a
    // pointer; unboxing here would free the box on the audio thread.
    #[allow(clippy::vec_box)]
    tracks: Vec<Box<TrackRt>>,
    rate: u32,
    max_block: usize,
    position: u64,
    /// `position` as if no loop had sent it back (see `EngineStatus::ran`).
    ran: u64,
    rolling: bool,
    recording: bool,
    capturing: bool,
    stop_at: Option<u64>,
    /// Input the takes leave out (see `rt/leave_out.rs`).
    leave_out: LeaveOut,
    master_out: usize,
    click: Click,
    count_in_left: u64,
    count_in_pos: u64,
    tone: bool,
    looping: Option<(u64, u64)>,
    punch: Option<(u64, u64)>,
    /// Master fader target (linear) and where the last block ended.
    master_gain: f32,
    master_gain_now: f32,
    buf_in: Vec<f32>,
    buf_play: Vec<f32>,
    mix_l: Vec<f32>,
    mix_r: Vec<f32>,
}

impl Process {
    /// Build the process and the control side's handle. Not on the audio thread: allocates every
    /// buffer the process will ever use.
    pub fn new(config: ProcessConfig) -> (Self, ProcessHandle) {
        let max_block = config.max_block.max(1);
        let (cmd_tx, cmd_rx) = RingBuffer::new(COMMAND_CAPACITY);
        let (ev_tx, ev_rx) = RingBuffer::new(EVENT_CAPACITY);
        let status = Arc::new(EngineStatus::default());
        let process = Self {
            commands: cmd_rx,
            events: ev_tx,
            overflow: VecDeque::with_capacity(EVENT_OVERFLOW),
            status: status.clone(),
            tracks: Vec::with_capacity(MAX_TRACKS),
            rate: config.rate.max(1),
            max_block,
            position: 0,
            ran: 0,
            rolling: false,
            recording: false,
            capturing: false,
            stop_at: None,
            leave_out: LeaveOut::default(),
            master_out: 0,
            click: Click::new(config.rate),
            count_in_left: 0,
            count_in_pos: 0,
            tone: false,
            looping: None,
            punch: None,
            master_gain: 1.0,
            master_gain_now: 1.0,
            buf_in: vec![0.0; max_block * 2],
            buf_play: vec![0.0; max_block * 2],
            mix_l: vec![0.0; max_block],
            mix_r: vec![0.0; max_block],
        };
        let handle = ProcessHandle {
            commands: cmd_tx,
            events: ev_rx,
            status,
        };
        (process, handle)
    }

    /// Process one device block. `input` is interleaved with `in_channels` channels, `output`
    /// interleaved with `out_channels`; either may have zero channels. Frames beyond what a buffer
    /// holds are treated as silence (input) or skipped (output). Realtime-safe.
    pub fn process(
        &mut self,
        input: &[f32],
        in_channels: usize,
        output: &mut [f32],
        out_channels: usize,
        frames: usize,
    ) {
        let started = Instant::now();
        let _ftz = DenormalGuard::new();
        self.resend_overflow();
        self.drain_commands();
        output.fill(0.0);
        let in_channels = if input.len() >= frames * in_channels {
            in_channels
        } else {
            0
        };
        let out_channels = if output.len() >= frames * out_channels {
            out_channels
        } else {
            0
        };
        self.meter_inputs(input, in_channels, frames);

        let mut done = 0;
        while done < frames {
            let mut n = (frames - done).min(self.max_block);
            if self.rolling
                && let Some(stop) = self.stop_at
            {
                if stop <= self.ran {
                    self.stop();
                    continue;
                }
                // What the takes leave out on the way runs the stop on by as much: cut the
                // stretch where it will fall, not short of it.
                n = if self.capturing {
                    self.leave_out.reach(done, n, stop - self.ran)
                } else {
                    n.min((stop - self.ran).try_into().unwrap_or(usize::MAX))
                };
            }
            if self.rolling && self.count_in_left > 0 {
                n = n.min(self.count_in_left.try_into().unwrap_or(usize::MAX));
            }
            let looped = self.active_loop();
            if let Some((_, b)) = looped {
                n = n.min((b - self.position).try_into().unwrap_or(usize::MAX));
            }
            // A punch edge inside the block splits it: the monitoring changes on that frame.
            if let Some(edge) = self.next_punch_edge() {
                n = n.min((edge - self.position).try_into().unwrap_or(usize::MAX));
            }
            let io = BlockIo {
                input,
                in_channels,
                out_channels,
                master_out: self.master_out,
                offset: done,
                frames: n,
            };
            if self.rolling && self.count_in_left > 0 {
                self.run_count_in(&io, output);
            } else {
                self.run(&io, output);
            }
            if let Some((a, b)) = looped
                && self.position >= b
            {
                self.position = a;
            }
            done += n;
        }
        if self.rolling && self.stop_at.is_some_and(|s| s <= self.ran) {
            self.stop();
        }
        self.leave_out.block_done();
        self.publish(started, frames);
    }

    /// The next block's input from frame `from` on is `frames` frames of silence that a duplex
    /// bridge put in while growing during a take (see `rt/leave_out.rs`): leave it out of the
    /// takes, and run the take on by as much as is left out so that it still ends where it was
    /// asked to. Call before [`Process::process`]; ignored unless a take holds the latency.
    /// Realtime-safe.
    pub fn leave_out_of_takes(&mut self, from: usize, frames: usize) {
        if frames > 0 && self.holds_latency() {
            self.leave_out.add(from, frames);
        }
    }

    fn publish(&self, started: Instant, frames: usize) {
        let s = &self.status;
        s.position.store(self.position, Ordering::Relaxed);
        s.ran.store(self.ran, Ordering::Relaxed);
        s.rolling.store(self.rolling, Ordering::Relaxed);
        let period = frames as f32 / self.rate as f32;
        if period > 0.0 {
            let load = started.elapsed().as_secs_f32() / period;
            s.dsp_peak.raise(load);
            s.dsp_sum_micro
                .fetch_add((load * 1e6) as u64, Ordering::Relaxed);
        }
        s.blocks.fetch_add(1, Ordering::Relaxed);
        s.frames_run.fetch_add(frames as u64, Ordering::Relaxed);
    }

    /// One stretch of frames in which the transport state does not change.
    fn run(&mut self, io: &BlockIo<'_>, output: &mut [f32]) {
        let n = io.frames;
        let any_solo = self.tracks.iter().any(|t| t.solo);
        let capture_now = self.rolling && self.capturing;
        // Of this stretch, the frames the takes leave out.
        let span = if capture_now {
            self.leave_out.span(io.offset, n)
        } else {
            Span {
                carried: 0,
                gap: n,
                skip: 0,
            }
        };
        // While punching, where the playhead is against the range.
        let punch = self
            .punching()
            .map(|(a, b)| (a..b).contains(&self.position));
        let mix_l = &mut self.mix_l[..n];
        let mix_r = &mut self.mix_r[..n];
        mix_l.fill(0.0);
        mix_r.fill(0.0);
        for track in self.tracks.iter_mut() {
            let ch = if track.channels == 2 { 2 } else { 1 };
            let inp = &mut self.buf_in[..n * ch];
            // The input is only gathered for a track that records, meters or monitors it.
            let needs_input = track.armed || track.hears_input();
            if needs_input {
                for c in 0..ch {
                    io.read_channel(usize::from(track.input) + c, inp, c, ch);
                }
            }
            if capture_now
                && track.armed
                && let Some(ring) = track.capture.as_mut()
            {
                let (a, b) = (span.carried, span.gap + span.skip);
                for (from, part) in [(a, &inp[a * ch..span.gap * ch]), (b, &inp[b * ch..])] {
                    capture_into(
                        ring,
                        part,
                        &mut track.capture_debt,
                        ch,
                        self.position + from as u64,
                        &self.status,
                    );
                }
            }
            let play = &mut self.buf_play[..n * ch];
            if self.rolling {
                read_playback(track, play, ch, &self.status);
            } else {
                play.fill(0.0);
            }
            let source: &[f32] = match punch {
                // Punching an armed track: outside the range what it holds plays (unless it
                // always monitors its input); inside it, only the input, if it is heard.
                Some(inside) if track.armed => {
                    if inside && !track.hears_input() {
                        play.fill(0.0);
                    }
                    if track.monitor == MonitorMode::Input || (inside && track.hears_input()) {
                        inp
                    } else {
                        play
                    }
                }
                _ if track.hears_input() => inp,
                _ => play,
            };
            let audible = !track.mute && (!any_solo || track.solo);
            let target = if audible {
                sanitize_gain(track.gain)
            } else {
                0.0
            };
            let g0 = track.gain_now;
            let (pl, pr) = pan_gains(track.pan);
            mix_into(source, ch, g0, target, pl, pr, mix_l, mix_r);
            track.gain_now = target;
            // Armed: the input level (what the take gets); otherwise post-fader (for a gain ramp
            // the larger end, which is exact once the fader stops moving).
            let peak = if track.armed {
                peak_of(inp)
            } else {
                peak_of(source) * g0.max(target)
            };
            track.meter.peak.raise(peak);
            if peak >= 1.0 {
                track.meter.clipped.store(true, Ordering::Relaxed);
            }
        }
        self.leave_out.taken(span);
        // A take runs on by what it left out, to end where it was asked to.
        let left_out = (span.carried + span.skip) as u64;
        if let Some(stop) = self.stop_at.as_mut() {
            *stop = stop.saturating_add(left_out);
        }
        // The master fader (ramped over the block), then its meter; the click and the test tone
        // come after it, so the fader never changes the metronome.
        let target = sanitize_gain(self.master_gain);
        let g0 = self.master_gain_now;
        let step = (target - g0) / n as f32;
        let mut squares = [0.0f32; 2];
        for (i, (l, r)) in mix_l.iter_mut().zip(mix_r.iter_mut()).enumerate() {
            let g = g0 + step * (i + 1) as f32;
            *l *= g;
            *r *= g;
            squares[0] += *l * *l;
            squares[1] += *r * *r;
        }
        self.master_gain_now = target;
        let meter = &self.status.master;
        for (side, (m, buf)) in meter.sides.iter().zip([&*mix_l, &*mix_r]).enumerate() {
            let peak = peak_of(buf);
            m.peak.raise(peak);
            if peak >= 1.0 {
                m.clipped.store(true, Ordering::Relaxed);
            }
            meter.mean_square[side].store(squares[side] / n.max(1) as f32);
        }
        if self.rolling && self.click.on {
            self.click.render(mix_l, mix_r, self.position);
        }
        if self.tone {
            self.click.tone(mix_l, mix_r);
        }
        io.write_master(mix_l, mix_r, output);
        if self.rolling {
            self.position += n as u64;
            self.ran += n as u64;
        }
    }

    /// The loop, while it applies: rolling with the playhead inside it (recording too: each
    /// pass goes on in the same takes, which are cut into one take per pass when placed).
    fn active_loop(&self) -> Option<(u64, u64)> {
        self.looping
            .filter(|&(a, b)| self.rolling && b > a && self.position < b)
    }

    /// Every input channel's peak over the block, for the input meters (armed or not).
    fn meter_inputs(&self, input: &[f32], channels: usize, frames: usize) {
        if channels == 0 {
            return;
        }
        let metered = channels.min(super::meter::INPUT_METERS);
        for (c, cell) in self.status.inputs.iter().take(metered).enumerate() {
            let peak = input[..frames * channels]
                .iter()
                .skip(c)
                .step_by(channels)
                .fold(0.0f32, |m, s| m.max(s.abs()));
            cell.raise(if peak.is_finite() { peak } else { 0.0 });
        }
    }

    /// The punch range while it applies: rolling and recording with one set.
    fn punching(&self) -> Option<(u64, u64)> {
        self.punch
            .filter(|&(a, b)| self.rolling && self.recording && b > a)
    }

    /// The next punch edge after the playhead, while punching.
    fn next_punch_edge(&self) -> Option<u64> {
        let (a, b) = self.punching()?;
        [a, b].into_iter().find(|&e| e > self.position)
    }

    /// A stretch of the count-in: clicks (and the test tone) only; the playhead waits.
    fn run_count_in(&mut self, io: &BlockIo<'_>, output: &mut [f32]) {
        let n = io.frames;
        let mix_l = &mut self.mix_l[..n];
        let mix_r = &mut self.mix_r[..n];
        mix_l.fill(0.0);
        mix_r.fill(0.0);
        self.click.render(mix_l, mix_r, self.count_in_pos);
        if self.tone {
            self.click.tone(mix_l, mix_r);
        }
        io.write_master(mix_l, mix_r, output);
        self.count_in_pos += n as u64;
        self.count_in_left -= n as u64;
        if self.count_in_left == 0 && self.recording && !self.capturing {
            self.begin_capture();
        }
    }

    fn drain_commands(&mut self) {
        for _ in 0..MAX_COMMANDS_PER_BLOCK {
            let Ok(cmd) = self.commands.pop() else { break };
            self.apply(cmd);
        }
    }

    fn apply(&mut self, cmd: Command) {
        match cmd {
            Command::Start => {
                if !self.rolling {
                    self.rolling = true;
                    self.ran = self.position;
                    self.count_in_pos = 0;
                    self.send(Event::Started(self.position));
                    if self.recording && self.count_in_left == 0 {
                        self.begin_capture();
                    }
                }
            }
            Command::SetClick {
                on,
                beat_frames,
                beats_per_bar,
            } => {
                self.click.on = on;
                self.click.set_beat(beat_frames);
                self.click.beats_per_bar = beats_per_bar.clamp(1, 64);
            }
            Command::CountIn(frames) => {
                if !self.rolling {
                    self.count_in_left = frames;
                }
            }
            Command::TestTone(on) => self.tone = on,
            Command::SetLoop(range) => self.looping = range,
            Command::SetPunch(range) => self.punch = range,
            Command::SetMasterGain { gain, ramp } => {
                self.master_gain = gain;
                if !ramp {
                    self.master_gain_now = sanitize_gain(gain);
                }
            }
            Command::Stop => self.stop(),
            Command::StopAt(frame) => {
                if self.rolling && !self.capturing && self.count_in_left > 0 {
                    // Stopped during the count-in: nothing was recorded, so nothing runs on.
                    self.stop();
                } else {
                    // A take runs on by what it left out, to end where it was asked to.
                    self.stop_at = Some(frame.saturating_add(self.leave_out.total()));
                }
            }
            Command::Locate(frame) => {
                if !self.rolling {
                    self.position = frame;
                    self.ran = frame;
                }
            }
            Command::SetRecording(on) => {
                self.recording = on;
                if !on {
                    // Nothing holds the latency now: what a count-in grew is no take's.
                    self.leave_out.clear();
                }
                if self.rolling && on && !self.capturing && self.count_in_left == 0 {
                    self.begin_capture();
                } else if !on && self.capturing {
                    self.end_capture();
                }
            }
            Command::AddTrack(track) => {
                if self.tracks.len() < self.tracks.capacity() {
                    self.tracks.push(track);
                } else {
                    self.send(Event::Garbage(Garbage::Track(track)));
                }
            }
            Command::RemoveTrack(id) => {
                if let Some(i) = self.tracks.iter().position(|t| t.id == id) {
                    let track = self.tracks.remove(i);
                    self.send(Event::Garbage(Garbage::Track(track)));
                }
            }
            Command::SetArmed(id, v) => {
                let holding = self.holds_latency();
                self.with_track(id, |t| {
                    if holding && t.capture.is_some() {
                        t.next_armed = Some(v);
                    } else {
                        t.armed = v;
                    }
                });
            }
            Command::SetGain(id, v) => self.with_track(id, |t| t.gain = v),
            Command::SetPan(id, v) => self.with_track(id, |t| t.pan = v),
            Command::SetMute(id, v) => self.with_track(id, |t| t.mute = v),
            Command::SetSolo(id, v) => self.with_track(id, |t| t.solo = v),
            Command::SetMonitor(id, v) => self.with_track(id, |t| t.monitor = v),
            Command::SetInput(id, v) => {
                let holding = self.holds_latency();
                self.with_track(id, |t| {
                    if holding && t.capture.is_some() {
                        t.next_input = Some(v);
                    } else {
                        t.input = v;
                    }
                });
            }
            Command::SetMasterOut(ch) => self.master_out = usize::from(ch),
            Command::SetCapture(id, ring) => {
                let old = match self.track_mut(id) {
                    Some(t) => {
                        t.capture_debt = 0;
                        t.capture.replace(ring)
                    }
                    None => Some(ring),
                };
                if let Some(old) = old {
                    self.send(Event::Garbage(Garbage::Capture(id, old)));
                }
            }
            Command::SetPlayback(id, ring) => {
                let old = match self.track_mut(id) {
                    Some(t) => {
                        t.playback_debt = 0;
                        t.playback.replace(ring)
                    }
                    None => Some(ring),
                };
                if let Some(old) = old {
                    self.send(Event::Garbage(Garbage::Playback(old)));
                }
            }
        }
    }

    fn track_mut(&mut self, id: TrackId) -> Option<&mut TrackRt> {
        self.tracks
            .iter_mut()
            .find(|t| t.id == id)
            .map(|b| &mut **b)
    }

    fn with_track(&mut self, id: TrackId, f: impl FnOnce(&mut TrackRt)) {
        if let Some(t) = self.track_mut(id) {
            f(t);
        }
    }

    /// Whether a take is being recorded or about to be (rolling with recording on, count-in
    /// included): latency must not change now. Realtime-safe.
    pub fn holds_latency(&self) -> bool {
        self.rolling && self.recording
    }

    fn begin_capture(&mut self) {
        self.capturing = true;
        self.send(Event::CaptureStarted(self.position));
    }

    /// Ends capture (or a count-in that never reached it): every capture ring goes back to the
    /// control side, [`EngineStatus::captures_ended`] tells the disk thread the takes are
    /// complete, and arming or input changes asked for meanwhile apply now.
    fn end_capture(&mut self) {
        if self.capturing {
            self.send(Event::CaptureEnded(self.position));
        }
        self.capturing = false;
        self.leave_out.clear();
        for i in 0..self.tracks.len() {
            let t = &mut self.tracks[i];
            let id = t.id;
            t.capture_debt = 0;
            if let Some(a) = t.next_armed.take() {
                t.armed = a;
            }
            if let Some(input) = t.next_input.take() {
                t.input = input;
            }
            if let Some(ring) = t.capture.take() {
                self.send(Event::Garbage(Garbage::Capture(id, ring)));
            }
        }
        // After the last push of every take (Release): the disk thread may close them.
        self.status.captures_ended.fetch_add(1, Ordering::Release);
    }

    fn stop(&mut self) {
        self.stop_at = None;
        self.count_in_left = 0;
        self.leave_out.clear();
        if !self.rolling {
            return;
        }
        if self.capturing || self.recording {
            self.end_capture();
        }
        self.rolling = false;
        // Where it stopped, published before the event: whoever takes the event reads the
        // final count (the push releases what was stored before it).
        self.status.position.store(self.position, Ordering::Relaxed);
        self.status.ran.store(self.ran, Ordering::Relaxed);
        self.send(Event::Stopped(self.position));
    }

    /// Push an event, after any still waiting. When the ring is full it waits on the audio
    /// thread (in preallocated room) for the next block; only past that room is it lost, and
    /// garbage in it is leaked rather than freed here (freeing could block).
    fn send(&mut self, event: Event) {
        self.resend_overflow();
        let event = if self.overflow.is_empty() {
            match self.events.push(event) {
                Ok(()) => return,
                Err(rtrb::PushError::Full(e)) => e,
            }
        } else {
            event
        };
        if self.overflow.len() < self.overflow.capacity() {
            self.overflow.push_back(event);
        } else {
            std::mem::forget(event);
        }
    }

    /// Move waiting events into the ring, oldest first, as far as it has room.
    fn resend_overflow(&mut self) {
        while !self.events.is_full()
            && let Some(e) = self.overflow.pop_front()
        {
            if let Err(rtrb::PushError::Full(e)) = self.events.push(e) {
                self.overflow.push_front(e);
                break;
            }
        }
    }
}

/// Push one block of a track's input into its capture ring. Samples the ring has no room for
/// (the disk thread fell behind) become a debt, paid in silence as soon as there is room, so
/// every later sample lands exactly where it belongs in the take; the loss is counted with the
/// timeline frame where it began.
fn capture_into(
    ring: &mut Producer<f32>,
    inp: &[f32],
    debt: &mut usize,
    ch: usize,
    position: u64,
    status: &EngineStatus,
) {
    if *debt > 0 {
        let k = (*debt).min(ring.slots());
        if let Ok(chunk) = ring.write_chunk_uninit(k) {
            chunk.fill_from_iter(std::iter::repeat(0.0));
        }
        *debt -= k;
    }
    let pushed = if *debt == 0 {
        ring.push_partial_slice(inp).0.len()
    } else {
        0
    };
    let lost = inp.len() - pushed;
    if lost > 0 {
        *debt += lost;
        let at = position + (pushed / ch.max(1)) as u64;
        let _ = status.capture_lost_at.compare_exchange(
            0,
            at + 1,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
        status
            .capture_overruns
            .fetch_add(lost.div_ceil(ch.max(1)) as u64, Ordering::Relaxed);
    }
}

/// Pop this block's playback (`ch` interleaved channels), paying back samples owed from an earlier
/// underrun first so that the track stays in step with the timeline.
fn read_playback(track: &mut TrackRt, play: &mut [f32], ch: usize, status: &EngineStatus) {
    let Some(ring) = track.playback.as_mut() else {
        play.fill(0.0);
        return;
    };
    if track.playback_debt > 0 {
        let k = track.playback_debt.min(ring.slots());
        if let Ok(chunk) = ring.read_chunk(k) {
            chunk.commit_all();
        }
        track.playback_debt -= k;
    }
    let got = if track.playback_debt == 0 {
        ring.pop_partial_slice(play).0.len()
    } else {
        0
    };
    let missing = play.len() - got;
    if missing > 0 {
        play[got..].fill(0.0);
        track.playback_debt += missing;
        status
            .playback_underruns
            .fetch_add((missing / ch) as u64, Ordering::Relaxed);
    }
}

/// Largest absolute sample. Eight lanes so the compiler can vectorise it.
fn peak_of(x: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let chunks = x.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for (m, v) in lanes.iter_mut().zip(c) {
            *m = m.max(v.abs());
        }
    }
    let tail = rest.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    lanes.iter().fold(tail, |m, v| m.max(*v))
}

/// Add one track (`ch` interleaved channels, 1 or 2) into the master at a gain ramping from
/// `g0` to `g1` over the block, panned by `pl`/`pr`. The common case, a fader at rest, is a
/// plain multiply-add that the compiler vectorises.
#[allow(clippy::too_many_arguments)]
fn mix_into(
    src: &[f32],
    ch: usize,
    g0: f32,
    g1: f32,
    pl: f32,
    pr: f32,
    mix_l: &mut [f32],
    mix_r: &mut [f32],
) {
    let step = (g1 - g0) / mix_l.len().max(1) as f32;
    let out = mix_l.iter_mut().zip(mix_r.iter_mut());
    if g0 == g1 {
        let (gl, gr) = (g0 * pl, g0 * pr);
        if ch == 1 {
            for ((l, r), x) in out.zip(src) {
                *l += x * gl;
                *r += x * gr;
            }
        } else {
            for ((l, r), f) in out.zip(src.chunks_exact(2)) {
                *l += f[0] * gl;
                *r += f[1] * gr;
            }
        }
        return;
    }
    for (i, ((l, r), f)) in out.zip(src.chunks_exact(ch)).enumerate() {
        let g = g0 + step * (i + 1) as f32;
        *l += f[0] * g * pl;
        *r += f[ch - 1] * g * pr;
    }
}

/// A gain that cannot blow up the mix: NaN and infinities become silence, and it is capped at
/// +24 dB.
fn sanitize_gain(g: f32) -> f32 {
    if g.is_finite() {
        g.clamp(0.0, 16.0)
    } else {
        0.0
    }
}

/// The device buffers of one stretch of a block.
struct BlockIo<'a> {
    input: &'a [f32],
    in_channels: usize,
    out_channels: usize,
    master_out: usize,
    offset: usize,
    frames: usize,
}

impl BlockIo<'_> {
    /// Copy device input channel `ch` of this stretch into slot `slot` of the interleaved
    /// `dst` (`stride` channels), or silence if the device has no such channel.
    fn read_channel(&self, ch: usize, dst: &mut [f32], slot: usize, stride: usize) {
        if ch >= self.in_channels && stride == 1 {
            dst.fill(0.0);
            return;
        }
        let dst = dst[slot..].iter_mut().step_by(stride);
        if ch >= self.in_channels {
            dst.for_each(|d| *d = 0.0);
            return;
        }
        let start = self.offset * self.in_channels + ch;
        let frames = self.input[start..].iter().step_by(self.in_channels);
        for (d, s) in dst.zip(frames) {
            *d = *s;
        }
    }

    /// Write the master bus: left and right to outputs `master_out` and `master_out + 1` (as far
    /// as the device has them), or their average to a mono device.
    fn write_master(&self, l: &[f32], r: &[f32], output: &mut [f32]) {
        let ch = self.out_channels;
        if ch == 0 {
            return;
        }
        let out = &mut output[self.offset * ch..(self.offset + self.frames) * ch];
        let (lo, ro) = (self.master_out, self.master_out + 1);
        for (i, frame) in out.chunks_exact_mut(ch).enumerate() {
            if ch == 1 {
                frame[0] = 0.5 * (l[i] + r[i]);
                continue;
            }
            if let Some(s) = frame.get_mut(lo) {
                *s = l[i];
            }
            if let Some(s) = frame.get_mut(ro) {
                *s = r[i];
            }
        }
    }
}
