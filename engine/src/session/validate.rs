//! Checks on what is read from a session folder, which is untrusted (sessions are shared and
//! synced): `session.json` and the take journal are read with a size limit, then every field is
//! checked before anything uses it. A bad file is refused with one line naming the field; nothing
//! is written. Clips longer than their file are cut to it, with a warning. Not on the audio
//! thread.

use std::io::Read;
use std::path::Path;

use super::journal::TakeJournal;
use super::model::{SESSION_VERSION, Session};
use crate::error::{Error, Result};
use crate::rt::MAX_TRACKS;

/// The largest `session.json` or take journal read, bytes (a session of 256 tracks with
/// thousands of clips each is a few MiB).
pub const MAX_FILE_BYTES: u64 = 32 << 20;
/// The lowest and highest session sample rate, Hz.
pub const RATES: std::ops::RangeInclusive<u32> = 8_000..=768_000;
/// The furthest frame anything may reach: 2^40 frames, about 265 days at 48 kHz.
pub const MAX_FRAME: u64 = 1 << 40;
/// Clips on one track.
pub const MAX_CLIPS_PER_TRACK: usize = 100_000;
/// Characters in a track name.
pub const MAX_NAME_CHARS: usize = 256;
/// The highest input channel a track may name (0-based).
pub const MAX_INPUT: u16 = 1023;
/// Markers in one session.
pub const MAX_MARKERS: usize = 10_000;
/// The slowest and fastest tempo, BPM.
pub const TEMPOS: std::ops::RangeInclusive<f64> = 10.0..=999.0;
/// Clip gains a session can hold, dB.
pub const CLIP_GAINS: std::ops::RangeInclusive<f32> = -96.0..=24.0;
/// Fade lengths a session can hold, milliseconds.
pub const FADE_MS: std::ops::RangeInclusive<f32> = 0.0..=1000.0;
/// Track and clip ids (and the counters that hand them out) stay below this, so that adding
/// tracks and clips can never run out of ids.
pub const MAX_ID: u32 = 1 << 30;

/// Read a small untrusted file whole, refusing one larger than [`MAX_FILE_BYTES`] without reading
/// it. `Ok(None)` when it does not exist.
pub fn read_limited(path: &Path) -> Result<Option<String>> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    let mut text = String::new();
    f.take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| Error::io(path, e))?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(Error::Session {
            path: path.to_path_buf(),
            reason: format!(
                "larger than {} MiB: not a session file this program wrote",
                MAX_FILE_BYTES >> 20
            ),
        });
    }
    Ok(Some(text))
}

/// Parse JSON into `T`, naming where it went wrong ("tracks[2].rate: invalid type: string").
pub fn parse<T: serde::de::DeserializeOwned>(text: &str) -> std::result::Result<T, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path.is_empty() || path == "." {
            inner.to_string()
        } else {
            format!("{path}: {inner}")
        }
    })?;
    de.end().map_err(|e| e.to_string())?;
    Ok(value)
}

/// Read and check a session file at `path` without its folder (a backup, say): size limit,
/// parse, every field.
pub fn read_session(path: &Path) -> Result<Session> {
    let text = read_limited(path)?.ok_or_else(|| Error::Session {
        path: path.to_path_buf(),
        reason: "not found".into(),
    })?;
    let mut s: Session = parse(&text).map_err(|reason| Error::Session {
        path: path.to_path_buf(),
        reason,
    })?;
    check_session(&mut s, path)?;
    Ok(s)
}

/// Whether `name` is a plain file name: no folder separators, not `.` or `..`, nothing absolute,
/// no drive letter, no control characters.
pub fn plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name.len() <= 255
        && !name.contains(['/', '\\', ':'])
        && !name.chars().any(char::is_control)
}

fn field(path: &Path, name: String, what: String) -> Error {
    Error::Session {
        path: path.to_path_buf(),
        reason: format!("{name}: {what}"),
    }
}

