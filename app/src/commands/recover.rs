//! `overdub recover DIR` and `overdub restore DIR [BACKUP]`.

use std::path::Path;

use overdub_engine::Result;
use overdub_engine::session::{self, Recovered, SessionDir};

/// Tell what a recovery put back.
pub fn print(r: &Recovered) {
    println!(
        "recovered an interrupted recording: {} clip(s) put back",
        r.clips.len()
    );
    for (track, c) in &r.clips {
        println!(
            "  track id {track}: {} at frame {}, {} frames",
            c.file, c.position, c.length
        );
    }
    if r.already_saved > 0 {
        println!("  {} take(s) were already in the session", r.already_saved);
    }
    for m in &r.missing {
        println!("  warning: {m} is gone from audio/");
    }
}

pub fn run(dir: &Path) -> Result<()> {
    let sdir = SessionDir::new(dir);
    let _lock = sdir.lock_checked("overdub recover")?;
    match session::recover(&sdir)? {
        Some(r) => print(&r),
        None => println!(
            "nothing to recover: no interrupted recording in {}",
            dir.display()
        ),
    }
    Ok(())
}

pub fn restore(dir: &Path, backup: Option<&Path>) -> Result<()> {
    let sdir = SessionDir::new(dir);
    // The session file may be the damaged one being replaced: lock without reading it.
    let _lock = sdir.lock("overdub restore")?;
    let (from, kept) = session::restore_backup(&sdir, backup)?;
    println!("restored {} from {}", sdir.file().display(), from.display());
    if let Some(k) = kept {
        println!("the damaged file is kept as {}", k.display());
    }
    Ok(())
}
