//! [`Engine`]: the control side. It opens the stream, owns the disk thread and the control ends of
//! the realtime queues, turns session tracks into realtime tracks, sets up playback and takes, and
//! collects what the audio and disk threads report. Used by the command line and the GUI. Not on
//! the audio thread: everything that allocates happens here.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rtrb::RingBuffer;

use crate::disk::{DiskCommand, DiskEvent, DiskThread, Take};
use crate::error::{Error, Result};
use crate::io::{self, AudioStream, MAX_BLOCK, StreamInfo, StreamRequest};
use crate::rt::{
    CALLBACK_WINDOW_SECONDS, Command, EngineStatus, Event, MonitorMode, Process, ProcessConfig,
    ProcessHandle, TrackId, TrackMeter, TrackRt,
};
use crate::session::{Session, SessionDir, Track, db_to_gain};

/// Seconds of audio a playback ring holds: the disk thread may stall this long before playback
/// drops out.
pub const PLAYBACK_RING_SECONDS: u32 = 3;
/// Seconds of audio a capture ring holds: the disk thread may stall this long before a take loses
/// audio.
pub const CAPTURE_RING_SECONDS: u32 = 4;

/// What the engine has to tell its user, in order.
#[derive(Debug)]
pub enum Notice {
    /// The transport started at this timeline frame.
    Started(u64),
    /// The transport stopped at this timeline frame.
    Stopped(u64),
    /// Capture started at this timeline frame.
    CaptureStarted(u64),
    /// Capture ended at this timeline frame.
    CaptureEnded(u64),
    /// From the disk thread.
    Disk(DiskEvent),
}

/// Playback rings being filled by the disk thread (see [`Engine::begin_playback`]).
pub struct PlaybackLoad {
    consumers: Vec<(TrackId, rtrb::Consumer<f32>)>,
    ready_rx: mpsc::Receiver<TrackId>,
    remaining: usize,
    from: u64,
    looping: Option<(u64, u64)>,
}

impl PlaybackLoad {
    /// True once every ring is full. Never blocks.
    pub fn ready(&mut self) -> bool {
        while self.remaining > 0 && self.ready_rx.try_recv().is_ok() {
            self.remaining -= 1;
        }
        self.remaining == 0
    }
}

/// Blocks a bridged stream runs before it is used (see [`Engine::settle`]).
const SETTLE_BLOCKS: u64 = 24;
/// The longest [`Engine::settle`] waits for them.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(3);

/// How long past its expected end a run may take before the device is declared stalled.
pub const STALL_GRACE: Duration = Duration::from_secs(5);

/// Why a run ended: the device went away.
pub const DEVICE_GONE: &str = "the audio device went away during the run";

/// Why a run ended: the device stopped calling back `at_seconds` into a run of
/// `expected_seconds`.
pub fn stalled(at_seconds: f64, expected_seconds: f64) -> String {
    format!(
        "the audio device stopped calling back (at {at_seconds:.1} s of a {expected_seconds:.1} \
         s run)"
    )
}

/// A running engine: stream, disk thread, realtime queues.
pub struct Engine {
    // Declared first: dropped first, so the audio thread has put the last block of every take
    // in its ring before the disk thread closes the files. None only between closing one stream
    // and opening the next.
    stream: Option<Box<dyn AudioStream>>,
    handle: ProcessHandle,
    disk: DiskThread,
    meters: HashMap<TrackId, Arc<TrackMeter>>,
    rate: u32,
    req: StreamRequest,
    tracks: Vec<(Track, MonitorMode)>,
    info: StreamInfo,
}

/// Open a stream with a fresh process; check the master output fits the device.
fn open_stream(req: &StreamRequest) -> Result<(Box<dyn AudioStream>, ProcessHandle)> {
    let (process, handle) = Process::new(ProcessConfig {
        rate: req.rate,
        max_block: MAX_BLOCK,
    });
    let stream = io::open(req, process, handle.status.clone())?;
    let outs = stream.info().out_channels;
    if outs > 0 && usize::from(req.master_out) >= outs {
        return Err(Error::InvalidSetting(format!(
            "master output {} is out of range: the device has outputs 1..{outs}",
            req.master_out + 1
        )));
    }
    Ok((stream, handle))
}

