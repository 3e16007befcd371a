//! Reading a DAWproject file into a new session. The file is untrusted: the archive's entries
//! are checked ([`super::archive`]), the XML's nesting is bounded before it is parsed into the
//! format's types, every reference and number is checked, and the session is built in a hidden
//! folder that becomes the session only when everything worked. What Overdub cannot hold (MIDI,
//! plug-ins, sends, automation, effect tracks, stretching, fades) is counted for one summary
//! line. Not on the audio thread.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use dawproject::{
    ChannelType, ClipType, ClipTypeContent, MixerRoleType, Project,
    ProjectStructureElementTypeContent, RealParameterType, TimeUnitType, TrackType, UnitType,
    WarpsTypeContent,
};
use serde::Serialize;

use super::PROJECT_XML;
use super::archive::{Archive, bad};
use crate::disk::{HeaderState, check_wav_header};
use crate::error::{Error, Result};
use crate::import::convert_file;
use crate::session::validate::{MAX_FRAME, MAX_NAME_CHARS, RATES, bad_timing, check_session};
use crate::session::{Clip, Meter, Session, SessionDir, file_safe};

/// Deepest XML nesting read (real projects nest a dozen levels; this bounds the parser's stack).
const MAX_DEPTH: usize = 64;

/// What an import made.
#[derive(Clone, Debug, Serialize)]
pub struct ProjectImport {
    /// The session folder made.
    pub dir: PathBuf,
    /// Its rate, Hz.
    pub rate: u32,
    /// Tracks.
    pub tracks: usize,
    /// Clips that play.
    pub clips: usize,
    /// Disabled clips kept as takes under the playing ones.
    pub takes: usize,
    /// Markers.
    pub markers: usize,
    /// Audio files copied as they were.
    pub copied: usize,
    /// Audio files converted to the session's rate or to WAV by the importer.
    pub converted: usize,
    /// What the project held that Overdub cannot, one item each ("2 sends", "MIDI track 'Bass'").
    pub left_out: Vec<String>,
}

/// Things left out, counted.
#[derive(Default)]
struct LeftOut(BTreeMap<String, (usize, &'static str)>);

impl LeftOut {
    /// One more of a kind, named in the singular and the plural.
    fn add(&mut self, one: &'static str, many: &'static str) {
        self.0.entry(one.to_string()).or_insert((0, many)).0 += 1;
    }

    /// One named thing ("MIDI track 'Piano'").
    fn named(&mut self, what: String) {
        self.0.entry(what).or_insert((0, "")).0 += 1;
    }

    fn items(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|(one, (n, many))| match (*n, many.is_empty()) {
                (1, _) => {
                    if many.is_empty() {
                        one.clone()
                    } else {
                        format!("1 {one}")
                    }
                }
                (n, false) => format!("{n} {many}"),
                (n, true) => format!("{one} ({n}×)"),
            })
            .collect()
    }
}

/// An audio stretch found in the arrangement, in seconds.
struct Found {
    track: usize,
    file: String,
    /// The sample rate its `Audio` element declares.
    rate: i32,
    time: f64,
    offset: f64,
    duration: f64,
    enabled: bool,
    /// Seconds of fade-in and fade-out.
    fades: (f64, f64),
}

/// How a nested timeline's times reach the arrangement: `arrangement = local + shift`, seen only
/// within `lo..hi`.
#[derive(Clone, Copy)]
struct Frame {
    shift: f64,
    lo: f64,
    hi: f64,
    enabled: bool,
    /// Seconds of fade at `lo` and at `hi` (the fades of the clip this frame is).
    fades: (f64, f64),
}

struct Walk<'a> {
    seconds_per_beat: f64,
    /// Track and channel ids -> index of the Overdub track (None: a track left out).
    tracks: &'a HashMap<String, Option<usize>>,
    found: Vec<Found>,
    markers: Vec<(String, f64)>,
    left: LeftOut,
    path: &'a Path,
}

