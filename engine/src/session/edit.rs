//! The one session-editing API for the GUI and the command line: every change to a session goes
//! through [`Editor::apply`], is checked first, and can be undone and redone. Undo keeps whole
//! snapshots of the session model (a few kilobytes; the audio is never copied). Not on the audio
//! thread.

use serde::{Deserialize, Serialize};

use super::model::{Clip, Session};
use super::store::SessionDir;
use crate::error::{Error, Result};
use crate::rt::{MAX_TRACKS, MonitorMode, TrackId};

/// Most undo steps kept.
pub const UNDO_LIMIT: usize = 500;

/// One edit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Edit {
    /// Add a track at the bottom.
    AddTrack {
        /// Its name (default "Track N").
        name: Option<String>,
        /// 1 or 2.
        channels: u8,
    },
    /// Remove a track and its clips (the files stay in `audio/`).
    RemoveTrack(TrackId),
    /// Rename a track.
    RenameTrack(TrackId, String),
    /// Make a track mono (1) or stereo (2).
    SetChannels(TrackId, u8),
    /// First input channel, 0-based.
    SetInput(TrackId, u16),
    /// Fader gain, dB.
    SetGain(TrackId, f32),
    /// Pan, -1..1.
    SetPan(TrackId, f32),
    /// Mute.
    SetMute(TrackId, bool),
    /// Solo.
    SetSolo(TrackId, bool),
    /// Monitor mode.
    SetMonitor(TrackId, MonitorMode),
    /// Arm for recording.
    SetArmed(TrackId, bool),
    /// Move a clip to a timeline position, optionally onto another track.
    MoveClip {
        /// Clip id.
        clip: u32,
        /// New position, frames.
        position: u64,
        /// Destination track (None: stay).
        track: Option<TrackId>,
    },
    /// Set a clip's timeline start and end, frames (trimming either edge; the file stays whole).
    TrimClip {
        /// Clip id.
        clip: u32,
        /// New first timeline frame.
        start: u64,
        /// New end (exclusive).
        end: u64,
    },
    /// Split a clip in two at a timeline frame.
    SplitClip {
        /// Clip id.
        clip: u32,
        /// Where, frames; must be inside the clip.
        at: u64,
    },
    /// Delete a clip (the file stays in `audio/`).
    DeleteClip(u32),
    /// Add clips (a recorded take: one undo step for every track of it).
    AddClips(Vec<(TrackId, Clip)>),
    /// Make a take (a clip) play over the others on its track: all of it (it moves to the top of
    /// the track's list), or only `range` of it (a copy cut to the range goes on top: a comp).
    /// Files are never changed.
    UseTake {
        /// Clip id.
        clip: u32,
        /// Timeline frames (start, end); None: the whole clip.
        range: Option<(u64, u64)>,
    },
    /// Add a marker at a timeline frame.
    AddMarker {
        /// Its name.
        name: String,
        /// Where, frames.
        position: u64,
    },
    /// Move a marker to a timeline frame.
    MoveMarker(u32, u64),
    /// Rename a marker.
    RenameMarker(u32, String),
    /// Delete a marker.
    DeleteMarker(u32),
    /// A clip's fade-in and fade-out, frames (each fitted to the clip).
    SetClipFades {
        /// Clip id.
        clip: u32,
        /// Frames of fade-in.
        fade_in: u64,
        /// Frames of fade-out.
        fade_out: u64,
    },
    /// A clip's gain, dB.
    SetClipGain(u32, f32),
    /// The session's crossfade and edge-fade length, milliseconds (0: none).
    SetFadeLength(f32),
    /// The master fader, dB.
    SetMasterGain(f32),
    /// A track's colour in the window (None: the palette's).
    SetColour(TrackId, Option<[u8; 3]>),
    /// Move a track to position `to` (0-based) in the list.
    MoveTrack(TrackId, usize),
    /// Tempo, BPM.
    SetTempo(f64),
    /// Time signature.
    SetMeter(super::Meter),
}

