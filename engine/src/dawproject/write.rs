//! Writing a session as a DAWproject file: `project.xml` (tracks, channels, the transport,
//! markers and the arrangement in seconds), `metadata.xml`, and every audio file a clip plays,
//! copied in unchanged. Written beside the target and renamed into place, so a failed export
//! leaves nothing behind. Not on the audio thread.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use dawproject::{
    ApplicationType, ArrangementType, AudioType, BoolParameterType, ChannelType, ClipType,
    ClipTypeContent, ClipsType, ContentType, ContentTypeList, FileReferenceType, LanesType,
    MarkerType, MarkersType, MetaData, MixerRoleType, Project, ProjectStructureElementType,
    ProjectStructureElementTypeContent, RealParameterType, TimeSignatureParameterType,
    TimeUnitType, TrackType, TransportType, UnitType,
};
use serde::Serialize;
use zip::write::SimpleFileOptions;

use super::{AUDIO_FOLDER, FORMAT_VERSION, MAX_VOLUME, METADATA_XML, PROJECT_XML};
use crate::error::{Error, Result};
use crate::session::validate::TEMPOS;
use crate::session::{Clip, Session, SessionDir, Track, db_to_gain, playing_pieces};

/// What a DAWproject export wrote.
#[derive(Clone, Debug, Serialize)]
pub struct ProjectReport {
    /// The file written.
    pub path: PathBuf,
    /// Tracks.
    pub tracks: usize,
    /// Clips that play.
    pub clips: usize,
    /// Whole takes carried as disabled clips (covered in whole or in part by later ones).
    pub takes: usize,
    /// Markers.
    pub markers: usize,
    /// Audio files copied in.
    pub files: usize,
    /// Files the session names that are not in its `audio/` folder: their clips (silent in
    /// Overdub) are left out.
    pub missing: Vec<String>,
    /// Clips with a clip gain, which a DAWproject clip has no place for: another program plays
    /// them at 0 dB.
    pub gains_left_out: usize,
    /// First timeline frame exported (time 0 in the file).
    pub start: u64,
}

/// The timeline frames `range` (seconds) covers, or the whole session.
fn frames_of(session: &Session, range: Option<(f64, f64)>) -> Result<(u64, u64)> {
    let rate = f64::from(session.rate);
    let (start, end) = match range {
        Some((a, b)) if a.is_finite() && b.is_finite() && a >= 0.0 && b > a => {
            ((a * rate).round() as u64, (b * rate).round() as u64)
        }
        Some((a, b)) => {
            return Err(Error::InvalidSetting(format!(
                "--range {a}:{b}: give START:END in seconds with END after START"
            )));
        }
        None => (0, session.end().max(1)),
    };
    if end <= start {
        return Err(Error::InvalidSetting(format!(
            "--range covers no frame at {} Hz",
            session.rate
        )));
    }
    Ok((start, end))
}

/// Write the session in `dir` to the DAWproject file `out`; `range` (seconds) exports that part,
/// moved to start at time 0.
pub fn export_project(dir: &Path, out: &Path, range: Option<(f64, f64)>) -> Result<ProjectReport> {
    let sdir = SessionDir::new(dir);
    let session = sdir.load()?;
    let (start, end) = frames_of(&session, range)?;
    let mut b = Builder {
        rate: f64::from(session.rate),
        start,
        end,
        audio: sdir.audio(),
        next_id: 0,
        files: Vec::new(),
        missing: Vec::new(),
        specs: HashMap::new(),
        clips: 0,
        takes: 0,
        gains_left_out: 0,
    };
    let project = b.project(&session)?;
    let title = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let xml = project_xml(&project)?;
    let meta = metadata_xml(&title)?;

    let (parent, made_parent) = super::parent_made(out)?;
    let written = write_beside(&parent, out, &xml, &meta, &b);
    if written.is_err()
        && let Some(top) = made_parent
    {
        let _ = std::fs::remove_dir_all(top);
    }
    written?;
    Ok(ProjectReport {
        path: out.to_path_buf(),
        tracks: session.tracks.len(),
        clips: b.clips,
        takes: b.takes,
        markers: session
            .markers
            .iter()
            .filter(|m| (start..end).contains(&m.position))
            .count(),
        files: b.files.len(),
        missing: b.missing,
        gains_left_out: b.gains_left_out,
        start,
    })
}

/// The archive, written to a temp file in `parent`, fsynced and renamed to `out`.
fn write_beside(parent: &Path, out: &Path, xml: &str, meta: &str, b: &Builder) -> Result<()> {
    let tmp = tempfile::Builder::new()
        .prefix(".overdub-export")
        .suffix(".partial")
        .tempfile_in(parent)
        .map_err(|e| Error::io(parent, e))?;
    write_zip(tmp.as_file(), xml, meta, &b.audio, &b.files, tmp.path())?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(tmp.path(), e))?;
    tmp.persist(out).map_err(|e| Error::io(out, e.error))?;
    Ok(())
}

