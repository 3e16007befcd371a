//! Autosave to `backups/`: every few minutes while there are unsaved changes, never while
//! recording (the disk belongs to the takes then). Keeps the newest [`KEEP_BACKUPS`] files. Not on
//! the audio thread.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::model::Session;
use super::store::{SessionDir, write_atomic};
use crate::error::{Error, Result};

/// Time between autosaves.
pub const AUTOSAVE_INTERVAL: Duration = Duration::from_secs(180);
/// Backups kept; older ones are removed.
pub const KEEP_BACKUPS: usize = 10;

/// Decides when to autosave.
#[derive(Debug)]
pub struct Autosave {
    last: Instant,
    interval: Duration,
}

impl Autosave {
    /// Autosave every `interval`, counting from now.
    pub fn new(interval: Duration) -> Self {
        Self {
            last: Instant::now(),
            interval,
        }
    }

    /// Whether a backup is due now (and, if so, counts it as written): it is time, the session
    /// has unsaved changes and nothing is recording.
    pub fn due(&mut self, dirty: bool, recording: bool, now: Instant) -> bool {
        if !dirty || recording || now.duration_since(self.last) < self.interval {
            return false;
        }
        self.last = now;
        true
    }

    /// Write a backup if it is time, the session has unsaved changes and nothing is recording.
    /// Returns the backup written, if any.
    pub fn tick(
        &mut self,
        dir: &SessionDir,
        session: &Session,
        dirty: bool,
        recording: bool,
        now: Instant,
    ) -> Result<Option<PathBuf>> {
        if !self.due(dirty, recording, now) {
            return Ok(None);
        }
        backup(dir, session).map(Some)
    }
}

/// Write `session` to a new file in `backups/` and prune old ones.
pub fn backup(dir: &SessionDir, session: &Session) -> Result<PathBuf> {
    let folder = dir.backups();
    std::fs::create_dir_all(&folder).map_err(|e| Error::io(&folder, e))?;
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let path = (0..)
        .map(|n| folder.join(format!("session-{stamp:015}-{n}.json")))
        .find(|p| !p.exists())
        .unwrap_or_else(|| folder.join("session-latest.json"));
    let text = serde_json::to_string_pretty(session).map_err(|e| Error::Session {
        path: path.clone(),
        reason: format!("cannot serialize ({e})"),
    })?;
    write_atomic(&path, text.as_bytes())?;
    let mut all = list_backups(dir);
    while all.len() > KEEP_BACKUPS {
        let old = all.remove(0);
        let _ = std::fs::remove_file(old);
    }
    Ok(path)
}

/// Copy the current `session.json` to `backups/` if it is a good one (a damaged file is not
/// worth keeping twice).
pub fn backup_current(dir: &SessionDir) -> Result<()> {
    match super::validate::read_session(&dir.file()) {
        Ok(s) => backup(dir, &s).map(|_| ()),
        Err(_) => Ok(()),
    }
}

/// The newest backup that reads as a session.
pub fn newest_good_backup(dir: &SessionDir) -> Option<PathBuf> {
    list_backups(dir)
        .into_iter()
        .rev()
        .find(|p| super::validate::read_session(p).is_ok())
}

/// Put a backup in place of `session.json` (the newest good one unless `chosen` names one). A
/// damaged `session.json` is kept beside it as `session.json.damaged-N`. Returns the backup used
/// and where the damaged file went.
pub fn restore_backup(
    dir: &SessionDir,
    chosen: Option<&std::path::Path>,
) -> Result<(PathBuf, Option<PathBuf>)> {
    let from = match chosen {
        Some(p) => p.to_path_buf(),
        None => newest_good_backup(dir).ok_or_else(|| Error::Session {
            path: dir.backups(),
            reason: "no good backup to restore".into(),
        })?,
    };
    let session = super::validate::read_session(&from).map_err(|e| Error::Session {
        path: from.clone(),
        reason: format!("this backup is damaged too ({e})"),
    })?;
    let text = serde_json::to_string_pretty(&session).map_err(|e| Error::Session {
        path: from.clone(),
        reason: format!("cannot serialize ({e})"),
    })?;
    let current = dir.file();
    let kept = if current.exists() {
        let k = (1..)
            .map(|n| dir.root().join(format!("session.json.damaged-{n}")))
            .find(|p| !p.exists())
            .unwrap_or_else(|| dir.root().join("session.json.damaged"));
        std::fs::rename(&current, &k).map_err(|e| Error::io(&current, e))?;
        Some(k)
    } else {
        None
    };
    write_atomic(&current, text.as_bytes())?;
    Ok((from, kept))
}

/// Backups, oldest first.
pub fn list_backups(dir: &SessionDir) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir.backups())
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("session-") && n.ends_with(".json"))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autosaves_when_due_and_dirty_never_while_recording_and_prunes() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = SessionDir::new(tmp.path().join("s"));
        let s = Session::new(48_000, 1);
        dir.create(&s).expect("create");
        let mut a = Autosave::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let later = t0 + Duration::from_secs(61);
        assert_eq!(
            a.tick(&dir, &s, true, false, t0).expect("tick"),
            None,
            "not due"
        );
        assert_eq!(
            a.tick(&dir, &s, false, false, later).expect("tick"),
            None,
            "clean"
        );
        assert_eq!(
            a.tick(&dir, &s, true, true, later).expect("tick"),
            None,
            "recording"
        );
        let written = a
            .tick(&dir, &s, true, false, later)
            .expect("tick")
            .expect("due");
        let back: Session =
            serde_json::from_str(&std::fs::read_to_string(&written).expect("read")).expect("json");
        assert_eq!(back, s);
        for _ in 0..KEEP_BACKUPS + 5 {
            backup(&dir, &s).expect("backup");
        }
        assert_eq!(list_backups(&dir).len(), KEEP_BACKUPS);
    }
}