impl Engine {
    /// Open the stream described by `req` and start the disk thread. The stream runs from now on,
    /// stopped, with no tracks.
    pub fn start(req: &StreamRequest) -> Result<Self> {
        let disk = DiskThread::start()?;
        let (stream, handle) = open_stream(req)?;
        let mut engine = Self {
            handle,
            disk,
            meters: HashMap::new(),
            rate: req.rate,
            req: req.clone(),
            tracks: Vec::new(),
            info: stream.info().clone(),
            stream: Some(stream),
        };
        engine.send(Command::SetMasterOut(req.master_out))?;
        engine.settle();
        Ok(engine)
    }

    /// Let a stream whose figures come from its callbacks run a few blocks, so that the bridge has
    /// found its latency, the driver's timestamps are in and the size the driver runs has held
    /// (PipeWire's quantum) before anything is recorded, then take those figures into
    /// [`Engine::info`]. A bridged stream runs for the window over which
    /// the callbacks' timing is read (a second). Returns at once for other streams.
    fn settle(&mut self) {
        if !self.info.bridged
            && !matches!(
                self.info.host,
                io::HostId::Alsa
                    | io::HostId::PipeWire
                    | io::HostId::Wasapi
                    | io::HostId::Asio
                    | io::HostId::CoreAudio
            )
        {
            return;
        }
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        // The size the callbacks run at, once they run, may not be the one asked (PipeWire).
        let blocks = |info: &StreamInfo| {
            if info.bridged {
                let window = CALLBACK_WINDOW_SECONDS * f64::from(info.rate);
                SETTLE_BLOCKS.max((window / f64::from(info.buffer.max(1))).ceil() as u64)
            } else {
                SETTLE_BLOCKS
            }
        };
        while self.status().blocks.load(Ordering::Relaxed) < blocks(&self.info)
            && Instant::now() < deadline
            && !self.status().device_lost.load(Ordering::Relaxed)
        {
            std::thread::sleep(Duration::from_millis(5));
            self.follow_server();
        }
        self.follow_server();
        self.info.latency = self.latency_now();
    }

    /// The latency figures now: the driver's (from its callback timestamps where it gives them,
    /// else what it reported when opened) and what the duplex bridge adds at this moment. The
    /// bridge holds its latency while a take is recorded.
    pub fn latency_now(&self) -> io::Latency {
        let st = self.status();
        let mut l = self.info.latency;
        let (i, o) = (
            st.driver_input_latency.load(Ordering::Relaxed),
            st.driver_output_latency.load(Ordering::Relaxed),
        );
        if i > 0 || o > 0 {
            l.input = u32::try_from(i).unwrap_or(u32::MAX);
            l.output = u32::try_from(o).unwrap_or(u32::MAX);
        }
        if self.info.bridged {
            let b = f64::from_bits(st.bridge_latency.load(Ordering::Relaxed));
            l.bridge = if b.is_finite() { b } else { 0.0 };
        }
        l
    }

    /// Open the stream again, on the same device (`None`: after it went away and came back) or
    /// another one, without restarting anything else: the tracks are set up again as they were.
    /// Playback and takes are not carried over; load playback again before rolling. The old
    /// stream is closed first (some drivers, ASIO among them, allow one stream per process).
    pub fn reopen(&mut self, req: Option<&StreamRequest>) -> Result<()> {
        let req = req.cloned().unwrap_or_else(|| self.req.clone());
        self.stream = None;
        let (stream, handle) = open_stream(&req)?;
        self.info = stream.info().clone();
        self.stream = Some(stream);
        self.handle = handle;
        self.rate = req.rate;
        self.req = req;
        self.send(Command::SetMasterOut(self.req.master_out))?;
        self.settle();
        for (t, m) in std::mem::take(&mut self.tracks) {
            self.add_track(&t, m)?;
        }
        Ok(())
    }

    /// Follow a server that runs another buffer size than the one asked or changed it under the
    /// stream (JACK's `jack_bufsize`, PipeWire's quantum): [`Engine::info`] then tells the size
    /// the callbacks run at and the latency reported for it.
    fn follow_server(&mut self) {
        let Some(stream) = self.stream.as_ref() else {
            return;
        };
        if let Some(buffer) = stream.buffer_now() {
            self.info.buffer = buffer;
        }
        if let Some(latency) = stream.reported_latency_now() {
            self.info.latency = latency;
        }
    }