impl Edit {
    /// A short name for menus ("Undo move clip").
    pub fn label(&self) -> &'static str {
        match self {
            Edit::AddTrack { .. } => "add track",
            Edit::RemoveTrack(_) => "remove track",
            Edit::RenameTrack(..) => "rename track",
            Edit::SetChannels(..) => "change channels",
            Edit::SetInput(..) => "change input",
            Edit::SetGain(..) => "change gain",
            Edit::SetPan(..) => "change pan",
            Edit::SetMute(..) => "mute",
            Edit::SetSolo(..) => "solo",
            Edit::SetMonitor(..) => "change monitoring",
            Edit::SetArmed(..) => "arm",
            Edit::MoveClip { .. } => "move clip",
            Edit::TrimClip { .. } => "trim clip",
            Edit::SplitClip { .. } => "split clip",
            Edit::DeleteClip(_) => "delete clip",
            Edit::AddClips(_) => "record",
            Edit::UseTake { .. } => "choose take",
            Edit::AddMarker { .. } => "add marker",
            Edit::MoveMarker(..) => "move marker",
            Edit::RenameMarker(..) => "rename marker",
            Edit::DeleteMarker(_) => "delete marker",
            Edit::SetClipFades { .. } => "change fades",
            Edit::SetClipGain(..) => "change clip gain",
            Edit::SetFadeLength(_) => "change fade length",
            Edit::SetMasterGain(_) => "change master gain",
            Edit::SetColour(..) => "change colour",
            Edit::MoveTrack(..) => "move track",
            Edit::SetTempo(_) => "change tempo",
            Edit::SetMeter(_) => "change time signature",
        }
    }
}

/// A session under edit, with its undo and redo history.
pub struct Editor {
    dir: SessionDir,
    session: Session,
    undo: Vec<(&'static str, Session)>,
    redo: Vec<(&'static str, Session)>,
    dirty: bool,
    generation: u64,
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidSetting(msg.into())
}

/// A track name a session can hold.
fn check_name(name: &str) -> Result<()> {
    let max = super::validate::MAX_NAME_CHARS;
    if name.chars().count() > max {
        return Err(invalid(format!("a track name is at most {max} characters")));
    }
    Ok(())
}

impl Editor {
    /// Edit `session`, whose files live in `dir`.
    pub fn new(dir: SessionDir, session: Session) -> Self {
        Self {
            dir,
            session,
            undo: Vec::new(),
            redo: Vec::new(),
            dirty: false,
            generation: 0,
        }
    }

    /// Load the session in `dir` for editing.
    pub fn open(dir: SessionDir) -> Result<Self> {
        let session = dir.load()?;
        Ok(Self::new(dir, session))
    }

    /// The session as it stands.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The session folder.
    pub fn dir(&self) -> &SessionDir {
        &self.dir
    }

    /// Changed since the last save.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// Save to `session.json` (atomically).
    pub fn save(&mut self) -> Result<()> {
        self.dir.save(&self.session)?;
        self.dirty = false;
        Ok(())
    }

    /// Count of changes so far: a save of generation N covers every change up to N.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// A save of `generation` finished: the session is clean if nothing changed since.
    pub fn saved(&mut self, generation: u64) {
        if generation == self.generation {
            self.dirty = false;
        }
    }

    /// Replace the session without an undo step (after recording or importing, which bring their
    /// own files).
    pub fn replace(&mut self, session: Session) {
        self.session = session;
        self.dirty = true;
        self.generation += 1;
    }

    /// What undo would undo.
    pub fn undo_label(&self) -> Option<&'static str> {
        self.undo.last().map(|(l, _)| *l)
    }

    /// What redo would redo.
    pub fn redo_label(&self) -> Option<&'static str> {
        self.redo.last().map(|(l, _)| *l)
    }

