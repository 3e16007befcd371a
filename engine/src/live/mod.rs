//! [`Live`]: a session open for recording, the way the desktop app drives it: an [`Editor`] for
//! the session, an [`Engine`] running on the chosen device, and a transport that plays, records
//! and stops without blocking. The UI calls [`Live::poll`] once per frame; everything slow (disk,
//! device) happens on the disk and audio threads. Not on the audio thread.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use crate::disk::MAX_PART_BYTES;
use crate::disk::TakeFormat;
use crate::engine::{Engine, Notice, PlaybackLoad};
use crate::error::{Error, Result};
use crate::io::StreamRequest;
use crate::latency::StoredLatency;
use crate::rt::{Command, EngineStatus, MonitorMode, TrackId, TrackMeter};
use crate::session::{
    AUTOSAVE_INTERVAL, Autosave, Editor, Grid, Punch, Recovered, SaveJob, Saver, SessionDir,
    SessionLock, Track, recover,
};

mod device;
mod edits;
mod takes;
mod transport;

use takes::{Batch, DiskReserve, Pending};
pub use takes::{DISK_RESERVE_BYTES, TakeReport};

/// What the transport is doing, as the window shows it (see [`State`] for what each carries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// Stopped at the playhead.
    Stopped,
    /// Filling playback buffers before rolling (a few milliseconds).
    Starting,
    /// Playing.
    Playing,
    /// Recording the armed tracks (counting in first, if asked).
    Recording,
    /// Stopped recording; the takes are being closed and placed.
    Finishing,
}

/// The transport's state with the data that belongs to it, so that no state can be entered
/// without what it needs or left without handing it on.
enum State {
    /// At rest at the playhead.
    Stopped,
    /// Playback rings filling (and take files being created on a helper thread, when
    /// recording) before rolling.
    Starting {
        load: PlaybackLoad,
        /// The take files being prepared; None when only playing.
        prepare: Option<mpsc::Receiver<Result<Batch>>>,
        /// The loop a recording will go round.
        looped: Option<(u64, u64)>,
        /// The punch a recording is made with.
        punch: Option<Punch>,
    },
    /// Rolling without recording.
    Playing,
    /// Rolling with takes: counting in until `captured` says where capture began.
    Recording {
        takes: Vec<Pending>,
        /// Timeline frame where the recording was started (the count-in comes before it).
        from: u64,
        /// Where capture began, once the audio thread said so.
        captured: Option<u64>,
        /// Where the recording stops by itself (a take of a set length), if it does, counted
        /// as if nothing looped (as `EngineStatus::ran`).
        until: Option<u64>,
        /// The loop the recording goes round, if it does.
        looped: Option<(u64, u64)>,
        /// Where the recording shows, if it is punched in.
        punch: Option<Punch>,
    },
    /// Stop asked at `stop_at`; the recording runs on by the round trip, then every take is
    /// closed by the disk thread and placed.
    Finishing {
        takes: Vec<Pending>,
        from: u64,
        captured: Option<u64>,
        /// Counted as if nothing looped.
        stop_at: u64,
        looped: Option<(u64, u64)>,
        punch: Option<Punch>,
    },
}

impl State {
    fn takes_mut(&mut self) -> Option<&mut Vec<Pending>> {
        match self {
            Self::Recording { takes, .. } | Self::Finishing { takes, .. } => Some(takes),
            _ => None,
        }
    }

    /// A recording asked to stop at `stop_at` becomes `Finishing`; any other state stays. A
    /// stop read before the audio thread started rolling counts as the start.
    fn finishing(self, stop_at: u64) -> Self {
        match self {
            Self::Recording {
                takes,
                from,
                captured,
                looped,
                punch,
                ..
            } => Self::Finishing {
                takes,
                from,
                captured,
                stop_at: stop_at.max(from),
                looped,
                punch,
            },
            other => other,
        }
    }
}

/// How long a device change or leaving waits for a recording's takes to close before it closes
/// the stream under them (the disk thread then finishes them with what reached it).
const FINISH_WAIT: Duration = Duration::from_secs(3);

/// Metronome settings. Its tempo and time signature are the session's (`Edit::SetTempo`,
/// `Edit::SetMeter`), so the clicks fall on the grid's lines.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Metronome {
    /// Click while rolling.
    pub on: bool,
    /// Bars of count-in before recording.
    pub count_in_bars: u32,
}

/// How often to try the device again after it went away.
const RECONNECT_EVERY: Duration = Duration::from_secs(1);

