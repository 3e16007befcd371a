//! The take journal: before recording starts, every take about to be written is listed in
//! `takes.journal.json` (atomically, synced). It is removed only once the takes are on their
//! tracks in a saved `session.json`. If Overdub dies in between (a crash, kill -9, power loss),
//! the next start finds the journal and [`recover`] puts the takes back where they belong.
//! Not on the audio thread.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::model::{Clip, Session};
use super::store::{SessionDir, file_name, write_atomic};
use crate::disk::salvage_parts;
use crate::error::{Error, Result};
use crate::rt::TrackId;

/// One take being recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Track it belongs to.
    pub track: TrackId,
    /// Its first file, in `audio/`.
    pub file: String,
    /// Timeline frame of the first frame captured.
    pub position: u64,
    /// Frames at the start of the file that belong before `position` (the latency compensation).
    pub offset: u64,
    /// Timeline frames asked for, if known.
    pub length: Option<u64>,
    /// The track's name and channels, so that a track added since the last save (and not yet
    /// in `session.json`) is made again on recovery rather than its take lost.
    #[serde(default)]
    pub track_name: Option<String>,
    /// See `track_name`.
    #[serde(default)]
    pub channels: Option<u8>,
    /// The loop (start, end) the recording went round, if it did: the take is cut into one
    /// take per pass.
    #[serde(default)]
    pub loop_range: Option<(u64, u64)>,
    /// The punch the recording was made with, if it was: the take shows only there.
    #[serde(default)]
    pub punch: Option<Punch>,
}

/// Where a punched recording shows: from `from` to `to` (None: to where it stopped), crossfading
/// with what lies under it over `fade` frames centred on each edge. The take file holds the
/// pre- and post-roll as well.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Punch {
    /// Punch-in, timeline frame.
    pub from: u64,
    /// Punch-out, timeline frame, if there is one.
    pub to: Option<u64>,
    /// Crossfade length, frames.
    pub fade: u64,
}

impl Punch {
    /// The part of `c` (a clip of the recording) that shows, with its crossfades; None if the
    /// clip lies outside the range.
    pub fn cut(&self, c: &Clip) -> Option<Clip> {
        let a = self.from.max(c.position);
        let b = self.to.unwrap_or(u64::MAX).min(c.end());
        (a < b).then(|| super::edit::comp_piece(c, a, b, self.fade))
    }
}

/// The journal file's content.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TakeJournal {
    /// Takes in progress.
    pub takes: Vec<JournalEntry>,
}

impl SessionDir {
    /// `takes.journal.json`.
    pub fn journal(&self) -> PathBuf {
        self.root().join("takes.journal.json")
    }
}

/// Write the journal (atomically, synced) before recording starts.
pub fn write_journal(dir: &SessionDir, journal: &TakeJournal) -> Result<()> {
    let text = serde_json::to_string_pretty(journal).map_err(|e| Error::Session {
        path: dir.journal(),
        reason: format!("cannot serialize the take journal ({e})"),
    })?;
    write_atomic(&dir.journal(), text.as_bytes())
}

/// The journal left by a recording that did not finish, if any.
pub fn read_journal(dir: &SessionDir) -> Result<Option<TakeJournal>> {
    let path = dir.journal();
    let Some(text) = super::validate::read_limited(&path)? else {
        return Ok(None);
    };
    super::validate::parse(&text)
        .map(Some)
        .map_err(|e| Error::Session {
            path,
            reason: format!("unreadable take journal ({e})"),
        })
}

/// Drop the entries of the takes in `files` (first file names) once they are safe in a saved
/// `session.json`; the journal goes when no entry is left. Entries of another recording (one
/// started since, or one whose save failed) stay.
pub fn forget_takes(dir: &SessionDir, files: &[String]) -> Result<()> {
    if files.is_empty() {
        return Ok(());
    }
    let Ok(Some(mut journal)) = read_journal(dir) else {
        return Ok(());
    };
    journal.takes.retain(|e| !files.contains(&e.file));
    if journal.takes.is_empty() {
        clear_journal(dir)
    } else {
        write_journal(dir, &journal)
    }
}

/// Remove the journal once its takes are safe in `session.json`.
pub fn clear_journal(dir: &SessionDir) -> Result<()> {
    match std::fs::remove_file(dir.journal()) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(dir.journal(), e)),
        _ => Ok(()),
    }
}

/// The clips that place a take on the timeline: the parts (file name, frames) are one gapless
/// stream whose frame `offset` belongs at `position`; `length` frames of it show (all that is
/// there past `offset` when None).
pub fn clips_for_take(
    parts: &[(String, u64)],
    position: u64,
    offset: u64,
    length: Option<u64>,
) -> Vec<Clip> {
    let total: u64 = parts.iter().map(|(_, f)| f).sum();
    let end = length.map_or(total, |l| (offset + l).min(total));
    let mut clips = Vec::new();
    let mut g = 0;
    for (file, frames) in parts {
        let (a, b) = (offset.max(g), end.min(g + frames));
        if a < b {
            clips.push(Clip::new(
                file.clone(),
                position + (a - offset),
                a - g,
                b - a,
            ));
        }
        g += frames;
    }
    clips
}