/// Make the session folder `dir` from the DAWproject `file`.
pub fn import_project(dir: &Path, file: &Path) -> Result<ProjectImport> {
    let target = SessionDir::new(dir);
    if dir.exists() && !dir.is_dir() {
        return Err(Error::InvalidSetting(format!(
            "{} is a file; import a project into a new folder",
            dir.display()
        )));
    }
    target.refuse_a_session()?;
    if std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some()) {
        return Err(Error::InvalidSetting(format!(
            "{} is not empty; import a project into a new folder",
            dir.display()
        )));
    }
    let mut archive = Archive::open(file)?;
    let xml = archive
        .text(PROJECT_XML)?
        .ok_or_else(|| bad(file, "not a DAWproject file (no project.xml)".into()))?;
    let project = parse(&xml, file)?;

    let mut left = LeftOut::default();
    let (tempo, meter) = timing(&project, &mut left);
    let mut session = Session::new(48_000, 0);
    session.tempo_bpm = tempo;
    session.meter = meter;
    let ids = structure(&project, &mut session, &mut left, file)?;
    let mut walk = Walk {
        seconds_per_beat: 60.0 / tempo,
        tracks: &ids,
        found: Vec::new(),
        markers: Vec::new(),
        left,
        path: file,
    };
    walk.arrangement(&project)?;
    session.rate = session_rate(&walk.found);
    let Walk {
        mut found,
        markers,
        mut left,
        ..
    } = walk;
    within_reach(&mut found, session.rate, &mut left);

    // Everything written from here on is removed again if the import fails.
    let (parent, made_parent) = super::parent_made(dir)?;
    let r = build(
        dir,
        &parent,
        file,
        &mut archive,
        session,
        &found,
        &markers,
        left,
    );
    if r.is_err()
        && let Some(top) = made_parent
    {
        let _ = std::fs::remove_dir_all(top);
    }
    r
}

/// Write the session: in a hidden folder beside `dir` that becomes `dir` last.
#[allow(clippy::too_many_arguments)]
fn build(
    dir: &Path,
    parent: &Path,
    file: &Path,
    archive: &mut Archive,
    mut session: Session,
    found: &[Found],
    markers: &[(String, f64)],
    mut left: LeftOut,
) -> Result<ProjectImport> {
    let rate = session.rate;
    let tmp = tempfile::Builder::new()
        .prefix(".overdub-import")
        .tempdir_in(parent)
        .map_err(|e| Error::io(parent, e))?;
    let sdir = SessionDir::new(tmp.path());
    std::fs::create_dir_all(sdir.audio()).map_err(|e| Error::io(sdir.audio(), e))?;
    let files = bring_audio(archive, found, &sdir, rate, file)?;
    let (clips, takes) = place(&mut session, found, &files, &mut left);
    for (name, time) in markers {
        let frame = time * f64::from(rate);
        if !(0.0..=MAX_FRAME as f64).contains(&frame) {
            left.add("marker out of reach", "markers out of reach");
        } else if session.markers.len() < crate::session::validate::MAX_MARKERS {
            let name: String = name.chars().take(MAX_NAME_CHARS).collect();
            session.add_marker(name, frame.round() as u64);
        }
    }
    check_session(&mut session, &sdir.file())
        .map_err(|e| bad(file, format!("cannot be made into a session ({e})")))?;
    sdir.create(&session)?;
    if dir.exists() {
        // Empty (checked before): the session takes its place.
        std::fs::remove_dir(dir).map_err(|e| Error::io(dir, e))?;
    }
    let made = tmp.keep();
    if let Err(e) = std::fs::rename(&made, dir) {
        let _ = std::fs::remove_dir_all(&made);
        let _ = std::fs::create_dir(dir);
        return Err(Error::io(dir, e));
    }
    Ok(ProjectImport {
        dir: dir.to_path_buf(),
        rate,
        tracks: session.tracks.len(),
        clips,
        takes,
        markers: session.markers.len(),
        copied: files.values().filter(|f| !f.converted).count(),
        converted: files.values().filter(|f| f.converted).count(),
        left_out: left.items(),
    })
}

/// Leave out (and list) clips that lie past what a session can reach at `rate`.
fn within_reach(found: &mut Vec<Found>, rate: u32, left: &mut LeftOut) {
    let top = MAX_FRAME as f64 / f64::from(rate);
    let before = found.len();
    found.retain(|f| f.time + f.duration <= top && f.offset + f.duration <= top);
    for _ in found.len()..before {
        left.add("clip out of reach", "clips out of reach");
    }
}