    /// Apply an edit, or refuse it with a reason and change nothing. Returns the id of anything
    /// the edit created (a track or a clip).
    pub fn apply(&mut self, edit: Edit) -> Result<Option<u32>> {
        let mut next = self.session.clone();
        let created = apply_to(&mut next, &edit, &self.dir)?;
        let before = std::mem::replace(&mut self.session, next);
        self.undo.push((edit.label(), before));
        if self.undo.len() > UNDO_LIMIT {
            self.undo.remove(0);
        }
        self.redo.clear();
        self.dirty = true;
        self.generation += 1;
        Ok(created)
    }

    /// Undo the last edit; returns its label.
    pub fn undo(&mut self) -> Option<&'static str> {
        let (label, before) = self.undo.pop()?;
        let after = std::mem::replace(&mut self.session, before);
        self.redo.push((label, after));
        self.dirty = true;
        self.generation += 1;
        Some(label)
    }

    /// Redo the last undone edit; returns its label.
    pub fn redo(&mut self) -> Option<&'static str> {
        let (label, after) = self.redo.pop()?;
        let before = std::mem::replace(&mut self.session, after);
        self.undo.push((label, before));
        self.dirty = true;
        self.generation += 1;
        Some(label)
    }
}

fn track_mut(s: &mut Session, id: TrackId) -> Result<&mut super::Track> {
    s.track_mut(id)
        .ok_or_else(|| invalid(format!("no track with id {id}")))
}

/// Where a clip is: (track index, clip index).
fn find_clip(s: &Session, clip: u32) -> Result<(usize, usize)> {
    s.tracks
        .iter()
        .enumerate()
        .find_map(|(ti, t)| t.clips.iter().position(|c| c.id == clip).map(|ci| (ti, ci)))
        .ok_or_else(|| invalid(format!("no clip {clip}")))
}

/// Frames in a clip's file, from its WAV header.
fn file_frames(dir: &SessionDir, clip: &Clip) -> Result<u64> {
    let path = dir.audio().join(&clip.file);
    let r = hound::WavReader::open(&path).map_err(|e| Error::wav(&path, e))?;
    Ok(u64::from(r.duration()))
}