/// The clips that place the takes of one recording (each a track and its parts, with frames):
/// every track shows the same stretch of time, the shortest take's (a disk that filled up between
/// two writes can leave one short), and no more than `asked` frames when given. A recording that
/// went round `looped` gives each track one clip per pass, in order (the newest plays over the
/// others, which stay under it as takes). The files keep everything.
pub fn recording_clips(
    takes: &[(TrackId, &[(PathBuf, u64)])],
    position: u64,
    offset: u64,
    asked: Option<u64>,
    looped: Option<(u64, u64)>,
    punch: Option<Punch>,
) -> Vec<(TrackId, Clip)> {
    let named: Vec<NamedTake> = takes
        .iter()
        .map(|(track, parts)| {
            let parts = parts.iter().map(|(p, f)| (file_name(p), *f)).collect();
            (*track, parts)
        })
        .collect();
    named_recording_clips(&named, position, offset, asked, looped, punch)
}

/// The passes of a recording that started at `position` and rolled `frames` (counted as if
/// nothing looped) round the loop `looped`: (timeline position, frames rolled before the pass,
/// length). Without a loop that applies (none, or the recording started at or past its end),
/// one pass. Past [`MAX_PASSES`], the newest are kept as takes (the file keeps every pass).
pub fn passes(position: u64, frames: u64, looped: Option<(u64, u64)>) -> Vec<(u64, u64, u64)> {
    let Some((a, b)) = looped.filter(|&(a, b)| b > a && position < b) else {
        return vec![(position, 0, frames)];
    };
    let mut out = Vec::new();
    let mut done = 0;
    while done < frames {
        let (at, room) = if out.is_empty() {
            (position, b - position)
        } else {
            (a, b - a)
        };
        let len = room.min(frames - done);
        out.push((at, done, len));
        done += len;
    }
    if out.is_empty() {
        out.push((position, 0, 0));
    }
    if out.len() > MAX_PASSES {
        out.drain(..out.len() - MAX_PASSES);
    }
    out
}

/// Most passes of one loop recording placed as takes (a short loop left running for an hour
/// would otherwise fill a track with more clips than a session holds).
pub const MAX_PASSES: usize = 1_000;

/// A track and the parts of its take, by file name, with their frames.
type NamedTake = (TrackId, Vec<(String, u64)>);

/// [`recording_clips`] for parts already named by file name.
fn named_recording_clips(
    takes: &[NamedTake],
    position: u64,
    offset: u64,
    asked: Option<u64>,
    looped: Option<(u64, u64)>,
    punch: Option<Punch>,
) -> Vec<(TrackId, Clip)> {
    let shortest = takes
        .iter()
        .map(|(_, parts)| parts.iter().map(|(_, f)| f).sum::<u64>())
        .min()
        .unwrap_or(0)
        .saturating_sub(offset);
    let shown = asked.map_or(shortest, |a| a.min(shortest));
    let mut out = Vec::new();
    for (at, before, length) in passes(position, shown, looped) {
        for (track, parts) in takes {
            for c in clips_for_take(parts, at, offset + before, Some(length)) {
                match punch {
                    Some(p) => out.extend(p.cut(&c).map(|c| (*track, c))),
                    None => out.push((*track, c)),
                }
            }
        }
    }
    out
}

/// What [`recover`] did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Recovered {
    /// Clips put back: (track id, clip).
    pub clips: Vec<(TrackId, Clip)>,
    /// Takes already in the session (the crash came after the save).
    pub already_saved: usize,
    /// Takes whose files are gone.
    pub missing: Vec<String>,
}