/// Parse `project.xml` into the format's types after checking its root and nesting depth.
pub(super) fn parse(xml: &str, path: &Path) -> Result<Project> {
    let schema = |what: String| {
        bad(
            path,
            format!("project.xml does not match the schema: {what}"),
        )
    };
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut depth, mut root) = (0usize, None);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e)) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(schema(format!("nested deeper than {MAX_DEPTH} levels")));
                }
                root.get_or_insert_with(|| e.name().into_inner().to_string());
            }
            Ok(quick_xml::events::Event::Empty(e)) => {
                root.get_or_insert_with(|| e.name().into_inner().to_string());
            }
            Ok(quick_xml::events::Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(schema(format!("not well-formed XML ({e})"))),
        }
    }
    if root.as_deref() != Some("Project") {
        return Err(schema("the root element is not <Project>".into()));
    }
    // The crate's name for the track attribute `contentType` (see `write::project_xml`).
    let fixed = xml.replace("contentType=\"", "contentTypes=\"");
    let project: Project = quick_xml::de::from_str(&fixed).map_err(|e| schema(e.to_string()))?;
    if !project.version.starts_with("1.") && project.version != "1" {
        return Err(bad(
            path,
            format!(
                "DAWproject version {} is not one this Overdub reads (1.x)",
                project.version
            ),
        ));
    }
    Ok(project)
}

/// Tempo and time signature; what cannot be used is noted and the default kept.
fn timing(p: &Project, left: &mut LeftOut) -> (f64, Meter) {
    let mut tempo = crate::session::DEFAULT_TEMPO;
    let mut meter = Meter::default();
    if let Some(t) = &p.transport {
        if let Some(v) = t.tempo.as_ref().and_then(|r| r.value.as_deref()) {
            match v.trim().parse::<f64>() {
                Ok(bpm) if bad_timing(bpm, meter).is_none() => tempo = bpm,
                _ => left.named(format!("tempo {v:?} (120 BPM used)")),
            }
        }
        if let Some(ts) = &t.time_signature {
            let m = Meter {
                numerator: u8::try_from(ts.numerator).unwrap_or(0),
                denominator: u8::try_from(ts.denominator).unwrap_or(0),
            };
            match bad_timing(tempo, m) {
                None => meter = m,
                Some(_) => left.named(format!(
                    "time signature {}/{} (4/4 used)",
                    ts.numerator, ts.denominator
                )),
            }
        }
    }
    if let Some(a) = &p.arrangement {
        if a.tempo_automation
            .as_ref()
            .is_some_and(|t| t.content.len() > 1)
        {
            left.add("tempo change", "tempo changes");
        }
        if a.time_signature_automation
            .as_ref()
            .is_some_and(|t| t.content.len() > 1)
        {
            left.add("time signature change", "time signature changes");
        }
    }
    (tempo, meter)
}

/// The rate of the first audio a clip plays (an enabled one if any), if it is a session rate;
/// else 48 kHz.
fn session_rate(found: &[Found]) -> u32 {
    let ok = |f: &&Found| u32::try_from(f.rate).is_ok_and(|r| RATES.contains(&r));
    found
        .iter()
        .filter(ok)
        .find(|f| f.enabled)
        .or_else(|| found.iter().find(ok))
        .and_then(|f| u32::try_from(f.rate).ok())
        .unwrap_or(48_000)
}

/// Make a track for every audio track of the project; returns track and channel ids -> track.
fn structure(
    p: &Project,
    s: &mut Session,
    left: &mut LeftOut,
    path: &Path,
) -> Result<HashMap<String, Option<usize>>> {
    let mut ids = HashMap::new();
    let items = p.structure.as_ref().map_or(&[][..], |st| &st.content[..]);
    let mut stack: Vec<&TrackType> = Vec::new();
    for item in items.iter().rev() {
        match item {
            ProjectStructureElementTypeContent::Track(t) => stack.push(t),
            ProjectStructureElementTypeContent::Channel(c) => {
                if let Some(id) = &c.id {
                    ids.insert(id.clone(), None);
                }
                master_or_bus(c, "channel", s, left);
            }
        }
    }
    while let Some(t) = stack.pop() {
        let name = t.name.clone().unwrap_or_else(|| "Track".into());
        for child in t.track.iter().rev() {
            stack.push(child);
        }
        if !t.track.is_empty() {
            left.named(format!("folder '{name}' (its tracks are kept, unfolded)"));
        }
        let kinds = t.content_types.as_ref().map(|c| &c.0[..]).unwrap_or(&[]);
        let audio = kinds
            .iter()
            .any(|k| matches!(k, dawproject::ContentType::Audio))
            || (kinds.is_empty() && t.track.is_empty());
        let role = t.channel.as_ref().and_then(|c| c.role.as_ref());
        let regular = matches!(role, None | Some(MixerRoleType::Regular));
        let index = if audio && regular {
            if s.tracks.len() >= crate::rt::MAX_TRACKS {
                return Err(bad(
                    path,
                    format!(
                        "more than {} audio tracks; nothing was imported",
                        crate::rt::MAX_TRACKS
                    ),
                ));
            }
            s.add_track();
            let i = s.tracks.len() - 1;
            let track = &mut s.tracks[i];
            track.name = name
                .chars()
                .take(crate::session::validate::MAX_NAME_CHARS)
                .collect();
            if let Some(c) = &t.channel {
                mixer(c, track, left);
            } else {
                track.channels = 2;
            }
            Some(i)
        } else {
            match (role, t.channel.as_ref()) {
                (Some(_), Some(c)) if !regular => master_or_bus(c, &name, s, left),
                _ if kinds
                    .iter()
                    .any(|k| matches!(k, dawproject::ContentType::Notes)) =>
                {
                    left.named(format!("MIDI track '{name}'"))
                }
                _ if t.track.is_empty() => left.named(format!("track '{name}'")),
                _ => {}
            }
            None
        };
        for id in [
            t.id.as_ref(),
            t.channel.as_ref().and_then(|c| c.id.as_ref()),
        ]
        .into_iter()
        .flatten()
        {
            ids.insert(id.clone(), index);
        }
    }
    Ok(ids)
}

