//! Importing audio files into a session: decode (symphonia), convert to the session rate
//! (rubato), store as 32-bit float WAV in `audio/`, and add a clip. All or nothing: if any file
//! fails, nothing is written and `session.json` is left exactly as it was. Not on the audio
//! thread.

mod decode;
mod resample;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use decode::{Decoded, decode};
pub use resample::resample;

use crate::disk::{HeaderState, TakeFormat, TakeWriter, check_wav_header, repair_in_place};
use crate::error::{Error, Result};
use crate::rt::TrackId;
use crate::session::{Clip, Session, SessionDir};

/// Where imported files go.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Track to put the clips on, 1-based; None: a new track per file, named after it (stereo
    /// for a stereo file).
    pub track: Option<usize>,
    /// Timeline position of the clips, seconds.
    pub at_seconds: f64,
}

/// One imported file.
#[derive(Clone, Debug, Serialize)]
pub struct Imported {
    /// The source file.
    pub source: PathBuf,
    /// The WAV written in `audio/`.
    pub file: PathBuf,
    /// The source's rate, Hz.
    pub source_rate: u32,
    /// Channels.
    pub channels: usize,
    /// Frames at the session rate.
    pub frames: u64,
    /// Track the clip went on.
    pub track: TrackId,
    /// The clip.
    pub clip: Clip,
    /// Set when the source was a WAV whose length fields were zero or short (as a crashed
    /// recorder leaves them): the frames its header claimed. Every whole frame present was
    /// imported; the source file itself is not changed.
    pub repaired_from: Option<u64>,
}

/// Decode a file; a WAV with zero or short length fields is decoded from a repaired copy, and one
/// whose header claims more than it holds is refused as truncated.
fn decode_repairing(path: &Path, progress: &mut dyn FnMut(f32)) -> Result<(Decoded, Option<u64>)> {
    match check_wav_header(path) {
        Ok(Some(HeaderState::Short { claimed, .. })) => {
            let tmp = tempfile::Builder::new()
                .suffix(".wav")
                .tempfile()
                .map_err(|e| Error::io(std::env::temp_dir(), e))?;
            std::fs::copy(path, tmp.path()).map_err(|e| Error::io(path, e))?;
            repair_in_place(tmp.path(), false)?;
            let d = decode(tmp.path(), progress).map_err(|e| match e {
                Error::BadFile { reason, .. } => Error::BadFile {
                    path: path.to_path_buf(),
                    reason,
                },
                other => other,
            })?;
            Ok((d, Some(claimed)))
        }
        Ok(Some(HeaderState::Truncated { claimed, present })) => Err(Error::BadFile {
            path: path.to_path_buf(),
            reason: format!(
                "the file is truncated: it says {claimed} frames but holds {present}; nothing \
                 was imported"
            ),
        }),
        _ => decode(path, progress).map(|d| (d, None)),
    }
}

/// Progress of an import: which file (0-based) of how many, and the fraction of it done.
#[derive(Clone, Copy, Debug)]
pub struct ImportProgress {
    /// Index of the file being worked on.
    pub file: usize,
    /// Number of files.
    pub files: usize,
    /// Fraction of this file decoded, 0..1.
    pub fraction: f32,
}

/// A file decoded and converted to the session rate, not yet written.
struct Converted {
    source: PathBuf,
    source_rate: u32,
    channels: usize,
    samples: Vec<f32>,
    repaired: Option<u64>,
}