/// A session open for recording.
pub struct Live {
    editor: Editor,
    engine: Option<Engine>,
    req: StreamRequest,
    measured: Vec<StoredLatency>,
    state: State,
    playhead: u64,
    latency: (u32, String),
    messages: Vec<String>,
    autosave: Autosave,
    /// Format of new takes.
    pub format: TakeFormat,
    metronome: Metronome,
    lost_since: Option<Instant>,
    last_try: Option<Instant>,
    /// What the engine counted that the user was already told (from zero with each stream).
    told: device::Told,
    /// The stream's buffer size as last seen (0: none yet).
    buffer_seen: u32,
    saver: Option<Saver>,
    loop_on: bool,
    loop_range: Option<(u64, u64)>,
    punch: Option<Punch>,
    /// Largest data size of one take file before the take continues in a new part.
    pub part_bytes: u64,
    /// Try the device again when it goes away (the window); the command line stops instead.
    reconnect: bool,
    /// Monitoring for every track regardless of the session: `Some(true)` hears the armed
    /// inputs, `Some(false)` none (the command line's `--monitor`).
    monitor_override: Option<bool>,
    /// Takes of an interrupted recording put back when the session was opened.
    recovered: Option<Recovered>,
    /// Disk space held back while takes are open, given back before the session is saved.
    reserve: Option<DiskReserve>,
    /// The takes of the last recording, as placed.
    placed: Vec<TakeReport>,
    /// Timeline frames the next run lasts before it stops by itself (None: until Stop).
    run_length: Option<u64>,
    /// Why the last recording ended before it was asked to.
    interruption: Option<String>,
    /// The status numbers of the last engine, kept after it is closed.
    last_status: Option<Arc<EngineStatus>>,
    /// The session's writer lock; None when opened read-only.
    lock: Option<SessionLock>,
    /// Another thread of this program is writing `session.json` (an import): no edits, saves
    /// or recordings until it is done.
    busy: Option<&'static str>,
}

/// How a session is opened.
#[derive(Clone, Copy, Debug)]
pub enum Access {
    /// For writing, as this program ("overdub record"); refused while another holds it.
    Write(&'static str),
    /// To look and listen only.
    ReadOnly,
}

impl Live {
    /// Open the session in `dir` on the device `req` (its rate is set to the session's). A device
    /// that cannot be opened is reported in [`Live::take_messages`]; the session stays open and
    /// editable, and [`Live::set_stream`] can try another. Takes of an interrupted recording are
    /// put back first.
    pub fn open(dir: &Path, req: StreamRequest, measured: Vec<StoredLatency>) -> Result<Self> {
        let mut live = Self::open_session(dir, req, measured, Access::Write("the Overdub window"))?;
        live.open_device();
        Ok(live)
    }

    /// Open the session to look and listen, without writing anything to its folder (another
    /// program holds it): no recording, no edits, no saves, no recovery.
    pub fn open_read_only(
        dir: &Path,
        req: StreamRequest,
        measured: Vec<StoredLatency>,
    ) -> Result<Self> {
        let mut live = Self::open_session(dir, req, measured, Access::ReadOnly)?;
        live.open_device();
        Ok(live)
    }

    fn open_device(&mut self) {
        let req = self.req.clone();
        if let Err(e) = self.set_stream(req) {
            self.messages.push(e.to_string());
        }
    }

    /// Whether the session was opened read-only.
    pub fn is_read_only(&self) -> bool {
        self.lock.is_none()
    }

    /// The refusal for a change to a read-only session, or while an import writes it.
    fn writable(&self) -> Result<()> {
        if self.lock.is_none() {
            return Err(Error::InvalidSetting(
                "this session is open read-only (another program is writing it)".into(),
            ));
        }
        match self.busy {
            Some(what) => Err(Error::InvalidSetting(format!(
                "wait for the {what} to finish"
            ))),
            None => Ok(()),
        }
    }

    /// Hand `session.json` to another thread of this program that edits it on disk (`what`,
    /// e.g. "import"): everything so far is saved first, and until
    /// [`Live::end_outside_write`] edits, saves and recording are refused, so nothing is lost
    /// when the session is read back.
    pub fn begin_outside_write(&mut self, what: &'static str) -> Result<()> {
        self.writable()?;
        if self.is_recording() {
            return Err(Error::InvalidSetting(format!(
                "stop recording before the {what}"
            )));
        }
        self.save_now()?;
        self.busy = Some(what);
        Ok(())
    }