/// A master, effect, group or VCA channel. The master's volume becomes the session's master
/// fader; anything else that differs from a plain unity bus is noted.
fn master_or_bus(c: &ChannelType, name: &str, s: &mut Session, left: &mut LeftOut) {
    match c.role {
        Some(MixerRoleType::Master) => {
            let vol = c.volume.as_ref().and_then(gain_db).unwrap_or(0.0);
            let pan = c.pan.as_ref().and_then(pan).unwrap_or(0.0);
            let muted = c.mute.as_ref().and_then(|m| m.value).unwrap_or(false);
            if vol == f32::NEG_INFINITY || (vol.is_finite() && vol <= 24.0) {
                s.master_gain_db = vol;
            } else {
                left.named("master volume above +24 dB".into());
            }
            if pan.abs() > 0.001 || muted {
                left.named("master pan or mute".into());
            }
            plugins_and_sends(c, left);
        }
        Some(MixerRoleType::Effect) => left.named(format!("effect track '{name}'")),
        Some(MixerRoleType::Submix) => left.named(format!("group track '{name}'")),
        Some(MixerRoleType::Vca) => left.named(format!("VCA '{name}'")),
        _ => {}
    }
}

fn plugins_and_sends(c: &ChannelType, left: &mut LeftOut) {
    for _ in c.devices.iter().flat_map(|d| d.content.iter()) {
        left.add("plug-in", "plug-ins");
    }
    for _ in c.sends.iter().flat_map(|s| s.send.iter()) {
        left.add("send", "sends");
    }
}

/// Channels, gain, pan, mute and solo of a regular channel.
fn mixer(c: &ChannelType, t: &mut crate::session::Track, left: &mut LeftOut) {
    t.channels = if c.audio_channels == Some(1) { 1 } else { 2 };
    if let Some(v) = &c.volume {
        match gain_db(v) {
            Some(db) => t.gain_db = db.min(24.0),
            None => left.add("volume in an unknown unit", "volumes in unknown units"),
        }
    }
    if let Some(p) = &c.pan {
        match pan(p) {
            Some(v) => t.pan = v,
            None => left.add("pan in an unknown unit", "pans in unknown units"),
        }
    }
    t.mute = c.mute.as_ref().and_then(|m| m.value).unwrap_or(false);
    t.solo = c.solo.unwrap_or(false);
    plugins_and_sends(c, left);
}

fn value(p: &RealParameterType) -> Option<f64> {
    p.value
        .as_deref()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite())
}

/// A volume parameter as a fader gain in dB: linear (the usual) or decibel.
fn gain_db(p: &RealParameterType) -> Option<f32> {
    let v = value(p)?;
    match p.unit {
        UnitType::Linear if v >= 0.0 => Some(db_for_gain(v as f32)),
        UnitType::Decibel => Some(if v < -144.0 {
            f32::NEG_INFINITY
        } else {
            v as f32
        }),
        _ => None,
    }
}