fn apply_to(s: &mut Session, edit: &Edit, dir: &SessionDir) -> Result<Option<u32>> {
    match edit {
        Edit::AddTrack { name, channels } => {
            if s.tracks.len() >= MAX_TRACKS {
                return Err(invalid(format!("at most {MAX_TRACKS} tracks")));
            }
            if let Some(n) = name {
                check_name(n)?;
            }
            let id = s.add_track();
            let t = track_mut(s, id)?;
            if let Some(n) = name {
                t.name = n.clone();
            }
            t.channels = if *channels == 2 { 2 } else { 1 };
            return Ok(Some(id));
        }
        Edit::RemoveTrack(id) => {
            let before = s.tracks.len();
            s.tracks.retain(|t| t.id != *id);
            if s.tracks.len() == before {
                return Err(invalid(format!("no track with id {id}")));
            }
        }
        Edit::RenameTrack(id, name) => {
            if name.trim().is_empty() {
                return Err(invalid("a track name cannot be empty"));
            }
            check_name(name)?;
            track_mut(s, *id)?.name = name.trim().to_string();
        }
        Edit::SetChannels(id, ch) => {
            if !matches!(ch, 1 | 2) {
                return Err(invalid("a track is mono (1) or stereo (2)"));
            }
            track_mut(s, *id)?.channels = *ch;
        }
        Edit::SetInput(id, input) => {
            if *input > super::validate::MAX_INPUT {
                return Err(invalid(format!(
                    "input {} is beyond the last input a track can take ({})",
                    u32::from(*input) + 1,
                    u32::from(super::validate::MAX_INPUT) + 1
                )));
            }
            track_mut(s, *id)?.input = *input;
        }
        Edit::SetGain(id, db) => {
            if !(db.is_finite() || *db == f32::NEG_INFINITY) || *db > 24.0 {
                return Err(invalid(format!(
                    "gain {db} dB is out of range (up to +24 dB)"
                )));
            }
            track_mut(s, *id)?.gain_db = *db;
        }
        Edit::SetPan(id, pan) => {
            if !(pan.is_finite() && (-1.0..=1.0).contains(pan)) {
                return Err(invalid(format!("pan {pan} is out of range (-1 to 1)")));
            }
            track_mut(s, *id)?.pan = *pan;
        }
        Edit::SetMute(id, v) => track_mut(s, *id)?.mute = *v,
        Edit::SetSolo(id, v) => track_mut(s, *id)?.solo = *v,
        Edit::SetMonitor(id, v) => track_mut(s, *id)?.monitor = *v,
        Edit::SetArmed(id, v) => track_mut(s, *id)?.armed = *v,
        Edit::MoveClip {
            clip,
            position,
            track,
        } => {
            let (ti, ci) = find_clip(s, *clip)?;
            let mut c = s.tracks[ti].clips.remove(ci);
            c.position = *position;
            let dest = match track {
                Some(id) => s
                    .tracks
                    .iter()
                    .position(|t| t.id == *id)
                    .ok_or_else(|| invalid(format!("no track with id {id}")))?,
                None => ti,
            };
            s.tracks[dest].clips.push(c);
        }
        Edit::TrimClip { clip, start, end } => {
            let (ti, ci) = find_clip(s, *clip)?;
            let c = s.tracks[ti].clips[ci].clone();
            if end <= start {
                return Err(invalid("a clip must end after it starts"));
            }
            // The file frame that plays at timeline frame `start`.
            let first = (c.offset + *start)
                .checked_sub(c.position)
                .ok_or_else(|| invalid("cannot trim a clip to start before its file does"))?;
            let available = file_frames(dir, &c)?;
            if first + (end - start) > available {
                return Err(invalid(format!(
                    "cannot trim the clip past the end of its file ({available} frames)"
                )));
            }
            let fade = s.fade_frames();
            let c = &mut s.tracks[ti].clips[ci];
            // An edge the trim moves cuts into the recording: it gets the session's edge fade
            // (or keeps a longer one it has), so the cut does not click.
            if *start != c.position {
                c.fade_in = c.fade_in.max(fade);
            }
            if *end != c.end() {
                c.fade_out = c.fade_out.max(fade);
            }
            c.offset = first;
            c.position = *start;
            c.length = end - start;
            c.fit_fades();
        }
        Edit::SplitClip { clip, at } => {
            let (ti, ci) = find_clip(s, *clip)?;
            let c = s.tracks[ti].clips[ci].clone();
            if *at <= c.position || *at >= c.end() {
                return Err(invalid(format!(
                    "split point {at} is not inside the clip ({}..{})",
                    c.position,
                    c.end()
                )));
            }
            // The halves meet with no cut in the recording between them: no fade at the split;
            // each half keeps the fade at its outer edge.
            let left = at - c.position;
            let first = &mut s.tracks[ti].clips[ci];
            first.length = left;
            first.fade_out = 0;
            first.fit_fades();
            let id = s.next_clip_id;
            s.next_clip_id += 1;
            let mut second = Clip {
                id,
                position: *at,
                offset: c.offset + left,
                length: c.length - left,
                fade_in: 0,
                ..c
            };
            second.fit_fades();
            s.tracks[ti].clips.insert(ci + 1, second);
            return Ok(Some(id));
        }
        Edit::DeleteClip(clip) => {
            let (ti, ci) = find_clip(s, *clip)?;
            s.tracks[ti].clips.remove(ci);
        }
        Edit::AddClips(clips) => {
            let mut first = None;
            for (track, clip) in clips {
                let id = s
                    .add_clip(*track, clip.clone())
                    .ok_or_else(|| invalid(format!("no track with id {track}")))?;
                first.get_or_insert(id);
            }
            return Ok(first);
        }
        Edit::UseTake { clip, range } => {
            let (ti, ci) = find_clip(s, *clip)?;
            let c = s.tracks[ti].clips[ci].clone();
            let Some((a, b)) = *range else {
                let c = s.tracks[ti].clips.remove(ci);
                s.tracks[ti].clips.push(c);
                return Ok(None);
            };
            let (a, b) = (a.max(c.position), b.min(c.end()));
            if a >= b {
                return Err(invalid(format!(
                    "the range does not overlap clip {clip} (frames {}..{})",
                    c.position,
                    c.end()
                )));
            }
            let id = s.next_clip_id;
            s.next_clip_id += 1;
            let piece = comp_piece(&c, a, b, s.fade_frames());
            join_under(&mut s.tracks[ti].clips, &piece);
            s.tracks[ti].clips.push(Clip { id, ..piece });
            return Ok(Some(id));
        }
        Edit::AddMarker { name, position } => {
            check_marker_name(name)?;
            check_frame(*position)?;
            if s.markers.len() >= super::validate::MAX_MARKERS {
                return Err(invalid(format!(
                    "at most {} markers",
                    super::validate::MAX_MARKERS
                )));
            }
            return Ok(Some(s.add_marker(name.clone(), *position)));
        }
        Edit::MoveMarker(id, position) => {
            check_frame(*position)?;
            marker_mut(s, *id)?.position = *position;
            s.sort_markers();
        }
        Edit::RenameMarker(id, name) => {
            check_marker_name(name)?;
            marker_mut(s, *id)?.name = name.clone();
        }
        Edit::DeleteMarker(id) => {
            marker_mut(s, *id)?;
            s.markers.retain(|m| m.id != *id);
        }
        Edit::SetClipFades {
            clip,
            fade_in,
            fade_out,
        } => {
            let (ti, ci) = find_clip(s, *clip)?;
            let c = &mut s.tracks[ti].clips[ci];
            c.fade_in = *fade_in;
            c.fade_out = *fade_out;
            c.fit_fades();
        }
        Edit::SetClipGain(clip, db) => {
            if !super::validate::CLIP_GAINS.contains(db) {
                return Err(invalid(format!(
                    "a clip gain is {} to {} dB",
                    super::validate::CLIP_GAINS.start(),
                    super::validate::CLIP_GAINS.end()
                )));
            }
            let (ti, ci) = find_clip(s, *clip)?;
            s.tracks[ti].clips[ci].gain_db = *db;
        }
        Edit::SetColour(id, colour) => track_mut(s, *id)?.colour = *colour,
        Edit::MoveTrack(id, to) => {
            let from = s
                .tracks
                .iter()
                .position(|t| t.id == *id)
                .ok_or_else(|| invalid(format!("no track with id {id}")))?;
            let t = s.tracks.remove(from);
            let to = (*to).min(s.tracks.len());
            s.tracks.insert(to, t);
        }
        Edit::SetMasterGain(db) => {
            if !(*db == f32::NEG_INFINITY || (db.is_finite() && *db <= 24.0)) {
                return Err(invalid("the master gain is at most +24 dB"));
            }
            s.master_gain_db = *db;
        }
        Edit::SetFadeLength(ms) => {
            if !super::validate::FADE_MS.contains(ms) {
                return Err(invalid(format!(
                    "a fade length is {} to {} ms",
                    super::validate::FADE_MS.start(),
                    super::validate::FADE_MS.end()
                )));
            }
            s.fade_ms = *ms;
        }
        Edit::SetTempo(bpm) => {
            if let Some((_, why)) = super::validate::bad_timing(*bpm, s.meter) {
                return Err(invalid(why));
            }
            s.tempo_bpm = *bpm;
        }
        Edit::SetMeter(meter) => {
            if let Some((_, why)) = super::validate::bad_timing(s.tempo_bpm, *meter) {
                return Err(invalid(why));
            }
            s.meter = *meter;
        }
    }
    Ok(None)
}