/// `project.xml` text: the crate's types serialized, with the XML declaration.
pub(super) fn project_xml(project: &Project) -> Result<String> {
    let body = indented("Project", project)
        .map_err(|e| Error::InvalidSetting(format!("cannot write project.xml ({e})")))?;
    // The crate names the track attribute `contentTypes` (so it does not clash with the type
    // of that name); the schema's name is `contentType`. A `"` inside a value is escaped, so
    // this matches only the attribute.
    let body = body.replace("contentTypes=\"", "contentType=\"");
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}\n"
    ))
}

/// `value` as XML under the element `root`, indented for people who open the file.
fn indented<T: Serialize>(
    root: &str,
    value: &T,
) -> std::result::Result<String, quick_xml::SeError> {
    let mut out = String::new();
    let mut ser = quick_xml::se::Serializer::with_root(&mut out, Some(root))?;
    ser.indent(' ', 2);
    value.serialize(ser)?;
    Ok(out)
}

fn metadata_xml(title: &str) -> Result<String> {
    let meta = MetaData {
        title: Some(title.to_string()),
        artist: None,
        album: None,
        original_artist: None,
        composer: None,
        songwriter: None,
        producer: None,
        arranger: None,
        year: None,
        genre: None,
        copyright: None,
        website: None,
        comment: Some("Recorded in Overdub".into()),
    };
    let body = indented("MetaData", &meta)
        .map_err(|e| Error::InvalidSetting(format!("cannot write metadata.xml ({e})")))?;
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}\n"
    ))
}

/// The archive: the two XML files compressed, the audio stored as it is.
fn write_zip(
    file: &File,
    project: &str,
    meta: &str,
    audio: &Path,
    files: &[String],
    path: &Path,
) -> Result<()> {
    let zip_err = |e: zip::result::ZipError| Error::io(path, std::io::Error::other(e));
    let mut z = zip::ZipWriter::new(BufWriter::new(file));
    let deflated = SimpleFileOptions::default();
    let stored = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    for (name, text) in [(PROJECT_XML, project), (METADATA_XML, meta)] {
        z.start_file(name, deflated).map_err(zip_err)?;
        z.write_all(text.as_bytes())
            .map_err(|e| Error::io(path, e))?;
    }
    for f in files {
        let src = audio.join(f);
        let mut r = File::open(&src).map_err(|e| Error::io(&src, e))?;
        z.start_file(format!("{AUDIO_FOLDER}/{f}"), stored)
            .map_err(zip_err)?;
        std::io::copy(&mut r, &mut z).map_err(|e| Error::io(&src, e))?;
    }
    let mut w = z.finish().map_err(zip_err)?;
    w.flush().map_err(|e| Error::io(path, e))
}

struct Builder {
    rate: f64,
    start: u64,
    end: u64,
    audio: PathBuf,
    next_id: u32,
    /// Audio files the clips name, each once, in the order first used.
    files: Vec<String>,
    /// Files named but not there.
    missing: Vec<String>,
    /// Channels, rate and frames of each file read so far (None: missing).
    specs: HashMap<String, Option<(u16, u32, u32)>>,
    clips: usize,
    takes: usize,
    gains_left_out: usize,
}

const MASTER_CHANNEL: &str = "master-channel";

/// What a mixer channel is written with.
struct Strip<'a> {
    name: &'a str,
    /// Its XML id (None: a fresh one).
    id: Option<&'a str>,
    channels: u8,
    role: MixerRoleType,
    solo: bool,
    mute: bool,
    /// Normalized, 0.5 centre.
    pan: f64,
    /// Linear.
    gain: f64,
}

