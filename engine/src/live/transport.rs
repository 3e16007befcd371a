//! The transport of a [`Live`] session: play, record (with count-in, loop and punch), stop and
//! locate, and placing each recording's takes on their tracks once the disk thread has closed
//! them. Nothing here blocks: a start rolls on a later [`Live::poll`]. Not on the audio thread.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::mpsc;

use super::takes::{
    Pending, Prepared, TakeReport, TakeSpec, discard_prepared, note_result, prepare_takes,
    remove_take_files,
};
use super::{FINISH_WAIT, Live, State};
use crate::disk::DiskEvent;
use crate::error::{Error, Result};
use crate::rt::{Command, TrackId};
use crate::session::{Clip, Edit, Grid, Punch, Track, clear_journal, file_name, recording_clips};

impl Live {
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
    pub(super) fn poll_start(&mut self) {
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
    pub(super) fn position_rolling(&self) -> u64 {
        self.status()
            .map_or(self.playhead, |s| s.position.load(Ordering::Relaxed))
    }

    /// The playhead of the rolling transport, counted as if nothing looped.
    pub(super) fn ran_rolling(&self) -> u64 {
        self.status()
            .map_or(self.playhead, |s| s.ran.load(Ordering::Relaxed))
    }

    /// Move the playhead (only while stopped).
    pub fn locate(&mut self, frame: u64) {
        if matches!(self.state, State::Stopped) {
            self.playhead = frame;
        }
    }

    /// The audio thread stopped at `f` (asked to, or on its own after a take failed).
    pub(super) fn stopped(&mut self, f: u64) {
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

    pub(super) fn disk_event(&mut self, ev: DiskEvent) {
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
    pub(super) fn place_takes(&mut self) {
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
}

/// Where the playhead is after rolling to `ran` (counted as if nothing looped) round `looped`.
fn wrapped(ran: u64, looped: Option<(u64, u64)>) -> u64 {
    match looped {
        Some((a, b)) if b > a && ran >= b => a + (ran - b) % (b - a),
        _ => ran,
    }
}