/// The part of take `c` that plays `a..b` over the takes below it, with crossfades of about
/// `fade` frames centred on `a` and on `b` (the frame boundaries before `a` and before `b`): the
/// piece reaches half a fade past each end where the take has the audio for it, so a join moves
/// nothing in time. A fade is shortened to what the take holds past that end (at an end of the
/// take: none, nothing to cross into) and to half the range.
pub fn comp_piece(c: &Clip, a: u64, b: u64, fade: u64) -> Clip {
    let half = (fade / 2).min((b - a) / 2);
    let half_in = half.min(a - c.position);
    let half_out = half.min(c.end() - b);
    let start = a - half_in;
    Clip {
        position: start,
        offset: c.offset + (start - c.position),
        length: b + half_out - start,
        fade_in: 2 * half_in,
        fade_out: 2 * half_out,
        ..c.clone()
    }
}

/// Make the comp pieces already on a track meet `top` (about to go over them) in one crossfade:
/// a piece that ends where `top`'s fade-in ends, fading out within it, stops fading (`top` covers
/// its end); a piece that starts where `top`'s fade-out starts, fading in within it, starts at
/// full level. Without this the take under both would be heard for the length of the join.
fn join_under(clips: &mut [Clip], top: &Clip) {
    let in_end = top.position + top.fade_in;
    let out_start = top.end() - top.fade_out;
    for c in clips {
        if top.fade_in > 0 && c.end() == in_end && c.end() - c.fade_out >= top.position {
            c.fade_out = 0;
        }
        if top.fade_out > 0 && c.position == out_start && c.position + c.fade_in <= top.end() {
            c.fade_in = 0;
        }
    }
}