/// Put the takes of an unfinished recording back on their tracks: repair each file's header
/// (keeping every whole frame on disk), add its clips, save, and remove the journal. Does nothing
/// if there is no journal.
pub fn recover(dir: &SessionDir) -> Result<Option<Recovered>> {
    let Some(journal) = read_journal(dir)? else {
        return Ok(None);
    };
    let mut session = dir.load()?;
    // Nothing is repaired or added until every entry is known to stay inside the session.
    super::validate::check_journal(&journal, &session, &dir.audio(), &dir.journal())?;
    let mut out = Recovered::default();
    // The takes of each recording (one place, one latency), in the journal's order.
    type Key = (u64, u64, Option<(u64, u64)>, Option<Punch>);
    let mut recordings: Vec<(Key, Vec<NamedTake>)> = Vec::new();
    for e in &journal.takes {
        if session.track(e.track).is_none() {
            // Recorded on a track added after the last save: make it again.
            let name = e
                .track_name
                .clone()
                .unwrap_or_else(|| format!("Recovered track {}", e.track));
            let channels = e.channels.filter(|c| matches!(c, 1 | 2)).unwrap_or(1);
            session
                .tracks
                .push(super::model::Track::new(e.track, name, 0, channels));
            session.next_track_id = session.next_track_id.max(e.track.saturating_add(1));
        }
        if in_session(&session, &e.file) {
            out.already_saved += 1;
            continue;
        }
        let parts: Vec<(String, u64)> = salvage_parts(&dir.audio().join(&e.file))
            .into_iter()
            .map(|(p, f)| (file_name(&p), f))
            .collect();
        if parts.is_empty() {
            out.missing.push(e.file.clone());
            continue;
        }
        let key = (e.position, e.offset, e.loop_range, e.punch);
        match recordings.iter_mut().find(|(k, _)| *k == key) {
            Some((_, takes)) => takes.push((e.track, parts)),
            None => recordings.push((key, vec![(e.track, parts)])),
        }
    }
    // A crash cuts the takes short, and the disk thread may have written one more block to some
    // of them than to others: the takes of one recording show the same stretch of time, all of
    // the shortest one's, as a stopped recording does. The files keep everything.
    for ((position, offset, looped, punch), takes) in &recordings {
        for (track, clip) in named_recording_clips(takes, *position, *offset, None, *looped, *punch)
        {
            if let Some(id) = session.add_clip(track, clip.clone()) {
                out.clips.push((track, Clip { id, ..clip }));
            }
        }
    }
    dir.save(&session)?;
    clear_journal(dir)?;
    Ok(Some(out))
}

