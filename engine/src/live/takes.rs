//! The takes of one recording as the transport carries them: created ahead of rolling on a
//! helper thread (files and journal), followed until the disk thread has closed each, and thrown
//! away when nothing was recorded into them. Not on the audio thread.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::disk::{Take, TakeFormat, part_path};
use crate::engine::take_path;
use crate::error::{Error, Result};
use crate::rt::TrackId;
use crate::session::{
    Clip, JournalEntry, SessionDir, Track, file_name, forget_takes, read_journal, write_journal,
};

/// A take file created ahead of recording: its track, path and open writer.
pub(super) type Prepared = (Track, PathBuf, Take);

/// A closed take: its parts with their frames, and the error that cut it short, if any.
pub(super) type TakeParts = (Vec<(PathBuf, u64)>, Option<String>);

/// One take of the recording: where its file is and, once the disk thread closed it, what it
/// holds.
pub(super) struct Pending {
    pub track: TrackId,
    pub path: PathBuf,
    /// The round trip compensated in this take, frames (as written in the journal; a device
    /// reopened since may have another).
    pub offset: u64,
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

/// One take that was recorded and placed.
#[derive(Clone, Debug, Serialize)]
pub struct TakeReport {
    /// Track id.
    pub track: TrackId,
    /// Track name.
    pub track_name: String,
    /// The take's (first) WAV file.
    pub file: PathBuf,
    /// Every file of the take with its frames (more than one past the WAV size limit).
    pub parts: Vec<(PathBuf, u64)>,
    /// Frames in all files (the take plus the post-roll that latency compensation needs).
    pub file_frames: u64,
    /// The clips placed on the track (one, unless the take has several parts).
    pub clips: Vec<Clip>,
    /// Set if writing the take failed part-way; what reached the disk is kept.
    pub error: Option<String>,
}

impl TakeReport {
    /// Timeline frames the take covers.
    pub fn length(&self) -> u64 {
        self.clips.iter().map(|c| c.length).sum()
    }
}

/// Disk space held back while recording, bytes: when the disk fills up, it is released so that the
/// take files can be closed and `session.json` saved.
pub const DISK_RESERVE_BYTES: usize = 1 << 20;

/// A file that holds [`DISK_RESERVE_BYTES`] of the session's disk while recording. Removed on
/// drop.
pub(super) struct DiskReserve(PathBuf);

impl DiskReserve {
    fn claim(sdir: &SessionDir) -> Result<Self> {
        use std::io::Write;
        let path = sdir.audio().join(".overdub-reserve");
        let full = |e: std::io::Error| {
            let _ = std::fs::remove_file(&path);
            Error::Io {
                path: sdir.audio(),
                source: std::io::Error::new(
                    e.kind(),
                    format!("not enough free space to start recording ({e})"),
                ),
            }
        };
        let mut f = std::fs::File::create(&path).map_err(full)?;
        f.write_all(&vec![0u8; DISK_RESERVE_BYTES]).map_err(full)?;
        f.sync_all().map_err(full)?;
        Ok(Self(path))
    }
}

impl Drop for DiskReserve {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The take files of one recording, created ahead of rolling, and the disk space held back for
/// closing them.
pub(super) struct Batch {
    pub takes: Vec<Prepared>,
    pub reserve: DiskReserve,
}

/// How take files are made.
#[derive(Clone, Copy, Debug)]
pub(super) struct TakeSpec {
    pub rate: u32,
    pub format: TakeFormat,
    /// Largest data size of one file before the take continues in a new part.
    pub part_bytes: u64,
    /// The loop the recording goes round, if it does (kept in the journal for recovery).
    pub looped: Option<(u64, u64)>,
    /// The punch it is made with, if any (kept in the journal for recovery).
    pub punch: Option<crate::session::Punch>,
}

/// Create the take files for the armed tracks and write the take journal (on a helper thread),
/// after claiming the disk reserve.
pub(super) fn prepare_takes(
    dir: &SessionDir,
    armed: &[Track],
    spec: TakeSpec,
    position: u64,
    offset: u64,
) -> Result<Batch> {
    let reserve = DiskReserve::claim(dir)?;
    let mut out = Vec::new();
    // Entries of an earlier recording whose save has not landed yet (or failed) stay beside
    // these; each save drops only its own.
    let mut journal = read_journal(dir).ok().flatten().unwrap_or_default();
    for t in armed {
        let path = take_path(&dir.audio(), t);
        let take = match Take::create(
            &path,
            spec.rate,
            u16::from(t.channels.clamp(1, 2)),
            spec.format,
            spec.part_bytes,
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
            file: file_name(&path),
            position,
            offset,
            length: None,
            track_name: Some(t.name.clone()),
            channels: Some(t.channels),
            loop_range: spec.looped,
            punch: spec.punch,
        });
        out.push((t.clone(), path, take));
    }
    if let Err(e) = write_journal(dir, &journal) {
        discard_prepared(dir, out);
        return Err(e);
    }
    Ok(Batch {
        takes: out,
        reserve,
    })
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
    let names: Vec<String> = bases.iter().map(|b| file_name(b)).collect();
    let _ = forget_takes(dir, &names);
}