fn marker_mut(s: &mut Session, id: u32) -> Result<&mut super::Marker> {
    s.markers
        .iter_mut()
        .find(|m| m.id == id)
        .ok_or_else(|| invalid(format!("no marker {id}")))
}

/// A marker name: any text up to the name limit (empty is allowed: markers are often unnamed).
fn check_marker_name(name: &str) -> Result<()> {
    let max = super::validate::MAX_NAME_CHARS;
    if name.chars().count() > max {
        return Err(invalid(format!(
            "a marker name is at most {max} characters"
        )));
    }
    Ok(())
}

fn check_frame(frame: u64) -> Result<()> {
    if frame > super::validate::MAX_FRAME {
        return Err(invalid(format!("{frame} frames is beyond any recording")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session folder with one 1000-frame clip file on track 1.
    fn fixture() -> (tempfile::TempDir, Editor, u32) {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = SessionDir::new(tmp.path().join("s"));
        let mut s = Session::new(48_000, 2);
        dir.create(&s).expect("create");
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 48_000,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut w = hound::WavWriter::create(dir.audio().join("a.wav"), spec).expect("wav");
        for i in 0..1000 {
            w.write_sample(i as f32).expect("write");
        }
        w.finalize().expect("finalize");
        let t1 = s.tracks[0].id;
        let clip = s
            .add_clip(t1, Clip::new("a.wav".into(), 100, 0, 1000))
            .expect("clip");
        (tmp, Editor::new(dir, s), clip)
    }

    #[test]
    fn every_edit_kind_undoes_and_redoes_exactly() {
        let (_tmp, mut ed, clip) = fixture();
        let t1 = ed.session().tracks[0].id;
        let t2 = ed.session().tracks[1].id;
        let edits = vec![
            Edit::AddTrack {
                name: Some("Bass".into()),
                channels: 2,
            },
            Edit::RemoveTrack(t2),
            Edit::RenameTrack(t1, "Vocal".into()),
            Edit::SetChannels(t1, 2),
            Edit::SetInput(t1, 5),
            Edit::SetGain(t1, -6.0),
            Edit::SetPan(t1, 0.5),
            Edit::SetMute(t1, true),
            Edit::SetSolo(t1, true),
            Edit::SetMonitor(t1, MonitorMode::Input),
            Edit::SetArmed(t1, true),
            Edit::MoveClip {
                clip,
                position: 5000,
                track: Some(t2),
            },
            Edit::TrimClip {
                clip,
                start: 150,
                end: 900,
            },
            Edit::SplitClip { clip, at: 600 },
            Edit::DeleteClip(clip),
            Edit::UseTake {
                clip,
                range: Some((200, 400)),
            },
            Edit::AddMarker {
                name: "Verse 2".into(),
                position: 4800,
            },
            Edit::SetTempo(96.5),
            Edit::SetMeter(crate::session::Meter {
                numerator: 6,
                denominator: 8,
            }),
            Edit::SetClipFades {
                clip,
                fade_in: 48,
                fade_out: 96,
            },
            Edit::SetClipGain(clip, -3.5),
            Edit::SetFadeLength(0.0),
            Edit::SetMasterGain(-4.5),
            Edit::SetColour(t1, Some([200, 80, 40])),
            Edit::MoveTrack(t1, 1),
        ];
        for edit in edits {
            let before = ed.session().clone();
            ed.apply(edit.clone())
                .unwrap_or_else(|e| panic!("{edit:?}: {e}"));
            let after = ed.session().clone();
            assert_ne!(before, after, "{edit:?} changed nothing");
            assert_eq!(ed.undo(), Some(edit.label()));
            assert_eq!(ed.session(), &before, "undo of {edit:?}");
            assert_eq!(ed.redo(), Some(edit.label()));
            assert_eq!(ed.session(), &after, "redo of {edit:?}");
            ed.undo();
        }
    }

    #[test]
    fn trim_and_split_keep_the_audio_where_it_was() {
        let (_tmp, mut ed, clip) = fixture();
        ed.apply(Edit::TrimClip {
            clip,
            start: 150,
            end: 900,
        })
        .expect("trim");
        let c = ed.session().tracks[0].clips[0].clone();
        // Timeline frame 150 still plays file frame 50.
        assert_eq!((c.position, c.offset, c.length), (150, 50, 750));
        let right = ed
            .apply(Edit::SplitClip { clip, at: 400 })
            .expect("split")
            .expect("new clip");
        let clips = &ed.session().tracks[0].clips;
        assert_eq!(
            (clips[0].position, clips[0].offset, clips[0].length),
            (150, 50, 250)
        );
        assert_eq!(clips[1].id, right);
        assert_eq!(
            (clips[1].position, clips[1].offset, clips[1].length),
            (400, 300, 500)
        );
    }

    #[test]
    fn a_trim_fades_the_edges_it_moves_and_a_split_fades_nothing() {
        let (_tmp, mut ed, clip) = fixture();
        let fade = ed.session().fade_frames();
        assert_eq!(fade, 240, "5 ms at 48 kHz");
        ed.apply(Edit::TrimClip {
            clip,
            start: 150,
            end: 1100,
        })
        .expect("trim the start");
        let c = &ed.session().tracks[0].clips[0];
        assert_eq!((c.fade_in, c.fade_out), (fade, 0), "only the start moved");
        let right = ed
            .apply(Edit::SplitClip { clip, at: 600 })
            .expect("split")
            .expect("new clip");
        let clips = &ed.session().tracks[0].clips;
        assert_eq!((clips[0].fade_in, clips[0].fade_out), (fade, 0));
        assert_eq!(
            (clips[1].id, clips[1].fade_in, clips[1].fade_out),
            (right, 0, 0)
        );
        ed.apply(Edit::SetFadeLength(0.0)).expect("no fades");
        ed.apply(Edit::TrimClip {
            clip: right,
            start: 600,
            end: 1000,
        })
        .expect("trim the end");
        assert_eq!(ed.session().tracks[0].clips[1].fade_out, 0);
        // Fades asked longer than the clip are fitted to it.
        ed.apply(Edit::SetClipFades {
            clip: right,
            fade_in: 300,
            fade_out: 300,
        })
        .expect("fades");
        let c = &ed.session().tracks[0].clips[1];
        assert_eq!((c.fade_in, c.fade_out), (300, 100));
    }

    #[test]
    fn a_comp_range_crossfades_centred_on_its_edges() {
        let take = Clip {
            id: 7,
            ..Clip::new("t.wav".into(), 1000, 50, 10_000)
        };
        let p = comp_piece(&take, 3000, 5000, 240);
        assert_eq!(
            (p.position, p.offset, p.length, p.fade_in, p.fade_out),
            (2880, 1930, 2240, 240, 240)
        );
        // The join is where it was asked: half of each fade either side of it.
        assert_eq!(p.position + p.fade_in / 2, 3000);
        assert_eq!(p.end() - p.fade_out / 2, 5000);
        // At the take's own start there is nothing to cross into; near its end, less room.
        let p = comp_piece(&take, 1000, 10_950, 240);
        assert_eq!(
            (p.position, p.length, p.fade_in, p.fade_out),
            (1000, 10_000, 0, 100)
        );
        // A range shorter than a fade gets fades that fit it.
        let p = comp_piece(&take, 3000, 3100, 240);
        assert_eq!((p.fade_in, p.fade_out, p.length), (100, 100, 200));
        assert_eq!(comp_piece(&take, 3000, 5000, 0).length, 2000);
    }

    #[test]
    fn markers_stay_in_timeline_order_through_moves_renames_and_deletes() {
        let (_tmp, mut ed, _) = fixture();
        let add = |ed: &mut Editor, name: &str, position| {
            ed.apply(Edit::AddMarker {
                name: name.into(),
                position,
            })
            .expect("add")
            .expect("id")
        };
        let chorus = add(&mut ed, "Chorus", 96_000);
        let verse = add(&mut ed, "Verse", 48_000);
        let names = |ed: &Editor| -> Vec<String> {
            ed.session()
                .markers
                .iter()
                .map(|m| m.name.clone())
                .collect()
        };
        assert_eq!(names(&ed), ["Verse", "Chorus"]);
        ed.apply(Edit::MoveMarker(verse, 144_000)).expect("move");
        assert_eq!(names(&ed), ["Chorus", "Verse"]);
        ed.apply(Edit::RenameMarker(verse, "Solo".into()))
            .expect("rename");
        ed.apply(Edit::DeleteMarker(chorus)).expect("delete");
        assert_eq!(names(&ed), ["Solo"]);
        assert_eq!(ed.undo(), Some("delete marker"));
        assert_eq!(names(&ed), ["Chorus", "Solo"]);
    }

    #[test]
    fn impossible_edits_are_refused_and_change_nothing() {
        let (_tmp, mut ed, clip) = fixture();
        let before = ed.session().clone();
        for edit in [
            Edit::TrimClip {
                clip,
                start: 50,
                end: 900,
            },
            Edit::TrimClip {
                clip,
                start: 100,
                end: 1200,
            },
            Edit::SplitClip { clip, at: 100 },
            Edit::DeleteClip(999),
            Edit::SetPan(1, 3.0),
            Edit::RenameTrack(1, "  ".into()),
            // What the loader would refuse is refused here first.
            Edit::RenameTrack(1, "x".repeat(300)),
            Edit::SetInput(1, 1024),
            Edit::AddTrack {
                name: Some("y".repeat(300)),
                channels: 1,
            },
            Edit::SetTempo(0.0),
            Edit::SetTempo(f64::NAN),
            Edit::SetMeter(crate::session::Meter {
                numerator: 4,
                denominator: 3,
            }),
            Edit::MoveMarker(999, 0),
            Edit::UseTake {
                clip: 999,
                range: None,
            },
            Edit::UseTake {
                clip,
                range: Some((5_000, 6_000)),
            },
            Edit::RenameMarker(999, "x".into()),
            Edit::DeleteMarker(999),
            Edit::AddMarker {
                name: "z".repeat(300),
                position: 0,
            },
            Edit::SetClipGain(clip, f32::NAN),
            Edit::SetClipGain(clip, 40.0),
            Edit::SetClipGain(999, 0.0),
            Edit::SetFadeLength(-1.0),
            Edit::SetMasterGain(f32::NAN),
            Edit::SetMasterGain(30.0),
            Edit::MoveTrack(999, 0),
            Edit::SetFadeLength(f32::INFINITY),
            Edit::SetClipFades {
                clip: 999,
                fade_in: 0,
                fade_out: 0,
            },
        ] {
            assert!(ed.apply(edit.clone()).is_err(), "{edit:?} was accepted");
        }
        assert_eq!(ed.session(), &before);
        assert_eq!(ed.undo(), None);
    }
}