/// The dB value whose gain, as the mixer computes it, is exactly `gain` (so a file written by
/// Overdub comes back sample for sample); the nearest otherwise.
pub(super) fn db_for_gain(gain: f32) -> f32 {
    if gain <= 0.0 {
        return f32::NEG_INFINITY;
    }
    let exact = 20.0 * f64::from(gain).log10();
    // The shortest decimal that gives the gain (a fader set to -4.5 dB comes back as -4.5).
    for digits in 0..7 {
        let scale = 10f64.powi(digits);
        let x = ((exact * scale).round() / scale) as f32;
        if crate::session::db_to_gain(x) == gain {
            return x;
        }
    }
    let guess = exact as f32;
    let (mut up, mut down) = (guess, guess);
    for _ in 0..64 {
        for x in [up, down] {
            if crate::session::db_to_gain(x) == gain {
                return x;
            }
        }
        up = up.next_up();
        down = down.next_down();
    }
    guess
}

/// A pan parameter as -1..1: normalized over its min..max (0.5 centre), linear (-1..1) or
/// percent (-100..100).
fn pan(p: &RealParameterType) -> Option<f32> {
    let v = value(p)?;
    let num = |s: &Option<String>| {
        s.as_deref()
            .and_then(|x| x.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite())
    };
    let out = match p.unit {
        UnitType::Normalized => {
            let (lo, hi) = (num(&p.min).unwrap_or(0.0), num(&p.max).unwrap_or(1.0));
            if hi <= lo {
                return None;
            }
            (v - lo) / (hi - lo) * 2.0 - 1.0
        }
        UnitType::Linear => v,
        UnitType::Percent => v / 100.0,
        _ => return None,
    };
    Some(out.clamp(-1.0, 1.0) as f32)
}

