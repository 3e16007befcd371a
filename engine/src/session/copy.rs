//! Save As and Save a copy: a session and the audio its clips play, in a new folder, at its own
//! sample rate or converted to another (for a device that cannot run the session's). The
//! original folder is only read. Not on the audio thread.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use super::model::Session;
use super::store::SessionDir;
use crate::error::{Error, Result};

/// Write `session` (as it stands, of the folder `from`) to the new folder `to`, with a copy of
/// every audio file a clip of it plays. Files no clip uses stay behind. `session.json` is
/// written last, so a copy cut short is never taken for a session. Refuses a folder that holds a
/// session already, and `from` itself or a folder inside it.
pub fn copy_session(from: &SessionDir, session: &Session, to: &Path) -> Result<SessionDir> {
    copy_session_at(from, session, to, session.rate)
}

/// [`copy_session`] at `rate` Hz: at another rate than the session's, every file is converted
/// (as an import converts it) and every position, length, fade and marker is moved to the new
/// rate, so the takes still line up with each other.
pub fn copy_session_at(
    from: &SessionDir,
    session: &Session,
    to: &Path,
    rate: u32,
) -> Result<SessionDir> {
    if !super::validate::RATES.contains(&rate) {
        return Err(Error::InvalidSetting(format!(
            "{rate} Hz is not a session rate"
        )));
    }
    let dest = SessionDir::new(to);
    dest.refuse_a_session()?;
    if inside(to, from.root()) {
        return Err(Error::Session {
            path: to.to_path_buf(),
            reason: "is this session's own folder or inside it; choose a folder outside it".into(),
        });
    }
    let files: BTreeSet<&str> = session
        .tracks
        .iter()
        .flat_map(|t| t.clips.iter().map(|c| c.file.as_str()))
        .collect();
    if let Some(bad) = files.iter().find(|f| !super::validate::plain_file_name(f)) {
        return Err(Error::Session {
            path: from.file(),
            reason: format!("{bad:?} is not a plain file name inside audio/; nothing copied"),
        });
    }
    let audio = dest.audio();
    fs::create_dir_all(&audio).map_err(|e| Error::io(&audio, e))?;
    for f in files {
        let src = from.audio().join(f);
        // A file that is missing plays as silence here, and will in the copy too.
        if !src.exists() {
            continue;
        }
        let dst = audio.join(f);
        if rate == session.rate {
            fs::copy(&src, &dst).map_err(|e| Error::io(&src, e))?;
        } else {
            let stem = Path::new(f)
                .file_stem()
                .map_or_else(|| "audio".to_string(), |s| s.to_string_lossy().into_owned());
            let made = crate::import::convert_file(&src, rate, &audio, &stem)?.path;
            if made != dst {
                fs::rename(&made, &dst).map_err(|e| Error::io(&made, e))?;
            }
        }
        let file = fs::File::open(&dst).map_err(|e| Error::io(&dst, e))?;
        file.sync_all().map_err(|e| Error::io(&dst, e))?;
    }
    dest.create(&at_rate(session, rate))?;
    Ok(dest)
}

/// `session` with every frame count moved to `rate` Hz (to the nearest frame).
fn at_rate(session: &Session, rate: u32) -> Session {
    let mut s = session.clone();
    if rate == session.rate {
        return s;
    }
    let (from, to) = (u128::from(session.rate.max(1)), u128::from(rate));
    let at = |f: &mut u64| {
        let v = (u128::from(*f) * to + from / 2) / from;
        *f = u64::try_from(v).unwrap_or(u64::MAX);
    };
    s.rate = rate;
    for t in &mut s.tracks {
        for c in &mut t.clips {
            for f in [
                &mut c.position,
                &mut c.offset,
                &mut c.length,
                &mut c.fade_in,
                &mut c.fade_out,
            ] {
                at(f);
            }
        }
    }
    for m in &mut s.markers {
        at(&mut m.position);
    }
    s
}

/// A new session at `rate` Hz laid out like `template`: its tracks (names, inputs, channels,
/// faders, pans, monitoring, colours), tempo, meter, markers (moved to the new rate) and fade
/// length, with no clips and nothing muted, soloed or armed.
pub fn from_template(template: &Session, rate: u32) -> Session {
    let mut s = template.clone();
    s.version = super::SESSION_VERSION;
    for t in &mut s.tracks {
        t.clips.clear();
        (t.mute, t.solo, t.armed) = (false, false, false);
    }
    at_rate(&s, rate)
}