    /// Show the control panel of the driver running this stream, where it has one (ASIO's
    /// driver window; see [`crate::io::control_panel`]).
    pub fn open_control_panel(&self) -> Result<()> {
        crate::io::control_panel::open(self.info.host)
    }

    /// What the stream is now.
    pub fn info(&self) -> &StreamInfo {
        &self.info
    }

    /// Numbers the audio thread publishes.
    pub fn status(&self) -> &Arc<EngineStatus> {
        &self.handle.status
    }

    /// The disk thread.
    pub fn disk(&self) -> &DiskThread {
        &self.disk
    }

    /// A track's meter.
    pub fn meter(&self, track: TrackId) -> Option<&Arc<TrackMeter>> {
        self.meters.get(&track)
    }

    /// Send a command to the audio thread.
    pub fn send(&mut self, cmd: Command) -> Result<()> {
        self.handle
            .commands
            .push(cmd)
            .map_err(|_| Error::Device("the audio thread is not taking commands".into()))
    }

    /// Add a session track to the running engine, with the monitoring mode given.
    pub fn add_track(&mut self, track: &Track, monitor: MonitorMode) -> Result<()> {
        let mut rt = TrackRt::new(track.id, track.input)
            .with_channels(track.channels)
            .with_gain(db_to_gain(track.gain_db));
        rt.pan = track.pan;
        rt.mute = track.mute;
        rt.solo = track.solo;
        rt.armed = track.armed;
        rt.monitor = monitor;
        self.meters.insert(track.id, rt.meter.clone());
        self.tracks.push((track.clone(), monitor));
        self.send(Command::AddTrack(Box::new(rt)))
    }

    /// Remove a track from the running engine.
    pub fn remove_track(&mut self, id: TrackId) -> Result<()> {
        self.tracks.retain(|(t, _)| t.id != id);
        self.meters.remove(&id);
        self.send(Command::RemoveTrack(id))
    }

    /// Record that a running track now has these settings (the commands that changed it were
    /// sent separately), so that a reopened stream sets it up the same way.
    pub fn update_track(&mut self, track: &Track, monitor: MonitorMode) {
        if let Some((t, m)) = self.tracks.iter_mut().find(|(t, _)| t.id == track.id) {
            *t = track.clone();
            *m = monitor;
        }
    }

    /// The tracks the engine runs, as last set up, with how each is monitored.
    pub fn tracks(&self) -> impl Iterator<Item = &(Track, MonitorMode)> {
        self.tracks.iter()
    }

    /// The request the stream was opened with.
    pub fn request(&self) -> &StreamRequest {
        &self.req
    }