    /// The other writer is done: read `session.json` back (see [`Live::reload`]).
    pub fn end_outside_write(&mut self) -> Result<()> {
        self.busy = None;
        self.reload()
    }

    /// Open the session with no device yet ([`Live::set_stream`] opens one). For the command
    /// line, which sets up its tracks first and needs the device's failure as an error.
    pub fn open_session(
        dir: &Path,
        req: StreamRequest,
        measured: Vec<StoredLatency>,
        access: Access,
    ) -> Result<Self> {
        let sdir = SessionDir::new(dir);
        let mut messages = Vec::new();
        let (lock, recovered) = match access {
            // Checked before the lock, so a bad session is refused with nothing written.
            Access::Write(program) => (Some(sdir.lock_checked(program)?), recover(&sdir)?),
            Access::ReadOnly => (None, None),
        };
        if let Some(r) = &recovered {
            messages.push(format!(
                "recovered an interrupted recording: {} clip(s) put back",
                r.clips.len()
            ));
        }
        let (session, warnings) = sdir.load_checked()?;
        messages.extend(warnings);
        let editor = Editor::new(sdir, session);
        let req = StreamRequest {
            rate: editor.session().rate,
            ..req
        };
        let mut live = Self {
            editor,
            engine: None,
            req,
            measured,
            state: State::Stopped,
            playhead: 0,
            latency: (0, String::new()),
            messages,
            autosave: Autosave::new(AUTOSAVE_INTERVAL),
            format: TakeFormat::F32,
            metronome: Metronome::default(),
            lost_since: None,
            last_try: None,
            told: device::Told::default(),
            buffer_seen: 0,
            saver: None,
            loop_on: false,
            loop_range: None,
            punch: None,
            part_bytes: MAX_PART_BYTES,
            reconnect: true,
            monitor_override: None,
            recovered,
            reserve: None,
            placed: Vec::new(),
            run_length: None,
            interruption: None,
            last_status: None,
            lock,
            busy: None,
        };
        if live.lock.is_some() {
            live.saver = Saver::start(live.editor.dir().clone()).ok();
        }
        Ok(live)
    }

    /// For the command line: monitor the armed inputs (`true`) or nothing (`false`) whatever
    /// the session says, and end a run when the device goes away instead of waiting for it.
    /// Set before [`Live::set_stream`].
    pub fn set_headless(&mut self, monitor: bool) {
        self.monitor_override = Some(monitor);
        self.reconnect = false;
    }

    /// The next run stops by itself after `frames` timeline frames (a recording runs on by the
    /// round trip so its takes are as long as asked); None: it runs until [`Live::stop`].
    pub fn stop_after(&mut self, frames: Option<u64>) {
        self.run_length = frames;
    }

    /// Takes of an interrupted recording that were put back when the session was opened.
    pub fn recovered(&self) -> Option<&Recovered> {
        self.recovered.as_ref()
    }

    /// The takes of the last recording, as placed on their tracks.
    pub fn last_takes(&self) -> &[TakeReport] {
        &self.placed
    }

    /// Why the last run ended before it was asked to (a take that could not be written, the
    /// device gone), once; None if it did not.
    pub fn take_interruption(&mut self) -> Option<String> {
        self.interruption.take()
    }

    /// How a track is monitored on the engine.
    fn monitor_of(&self, t: &Track) -> MonitorMode {
        match self.monitor_override {
            None => t.monitor,
            Some(true) if t.armed => MonitorMode::Input,
            Some(_) => MonitorMode::Off,
        }
    }

    /// The session and its edit history.
    pub fn editor(&self) -> &Editor {
        &self.editor
    }

    /// The running engine, if a device is open.
    pub fn engine(&self) -> Option<&Engine> {
        self.engine.as_ref()
    }

    /// The device request in force.
    pub fn request(&self) -> &StreamRequest {
        &self.req
    }

    /// The engine's status numbers, if a device is open.
    pub fn status(&self) -> Option<&Arc<EngineStatus>> {
        self.engine.as_ref().map(Engine::status)
    }

    /// The status numbers of the open engine, or of the last one if it has been closed (what
    /// a run counted, after the device went away).
    pub fn last_status(&self) -> Option<&Arc<EngineStatus>> {
        self.status().or(self.last_status.as_ref())
    }

    /// A track's meter.
    pub fn meter(&self, track: TrackId) -> Option<&Arc<TrackMeter>> {
        self.engine.as_ref().and_then(|e| e.meter(track))
    }