/// The first frame figure of a clip or take past [`MAX_FRAME`], named, if any (its own figures
/// and where it ends, on the timeline and in its file).
fn beyond_any_recording(position: u64, offset: u64, length: u64) -> Option<(&'static str, u64)> {
    [
        ("position", position),
        ("offset", offset),
        ("length", length),
        ("position + length", position.saturating_add(length)),
        ("offset + length", offset.saturating_add(length)),
    ]
    .into_iter()
    .find(|(_, v)| *v > MAX_FRAME)
}

/// Check every field of a session read from `path` (the file, for messages). The next-id
/// counters are raised above every id in use when they lag (a hand-edited file), which changes
/// no id.
pub fn check_session(s: &mut Session, path: &Path) -> Result<()> {
    let bad = |name: String, what: String| Err(field(path, name, what));
    if s.version == 0 || s.version > SESSION_VERSION {
        return bad(
            "version".into(),
            format!(
                "{} is not a format this Overdub reads (1 to {SESSION_VERSION}; a newer Overdub \
                 may have written it)",
                s.version
            ),
        );
    }
    if !RATES.contains(&s.rate) {
        return bad(
            "rate".into(),
            format!("{} Hz is not a sample rate (8000 to 768000)", s.rate),
        );
    }
    if s.tracks.len() > MAX_TRACKS {
        return bad(
            "tracks".into(),
            format!("{} tracks, more than {MAX_TRACKS}", s.tracks.len()),
        );
    }
    if let Some((name, what)) = bad_timing(s.tempo_bpm, s.meter) {
        return bad(name.into(), what);
    }
    if !(s.master_gain_db == f32::NEG_INFINITY
        || (s.master_gain_db.is_finite() && s.master_gain_db <= 24.0))
    {
        return bad(
            "master_gain_db".into(),
            format!("{} dB is out of range (up to +24 dB)", s.master_gain_db),
        );
    }
    if !FADE_MS.contains(&s.fade_ms) {
        return bad(
            "fade_ms".into(),
            format!(
                "{} ms is out of range ({} to {} ms)",
                s.fade_ms,
                FADE_MS.start(),
                FADE_MS.end()
            ),
        );
    }
    check_markers(s, path)?;
    for (name, v) in [
        ("next_track_id", s.next_track_id),
        ("next_clip_id", s.next_clip_id),
        ("next_marker_id", s.next_marker_id),
    ] {
        if v > MAX_ID {
            return bad(name.into(), format!("{v} is above {MAX_ID}"));
        }
    }
    let mut track_ids = Vec::with_capacity(s.tracks.len());
    let mut clip_ids = Vec::new();
    for (i, t) in s.tracks.iter().enumerate() {
        let at = |f: &str| format!("tracks[{i}].{f}");
        if t.id == 0 || t.id >= MAX_ID {
            return bad(at("id"), format!("{} is not a track id", t.id));
        }
        if track_ids.contains(&t.id) {
            return bad(at("id"), format!("{} is used by two tracks", t.id));
        }
        track_ids.push(t.id);
        if t.name.chars().count() > MAX_NAME_CHARS {
            return bad(
                at("name"),
                format!("longer than {MAX_NAME_CHARS} characters"),
            );
        }
        if !matches!(t.channels, 1 | 2) {
            return bad(
                at("channels"),
                format!("{} (a track is mono or stereo)", t.channels),
            );
        }
        if t.input > MAX_INPUT {
            return bad(at("input"), format!("{} is above {MAX_INPUT}", t.input));
        }
        if !(t.gain_db == f32::NEG_INFINITY || (t.gain_db.is_finite() && t.gain_db <= 24.0)) {
            return bad(
                at("gain_db"),
                format!("{} dB is out of range (up to +24 dB)", t.gain_db),
            );
        }
        if !(-1.0..=1.0).contains(&t.pan) {
            return bad(at("pan"), format!("{} is out of range (-1 to 1)", t.pan));
        }
        if t.clips.len() > MAX_CLIPS_PER_TRACK {
            return bad(
                at("clips"),
                format!("{} clips, more than {MAX_CLIPS_PER_TRACK}", t.clips.len()),
            );
        }
        for (j, c) in t.clips.iter().enumerate() {
            let at = |f: &str| format!("tracks[{i}].clips[{j}].{f}");
            if c.id == 0 || c.id >= MAX_ID {
                return bad(at("id"), format!("{} is not a clip id", c.id));
            }
            clip_ids.push(c.id);
            if !plain_file_name(&c.file) {
                return bad(
                    at("file"),
                    format!("{:?} is not a plain file name inside audio/", c.file),
                );
            }
            if let Some((name, v)) = beyond_any_recording(c.position, c.offset, c.length) {
                return bad(at(name), format!("{v} frames is beyond any recording"));
            }
            if c.fade_in.saturating_add(c.fade_out) > c.length {
                return bad(
                    at("fade_in"),
                    format!(
                        "fades of {} and {} frames do not fit in a clip of {}",
                        c.fade_in, c.fade_out, c.length
                    ),
                );
            }
            if !CLIP_GAINS.contains(&c.gain_db) {
                return bad(
                    at("gain_db"),
                    format!(
                        "{} dB is out of range ({} to {} dB)",
                        c.gain_db,
                        CLIP_GAINS.start(),
                        CLIP_GAINS.end()
                    ),
                );
            }
        }
    }
    clip_ids.sort_unstable();
    if let Some(w) = clip_ids.windows(2).find(|w| w[0] == w[1]) {
        return bad("clips".into(), format!("clip id {} is used twice", w[0]));
    }
    // Below MAX_ID, checked above: the +1 cannot overflow.
    if let Some(&top) = track_ids.iter().max() {
        s.next_track_id = s.next_track_id.max(top + 1);
    }
    if let Some(&top) = clip_ids.last() {
        s.next_clip_id = s.next_clip_id.max(top + 1);
    }
    Ok(())
}