    /// Stream the clips of `tracks` from timeline frame `from`. Waits until every ring is full,
    /// then hands the rings to the audio thread and moves the (stopped) playhead to `from`.
    pub fn load_playback(
        &mut self,
        dir: &SessionDir,
        session: &Session,
        tracks: &[TrackId],
        from: u64,
    ) -> Result<()> {
        let load = self.begin_playback(dir, session, tracks, from, None)?;
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut load = load;
        while !load.ready() {
            if std::time::Instant::now() > deadline {
                return Err(Error::Device(
                    "the disk thread did not fill playback in time".into(),
                ));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        self.attach_playback(load)
    }

    /// Ask the disk thread to fill playback rings for `tracks` from `from` (looping `looping`,
    /// if given) without waiting: poll [`PlaybackLoad::ready`], then [`Engine::attach_playback`].
    pub fn begin_playback(
        &mut self,
        dir: &SessionDir,
        session: &Session,
        tracks: &[TrackId],
        from: u64,
        looping: Option<(u64, u64)>,
    ) -> Result<PlaybackLoad> {
        let (ready_tx, ready_rx) = mpsc::channel();
        let mut consumers = Vec::new();
        for &id in tracks {
            let Some(track) = session.track(id) else {
                continue;
            };
            let clips = track.clip_sources(&dir.audio());
            let ch = usize::from(track.channels.clamp(1, 2));
            let (tx, rx) = RingBuffer::new((self.rate * PLAYBACK_RING_SECONDS) as usize * ch);
            self.disk.send(DiskCommand::Playback {
                track: id,
                reader: crate::disk::TrackReader::new(clips, from, ch).with_loop(looping),
                ring: tx,
                ready: ready_tx.clone(),
            })?;
            consumers.push((id, rx));
        }
        Ok(PlaybackLoad {
            remaining: consumers.len(),
            consumers,
            ready_rx,
            from,
            looping,
        })
    }

    /// Hand filled playback rings to the audio thread, with the playhead and loop they were
    /// filled for. Only while stopped.
    pub fn attach_playback(&mut self, load: PlaybackLoad) -> Result<()> {
        self.send(Command::Locate(load.from))?;
        self.send(Command::SetLoop(load.looping))?;
        for (id, rx) in load.consumers {
            self.send(Command::SetPlayback(id, rx))?;
        }
        Ok(())
    }

    /// Hand an already created take file to the disk thread and its capture ring to the audio
    /// thread (the file can be created on another thread, so the caller never waits on the
    /// disk).
    pub fn attach_take(&mut self, track: &Track, writer: Take) -> Result<()> {
        let ch = track.channels.clamp(1, 2);
        let frames = (self.rate * CAPTURE_RING_SECONDS) as usize;
        let (tx, rx) = RingBuffer::new(frames * usize::from(ch));
        self.disk.send(DiskCommand::Take {
            track: track.id,
            writer,
            ring: rx,
            status: self.handle.status.clone(),
            ends_after: self.handle.status.captures_ended.load(Ordering::Acquire),
        })?;
        self.send(Command::SetCapture(track.id, tx))
    }

    /// Collect what the audio and disk threads reported since the last call. Garbage from the
    /// audio thread is dropped here, which is what tells the disk thread a take is complete.
    pub fn poll(&mut self) -> Vec<Notice> {
        self.follow_server();
        let mut out = Vec::new();
        while let Ok(ev) = self.handle.events.pop() {
            match ev {
                Event::Started(f) => out.push(Notice::Started(f)),
                Event::Stopped(f) => out.push(Notice::Stopped(f)),
                Event::CaptureStarted(f) => out.push(Notice::CaptureStarted(f)),
                Event::CaptureEnded(f) => out.push(Notice::CaptureEnded(f)),
                Event::Garbage(g) => drop(g),
            }
        }
        while let Some(ev) = self.disk.try_event() {
            out.push(Notice::Disk(ev));
        }
        out
    }

    /// Wait until the transport stops after rolling about `frames` frames (a run with no
    /// takes: the latency measurement; recordings go through `live::Live`). Gives up when the
    /// device is lost or stops calling back for [`STALL_GRACE`] past the expected end, and says
    /// why; None when it stopped as asked.
    pub fn wait_until_stopped(&mut self, frames: u64) -> Option<String> {
        let rate = f64::from(self.rate.max(1));
        let expected = Duration::from_secs_f64(frames as f64 / rate);
        let deadline = Instant::now() + expected + STALL_GRACE;
        loop {
            if self.poll().iter().any(|n| matches!(n, Notice::Stopped(_))) {
                return None;
            }
            if self.device_lost() {
                return Some(DEVICE_GONE.into());
            }
            if Instant::now() > deadline {
                let at = self.handle.status.position.load(Ordering::Relaxed);
                return Some(stalled(at as f64 / rate, expected.as_secs_f64()));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// True once the driver has said the device or server went away.
    pub fn device_lost(&self) -> bool {
        self.handle.status.device_lost.load(Ordering::Relaxed)
    }

    /// Stop the stream and finish every take with what reached the disk thread. Returns what the
    /// disk thread reported while finishing.
    pub fn shutdown(self) -> Vec<DiskEvent> {
        let Engine {
            handle,
            disk,
            stream,
            ..
        } = self;
        // Dropping the stream drops the process and with it every capture ring's producer.
        drop(stream);
        drop(handle);
        disk.finish()
    }
}

/// A file name for a new take on `track` that does not exist yet in `audio`.
pub fn take_path(audio: &Path, track: &Track) -> PathBuf {
    let base = crate::session::file_safe(&track.name);
    (1..)
        .map(|n| audio.join(format!("{base}-take{n}.wav")))
        .find(|p| !p.exists())
        .unwrap_or_else(|| audio.join(format!("{base}-take.wav")))
}
