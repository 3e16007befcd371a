//! The takes of one recording as the transport carries them: created ahead of rolling on a
//! helper thread (files and journal), followed until the disk thread has closed each, and thrown
//! away when nothing was recorded into them. Not on the audio thread.

use std::path::{Path, PathBuf};

use crate::disk::{MAX_PART_BYTES, Take, TakeFormat, part_path};
use crate::engine::take_path;
use crate::error::Result;
use crate::rt::TrackId;
use crate::session::{JournalEntry, SessionDir, TakeJournal, Track, clear_journal, write_journal};

/// A take file created ahead of recording: its track, path and open writer.
pub(super) type Prepared = (Track, PathBuf, Take);

/// A closed take: its parts with their frames, and the error that cut it short, if any.
pub(super) type TakeParts = (Vec<(PathBuf, u64)>, Option<String>);

/// One take of the recording: where its file is and, once the disk thread closed it, what it
/// holds.
pub(super) struct Pending {
    pub track: TrackId,
    pub path: PathBuf,
    pub result: Option<TakeParts>,
}

/// Note a closed take's parts on the take it belongs to.
pub(super) fn note_result(
    takes: &mut [Pending],
    path: &Path,
    parts: Vec<(PathBuf, u64)>,
    error: Option<String>,
) {
    if let Some(p) = takes.iter_mut().find(|p| p.path == path) {
        p.result = Some((parts, error));
    }
}

/// Create the take files for the armed tracks and write the take journal (on a helper thread).
pub(super) fn prepare_takes(
    dir: &SessionDir,
    armed: &[Track],
    rate: u32,
    format: TakeFormat,
    position: u64,
    offset: u64,
) -> Result<Vec<Prepared>> {
    let mut out = Vec::new();
    let mut journal = TakeJournal::default();
    for t in armed {
        let path = take_path(&dir.audio(), t);
        let take = match Take::create(
            &path,
            rate,
            u16::from(t.channels.clamp(1, 2)),
            format,
            MAX_PART_BYTES,
        ) {
            Ok(take) => take,
            Err(e) => {
                // Nothing rolled: the files made so far go again.
                discard_prepared(dir, out);
                return Err(e);
            }
        };
        journal.takes.push(JournalEntry {
            track: t.id,
            file: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            position,
            offset,
            length: None,
        });
        out.push((t.clone(), path, take));
    }
    write_journal(dir, &journal)?;
    Ok(out)
}

/// Close and delete take files that never recorded (the start was called off), and the journal.
pub(super) fn discard_prepared(dir: &SessionDir, takes: Vec<Prepared>) {
    let paths: Vec<PathBuf> = takes
        .into_iter()
        .map(|(_, p, take)| {
            drop(take);
            p
        })
        .collect();
    remove_take_files(dir, &paths);
}

/// Delete the files of takes into which nothing was recorded (stopped during the count-in): no
/// orphan file is left in the session's audio folder, and the journal goes.
pub(super) fn remove_take_files(dir: &SessionDir, bases: &[PathBuf]) {
    for base in bases {
        // Part 1 is the base file; a take that recorded nothing has no other.
        for n in 1.. {
            if std::fs::remove_file(part_path(base, n)).is_err() {
                break;
            }
        }
    }
    let _ = clear_journal(dir);
}