/// What is wrong with a tempo and time signature, if anything: (field, reason).
pub fn bad_timing(tempo_bpm: f64, meter: super::Meter) -> Option<(&'static str, String)> {
    if !(tempo_bpm.is_finite() && TEMPOS.contains(&tempo_bpm)) {
        return Some((
            "tempo_bpm",
            format!(
                "{tempo_bpm} BPM is out of range ({} to {})",
                TEMPOS.start(),
                TEMPOS.end()
            ),
        ));
    }
    if !(1..=64).contains(&meter.numerator) || !matches!(meter.denominator, 1 | 2 | 4 | 8 | 16 | 32)
    {
        return Some((
            "meter",
            format!(
                "{}/{} is not a time signature (1 to 64 beats of 1, 2, 4, 8, 16 or 32)",
                meter.numerator, meter.denominator
            ),
        ));
    }
    None
}

/// Markers: how many, their ids, names and positions; they are put in timeline order.
fn check_markers(s: &mut Session, path: &Path) -> Result<()> {
    if s.markers.len() > MAX_MARKERS {
        return Err(field(
            path,
            "markers".into(),
            format!("{} markers, more than {MAX_MARKERS}", s.markers.len()),
        ));
    }
    let mut ids = std::collections::HashSet::with_capacity(s.markers.len());
    for (i, m) in s.markers.iter().enumerate() {
        let at = |f: &str| format!("markers[{i}].{f}");
        if m.id == 0 || m.id >= MAX_ID || !ids.insert(m.id) {
            return Err(field(
                path,
                at("id"),
                format!("{} is not a free marker id", m.id),
            ));
        }
        if m.name.chars().count() > MAX_NAME_CHARS {
            return Err(field(
                path,
                at("name"),
                format!("longer than {MAX_NAME_CHARS} characters"),
            ));
        }
        if m.position > MAX_FRAME {
            return Err(field(
                path,
                at("position"),
                format!("{} frames is beyond any recording", m.position),
            ));
        }
    }
    if let Some(&top) = ids.iter().max() {
        s.next_marker_id = s.next_marker_id.max(top + 1);
    }
    s.sort_markers();
    Ok(())
}

