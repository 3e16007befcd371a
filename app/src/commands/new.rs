//! `overdub new DIR`: a new session folder.

use overdub_engine::session::{Session, SessionDir};
use overdub_engine::{Error, Result};

use crate::cli::NewArgs;

pub fn run(a: &NewArgs) -> Result<()> {
    let (dir, rate, tracks) = (&a.dir, a.rate, a.tracks);
    if !(8_000..=384_000).contains(&rate) {
        return Err(Error::InvalidSetting(format!(
            "--rate {rate} is out of range (8000..384000 Hz)"
        )));
    }
    if tracks > overdub_engine::rt::MAX_TRACKS {
        return Err(Error::InvalidSetting(format!(
            "--tracks {tracks}: at most {} tracks",
            overdub_engine::rt::MAX_TRACKS
        )));
    }
    let session = Session::new(rate, tracks);
    SessionDir::new(dir).create(&session)?;
    println!(
        "created {} at {rate} Hz with {tracks} track(s)",
        dir.display()
    );
    Ok(())
}
