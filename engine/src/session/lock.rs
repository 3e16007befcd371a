//! One writer per session: whatever opens a session folder for writing (the window, `record`,
//! `import`, the edit commands, `recover`, `restore`) holds an OS advisory lock on
//! `.overdub.lock` inside it for as long as it may write. A second writer is refused with who
//! holds it. The OS drops the lock when the holder exits, however it exits, so a crashed holder
//! never blocks the next one; the lock file left behind is not an error. Not on the audio thread.

use std::fs::{File, TryLockError};
use std::io::Write;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use super::store::SessionDir;
use crate::error::{Error, Result};

/// A held session lock; dropping it lets the next writer in.
#[derive(Debug)]
pub struct SessionLock {
    _file: File,
}

impl SessionDir {
    /// The lock file.
    pub fn lock_file(&self) -> PathBuf {
        self.root().join(".overdub.lock")
    }

    /// Who holds the lock, as the holder wrote it (a separate file: on Windows a locked file
    /// cannot be read by others).
    fn holder_file(&self) -> PathBuf {
        self.root().join(".overdub.lock.holder")
    }

    /// Take the session for writing as `program` (e.g. "overdub record"). Refused with
    /// [`Error::Locked`] while another process holds it.
    pub fn lock(&self, program: &str) -> Result<SessionLock> {
        // A session folder: its session.json, or (for `restore` after it was lost) its backups.
        if !(self.file().is_file() || self.backups().is_dir()) {
            return Err(Error::Session {
                path: self.root().to_path_buf(),
                reason: "no session.json here (create one with `overdub new`)".into(),
            });
        }
        let path = self.lock_file();
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(Error::Locked {
                    path: self.root().to_path_buf(),
                    holder: self.holder(),
                });
            }
            // A filesystem without locks (some network shares): go on unguarded rather than
            // refuse to open the session at all.
            Err(TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported => {}
            Err(TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        // Who holds it is a courtesy for the next one; failing to say so does not stop us.
        if let Ok(mut f) = File::create(self.holder_file()) {
            let _ = writeln!(f, "{program}\n{}\n{since}", std::process::id());
        }
        Ok(SessionLock { _file: file })
    }

    /// Check the session as [`SessionDir::load`] does (a bad one is refused before anything is
    /// written in its folder, the lock file included), then take it for writing. Read the
    /// session again once this returns: the writer that held the lock until now may have saved
    /// over what was checked.
    pub fn lock_checked(&self, program: &str) -> Result<SessionLock> {
        self.load()?;
        self.lock(program)
    }

    /// "overdub record (pid 1234) for 12 s", from the holder file.
    fn holder(&self) -> String {
        let text = std::fs::read(self.holder_file())
            .map(|b| String::from_utf8_lossy(&b[..b.len().min(1024)]).into_owned())
            .unwrap_or_default();
        let mut lines = text.lines();
        let (Some(program), Some(pid), Some(since)) = (lines.next(), lines.next(), lines.next())
        else {
            return "another program".into();
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let age = since
            .trim()
            .parse::<u64>()
            .map(|s| now.saturating_sub(s))
            .map_or_else(|_| String::new(), |a| format!(" for {}", ago(a)));
        let program: String = program
            .chars()
            .filter(|c| !c.is_control())
            .take(80)
            .collect();
        let pid: String = pid.chars().filter(char::is_ascii_digit).take(10).collect();
        format!("{program} (pid {pid}){age}")
    }
}

/// Seconds as "12 s", "3 min 20 s" or "2 h 05 min".
fn ago(s: u64) -> String {
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Session;

    #[test]
    fn a_second_writer_is_refused_until_the_first_lets_go() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = SessionDir::new(tmp.path().join("s"));
        assert!(dir.lock("test").is_err(), "no session yet: nothing to lock");
        dir.create(&Session::new(48_000, 1)).expect("create");
        let first = dir.lock("overdub record").expect("first");
        let e = dir.lock("overdub import").expect_err("second").to_string();
        assert!(
            e.contains("overdub record") && e.contains(&format!("pid {}", std::process::id())),
            "{e}"
        );
        drop(first);
        let _again = dir.lock("overdub import").expect("free again");
    }
}