/// Check the files the clips name: none may be a link that leads out of `audio/`, and a clip
/// that runs past the end of its file is cut to it. Returns a warning per clip cut.
pub fn check_clip_files(s: &mut Session, audio: &Path, path: &Path) -> Result<Vec<String>> {
    let audio_real = std::fs::canonicalize(audio).ok();
    let mut warnings = Vec::new();
    for (i, t) in s.tracks.iter_mut().enumerate() {
        for (j, c) in t.clips.iter_mut().enumerate() {
            let file = audio.join(&c.file);
            let Ok(meta) = std::fs::symlink_metadata(&file) else {
                // A missing file plays as silence and is reported where it is read.
                continue;
            };
            if meta.file_type().is_symlink() && !leads_inside(&file, audio_real.as_deref()) {
                {
                    return Err(field(
                        path,
                        format!("tracks[{i}].clips[{j}].file"),
                        format!("{:?} is a link leading out of the session's audio/", c.file),
                    ));
                }
            }
            let Ok(frames) = hound::WavReader::open(&file).map(|r| u64::from(r.duration())) else {
                continue;
            };
            if c.offset.saturating_add(c.length) > frames {
                let length = frames.saturating_sub(c.offset);
                warnings.push(format!(
                    "clip {} ({}) ran past the end of its file ({} frames): cut from {} to {} \
                     frames",
                    c.id, c.file, frames, c.length, length
                ));
                c.length = length;
            }
        }
    }
    Ok(warnings)
}

/// Whether the link `file` resolves to somewhere inside `root` (already canonical).
fn leads_inside(file: &Path, root: Option<&Path>) -> bool {
    match (std::fs::canonicalize(file), root) {
        (Ok(target), Some(root)) => target.starts_with(root),
        _ => false,
    }
}

/// Whether `name` in `audio` is safe to write to: absent, a plain file, or a link that stays
/// inside `audio`.
pub fn stays_inside(audio: &Path, name: &str) -> bool {
    let file = audio.join(name);
    match std::fs::symlink_metadata(&file) {
        Ok(m) if m.file_type().is_symlink() => {
            leads_inside(&file, std::fs::canonicalize(audio).ok().as_deref())
        }
        _ => true,
    }
}

