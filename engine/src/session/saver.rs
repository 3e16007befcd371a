//! Saving off the GUI thread: `session.json` writes (temp file, fsync, rename) and autosave
//! backups go to a thread of their own, so the window never waits on the disk. Results come back
//! to be shown. Not on the audio thread.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use super::autosave::backup;
use super::journal::forget_takes;
use super::model::Session;
use super::store::SessionDir;

/// A write to do.
pub enum SaveJob {
    /// Save `session.json`; then drop these takes from the take journal (they are safe).
    Save {
        /// The session as it was when saved.
        session: Session,
        /// First files of the takes this save places, whose journal entries go after a good
        /// save.
        placed: Vec<String>,
    },
    /// Write an autosave backup.
    Backup(Session),
}

/// What came of a job.
#[derive(Debug)]
pub enum SaveResult {
    /// Saved (`session.json` or a backup).
    Saved {
        /// It was a backup.
        backup: bool,
        /// Edits were on the undo stack at that point (to tell whether newer ones came since).
        generation: u64,
    },
    /// Failed; the message says why. The previous good file is untouched.
    Failed(String),
}

/// The saving thread. Dropping it finishes the queued jobs.
pub struct Saver {
    tx: Option<Sender<(SaveJob, u64)>>,
    results: Receiver<SaveResult>,
    handle: Option<JoinHandle<()>>,
}

impl Saver {
    /// Start the thread for the session in `dir`.
    pub fn start(dir: SessionDir) -> std::io::Result<Self> {
        let (tx, rx) = channel::<(SaveJob, u64)>();
        let (rtx, results) = channel();
        let handle = std::thread::Builder::new()
            .name("overdub-save".into())
            .spawn(move || {
                for (job, generation) in rx {
                    let r = match job {
                        SaveJob::Save { session, placed } => dir
                            .save(&session)
                            .and_then(|()| forget_takes(&dir, &placed))
                            .map(|()| SaveResult::Saved {
                                backup: false,
                                generation,
                            }),
                        SaveJob::Backup(session) => {
                            backup(&dir, &session).map(|_| SaveResult::Saved {
                                backup: true,
                                generation,
                            })
                        }
                    };
                    let _ = rtx.send(r.unwrap_or_else(|e| SaveResult::Failed(e.to_string())));
                }
            })?;
        Ok(Self {
            tx: Some(tx),
            results,
            handle: Some(handle),
        })
    }

    /// Queue a job; `generation` comes back with its result.
    pub fn send(&self, job: SaveJob, generation: u64) -> bool {
        self.tx
            .as_ref()
            .is_some_and(|tx| tx.send((job, generation)).is_ok())
    }

    /// Results so far.
    pub fn results(&self) -> Vec<SaveResult> {
        self.results.try_iter().collect()
    }

    /// Wait for every queued job and return the results.
    pub fn flush(mut self) -> Vec<SaveResult> {
        self.tx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        self.results.try_iter().collect()
    }
}

impl Drop for Saver {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