/// `to` is `root` or lies inside it (compared as far as each path exists on disk).
fn inside(to: &Path, root: &Path) -> bool {
    let real = |p: &Path| {
        // The new folder need not exist yet: resolve the part of it that does.
        let mut head = p.to_path_buf();
        let mut tail = Vec::new();
        while !head.exists() {
            match (head.file_name().map(ToOwned::to_owned), head.parent()) {
                (Some(name), Some(parent)) => {
                    tail.push(name);
                    head = parent.to_path_buf();
                }
                _ => break,
            }
        }
        let mut full = fs::canonicalize(&head).unwrap_or(head);
        full.extend(tail.iter().rev());
        full
    };
    real(to).starts_with(real(root))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Clip;

    /// A mono float WAV at 48 kHz, sample `i` being `sample(i)`.
    fn wav(path: &Path, frames: u32, sample: impl Fn(u32) -> f32) {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 48_000,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut w = hound::WavWriter::create(path, spec).expect("wav");
        for i in 0..frames {
            w.write_sample(sample(i)).expect("sample");
        }
        w.finalize().expect("finalize");
    }

    #[test]
    fn copies_the_session_and_the_audio_its_clips_play() {
        let tmp = tempfile::tempdir().expect("tmp");
        let from = SessionDir::new(tmp.path().join("a"));
        let mut s = Session::new(48_000, 2);
        from.create(&s).expect("create");
        wav(&from.audio().join("take.wav"), 100, |i| i as f32 / 100.0);
        wav(&from.audio().join("unused.wav"), 10, |_| 0.5);
        let id = s.tracks[0].id;
        s.add_clip(id, Clip::new("take.wav".into(), 5, 0, 100));
        let to = tmp.path().join("b");
        let dest = copy_session(&from, &s, &to).expect("copy");
        assert_eq!(dest.load().expect("load"), {
            let mut s = s.clone();
            s.version = crate::session::SESSION_VERSION;
            s
        });
        assert_eq!(
            fs::read(from.audio().join("take.wav")).expect("a"),
            fs::read(dest.audio().join("take.wav")).expect("b")
        );
        assert!(!dest.audio().join("unused.wav").exists());
        // Never over a session, never into its own folder.
        assert!(copy_session(&from, &s, &to).is_err());
        assert!(copy_session(&from, &s, &from.root().join("inner")).is_err());
        assert!(copy_session(&from, &s, from.root()).is_err());
        assert!(!from.root().join("inner").exists());
        // A clip naming a file outside audio/ (a session not loaded through the checks) is
        // refused before anything is written.
        let mut bad = s.clone();
        bad.tracks[0].clips[0].file = "../../secret.wav".into();
        assert!(copy_session(&from, &bad, &tmp.path().join("c")).is_err());
        assert!(!tmp.path().join("c").exists());
    }

    #[test]
    fn a_copy_at_another_rate_keeps_every_take_in_its_place() {
        let tmp = tempfile::tempdir().expect("tmp");
        let from = SessionDir::new(tmp.path().join("a"));
        let mut s = Session::new(48_000, 1);
        from.create(&s).expect("create");
        // A click 4 800 frames into a one-second take placed at 0.2 s.
        wav(&from.audio().join("take.wav"), 48_000, |i| {
            if i == 4_800 { 1.0 } else { 0.0 }
        });
        let id = s.tracks[0].id;
        let mut clip = Clip::new("take.wav".into(), 9_600, 0, 48_000);
        clip.fade_in = 240;
        s.add_clip(id, clip);
        s.add_marker("Verse".into(), 24_000);
        let dest = copy_session_at(&from, &s, &tmp.path().join("b"), 96_000).expect("copy");
        let t = dest.load().expect("load");
        assert_eq!(t.rate, 96_000);
        let c = &t.tracks[0].clips[0];
        assert_eq!(
            (c.position, c.offset, c.length, c.fade_in),
            (19_200, 0, 96_000, 480)
        );
        assert_eq!(t.markers[0].position, 48_000);
        let r = hound::WavReader::open(dest.audio().join("take.wav")).expect("open");
        assert_eq!(r.spec().sample_rate, 96_000);
        let x: Vec<f32> = r
            .into_samples::<f32>()
            .map(|v| v.expect("sample"))
            .collect();
        let peak = (0..x.len())
            .max_by(|&a, &b| x[a].abs().total_cmp(&x[b].abs()))
            .expect("samples");
        assert_eq!(peak, 9_600, "the click moved in the converted file");
    }

    #[test]
    fn a_template_keeps_the_layout_and_none_of_the_audio() {
        let mut t = Session::new(44_100, 2);
        t.tracks[1].name = "Bass".into();
        t.tracks[1].channels = 2;
        t.tracks[1].gain_db = -6.0;
        t.tracks[1].armed = true;
        let id = t.tracks[1].id;
        t.add_clip(id, Clip::new("take.wav".into(), 0, 0, 10));
        t.add_marker("Chorus".into(), 44_100);
        let s = from_template(&t, 96_000);
        assert_eq!(s.rate, 96_000);
        assert_eq!(s.tracks.len(), 2);
        assert_eq!(
            (s.tracks[1].name.as_str(), s.tracks[1].channels),
            ("Bass", 2)
        );
        assert_eq!(s.tracks[1].gain_db, -6.0);
        assert!(s.tracks.iter().all(|t| t.clips.is_empty() && !t.armed));
        assert_eq!(s.markers[0].position, 96_000);
    }
}