    /// The transport.
    pub fn transport(&self) -> Transport {
        match self.state {
            State::Stopped => Transport::Stopped,
            State::Starting { .. } => Transport::Starting,
            State::Playing => Transport::Playing,
            State::Recording { .. } => Transport::Recording,
            State::Finishing { .. } => Transport::Finishing,
        }
    }

    /// Whether a recording is on its way, under way or being finished: arming, inputs and the
    /// device stay as they are until its takes are placed.
    pub fn is_recording(&self) -> bool {
        match &self.state {
            State::Starting { prepare, .. } => prepare.is_some(),
            State::Recording { .. } | State::Finishing { .. } => true,
            State::Stopped | State::Playing => false,
        }
    }

    /// Where the playhead is, timeline frames.
    pub fn position(&self) -> u64 {
        match (&self.state, self.status()) {
            (State::Stopped | State::Starting { .. }, _) | (_, None) => self.playhead,
            (_, Some(s)) => s.position.load(Ordering::Relaxed),
        }
    }

    /// The take being recorded: where it started and where the playhead is now.
    pub fn live_take(&self) -> Option<(u64, u64, Vec<TrackId>)> {
        let State::Recording {
            takes,
            from,
            captured,
            looped,
            ..
        } = &self.state
        else {
            return None;
        };
        let (start, now) = (captured.unwrap_or(*from), self.position());
        // Round a loop, the pass under way began at the loop start.
        let start = match looped {
            Some((a, _)) if now < start => *a,
            _ => start,
        };
        Some((start, now, takes.iter().map(|p| p.track).collect()))
    }

    /// The files of the takes being recorded (or finished).
    pub fn take_files(&self) -> Vec<PathBuf> {
        match &self.state {
            State::Recording { takes, .. } | State::Finishing { takes, .. } => {
                takes.iter().map(|p| p.path.clone()).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The round trip compensated in takes, frames, and where the figure came from.
    pub fn latency(&self) -> &(u32, String) {
        &self.latency
    }

    /// Messages for the user since the last call (errors, recoveries, device changes).
    pub fn take_messages(&mut self) -> Vec<String> {
        std::mem::take(&mut self.messages)
    }

    /// Metronome settings.
    pub fn metronome(&self) -> Metronome {
        self.metronome
    }

    /// Change the metronome.
    pub fn set_metronome(&mut self, m: Metronome) {
        self.metronome = m;
        self.send_click();
    }

    /// The click as the metronome and the session's grid say.
    fn send_click(&mut self) {
        let grid = Grid::of(self.editor.session());
        self.send(Command::SetClick {
            on: self.metronome.on,
            beat_frames: grid.frames_per_beat,
            beats_per_bar: grid.beats_per_bar,
        });
    }

    /// Play the settings page's test tone.
    pub fn set_test_tone(&mut self, on: bool) {
        self.send(Command::TestTone(on));
    }

    /// Stored loopback measurements.
    pub fn set_measured(&mut self, measured: Vec<StoredLatency>) {
        self.measured = measured;
        self.update_latency();
    }

    fn send(&mut self, c: Command) {
        if let Some(e) = self.engine.as_mut()
            && let Err(err) = e.send(c)
        {
            self.messages.push(err.to_string());
        }
    }

    /// Call once per UI frame: collect what the engine reports, place finished takes, reconnect
    /// a lost device, autosave. The take files themselves are closed by the disk thread without
    /// this; it only puts them on the timeline.
    pub fn poll(&mut self) {
        let notices = self.engine.as_mut().map(Engine::poll).unwrap_or_default();
        for n in notices {
            match n {
                Notice::CaptureStarted(f) => {
                    if let State::Recording { captured, .. } | State::Finishing { captured, .. } =
                        &mut self.state
                    {
                        *captured = Some(f);
                    }
                }
                Notice::Stopped(f) => self.stopped(f),
                Notice::Disk(ev) => self.disk_event(ev),
                _ => {}
            }
        }
        self.tell_capture_loss();
        self.tell_bridge();
        self.follow_buffer_size();
        self.poll_start();
        let results = self.saver.as_ref().map(Saver::results).unwrap_or_default();
        for r in results {
            self.saver_result(r);
        }
        if let State::Finishing { takes, .. } = &self.state
            && takes.iter().all(|p| p.result.is_some())
        {
            self.place_takes();
        }
        self.watch_device();
        if self
            .autosave
            .due(self.editor.is_dirty(), self.is_recording(), Instant::now())
            && let Some(s) = &self.saver
        {
            s.send(
                SaveJob::Backup(self.editor.session().clone()),
                self.editor.generation(),
            );
        }
    }
}