/// Check a take journal read from `path` against the session it belongs to.
pub fn check_journal(j: &TakeJournal, session: &Session, audio: &Path, path: &Path) -> Result<()> {
    if j.takes.len() > MAX_TRACKS {
        return Err(field(
            path,
            "takes".into(),
            format!("{} takes, more than {MAX_TRACKS}", j.takes.len()),
        ));
    }
    let mut new_tracks = Vec::new();
    for (i, e) in j.takes.iter().enumerate() {
        let at = |f: &str| format!("takes[{i}].{f}");
        // A track missing from the session was added after its last save; recovery makes it
        // again, within the same limits as any track.
        if session.track(e.track).is_none() {
            if e.track == 0 || e.track >= MAX_ID {
                return Err(field(
                    path,
                    at("track"),
                    format!("{} is not a track id", e.track),
                ));
            }
            if !new_tracks.contains(&e.track) {
                new_tracks.push(e.track);
            }
        }
        if e.track_name
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_NAME_CHARS)
        {
            return Err(field(
                path,
                at("track_name"),
                format!("longer than {MAX_NAME_CHARS} characters"),
            ));
        }
        if e.loop_range.is_some_and(|(a, b)| a >= b || b > MAX_FRAME) {
            return Err(field(
                path,
                at("loop_range"),
                "not a loop (start before end, within 2^40 frames)".into(),
            ));
        }
        if e.punch.is_some_and(|p| {
            p.from > MAX_FRAME
                || p.fade > MAX_FRAME
                || p.to.is_some_and(|t| t <= p.from || t > MAX_FRAME)
        }) {
            return Err(field(
                path,
                at("punch"),
                "not a punch (in before out, within 2^40 frames)".into(),
            ));
        }
        if e.channels.is_some_and(|c| !matches!(c, 1 | 2)) {
            return Err(field(
                path,
                at("channels"),
                "a track is mono or stereo".into(),
            ));
        }
        if !plain_file_name(&e.file) || !stays_inside(audio, &e.file) {
            return Err(field(
                path,
                at("file"),
                format!("{:?} is not a plain file name inside audio/", e.file),
            ));
        }
        if let Some((name, v)) = beyond_any_recording(e.position, e.offset, e.length.unwrap_or(0)) {
            return Err(field(
                path,
                at(name),
                format!("{v} frames is beyond any recording"),
            ));
        }
    }
    if session.tracks.len() + new_tracks.len() > MAX_TRACKS {
        return Err(field(
            path,
            "takes".into(),
            format!("would make more than {MAX_TRACKS} tracks"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Clip;

    #[test]
    fn lagging_id_counters_are_raised_not_refused() {
        let mut s = Session::new(48_000, 2);
        s.next_track_id = 1;
        check_session(&mut s, Path::new("session.json")).expect("a stale counter is bookkeeping");
        assert_eq!(s.next_track_id, 3);
    }

    #[test]
    fn plain_names_only() {
        for ok in ["Track-1-take1.wav", "a b.wav", "été.wav", "..x.wav"] {
            assert!(plain_file_name(ok), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "../x.wav",
            "/etc/hostname",
            "audio/x.wav",
            "..\\x.wav",
            "C:x.wav",
            "a\0.wav",
            "a\n.wav",
        ] {
            assert!(!plain_file_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn fields_out_of_range_are_named() {
        let path = Path::new("session.json");
        let good = Session::new(48_000, 2);
        assert!(check_session(&mut good.clone(), path).is_ok());
        type Spoil = Box<dyn Fn(&mut Session)>;
        let cases: Vec<(&str, Spoil)> = vec![
            ("rate", Box::new(|s| s.rate = 0)),
            ("version", Box::new(|s| s.version = 99)),
            (
                "tracks[1].id",
                Box::new(|s| s.tracks[1].id = s.tracks[0].id),
            ),
            ("tracks[1].channels", Box::new(|s| s.tracks[1].channels = 7)),
            ("tracks[0].pan", Box::new(|s| s.tracks[0].pan = 5.0)),
            (
                "tracks[0].gain_db",
                Box::new(|s| s.tracks[0].gain_db = 1e30),
            ),
            ("tracks[0].id", Box::new(|s| s.tracks[0].id = 0)),
            ("fade_ms", Box::new(|s| s.fade_ms = f32::NAN)),
            ("master_gain_db", Box::new(|s| s.master_gain_db = 99.0)),
            (
                "tracks[0].clips[0].fade_in",
                Box::new(|s| {
                    let mut c = Clip::new("a.wav".into(), 0, 0, 100);
                    c.id = 1;
                    c.fade_in = 60;
                    c.fade_out = 41;
                    s.tracks[0].clips.push(c);
                }),
            ),
            (
                "tracks[0].clips[0].gain_db",
                Box::new(|s| {
                    let mut c = Clip::new("a.wav".into(), 0, 0, 100);
                    c.id = 1;
                    c.gain_db = f32::INFINITY;
                    s.tracks[0].clips.push(c);
                }),
            ),
        ];
        for (name, spoil) in cases {
            let mut s = good.clone();
            spoil(&mut s);
            let e = check_session(&mut s, path).expect_err(name).to_string();
            assert!(e.contains(name), "{name}: {e}");
        }
    }
}