impl Walk<'_> {
    fn arrangement(&mut self, p: &Project) -> Result<()> {
        let Some(a) = &p.arrangement else {
            return Ok(());
        };
        let top = Frame {
            shift: 0.0,
            lo: f64::NEG_INFINITY,
            hi: f64::INFINITY,
            enabled: true,
            fades: (0.0, 0.0),
        };
        if let Some(m) = &a.markers {
            let unit = m.time_unit.clone().unwrap_or(TimeUnitType::Beats);
            for mk in &m.marker {
                let t = self.seconds(mk.time, &unit);
                self.markers.push((mk.name.clone().unwrap_or_default(), t));
            }
        }
        if let Some(l) = &a.lanes {
            let unit = l.time_unit.clone().unwrap_or(TimeUnitType::Beats);
            let track = self.track_ref(l.track.as_deref())?;
            for c in &l.content {
                self.content(c, track, &unit, top, 0)?;
            }
        }
        Ok(())
    }

    fn seconds(&self, t: f64, unit: &TimeUnitType) -> f64 {
        match unit {
            TimeUnitType::Seconds => t,
            TimeUnitType::Beats => t * self.seconds_per_beat,
        }
    }

    /// A lane's `track` reference: an IDREF must name a track or channel of the project.
    fn track_ref(&self, r: Option<&str>) -> Result<Option<Option<usize>>> {
        match r {
            None => Ok(None),
            Some(id) => self.tracks.get(id).map(|t| Some(*t)).ok_or_else(|| {
                bad(
                    self.path,
                    format!(
                        "project.xml does not match the schema: a lane names track {id:?}, \
                         which the project does not have"
                    ),
                )
            }),
        }
    }

    /// One item of a timeline. `track`: Some(None) inside a track left out.
    fn content(
        &mut self,
        c: &ClipTypeContent,
        track: Option<Option<usize>>,
        unit: &TimeUnitType,
        frame: Frame,
        depth: usize,
    ) -> Result<()> {
        if depth > MAX_DEPTH {
            return Ok(());
        }
        match c {
            ClipTypeContent::Lanes(l) => {
                let unit = l.time_unit.clone().unwrap_or_else(|| unit.clone());
                let track = self.track_ref(l.track.as_deref())?.or(track);
                for c in &l.content {
                    self.content(c, track, &unit, frame, depth + 1)?;
                }
            }
            ClipTypeContent::Clips(cs) => {
                let unit = cs.time_unit.clone().unwrap_or_else(|| unit.clone());
                let track = self.track_ref(cs.track.as_deref())?.or(track);
                for clip in &cs.clip {
                    self.clip(clip, track, &unit, frame, depth + 1)?;
                }
            }
            ClipTypeContent::Markers(m) => {
                let unit = m.time_unit.clone().unwrap_or_else(|| unit.clone());
                for mk in &m.marker {
                    let t = self.seconds(mk.time, &unit) + frame.shift;
                    self.markers.push((mk.name.clone().unwrap_or_default(), t));
                }
            }
            ClipTypeContent::Notes(_) => self.left.add("MIDI clip", "MIDI clips"),
            ClipTypeContent::Points(_) => self.left.add("automation lane", "automation lanes"),
            ClipTypeContent::Video(_) => self.left.add("video", "videos"),
            ClipTypeContent::ClipSlot(_) => self.left.add("launcher clip", "launcher clips"),
            ClipTypeContent::Audio(_) | ClipTypeContent::Warps(_) => {
                self.left.add("audio outside a clip", "audio outside clips")
            }
            ClipTypeContent::Timeline(_) => {}
        }
        Ok(())
    }

    fn clip(
        &mut self,
        c: &ClipType,
        track: Option<Option<usize>>,
        unit: &TimeUnitType,
        frame: Frame,
        depth: usize,
    ) -> Result<()> {
        let numbers = [c.time].into_iter().chain(
            [c.duration, c.play_start, c.play_stop, c.loop_end]
                .into_iter()
                .flatten(),
        );
        for v in numbers.chain([c.fade_in_time, c.fade_out_time].into_iter().flatten()) {
            if !v.is_finite() {
                return Err(bad(
                    self.path,
                    "project.xml does not match the schema: a clip time is not a number".into(),
                ));
            }
        }
        let content_unit = c.content_time_unit.clone().unwrap_or_else(|| unit.clone());
        let start = self.seconds(c.time, unit) + frame.shift;
        let play_start = self.seconds(c.play_start.unwrap_or(0.0), &content_unit);
        let mut duration = c.duration.map(|d| self.seconds(d, unit));
        if let Some(le) = c.loop_end {
            // Content past the loop end wraps to the loop start: Overdub plays it once.
            let once = self.seconds(le, &content_unit) - play_start;
            if duration.is_some_and(|d| d > once + 1e-9) {
                self.left
                    .add("looped clip (plays once)", "looped clips (play once)");
                duration = Some(once);
            }
        }
        let fade_unit = c.fade_time_unit.clone().unwrap_or_else(|| unit.clone());
        let fade = |f: Option<f64>| self.seconds(f.unwrap_or(0.0), &fade_unit).max(0.0);
        let fades = (fade(c.fade_in_time), fade(c.fade_out_time));
        // The content plays from playStart to playStop, for the clip's duration.
        let content_end = c.play_stop.map_or(f64::INFINITY, |p| {
            start + self.seconds(p, &content_unit) - play_start
        });
        let inner = Frame {
            // Content time x is heard at start + (x - play_start).
            shift: start - play_start,
            lo: frame.lo.max(start),
            hi: frame
                .hi
                .min(duration.map_or(f64::INFINITY, |d| start + d))
                .min(content_end),
            enabled: frame.enabled && c.enable != Some(false),
            fades,
        };
        let Some(content) = &c.content else {
            if c.reference.is_some() {
                self.left.add("linked clip", "linked clips");
            }
            return Ok(());
        };
        match content {
            ClipTypeContent::Audio(a) => self.audio(a, track, 0.0, inner),
            ClipTypeContent::Warps(w) => {
                let time_unit = w.time_unit.clone().unwrap_or_else(|| content_unit.clone());
                let points: Vec<(f64, f64)> = w
                    .content
                    .iter()
                    .filter_map(|x| match x {
                        WarpsTypeContent::Warp(p) => Some((
                            self.seconds(p.time, &time_unit),
                            self.seconds(p.content_time, &w.content_time_unit),
                        )),
                        _ => None,
                    })
                    .collect();
                if points
                    .iter()
                    .any(|(t, c)| !(t.is_finite() && c.is_finite()))
                {
                    return Err(bad(
                        self.path,
                        "project.xml does not match the schema: a warp time is not a number".into(),
                    ));
                }
                let stretched = points.windows(2).any(|p| {
                    let (dt, dc) = (p[1].0 - p[0].0, p[1].1 - p[0].1);
                    (dt - dc).abs() > 1e-6 * dt.abs().max(1.0)
                });
                if stretched {
                    self.left.add(
                        "stretched clip (placed at its own speed)",
                        "stretched clips (placed at their own speed)",
                    );
                }
                // Audio time = clip content time - warp time + warp content time.
                let (t0, c0) = points.first().copied().unwrap_or((0.0, 0.0));
                for x in &w.content {
                    if let WarpsTypeContent::Audio(a) = x {
                        self.audio(a, track, c0 - t0, inner);
                    }
                }
            }
            other => {
                if fades != (0.0, 0.0) {
                    self.left
                        .add("fade of a clip of clips", "fades of clips of clips");
                }
                let inner = Frame {
                    fades: (0.0, 0.0),
                    ..inner
                };
                self.content(other, track, &content_unit, inner, depth + 1)?
            }
        }
        Ok(())
    }

    /// Audio heard through `frame`: audio time `x` plays at `x - to_audio + frame.shift`.
    fn audio(
        &mut self,
        a: &dawproject::AudioType,
        track: Option<Option<usize>>,
        to_audio: f64,
        frame: Frame,
    ) {
        let track = match track {
            Some(Some(t)) => t,
            Some(None) => {
                return self.left.add(
                    "audio clip on a track left out",
                    "audio clips on tracks left out",
                );
            }
            None => return self.left.add("clip on no track", "clips on no track"),
        };
        if a.file.external == Some(true) {
            self.left.add(
                "clip of a file outside the archive",
                "clips of files outside the archive",
            );
            return;
        }
        let shift = frame.shift - to_audio;
        let (file_lo, file_hi) = (shift, shift + a.duration.max(0.0));
        let heard = frame.lo.max(file_lo);
        let lo = heard.max(0.0);
        let hi = frame.hi.min(file_hi);
        if heard < 0.0 && hi > heard {
            self.left.add(
                "clip before time 0 (cut there)",
                "clips before time 0 (cut there)",
            );
        }
        if !(hi > lo && lo.is_finite() && hi.is_finite()) {
            return;
        }
        self.found.push(Found {
            track,
            file: a.file.path.trim_start_matches("./").to_string(),
            rate: a.sample_rate,
            time: lo,
            offset: lo - shift,
            duration: hi - lo,
            enabled: frame.enabled,
            // A clip's fade belongs to the audio that reaches its edge.
            fades: (
                if lo == frame.lo { frame.fades.0 } else { 0.0 },
                if hi == frame.hi { frame.fades.1 } else { 0.0 },
            ),
        });
    }
}