impl Builder {
    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{}", self.next_id)
    }

    /// Channels, rate and frames of `file` in `audio/`, read once; the first use of a file adds
    /// it to the archive's list, a missing one to `missing`.
    fn spec(&mut self, file: &str) -> Result<Option<(u16, u32, u32)>> {
        if let Some(s) = self.specs.get(file) {
            return Ok(*s);
        }
        let path = self.audio.join(file);
        let spec = match hound::WavReader::open(&path) {
            Ok(r) => {
                self.files.push(file.to_string());
                Some((r.spec().channels, r.spec().sample_rate, r.duration()))
            }
            Err(hound::Error::IoError(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                self.missing.push(file.to_string());
                None
            }
            Err(e) => return Err(Error::wav(&path, e)),
        };
        self.specs.insert(file.to_string(), spec);
        Ok(spec)
    }

    fn seconds(&self, frames: u64) -> f64 {
        frames as f64 / self.rate
    }

    fn project(&mut self, s: &Session) -> Result<Project> {
        let mut structure = Vec::new();
        let mut lanes = Vec::new();
        for t in &s.tracks {
            let track_id = self.id("track");
            let channel = self.channel(t);
            structure.push(ProjectStructureElementTypeContent::Track(TrackType {
                name: Some(t.name.clone()),
                color: None,
                comment: None,
                id: Some(track_id.clone()),
                content_types: Some(ContentTypeList(vec![ContentType::Audio])),
                loaded: Some(true),
                channel: Some(channel),
                track: Vec::new(),
            }));
            let content = self.track_lane(t)?;
            lanes.push(ClipTypeContent::Lanes(Box::new(LanesType {
                name: None,
                color: None,
                comment: None,
                id: Some(self.id("lane")),
                time_unit: None,
                track: Some(track_id),
                content,
            })));
        }
        structure.push(ProjectStructureElementTypeContent::Track(self.master(s)));
        let markers = self.markers(s);
        Ok(Project {
            version: FORMAT_VERSION.into(),
            application: ApplicationType {
                name: "Overdub".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            transport: Some(TransportType {
                tempo: Some(real(
                    self.id("tempo"),
                    "Tempo",
                    UnitType::Bpm,
                    s.tempo_bpm,
                    (*TEMPOS.start(), *TEMPOS.end()),
                )),
                time_signature: Some(TimeSignatureParameterType {
                    name: None,
                    color: None,
                    comment: None,
                    id: Some(self.id("meter")),
                    parameter_id: None,
                    denominator: i32::from(s.meter.denominator),
                    numerator: i32::from(s.meter.numerator),
                }),
            }),
            structure: Some(ProjectStructureElementType { content: structure }),
            arrangement: Some(ArrangementType {
                name: None,
                color: None,
                comment: None,
                id: Some(self.id("arrangement")),
                lanes: Some(LanesType {
                    name: None,
                    color: None,
                    comment: None,
                    id: Some(self.id("lanes")),
                    time_unit: Some(TimeUnitType::Seconds),
                    track: None,
                    content: lanes,
                }),
                markers,
                tempo_automation: None,
                time_signature_automation: None,
            }),
            scenes: None,
        })
    }

    fn channel(&mut self, t: &Track) -> ChannelType {
        self.strip(Strip {
            name: &t.name,
            id: None,
            channels: t.channels,
            role: MixerRoleType::Regular,
            solo: t.solo,
            mute: t.mute,
            // In f64, where (p + 1) / 2 and back is exact for every f32 pan.
            pan: (f64::from(t.pan) + 1.0) / 2.0,
            gain: f64::from(db_to_gain(t.gain_db)).min(MAX_VOLUME),
        })
    }

    /// The master bus, at the session's master fader.
    fn master(&mut self, s: &Session) -> TrackType {
        let channel = self.strip(Strip {
            name: "Master",
            id: Some(MASTER_CHANNEL),
            channels: 2,
            role: MixerRoleType::Master,
            solo: false,
            mute: false,
            pan: 0.5,
            gain: f64::from(db_to_gain(s.master_gain_db)).min(MAX_VOLUME),
        });
        TrackType {
            name: Some("Master".into()),
            color: None,
            comment: None,
            id: Some(self.id("track")),
            content_types: Some(ContentTypeList(vec![ContentType::Audio])),
            loaded: Some(true),
            channel: Some(channel),
            track: Vec::new(),
        }
    }

    /// A mixer channel: regular ones feed the master.
    fn strip(&mut self, s: Strip<'_>) -> ChannelType {
        let master = matches!(s.role, MixerRoleType::Master);
        ChannelType {
            name: Some(s.name.to_string()),
            color: None,
            comment: None,
            id: Some(s.id.map_or_else(|| self.id("channel"), String::from)),
            audio_channels: Some(i32::from(s.channels)),
            destination: (!master).then(|| MASTER_CHANNEL.to_string()),
            role: Some(s.role),
            solo: Some(s.solo),
            devices: None,
            mute: Some(boolean(self.id("mute"), "Mute", s.mute)),
            pan: Some(real(
                self.id("pan"),
                "Pan",
                UnitType::Normalized,
                s.pan,
                (0.0, 1.0),
            )),
            sends: None,
            volume: Some(real(
                self.id("volume"),
                "Volume",
                UnitType::Linear,
                s.gain,
                (0.0, MAX_VOLUME),
            )),
        }
    }

    /// A track's lane: the clips that play and, in a second timeline, every take that a later
    /// one covers (in whole or in part) as a disabled clip, so nothing recorded is left out.
    fn track_lane(&mut self, t: &Track) -> Result<Vec<ClipTypeContent>> {
        let pieces = playing_pieces(&t.clips, self.start, self.end);
        let mut playing = Vec::with_capacity(pieces.len());
        for p in &pieces {
            let c = &t.clips[p.clip];
            playing.extend(self.clip(c, p.position, p.offset, p.length, true)?);
        }
        self.gains_left_out += t
            .clips
            .iter()
            .filter(|c| c.gain_db != 0.0 && c.position < self.end && c.end() > self.start)
            .count();
        let mut hidden = Vec::new();
        for (i, c) in t.clips.iter().enumerate() {
            let (a, b) = (c.position.max(self.start), c.end().min(self.end));
            if a >= b {
                continue;
            }
            let whole = pieces
                .iter()
                .filter(|p| p.clip == i)
                .map(|p| p.length)
                .sum::<u64>()
                == b - a;
            if !whole {
                let offset = c.offset + (a - c.position);
                hidden.extend(self.clip(c, a, offset, b - a, false)?);
            }
        }
        self.clips += playing.len();
        self.takes += hidden.len();
        let mut out = vec![self.clips_timeline(None, playing)];
        if !hidden.is_empty() {
            out.push(self.clips_timeline(Some("Takes not playing"), hidden));
        }
        Ok(out)
    }

    fn clips_timeline(&mut self, name: Option<&str>, clip: Vec<ClipType>) -> ClipTypeContent {
        ClipTypeContent::Clips(Box::new(ClipsType {
            name: name.map(String::from),
            color: None,
            comment: None,
            id: Some(self.id("clips")),
            time_unit: None,
            track: None,
            clip,
        }))
    }

    /// One clip: `length` frames of `c`'s file from `offset`, at timeline frame `position`. It
    /// carries `c`'s fade-in if it starts where `c` does and its fade-out if it ends where `c`
    /// does (where a piece is cut by a later clip, the crossfade over it becomes that clip's
    /// fade: clips in a DAWproject lane do not overlap).
    fn clip(
        &mut self,
        c: &Clip,
        position: u64,
        offset: u64,
        length: u64,
        enable: bool,
    ) -> Result<Option<ClipType>> {
        let Some((channels, rate, frames)) = self.spec(&c.file)? else {
            return Ok(None);
        };
        let audio = AudioType {
            name: None,
            color: None,
            comment: None,
            id: Some(self.id("audio")),
            time_unit: None,
            track: None,
            duration: f64::from(frames) / f64::from(rate.max(1)),
            algorithm: None,
            channels: i32::from(channels),
            sample_rate: i32::try_from(rate).unwrap_or(i32::MAX),
            file: FileReferenceType {
                path: format!("{AUDIO_FOLDER}/{}", c.file),
                external: Some(false),
            },
        };
        let fade_in = if position == c.position {
            c.fade_in.min(length)
        } else {
            0
        };
        let fade_out = if position + length == c.end() {
            c.fade_out.min(length - fade_in)
        } else {
            0
        };
        let fade = |f: u64| (f > 0).then(|| f as f64 / self.rate);
        Ok(Some(ClipType {
            name: Some(c.file.trim_end_matches(".wav").to_string()),
            color: None,
            comment: None,
            time: self.seconds(position - self.start),
            duration: Some(self.seconds(length)),
            content_time_unit: Some(TimeUnitType::Seconds),
            play_start: Some(self.seconds(offset)),
            play_stop: None,
            loop_start: None,
            loop_end: None,
            fade_time_unit: (fade_in + fade_out > 0).then_some(TimeUnitType::Seconds),
            fade_in_time: fade(fade_in),
            fade_out_time: fade(fade_out),
            enable: (!enable).then_some(false),
            reference: None,
            content: Some(ClipTypeContent::Audio(audio)),
        }))
    }

    fn markers(&mut self, s: &Session) -> Option<MarkersType> {
        let marker: Vec<MarkerType> = s
            .markers
            .iter()
            .filter(|m| (self.start..self.end).contains(&m.position))
            .map(|m| MarkerType {
                name: Some(m.name.clone()),
                color: None,
                comment: None,
                time: self.seconds(m.position - self.start),
            })
            .collect();
        // The schema asks for at least one marker in a Markers element.
        (!marker.is_empty()).then(|| MarkersType {
            name: None,
            color: None,
            comment: None,
            id: Some(self.id("markers")),
            time_unit: Some(TimeUnitType::Seconds),
            track: None,
            marker,
        })
    }
}

fn real(
    id: String,
    name: &str,
    unit: UnitType,
    value: f64,
    range: (f64, f64),
) -> RealParameterType {
    RealParameterType {
        name: Some(name.into()),
        color: None,
        comment: None,
        id: Some(id),
        parameter_id: None,
        max: Some(range.1.to_string()),
        min: Some(range.0.to_string()),
        unit,
        value: Some(value.to_string()),
    }
}

fn boolean(id: String, name: &str, value: bool) -> BoolParameterType {
    BoolParameterType {
        name: Some(name.into()),
        color: None,
        comment: None,
        id: Some(id),
        parameter_id: None,
        value: Some(value),
    }
}
