//! The session folder on disk: `session.json`, `audio/`, `peaks/`, `backups/`. Saves are atomic
//! (temp file, fsync, rename, fsync of the folder) so a crash mid-save leaves the last good file.
//! Not on the audio thread.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::model::Session;
use super::validate;
use crate::error::{Error, Result};

/// Paths inside one session folder.
#[derive(Clone, Debug)]
pub struct SessionDir {
    root: PathBuf,
}

impl SessionDir {
    /// The session folder at `root` (not checked).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
    /// The folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// `session.json`.
    pub fn file(&self) -> PathBuf {
        self.root.join("session.json")
    }
    /// `audio/`: takes and imported audio.
    pub fn audio(&self) -> PathBuf {
        self.root.join("audio")
    }
    /// `peaks/`: waveform overview cache.
    pub fn peaks(&self) -> PathBuf {
        self.root.join("peaks")
    }
    /// `backups/`.
    pub fn backups(&self) -> PathBuf {
        self.root.join("backups")
    }

    /// Create the folder for a new session and save `session` in it. Refuses a folder that already
    /// holds a session, so nothing recorded is ever overwritten.
    pub fn create(&self, session: &Session) -> Result<()> {
        self.refuse_a_session()?;
        for dir in [self.audio(), self.peaks(), self.backups()] {
            fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        self.save(session)
    }

    /// Refuse the folder if it already holds a session (before anything is written to it).
    pub fn refuse_a_session(&self) -> Result<()> {
        if self.file().exists() {
            return Err(Error::Session {
                path: self.root.clone(),
                reason: "already holds a session; choose another folder".into(),
            });
        }
        Ok(())
    }

    /// Read `session.json`, checked field by field (see [`super::validate`]). Clips that ran
    /// past the end of their file are cut to it.
    pub fn load(&self) -> Result<Session> {
        self.load_checked().map(|(s, _)| s)
    }

    /// Read `session.json` as [`SessionDir::load`] does, with a warning for each clip that was
    /// cut to its file.
    pub fn load_checked(&self) -> Result<(Session, Vec<String>)> {
        let path = self.file();
        let text = validate::read_limited(&path)?.ok_or_else(|| Error::Session {
            path: self.root.clone(),
            reason: "no session.json here (create one with `overdub new`)".into(),
        })?;
        let mut session: Session = validate::parse(&text).map_err(|e| Error::Session {
            path: path.clone(),
            reason: match super::autosave::newest_good_backup(self) {
                Some(b) => format!(
                    "damaged session file ({e}); the newest good backup is {}: restore it with \
                     `overdub restore {}`",
                    b.display(),
                    self.root.display()
                ),
                None => format!("damaged session file ({e}) and no backup to restore"),
            },
        })?;
        validate::check_session(&mut session, &path)?;
        // An older file is read as this version (its new fields take their defaults) and saved
        // as this version.
        session.version = super::SESSION_VERSION;
        let warnings = validate::check_clip_files(&mut session, &self.audio(), &path)?;
        Ok((session, warnings))
    }

    /// Write `session.json` atomically. The previous save, if it is a good one, is first copied
    /// to `backups/`, so no save ever replaces the last good one without a copy.
    pub fn save(&self, session: &Session) -> Result<()> {
        super::autosave::backup_current(self)?;
        let text = serde_json::to_string_pretty(session).map_err(|e| Error::Session {
            path: self.file(),
            reason: format!("cannot serialize ({e})"),
        })?;
        write_atomic(&self.file(), text.as_bytes())
    }
}

/// The name by which a clip or the take journal refers to a file in `audio/` (empty for a
/// path with no file name).
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Write `bytes` to `path` so that `path` holds either the old or the new content, never a mix:
/// temp file beside it, fsync, rename over, fsync the folder.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("json.tmp");
    let mut f = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| Error::io(&tmp, e))?;
    f.sync_all().map_err(|e| Error::io(&tmp, e))?;
    drop(f);
    fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    if let Some(dir) = path.parent()
        && let Ok(d) = File::open(dir)
    {
        // Best effort: makes the rename itself durable on filesystems that need it.
        let _ = d.sync_all();
    }
    Ok(())
}