fn in_session(s: &Session, file: &str) -> bool {
    s.tracks
        .iter()
        .any(|t| t.clips.iter().any(|c| c.file == file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loop_recording_becomes_one_take_per_pass_each_at_the_loop_start() {
        // A loop of 1000 frames from 500; recorded from 500 for 4.5 passes with a latency of 64.
        assert_eq!(
            passes(500, 4_500, Some((500, 1_500))),
            [
                (500, 0, 1_000),
                (500, 1_000, 1_000),
                (500, 2_000, 1_000),
                (500, 3_000, 1_000),
                (500, 4_000, 500)
            ]
        );
        // Started inside the loop: the first pass runs to its end.
        assert_eq!(
            passes(800, 1_200, Some((500, 1_500))),
            [(800, 0, 700), (500, 700, 500)]
        );
        // A short loop left running: the newest passes are kept as takes.
        let many = passes(0, 3_000 * 10, Some((0, 10)));
        assert_eq!(many.len(), MAX_PASSES);
        assert_eq!(many[0], (0, 2_000 * 10, 10));
        // Past the loop's end, or no loop: one pass.
        assert_eq!(passes(2_000, 300, Some((500, 1_500))), [(2_000, 0, 300)]);
        assert_eq!(passes(0, 300, None), [(0, 0, 300)]);
        let parts = [("t.wav".to_string(), 64 + 4_500)];
        let clips = named_recording_clips(
            &[(7, parts.to_vec())],
            500,
            64,
            None,
            Some((500, 1_500)),
            None,
        );
        let got: Vec<(u64, u64, u64)> = clips
            .iter()
            .map(|(_, c)| (c.position, c.offset, c.length))
            .collect();
        assert_eq!(
            got,
            [
                (500, 64, 1_000),
                (500, 1_064, 1_000),
                (500, 2_064, 1_000),
                (500, 3_064, 1_000),
                (500, 4_064, 500)
            ]
        );
    }

    #[test]
    fn a_punched_recording_shows_only_its_range_with_centred_crossfades_in_every_part() {
        // A take of two parts (the first 3 000 frames long) from timeline frame 1 000, 64 frames
        // of latency compensated: part a holds timeline 1 000..3 936, part b 3 936..5 936.
        // Punch 3 000..4 500 with 100-frame crossfades.
        let parts = [("a.wav".to_string(), 3_000), ("b.wav".to_string(), 2_000)];
        let punch = Punch {
            from: 3_000,
            to: Some(4_500),
            fade: 100,
        };
        let clips =
            named_recording_clips(&[(7, parts.to_vec())], 1_000, 64, None, None, Some(punch));
        let got: Vec<_> = clips
            .iter()
            .map(|(_, c)| {
                let f = c.file.as_str();
                (f, c.position, c.offset, c.length, c.fade_in, c.fade_out)
            })
            .collect();
        // The join of the parts is no edge of the punch: no fade there.
        assert_eq!(
            got,
            [
                ("a.wav", 2_950, 2_014, 986, 100, 0),
                ("b.wav", 3_936, 0, 614, 0, 100)
            ]
        );
        // A punch the take never reached places nothing.
        let late = Punch {
            from: 9_000,
            to: None,
            fade: 100,
        };
        assert!(
            named_recording_clips(&[(7, parts.to_vec())], 1_000, 64, None, None, Some(late))
                .is_empty()
        );
    }

    #[test]
    fn a_take_on_a_track_added_after_the_last_save_is_recovered_onto_it_again() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = SessionDir::new(tmp.path().join("s"));
        dir.create(&Session::new(48_000, 1)).expect("create");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 48_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(dir.audio().join("Bass-take1.wav"), spec).expect("w");
        for i in 0..2000 {
            w.write_sample(i as i16).expect("s");
        }
        w.finalize().expect("fin");
        // Track 7 ("Bass", stereo) was added and recorded on, then the program died before
        // session.json knew about it.
        write_journal(
            &dir,
            &TakeJournal {
                takes: vec![JournalEntry {
                    track: 7,
                    file: "Bass-take1.wav".into(),
                    position: 480,
                    offset: 0,
                    length: None,
                    track_name: Some("Bass".into()),
                    channels: Some(2),
                    loop_range: None,
                    punch: None,
                }],
            },
        )
        .expect("journal");
        let r = recover(&dir).expect("recovers").expect("had a journal");
        assert_eq!(r.clips.len(), 1);
        let s = dir.load().expect("loads");
        let t = s.track(7).expect("the track is back");
        assert_eq!((t.name.as_str(), t.channels), ("Bass", 2));
        assert_eq!((t.clips[0].position, t.clips[0].length), (480, 1000));
        assert!(s.next_track_id > 7);
        assert!(!dir.journal().exists());
    }

    #[test]
    fn the_takes_of_one_recording_come_back_the_same_length() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = SessionDir::new(tmp.path().join("s"));
        dir.create(&Session::new(48_000, 2)).expect("create");
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 48_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        // The kill came between the disk thread's writes of one block to the two files.
        for (file, frames) in [("a.wav", 1256), ("b.wav", 1000)] {
            let mut w = hound::WavWriter::create(dir.audio().join(file), spec).expect("w");
            for i in 0..frames {
                w.write_sample(i as i16).expect("s");
            }
            w.finalize().expect("fin");
        }
        let entry = |track: TrackId, file: &str| JournalEntry {
            track,
            file: file.into(),
            position: 0,
            offset: 100,
            length: None,
            track_name: None,
            channels: None,
            loop_range: None,
            punch: None,
        };
        let journal = TakeJournal {
            takes: vec![entry(1, "a.wav"), entry(2, "b.wav")],
        };
        write_journal(&dir, &journal).expect("journal");
        recover(&dir).expect("recovers").expect("had a journal");
        let s = dir.load().expect("loads");
        for t in [1, 2] {
            let c = &s.track(t).expect("track").clips[0];
            assert_eq!((c.offset, c.length), (100, 900), "track {t}");
        }
    }

    #[test]
    fn a_save_forgets_only_the_takes_it_placed() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = SessionDir::new(tmp.path().join("s"));
        dir.create(&Session::new(48_000, 2)).expect("create");
        let entry = |file: &str| JournalEntry {
            track: 1,
            file: file.into(),
            position: 0,
            offset: 0,
            length: None,
            track_name: None,
            channels: None,
            loop_range: None,
            punch: None,
        };
        // The first take's save has not landed when the second recording starts.
        let journal = TakeJournal {
            takes: vec![entry("first.wav"), entry("second.wav")],
        };
        write_journal(&dir, &journal).expect("journal");
        forget_takes(&dir, &["first.wav".to_string()]).expect("forget");
        let left = read_journal(&dir).expect("read").expect("still there");
        assert_eq!(left.takes, vec![entry("second.wav")]);
        forget_takes(&dir, &["second.wav".to_string()]).expect("forget");
        assert!(!dir.journal().exists());
    }

    #[test]
    fn parts_become_gapless_clips_after_the_offset() {
        let parts = vec![
            ("a.wav".to_string(), 1000),
            ("a-part2.wav".to_string(), 1000),
        ];
        let c = clips_for_take(&parts, 500, 128, Some(1500));
        assert_eq!(c.len(), 2);
        assert_eq!(
            (c[0].file.as_str(), c[0].position, c[0].offset, c[0].length),
            ("a.wav", 500, 128, 872)
        );
        assert_eq!(
            (c[1].file.as_str(), c[1].position, c[1].offset, c[1].length),
            ("a-part2.wav", 1372, 0, 628)
        );
        assert_eq!(c[1].position, c[0].end(), "no gap");
        let all = clips_for_take(&parts, 0, 0, None);
        assert_eq!(all.iter().map(|c| c.length).sum::<u64>(), 2000);
    }
}
