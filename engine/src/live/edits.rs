//! Editing and saving a [`Live`] session: edits, undo and redo, saves on the saving thread, and
//! keeping the running engine in step with the session after each. Not on the audio thread.

use super::{Live, State};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::rt::{Command, MonitorMode};
use crate::session::{Edit, SaveJob, SaveResult, Saver, Track, forget_takes};

impl Live {
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
    pub(super) fn queue_save(&mut self, placed: Vec<String>) -> Result<()> {
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

    pub(super) fn saver_result(&mut self, r: SaveResult) {
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