/// One audio file of the archive, in the new session.
struct Brought {
    name: String,
    frames: u64,
    converted: bool,
}

/// Extract every file the clips name into `audio/` (each once, however it is spelled): a WAV at
/// the session rate in a format the player reads, with sound headers, is kept as it is; anything
/// else goes through the importer. Refused if the disk would be left with less than 64 MiB.
fn bring_audio(
    archive: &mut Archive,
    found: &[Found],
    sdir: &SessionDir,
    rate: u32,
    path: &Path,
) -> Result<HashMap<String, Brought>> {
    const KEEP_FREE: u64 = 64 << 20;
    let mut out: HashMap<String, Brought> = HashMap::new();
    let audio = sdir.audio();
    for f in found {
        let name = f.file.as_str();
        if out.contains_key(name) {
            continue;
        }
        if !archive.has(name) {
            return Err(bad(
                path,
                format!("a clip plays {name:?}, which the archive does not hold"),
            ));
        }
        let stem = Path::new(name)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "audio".into());
        let staged = audio.join(format!(".{}.staged", file_safe(&stem)));
        let room = fs4::available_space(&audio)
            .map_err(|e| Error::io(&audio, e))?
            .saturating_sub(KEEP_FREE);
        archive.extract(name, &staged, room)?;
        let sound = matches!(check_wav_header(&staged), Ok(Some(HeaderState::Sound)));
        let as_is = hound::WavReader::open(&staged)
            .ok()
            .filter(|_| sound)
            .and_then(|r| {
                let s = r.spec();
                let readable = matches!(
                    (s.sample_format, s.bits_per_sample),
                    (hound::SampleFormat::Float, 32) | (hound::SampleFormat::Int, 16 | 24 | 32)
                );
                (readable && s.sample_rate == rate && (1..=2).contains(&s.channels))
                    .then(|| u64::from(r.duration()))
            });
        let brought = match as_is {
            Some(frames) => {
                let dest = crate::import::unique_path(&audio, &stem);
                std::fs::rename(&staged, &dest).map_err(|e| Error::io(&dest, e))?;
                Brought {
                    name: crate::session::file_name(&dest),
                    frames,
                    converted: false,
                }
            }
            None => {
                let c = convert_file(&staged, rate, &audio, &stem)
                    .map_err(|e| bad(path, format!("{name} cannot be imported ({e})")))?;
                let _ = std::fs::remove_file(&staged);
                Brought {
                    name: crate::session::file_name(&c.path),
                    frames: c.frames,
                    converted: true,
                }
            }
        };
        out.insert(name.to_string(), brought);
    }
    Ok(out)
}