/// Import `files` into the session in `dir`.
pub fn import(
    dir: &Path,
    files: &[PathBuf],
    opts: &ImportOptions,
    progress: &mut dyn FnMut(ImportProgress),
) -> Result<Vec<Imported>> {
    let sdir = SessionDir::new(dir);
    let mut session = sdir.load()?;
    if let Some(n) = opts.track
        && (n == 0 || n > session.tracks.len())
    {
        return Err(Error::InvalidSetting(format!(
            "no track {n}: the session has tracks 1..{}",
            session.tracks.len()
        )));
    }
    if opts.track.is_none() && session.tracks.len() + files.len() > crate::rt::MAX_TRACKS {
        return Err(Error::InvalidSetting(format!(
            "the session has {} tracks and a session holds at most {}: import onto a track \
             with --track",
            session.tracks.len(),
            crate::rt::MAX_TRACKS
        )));
    }
    if !(opts.at_seconds.is_finite() && opts.at_seconds >= 0.0) {
        return Err(Error::InvalidSetting(format!(
            "--at must be 0 or more seconds, not {}",
            opts.at_seconds
        )));
    }
    if files.is_empty() {
        return Err(Error::InvalidSetting("no files to import".into()));
    }
    let at = (opts.at_seconds * f64::from(session.rate)).round() as u64;

    // Decode and convert everything before touching the session.
    let mut decoded = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let mut report = |fraction| {
            progress(ImportProgress {
                file: i,
                files: files.len(),
                fraction,
            })
        };
        let (d, repaired) = decode_repairing(f, &mut report)?;
        let source_rate = d.rate;
        let samples = resample(f, d.samples, d.channels, d.rate, session.rate)?;
        decoded.push(Converted {
            source: f.clone(),
            source_rate,
            channels: d.channels,
            samples,
            repaired,
        });
    }

    // Write the WAVs; on any failure remove what was written.
    let mut written: Vec<PathBuf> = Vec::new();
    let result = write_all(&sdir, &mut session, decoded, opts.track, at, &mut written)
        .and_then(|imported| sdir.save(&session).map(|()| imported));
    if result.is_err() {
        for p in &written {
            let _ = std::fs::remove_file(p);
        }
    }
    result
}

fn write_all(
    sdir: &SessionDir,
    session: &mut Session,
    decoded: Vec<Converted>,
    track: Option<usize>,
    at: u64,
    written: &mut Vec<PathBuf>,
) -> Result<Vec<Imported>> {
    let mut out = Vec::new();
    for Converted {
        source,
        source_rate,
        channels,
        samples,
        repaired,
    } in decoded
    {
        let stem = source
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "import".into());
        let path = unique_path(&sdir.audio(), &stem);
        let mut w = TakeWriter::create(
            &path,
            session.rate,
            u16::try_from(channels).unwrap_or(u16::MAX),
            TakeFormat::F32,
        )?;
        written.push(path.clone());
        w.write(&samples)?;
        let frames = w.finish()?;
        let track_id = match track {
            Some(n) => session.tracks[n - 1].id,
            None => {
                let id = session.add_track();
                if let Some(t) = session.track_mut(id) {
                    t.name = stem.clone();
                    t.channels = if channels >= 2 { 2 } else { 1 };
                }
                id
            }
        };
        let clip = Clip::new(crate::session::file_name(&path), at, 0, frames);
        let id = session
            .add_clip(track_id, clip.clone())
            .ok_or_else(|| Error::InvalidSetting("the track went away".into()))?;
        out.push(Imported {
            source,
            file: path,
            source_rate,
            channels,
            frames,
            track: track_id,
            clip: Clip { id, ..clip },
            repaired_from: repaired,
        });
    }
    Ok(out)
}

/// One file converted by [`convert_file`].
#[derive(Clone, Debug)]
pub struct ConvertedFile {
    /// The WAV written.
    pub path: PathBuf,
    /// The source's rate, Hz.
    pub source_rate: u32,
    /// Channels.
    pub channels: usize,
    /// Frames at the session rate.
    pub frames: u64,
}

/// Decode `source` (any format the importer reads, repairing a crashed recorder's WAV header)
/// and write it at `rate` Hz as a 32-bit float WAV named after `stem` in the folder `audio`,
/// without adding it to any session.
pub fn convert_file(source: &Path, rate: u32, audio: &Path, stem: &str) -> Result<ConvertedFile> {
    let (d, _) = decode_repairing(source, &mut |_| {})?;
    let source_rate = d.rate;
    let channels = d.channels;
    let samples = resample(source, d.samples, d.channels, d.rate, rate)?;
    let path = unique_path(audio, stem);
    let mut w = TakeWriter::create(
        &path,
        rate,
        u16::try_from(channels).unwrap_or(u16::MAX),
        TakeFormat::F32,
    )?;
    let written = w.write(&samples).and_then(|()| w.finish());
    match written {
        Ok(frames) => Ok(ConvertedFile {
            path,
            source_rate,
            channels,
            frames,
        }),
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            Err(e)
        }
    }
}

/// `audio/NAME.wav`, or `NAME-2.wav` and so on if taken.
pub fn unique_path(audio: &Path, stem: &str) -> PathBuf {
    let clean = crate::session::file_safe(stem);
    std::iter::once(audio.join(format!("{clean}.wav")))
        .chain((2..).map(|n| audio.join(format!("{clean}-{n}.wav"))))
        .find(|p| !p.exists())
        .unwrap_or_else(|| audio.join(format!("{clean}-import.wav")))
}
