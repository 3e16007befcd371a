//! [`Live`]: a session open for recording, the way the desktop app drives it: an [`Editor`] for
//! the session, an [`Engine`] running on the chosen device, and a transport that plays, records
//! and stops without blocking. The UI calls [`Live::poll`] once per frame; everything slow (disk,
//! device) happens on the disk and audio threads. Not on the audio thread.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use crate::disk::MAX_PART_BYTES;
use crate::disk::{DiskEvent, TakeFormat};
use crate::engine::{Engine, Notice, PlaybackLoad};
use crate::error::{Error, Result};
use crate::io::StreamRequest;
use crate::latency::{StoredLatency, find_stored};
use crate::rt::{Command, EngineStatus, MonitorMode, TrackId, TrackMeter};
use crate::session::{
    AUTOSAVE_INTERVAL, Autosave, Clip, Edit, Editor, Grid, Punch, Recovered, SaveJob, SaveResult,
    Saver, SessionDir, SessionLock, Track, clear_journal, file_name, forget_takes, recording_clips,
    recover,
};

mod takes;

use takes::{
    Batch, DiskReserve, Pending, Prepared, TakeSpec, discard_prepared, note_result, prepare_takes,
    remove_take_files,
};
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
    /// Capture overruns already told to the user.
    told_overruns: u64,
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
            told_overruns: 0,
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

    fn update_latency(&mut self) {
        self.latency = match &self.engine {
            None => (0, "no device".into()),
            Some(e) => match find_stored(&self.measured, e.info()) {
                Some(m) => (
                    m.frames_now(e.latency_now().bridge),
                    format!(
                        "measured by `overdub latency` (output {} to input {}; the driver \
                         reports {})",
                        m.out_channel, m.in_channel, m.reported
                    ),
                ),
                None => (
                    e.latency_now().round_trip(),
                    "reported by the driver (run `overdub latency` to measure it)".into(),
                ),
            },
        };
    }

    /// Open (or reopen) the stream on a device: the settings page's Apply. Stops the transport
    /// first; on failure the message says why and no device is open.
    pub fn set_stream(&mut self, req: StreamRequest) -> Result<()> {
        self.stop_and_wait();
        let req = StreamRequest {
            rate: self.editor.session().rate,
            ..req
        };
        self.engine = None;
        self.req = req.clone();
        let mut engine = Engine::start(&req)?;
        for t in self.editor.session().tracks.clone() {
            engine.add_track(&t, self.monitor_of(&t))?;
        }
        self.last_status = Some(engine.status().clone());
        self.engine = Some(engine);
        self.told_overruns = 0;
        self.lost_since = None;
        let m = self.metronome;
        self.set_metronome(m);
        self.update_latency();
        Ok(())
    }

    /// Close the device (before measuring latency with another stream, say). A recording is
    /// stopped and its takes placed first.
    pub fn close_stream(&mut self) {
        self.stop_and_wait();
        self.engine = None;
    }

    /// Leave: stop, place every take (to its last block) and save the session, waiting for all
    /// of it. For the window's close and the program's exit.
    pub fn close(&mut self) -> Result<()> {
        self.stop_and_wait();
        self.shut_engine();
        self.save_now()
    }

    /// Close the session for good (the window's Session ▸ Close): stop, close the device, save,
    /// and let go of the folder, so another program may open it. What is left can be looked at
    /// and nothing more: it is read-only and has no device.
    pub fn release(&mut self) -> Result<()> {
        self.close()?;
        self.saver = None;
        self.lock = None;
        Ok(())
    }

    /// Close the stream: the disk thread finishes every take with what reached it.
    fn shut_engine(&mut self) {
        if let Some(engine) = self.engine.take() {
            for ev in engine.shutdown() {
                self.disk_event(ev);
            }
        }
    }

    /// The device stopped answering: close it under the recording, which keeps everything that
    /// reached the disk, and place the takes.
    pub fn abandon_stream(&mut self) {
        let (at, ran) = (self.position_rolling(), self.ran_rolling());
        self.state = match std::mem::replace(&mut self.state, State::Stopped) {
            State::Playing => {
                self.playhead = at;
                State::Stopped
            }
            starting @ State::Starting { .. } => {
                self.state = starting;
                self.stop();
                State::Stopped
            }
            // A take of a set length is never placed longer than asked.
            recording @ State::Recording { until, .. } => {
                recording.finishing(until.map_or(ran, |u| u.min(ran)))
            }
            other => other.finishing(ran),
        };
        self.shut_engine();
        self.place_takes();
    }

    /// Stop and wait until the transport is at rest with every take closed and placed. When the
    /// audio thread no longer answers (a stalled device), the stream is closed under the takes:
    /// the disk thread finishes them with everything that reached it, and they are placed.
    pub fn stop_and_wait(&mut self) {
        self.stop();
        let deadline = Instant::now()
            + FINISH_WAIT
            + Duration::from_secs_f64(
                f64::from(self.latency.0) / f64::from(self.editor.session().rate.max(1)),
            );
        while matches!(self.state, State::Finishing { .. }) && Instant::now() < deadline {
            self.poll();
            std::thread::sleep(Duration::from_millis(2));
        }
        if matches!(self.state, State::Finishing { .. }) {
            self.shut_engine();
            self.place_takes();
        }
    }

    /// Start or stop playback.
    pub fn toggle_play(&mut self) {
        match self.state {
            State::Stopped => self.play(),
            _ => self.stop(),
        }
    }

    /// Play from the playhead.
    pub fn play(&mut self) {
        if let Err(e) = self.start(false) {
            self.messages.push(e.to_string());
        }
    }

    /// Record the armed tracks from the playhead (after the count-in, if one is set).
    pub fn record(&mut self) {
        if let Err(e) = self.start(true) {
            self.messages.push(e.to_string());
        }
    }

    /// Start playing (or recording the armed tracks) from the playhead; it rolls on a later
    /// [`Live::poll`], once the playback buffers are full and the take files made. Does
    /// nothing unless stopped.
    pub fn start(&mut self, recording: bool) -> Result<()> {
        if !matches!(self.state, State::Stopped) {
            return Ok(());
        }
        if recording {
            self.writable()?;
        }
        self.interruption = None;
        // The bridge of a cpal stream may have grown since the device opened: take the figure
        // that holds for this take.
        self.update_latency();
        let session = self.editor.session().clone();
        let dir = self.editor.dir().clone();
        let Some(engine) = self.engine.as_mut() else {
            return Err(Error::Device(
                "no audio device is open (see Audio settings)".into(),
            ));
        };
        let all: Vec<TrackId> = session.tracks.iter().map(|t| t.id).collect();
        // With Loop on, a recording goes round the loop too: each pass becomes a take.
        let looping = self.loop_range.filter(|_| self.loop_on);
        // The loop a recording goes round: only one started before the loop's end loops.
        let looped = looping.filter(|&(_, b)| recording && self.playhead < b);
        let armed: Vec<Track> = session.tracks.iter().filter(|t| t.armed).cloned().collect();
        if recording && armed.is_empty() {
            return Err(Error::InvalidSetting("arm a track to record on".into()));
        }
        let punch = self.punch.filter(|_| recording);
        if punch.is_some() && looped.is_some() {
            return Err(Error::InvalidSetting(
                "a punch and loop recording do not go together: turn one off".into(),
            ));
        }
        // While recording, an armed track plays none of what it holds: you hear what you
        // record, as on tape. Punching in, it plays up to the punch and from its end (the audio
        // thread silences it in between).
        let players: Vec<TrackId> = if recording && punch.is_none() {
            all.into_iter()
                .filter(|id| !armed.iter().any(|t| t.id == *id))
                .collect()
        } else {
            all
        };
        let load = engine.begin_playback(&dir, &session, &players, self.playhead, looping)?;
        let mut prepare = None;
        if recording {
            // Take files and the journal are written on a thread of their own: the window never
            // waits on the disk.
            let (tx, rx) = mpsc::channel();
            let spec = TakeSpec {
                rate: session.rate,
                format: self.format,
                part_bytes: self.part_bytes,
                looped,
                punch,
            };
            let (at, offset) = (self.playhead, u64::from(self.latency.0));
            std::thread::Builder::new()
                .name("overdub-prepare".into())
                .spawn(move || {
                    let _ = tx.send(prepare_takes(&dir, &armed, spec, at, offset));
                })
                .map_err(|e| Error::Device(format!("cannot prepare the takes: {e}")))?;
            prepare = Some(rx);
        }
        // The rings fill on the disk thread; `poll` starts the transport when they are full.
        self.state = State::Starting {
            load,
            prepare,
            looped,
            punch,
        };
        Ok(())
    }

    /// Roll once the playback rings are full and the take files are ready.
    fn poll_start(&mut self) {
        let State::Starting { load, prepare, .. } = &mut self.state else {
            return;
        };
        if !load.ready() {
            return;
        }
        let prepared = match prepare {
            None => None,
            Some(rx) => match rx.try_recv() {
                Ok(r) => Some(r),
                Err(mpsc::TryRecvError::Empty) => return,
                Err(mpsc::TryRecvError::Disconnected) => Some(Err(Error::Device(
                    "the take files could not be prepared".into(),
                ))),
            },
        };
        let State::Starting {
            load,
            looped,
            punch,
            ..
        } = std::mem::replace(&mut self.state, State::Stopped)
        else {
            return;
        };
        let recording = prepared.is_some();
        let takes = match prepared {
            None => Vec::new(),
            Some(Err(e)) => {
                self.messages.push(e.to_string());
                return;
            }
            Some(Ok(batch)) => {
                self.reserve = Some(batch.reserve);
                // The bridge of a cpal stream may have moved while the files were made: place
                // the takes with the figure that holds as they start.
                self.update_latency();
                match self.attach_takes(batch.takes) {
                    Ok(takes) => takes,
                    Err(e) => {
                        self.reserve = None;
                        self.messages.push(e.to_string());
                        return;
                    }
                }
            }
        };
        let m = self.metronome;
        let Some(engine) = self.engine.as_mut() else {
            return;
        };
        // A punch has its pre-roll instead of a count-in.
        let count_in = if recording && m.count_in_bars > 0 && punch.is_none() {
            let bar = Grid::of(self.editor.session()).frames_per_bar();
            (bar * f64::from(m.count_in_bars)).round() as u64
        } else {
            0
        };
        // A run of a set length stops by itself; a recording runs on by the round trip so the
        // compensated takes are as long as asked.
        let from = self.playhead;
        let until = self.run_length.map(|n| from + n);
        let post_roll = if recording { self.latency.0 } else { 0 };
        let r = engine
            .attach_playback(load)
            .and_then(|()| engine.send(Command::SetRecording(recording)))
            .and_then(|()| {
                engine.send(Command::SetPunch(
                    punch.map(|p| (p.from, p.to.unwrap_or(u64::MAX))),
                ))
            })
            .and_then(|()| engine.send(Command::CountIn(count_in)))
            .and_then(|()| match until {
                Some(u) => engine.send(Command::StopAt(u + u64::from(post_roll))),
                None => Ok(()),
            })
            .and_then(|()| engine.send(Command::Start));
        self.state = match r {
            Ok(()) if recording => State::Recording {
                takes,
                from,
                captured: None,
                until,
                looped,
                punch,
            },
            Ok(()) => State::Playing,
            Err(e) => {
                self.messages.push(e.to_string());
                let bases: Vec<PathBuf> = takes.into_iter().map(|p| p.path).collect();
                remove_take_files(self.editor.dir(), &bases);
                self.reserve = None;
                State::Stopped
            }
        };
    }

    /// Hand prepared take files to the engine. On failure every file is deleted again.
    fn attach_takes(&mut self, prepared: Vec<Prepared>) -> Result<Vec<Pending>> {
        let Some(engine) = self.engine.as_mut() else {
            discard_prepared(self.editor.dir(), prepared);
            return Err(Error::Device("no audio device is open".into()));
        };
        let mut takes = Vec::new();
        let mut prepared = prepared.into_iter();
        for (t, path, take) in prepared.by_ref() {
            if let Err(e) = engine.attach_take(&t, take) {
                let mut bases: Vec<PathBuf> = takes.into_iter().map(|p: Pending| p.path).collect();
                bases.push(path);
                bases.extend(prepared.map(|(_, p, _)| p));
                remove_take_files(self.editor.dir(), &bases);
                return Err(e);
            }
            takes.push(Pending {
                track: t.id,
                path,
                offset: u64::from(self.latency.0),
                result: None,
            });
        }
        Ok(takes)
    }

    /// Loop between two timeline frames: playback, and a recording started before the loop's
    /// end (each pass a take). Changed between takes only: a recording goes round the loop it
    /// started with.
    pub fn set_loop(&mut self, on: bool, range: Option<(u64, u64)>) {
        if self.is_recording() {
            self.messages
                .push("the loop changes between takes: stop recording first".into());
            return;
        }
        self.loop_on = on;
        self.loop_range = range.filter(|(a, b)| b > a);
    }

    /// Record punched in (or not): the next recording shows only within the punch, crossfaded
    /// into what lies under it, and armed tracks play what they hold outside it. Changed between
    /// takes only.
    pub fn set_punch(&mut self, punch: Option<Punch>) {
        if self.is_recording() {
            self.messages
                .push("the punch changes between takes: stop recording first".into());
            return;
        }
        self.punch = punch.filter(|p| p.to.is_none_or(|t| t > p.from));
    }

    /// The punch the next recording is made with.
    pub fn punch(&self) -> Option<Punch> {
        self.punch
    }

    /// Whether looping is on, and the loop range.
    pub fn looping(&self) -> (bool, Option<(u64, u64)>) {
        (self.loop_on, self.loop_range)
    }

    /// Stop, in any state. A recording runs on by the round trip so the last notes are kept,
    /// then its takes are closed and placed on their tracks; one stopped during its count-in
    /// ends at once and leaves no file. A start still filling its buffers is called off.
    pub fn stop(&mut self) {
        match std::mem::replace(&mut self.state, State::Stopped) {
            State::Stopped => {}
            State::Playing => {
                self.playhead = self.position_rolling();
                self.send(Command::Stop);
            }
            State::Starting { prepare, .. } => {
                // Nothing rolled. Take files being made are waited for and deleted.
                if let Some(rx) = prepare {
                    match rx.recv_timeout(FINISH_WAIT) {
                        Ok(Ok(batch)) => discard_prepared(self.editor.dir(), batch.takes),
                        _ => {
                            let _ = clear_journal(self.editor.dir());
                        }
                    }
                }
            }
            recording @ State::Recording { until, from, .. } => {
                let at = self.ran_rolling().max(from).min(until.unwrap_or(u64::MAX));
                self.send(Command::StopAt(at + u64::from(self.latency.0)));
                self.state = recording.finishing(at);
            }
            finishing @ State::Finishing { .. } => self.state = finishing,
        }
    }

    /// The playhead of the rolling transport.
    fn position_rolling(&self) -> u64 {
        self.status()
            .map_or(self.playhead, |s| s.position.load(Ordering::Relaxed))
    }

    /// The playhead of the rolling transport, counted as if nothing looped.
    fn ran_rolling(&self) -> u64 {
        self.status()
            .map_or(self.playhead, |s| s.ran.load(Ordering::Relaxed))
    }

    /// Move the playhead (only while stopped).
    pub fn locate(&mut self, frame: u64) {
        if matches!(self.state, State::Stopped) {
            self.playhead = frame;
        }
    }

    /// Apply an edit and mirror it to the engine.
    pub fn apply(&mut self, edit: Edit) -> Result<Option<u32>> {
        self.writable()?;
        let structural = matches!(
            edit,
            Edit::AddTrack { .. } | Edit::RemoveTrack(_) | Edit::SetChannels(..)
        );
        if structural && !matches!(self.state, State::Stopped) {
            return Err(Error::InvalidSetting(
                "stop the transport before adding or removing tracks".into(),
            ));
        }
        let between_takes = matches!(edit, Edit::SetArmed(..) | Edit::SetInput(..));
        if between_takes && self.is_recording() {
            return Err(Error::InvalidSetting(
                "arming and inputs change between takes: stop recording first".into(),
            ));
        }
        let r = self.editor.apply(edit)?;
        self.sync_engine();
        Ok(r)
    }

    /// Let the engine hear a fader or pan move now, without an edit (while a slider is being
    /// dragged; the edit follows when it is let go).
    pub fn preview(&mut self, edit: &Edit) {
        match edit {
            Edit::SetGain(id, db) => {
                self.send(Command::SetGain(*id, crate::session::db_to_gain(*db)));
            }
            Edit::SetPan(id, p) => self.send(Command::SetPan(*id, *p)),
            Edit::SetMasterGain(db) => self.send(Command::SetMasterGain {
                gain: crate::session::db_to_gain(*db),
                ramp: true,
            }),
            _ => {}
        }
    }

    /// Undo the last edit.
    pub fn undo(&mut self) -> Option<&'static str> {
        if !matches!(self.state, State::Stopped) {
            return None;
        }
        let l = self.editor.undo();
        self.sync_engine();
        l
    }

    /// Redo the last undone edit.
    pub fn redo(&mut self) -> Option<&'static str> {
        if !matches!(self.state, State::Stopped) {
            return None;
        }
        let l = self.editor.redo();
        self.sync_engine();
        l
    }

    /// Save the session (on the saving thread; a failure comes back as a message).
    pub fn save(&mut self) -> Result<()> {
        self.writable()?;
        self.queue_save(Vec::new())
    }

    /// Save now, on this thread, and wait (for leaving the program).
    pub fn save_now(&mut self) -> Result<()> {
        if self.is_read_only() {
            return Ok(());
        }
        if let Some(s) = self.saver.take() {
            for r in s.flush() {
                self.saver_result(r);
            }
            self.saver = Saver::start(self.editor.dir().clone()).ok();
        }
        self.editor.save()
    }

    /// Save on the saving thread; then the journal entries of the takes in `placed` go.
    fn queue_save(&mut self, placed: Vec<String>) -> Result<()> {
        self.writable()?;
        let job = SaveJob::Save {
            session: self.editor.session().clone(),
            placed: placed.clone(),
        };
        let generation = self.editor.generation();
        match &self.saver {
            Some(s) if s.send(job, generation) => Ok(()),
            _ => {
                self.editor.save()?;
                forget_takes(self.editor.dir(), &placed)
            }
        }
    }

    fn saver_result(&mut self, r: SaveResult) {
        match r {
            SaveResult::Saved {
                backup: false,
                generation,
            } => self.editor.saved(generation),
            SaveResult::Saved { backup: true, .. } => {}
            SaveResult::Failed(e) => self.messages.push(format!(
                "could not save ({e}); the last good save is untouched and recorded takes will \
                 be recovered at the next start"
            )),
        }
    }

    /// Load `session.json` again (after an import wrote it).
    pub fn reload(&mut self) -> Result<()> {
        let s = self.editor.dir().load()?;
        self.editor.replace(s);
        self.queue_save(Vec::new())?;
        self.sync_engine();
        Ok(())
    }

    /// Bring the engine's tracks in line with the session: new tracks added, removed ones
    /// removed, changed ones set.
    fn sync_engine(&mut self) {
        let session = self.editor.session().clone();
        let monitors: Vec<MonitorMode> =
            session.tracks.iter().map(|t| self.monitor_of(t)).collect();
        let Some(engine) = self.engine.as_mut() else {
            return;
        };
        let running: Vec<(Track, MonitorMode)> = engine.tracks().cloned().collect();
        let mut errors = Vec::new();
        for (t, _) in &running {
            let keep = session
                .track(t.id)
                .is_some_and(|s| s.channels == t.channels);
            if !keep && let Err(e) = engine.remove_track(t.id) {
                errors.push(e);
            }
        }
        for (t, &monitor) in session.tracks.iter().zip(&monitors) {
            let before = running.iter().find(|(r, _)| r.id == t.id);
            let r = match before {
                Some(b) if b.0.channels == t.channels => sync_track(engine, b, t, monitor),
                _ => engine.add_track(t, monitor),
            };
            if let Err(e) = r {
                errors.push(e);
            }
        }
        self.messages
            .extend(errors.into_iter().map(|e| e.to_string()));
        // A tempo or time signature edit (or its undo) moves the clicks with the grid.
        self.send_click();
        let gain = crate::session::db_to_gain(session.master_gain_db);
        self.send(Command::SetMasterGain { gain, ramp: true });
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

    /// Say when the disk fell behind a take (the lost frames are silence; nothing moved).
    fn tell_capture_loss(&mut self) {
        let Some(st) = self.status() else {
            return;
        };
        let n = st.capture_overruns.load(Ordering::Relaxed);
        if n <= self.told_overruns {
            return;
        }
        let at = st.first_capture_loss().unwrap_or(0);
        let rate = f64::from(self.editor.session().rate.max(1));
        self.messages.push(format!(
            "the disk fell behind the recording (first at {:.3} s): {} frames became silence, \
             everything after is in its place",
            at as f64 / rate,
            n
        ));
        self.told_overruns = n;
    }

    /// The server changed the buffer size under the stream (JACK, PipeWire): say so, and take
    /// the latency that holds for the new size (a take under way keeps its own).
    fn follow_buffer_size(&mut self) {
        let Some(buffer) = self.engine.as_ref().map(|e| e.info().buffer) else {
            return;
        };
        if buffer == self.buffer_seen {
            return;
        }
        if self.buffer_seen != 0 {
            self.messages.push(format!(
                "the audio server changed the buffer size to {buffer} frames"
            ));
        }
        self.buffer_seen = buffer;
        if !self.is_recording() {
            self.update_latency();
        }
    }

    /// The audio thread stopped at `f` (asked to, or on its own after a take failed).
    fn stopped(&mut self, f: u64) {
        let ran = self.ran_rolling();
        match &self.state {
            State::Finishing {
                stop_at, looped, ..
            } => self.playhead = wrapped(*stop_at, *looped),
            State::Recording { .. } | State::Playing => self.playhead = f,
            State::Stopped | State::Starting { .. } => {}
        }
        self.state = match std::mem::replace(&mut self.state, State::Stopped) {
            State::Playing => State::Stopped,
            recording @ State::Recording { until, .. } => {
                recording.finishing(until.map_or(ran, |u| u.min(ran)))
            }
            other => other.finishing(ran),
        };
    }

    fn disk_event(&mut self, ev: DiskEvent) {
        match ev {
            DiskEvent::TakeDone { path, parts, .. } => {
                if let Some(takes) = self.state.takes_mut() {
                    note_result(takes, &path, parts, None);
                }
            }
            DiskEvent::TakeFailed {
                path, parts, error, ..
            } => {
                let why = format!(
                    "recording stopped: a take could not be written ({error}); everything \
                     recorded until then is kept"
                );
                self.messages.push(why.clone());
                self.interruption.get_or_insert(why);
                if matches!(self.state, State::Recording { .. }) {
                    self.stop();
                }
                if let Some(takes) = self.state.takes_mut() {
                    note_result(takes, &path, parts, Some(error));
                }
            }
            DiskEvent::ReadFailed { error, .. } => self.messages.push(error),
        }
    }

    /// Every take is closed: put them on their tracks (one undo step), save, drop the journal.
    /// Takes of a recording stopped before capture began hold nothing: their files go.
    fn place_takes(&mut self) {
        let State::Finishing {
            takes,
            from,
            captured,
            stop_at,
            looped,
            punch,
        } = std::mem::replace(&mut self.state, State::Stopped)
        else {
            return;
        };
        self.placed.clear();
        let Some(start) = captured else {
            self.playhead = from;
            let bases: Vec<PathBuf> = takes.into_iter().map(|p| p.path).collect();
            remove_take_files(self.editor.dir(), &bases);
            self.reserve = None;
            return;
        };
        let mut takes = takes;
        for p in takes.iter_mut().filter(|p| p.result.is_none()) {
            // The disk thread never said: what is on disk is the take.
            p.result = Some((
                crate::disk::salvage_parts(&p.path),
                Some("the disk thread did not report this take; its files were kept".into()),
            ));
        }
        let latency = takes.first().map_or(0, |p| p.offset);
        let asked = Some(stop_at.saturating_sub(start));
        let placed: Vec<(TrackId, &[(PathBuf, u64)])> = takes
            .iter()
            .filter_map(|p| {
                p.result
                    .as_ref()
                    .map(|(parts, _)| (p.track, parts.as_slice()))
            })
            .collect();
        let clips = recording_clips(&placed, start, latency, asked, looped, punch);
        if !clips.is_empty()
            && let Err(e) = self.editor.apply(Edit::AddClips(clips))
        {
            self.messages.push(e.to_string());
        }
        let files: Vec<String> = takes.iter().map(|p| file_name(&p.path)).collect();
        self.placed = takes.into_iter().map(|p| self.report_take(p)).collect();
        // The takes are closed: the space held back is given back so the session can be saved
        // on a full disk. Their journal entries go once the save is done (on the saving thread).
        self.reserve = None;
        if let Err(e) = self.queue_save(files) {
            self.messages.push(format!(
                "the takes are recorded but the session could not be saved ({e}); they will be \
                 recovered at the next start"
            ));
        }
    }

    /// What became of one take: its files and the clips that place it.
    fn report_take(&self, p: Pending) -> TakeReport {
        let (parts, error) = p.result.unwrap_or_default();
        let track = self.editor.session().track(p.track);
        let names: Vec<String> = parts.iter().map(|(f, _)| file_name(f)).collect();
        let clips: Vec<Clip> = track
            .map(|t| {
                t.clips
                    .iter()
                    .filter(|c| names.contains(&c.file))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        TakeReport {
            track: p.track,
            track_name: track.map(|t| t.name.clone()).unwrap_or_default(),
            file: p.path,
            file_frames: parts.iter().map(|(_, f)| f).sum(),
            parts,
            clips,
            error,
        }
    }

    fn watch_device(&mut self) {
        let lost = self.engine.as_ref().is_some_and(Engine::device_lost);
        if !lost {
            return;
        }
        if !self.reconnect {
            // The command line: end the run with every take kept.
            self.interruption
                .get_or_insert_with(|| crate::engine::DEVICE_GONE.into());
            self.abandon_stream();
            return;
        }
        let now = Instant::now();
        if self.lost_since.is_none() {
            self.lost_since = Some(now);
            self.messages.push(
                "the audio device went away; the takes so far are kept. Reconnecting when it \
                 returns, or choose another in Audio settings."
                    .into(),
            );
            let (at, ran) = (self.position_rolling(), self.ran_rolling());
            match std::mem::replace(&mut self.state, State::Stopped) {
                State::Playing => self.playhead = at,
                starting @ State::Starting { .. } => {
                    self.state = starting;
                    self.stop();
                }
                other => self.state = other.finishing(ran),
            }
        }
        if self.last_try.is_some_and(|t| now - t < RECONNECT_EVERY) {
            return;
        }
        self.last_try = Some(now);
        if let Some(engine) = self.engine.as_mut() {
            // Reopening closes the dead stream first, which also lets its takes be finished.
            if engine.reopen(None).is_ok() {
                self.lost_since = None;
                self.told_overruns = 0;
                self.messages.push("the audio device is back".into());
                let m = self.metronome;
                self.set_metronome(m);
                self.update_latency();
            }
        }
    }
}

/// Send the engine what changed on a track; `monitor` is how it is to be monitored now.
fn sync_track(
    engine: &mut Engine,
    before: &(Track, MonitorMode),
    t: &Track,
    monitor: MonitorMode,
) -> Result<()> {
    let (before, was) = (&before.0, before.1);
    use crate::session::db_to_gain;
    let id = t.id;
    if before.gain_db != t.gain_db {
        engine.send(Command::SetGain(id, db_to_gain(t.gain_db)))?;
    }
    if before.pan != t.pan {
        engine.send(Command::SetPan(id, t.pan))?;
    }
    if before.mute != t.mute {
        engine.send(Command::SetMute(id, t.mute))?;
    }
    if before.solo != t.solo {
        engine.send(Command::SetSolo(id, t.solo))?;
    }
    if was != monitor {
        engine.send(Command::SetMonitor(id, monitor))?;
    }
    if before.armed != t.armed {
        engine.send(Command::SetArmed(id, t.armed))?;
    }
    if before.input != t.input {
        engine.send(Command::SetInput(id, t.input))?;
    }
    engine.update_track(t, monitor);
    Ok(())
}

/// Where the playhead is after rolling to `ran` (counted as if nothing looped) round `looped`.
fn wrapped(ran: u64, looped: Option<(u64, u64)>) -> u64 {
    match looped {
        Some((a, b)) if b > a && ran >= b => a + (ran - b) % (b - a),
        _ => ran,
    }
}