/// Put the clips on their tracks, each in the order of the file: first the disabled ones (under),
/// cut to where an enabled clip covers them so they stay silent (what no enabled clip covers is
/// left out and listed), then the enabled ones. Returns (enabled, disabled) counts.
fn place(
    s: &mut Session,
    found: &[Found],
    files: &HashMap<String, Brought>,
    left: &mut LeftOut,
) -> (usize, usize) {
    let rate = f64::from(s.rate);
    let as_clip = |f: &Found, left: &mut LeftOut| {
        let b = files.get(&f.file)?;
        let position = (f.time * rate).round() as u64;
        let end = ((f.time + f.duration) * rate).round() as u64;
        let offset = (f.offset * rate).round().max(0.0) as u64;
        let length = (end.saturating_sub(position)).min(b.frames.saturating_sub(offset));
        if length == 0 {
            left.add("clip beyond its file", "clips beyond their files");
            return None;
        }
        let mut c = Clip::new(b.name.clone(), position, offset, length);
        c.fade_in = (f.fades.0 * rate).round() as u64;
        c.fade_out = (f.fades.1 * rate).round() as u64;
        c.fit_fades();
        Some(c)
    };
    let mut enabled: Vec<(usize, Clip)> = Vec::new();
    for f in found.iter().filter(|f| f.enabled) {
        if let Some(c) = as_clip(f, left) {
            enabled.push((f.track, c));
        }
    }
    let mut disabled: Vec<(usize, Clip)> = Vec::new();
    for f in found.iter().filter(|f| !f.enabled) {
        let Some(c) = as_clip(f, left) else {
            continue;
        };
        let on_track: Vec<Clip> = enabled
            .iter()
            .filter(|(t, _)| *t == f.track)
            .map(|(_, c)| c.clone())
            .collect();
        let covered = covered_parts(&on_track, c.position, c.end());
        let kept: u64 = covered.iter().map(|(a, b)| b - a).sum();
        if kept < c.length {
            left.add(
                "disabled clip part no clip covers",
                "disabled clip parts no clip covers",
            );
        }
        for (a, b) in covered {
            let piece = Clip {
                position: a,
                offset: c.offset + (a - c.position),
                length: b - a,
                ..c.clone()
            };
            disabled.push((f.track, piece));
        }
    }
    let (mut playing, mut takes) = (0, 0);
    for (is_enabled, list) in [(false, disabled), (true, enabled)] {
        for (track, clip) in list {
            let Some(id) = s.tracks.get(track).map(|t| t.id) else {
                continue;
            };
            if s.add_clip(id, clip).is_some() {
                if is_enabled {
                    playing += 1;
                } else {
                    takes += 1;
                }
            }
        }
    }
    (playing, takes)
}

/// The parts of `a..b` that some clip in `clips` covers, in order.
fn covered_parts(clips: &[Clip], a: u64, b: u64) -> Vec<(u64, u64)> {
    let mut spans: Vec<(u64, u64)> = clips
        .iter()
        .map(|c| (c.position.max(a), c.end().min(b)))
        .filter(|(x, y)| x < y)
        .collect();
    spans.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (x, y) in spans {
        match out.last_mut() {
            Some(last) if x <= last.1 => last.1 = last.1.max(y),
            _ => out.push((x, y)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gain_written_as_linear_comes_back_as_the_same_mixer_gain() {
        for db in [0.0f32, -6.0, -3.3, 5.9, -60.25, 12.0, 0.1, -0.7] {
            let g = crate::session::db_to_gain(db);
            let back = db_for_gain(g);
            assert_eq!(crate::session::db_to_gain(back), g, "{db} dB");
            assert_eq!(back, db, "the value a user typed comes back");
        }
        assert_eq!(db_for_gain(0.0), f32::NEG_INFINITY);
    }

    #[test]
    fn deep_or_foreign_xml_is_refused_before_it_is_parsed() {
        let p = Path::new("x.dawproject");
        let deep = format!("<Project>{}", "<Lanes>".repeat(MAX_DEPTH + 1));
        for xml in [
            deep.as_str(),
            "<Other version=\"1.0\"/>",
            "<Project",
            "not xml <",
        ] {
            let e = parse(xml, p).expect_err(xml).to_string();
            assert!(e.contains("does not match the schema"), "{e}");
        }
        let missing_application = "<Project version=\"1.0\"></Project>";
        assert!(parse(missing_application, p).is_err());
    }
}
