//! `overdub track`, `clip`, `marker` and `tempo`: session edits through the engine's one editing
//! API.

use std::path::Path;

use overdub_engine::rt::MonitorMode;
use overdub_engine::session::{Edit, Editor, Meter, SessionDir};
use overdub_engine::{Error, Result};

use super::frames;
use crate::cli::{ClipAction, ClipArgs, MarkerAction, MarkerArgs, Monitor, TrackAction, TrackArgs};

fn track_id(ed: &Editor, n: usize) -> Result<u32> {
    n.checked_sub(1)
        .and_then(|i| ed.session().tracks.get(i))
        .map(|t| t.id)
        .ok_or_else(|| {
            Error::InvalidSetting(format!(
                "no track {n}: the session has tracks 1..{}",
                ed.session().tracks.len()
            ))
        })
}

pub fn track(a: &TrackArgs) -> Result<()> {
    let sdir = SessionDir::new(&a.dir);
    let _lock = sdir.lock_checked("overdub track")?;
    let mut ed = Editor::open(sdir)?;
    match &a.action {
        TrackAction::Master { gain } => {
            if let Some(db) = gain {
                ed.apply(Edit::SetMasterGain(*db))?;
            }
            println!("master gain {} dB", ed.session().master_gain_db);
        }
        TrackAction::Add { name, stereo } => {
            let id = ed.apply(Edit::AddTrack {
                name: name.clone(),
                channels: if *stereo { 2 } else { 1 },
            })?;
            println!(
                "added track {} (id {})",
                ed.session().tracks.len(),
                id.unwrap_or(0)
            );
        }
        TrackAction::Remove { n } => {
            let id = track_id(&ed, *n)?;
            ed.apply(Edit::RemoveTrack(id))?;
            println!("removed track {n}");
        }
        TrackAction::Set {
            n,
            name,
            gain,
            pan,
            mute,
            solo,
            arm,
            monitor,
            input,
            channels,
        } => {
            let id = track_id(&ed, *n)?;
            let mut edits = Vec::new();
            if let Some(v) = name {
                edits.push(Edit::RenameTrack(id, v.clone()));
            }
            if let Some(v) = gain {
                edits.push(Edit::SetGain(id, *v));
            }
            if let Some(v) = pan {
                edits.push(Edit::SetPan(id, *v));
            }
            if let Some(v) = mute {
                edits.push(Edit::SetMute(id, v.on()));
            }
            if let Some(v) = solo {
                edits.push(Edit::SetSolo(id, v.on()));
            }
            if let Some(v) = arm {
                edits.push(Edit::SetArmed(id, v.on()));
            }
            if let Some(m) = monitor {
                edits.push(Edit::SetMonitor(
                    id,
                    match m {
                        Monitor::Off => MonitorMode::Off,
                        Monitor::Auto => MonitorMode::Auto,
                        Monitor::Input => MonitorMode::Input,
                    },
                ));
            }
            if let Some(v) = input {
                let ch = v
                    .checked_sub(1)
                    .ok_or_else(|| Error::InvalidSetting("--input counts from 1".into()))?;
                edits.push(Edit::SetInput(id, ch));
            }
            if let Some(v) = channels {
                edits.push(Edit::SetChannels(id, *v));
            }
            if edits.is_empty() {
                return Err(Error::InvalidSetting(
                    "nothing to change: give --name, --gain, --pan, --mute, --solo, --arm, \
                     --monitor, --input or --channels"
                        .into(),
                ));
            }
            for e in edits {
                ed.apply(e)?;
            }
            println!("changed track {n}");
        }
    }
    ed.save()
}

pub fn clip(a: &ClipArgs) -> Result<()> {
    let sdir = SessionDir::new(&a.dir);
    let _lock = sdir.lock_checked("overdub clip")?;
    let mut ed = Editor::open(sdir)?;
    let rate = ed.session().rate;
    let find = |ed: &Editor, id: u32| {
        ed.session()
            .tracks
            .iter()
            .flat_map(|t| t.clips.iter())
            .find(|c| c.id == id)
            .cloned()
            .ok_or_else(|| Error::InvalidSetting(format!("no clip {id} (see `overdub info`)")))
    };
    match &a.action {
        ClipAction::Move { clip, to, track } => {
            find(&ed, *clip)?;
            let track = track.map(|n| track_id(&ed, n)).transpose()?;
            ed.apply(Edit::MoveClip {
                clip: *clip,
                position: frames(*to, rate, "--to")?,
                track,
            })?;
            println!("moved clip {clip}");
        }
        ClipAction::Trim { clip, start, end } => {
            let c = find(&ed, *clip)?;
            let start = start.map_or(Ok(c.position), |s| frames(s, rate, "--start"))?;
            let end = end.map_or(Ok(c.end()), |s| frames(s, rate, "--end"))?;
            ed.apply(Edit::TrimClip {
                clip: *clip,
                start,
                end,
            })?;
            println!("trimmed clip {clip} to frames {start}..{end}");
        }
        ClipAction::Split { clip, at } => {
            find(&ed, *clip)?;
            let new = ed.apply(Edit::SplitClip {
                clip: *clip,
                at: frames(*at, rate, "--at")?,
            })?;
            println!(
                "split clip {clip}; the right part is clip {}",
                new.unwrap_or(0)
            );
        }
        ClipAction::Delete { clip } => {
            find(&ed, *clip)?;
            ed.apply(Edit::DeleteClip(*clip))?;
            println!("deleted clip {clip}");
        }
        ClipAction::Set {
            clip,
            fade_in,
            fade_out,
            gain,
        } => {
            let c = find(&ed, *clip)?;
            let ms = |v: Option<f64>, flag: &str, now: u64| -> Result<u64> {
                match v {
                    None => Ok(now),
                    Some(ms) if ms.is_finite() && ms >= 0.0 => {
                        Ok((ms * f64::from(rate) / 1000.0).round() as u64)
                    }
                    Some(ms) => Err(Error::InvalidSetting(format!(
                        "{flag} must be 0 or more milliseconds, not {ms}"
                    ))),
                }
            };
            let fade_in = ms(*fade_in, "--fade-in", c.fade_in)?;
            let fade_out = ms(*fade_out, "--fade-out", c.fade_out)?;
            if (fade_in, fade_out) != (c.fade_in, c.fade_out) {
                ed.apply(Edit::SetClipFades {
                    clip: *clip,
                    fade_in,
                    fade_out,
                })?;
            }
            if let Some(db) = gain {
                ed.apply(Edit::SetClipGain(*clip, *db))?;
            }
            let c = find(&ed, *clip)?;
            println!(
                "clip {clip}: fade-in {} frames, fade-out {} frames, gain {} dB",
                c.fade_in, c.fade_out, c.gain_db
            );
        }
        ClipAction::FadeLength { ms } => {
            if let Some(ms) = ms {
                ed.apply(Edit::SetFadeLength(*ms))?;
            }
            println!("fade length {} ms", ed.session().fade_ms);
        }
    }
    ed.save()
}

pub fn marker(a: &MarkerArgs) -> Result<()> {
    let sdir = SessionDir::new(&a.dir);
    if let MarkerAction::List { json } = &a.action {
        let s = sdir.load()?;
        if *json {
            println!(
                "{}",
                serde_json::to_string_pretty(&s.markers).unwrap_or_default()
            );
        }
        for m in s.markers.iter().filter(|_| !*json) {
            println!(
                "marker {}: {:.6} s (frame {}) {}",
                m.id,
                m.position as f64 / f64::from(s.rate),
                m.position,
                m.name
            );
        }
        return Ok(());
    }
    let _lock = sdir.lock_checked("overdub marker")?;
    let mut ed = Editor::open(sdir)?;
    let rate = ed.session().rate;
    match &a.action {
        MarkerAction::List { .. } => {}
        MarkerAction::Add { at, name } => {
            let id = ed.apply(Edit::AddMarker {
                name: name.clone(),
                position: frames(*at, rate, "--at")?,
            })?;
            println!("added marker {}", id.unwrap_or(0));
        }
        MarkerAction::Move { id, to } => {
            ed.apply(Edit::MoveMarker(*id, frames(*to, rate, "--to")?))?;
            println!("moved marker {id}");
        }
        MarkerAction::Rename { id, name } => {
            ed.apply(Edit::RenameMarker(*id, name.clone()))?;
            println!("renamed marker {id}");
        }
        MarkerAction::Delete { id } => {
            ed.apply(Edit::DeleteMarker(*id))?;
            println!("deleted marker {id}");
        }
    }
    ed.save()
}

pub fn tempo(dir: &Path, bpm: Option<f64>, meter: Option<&str>) -> Result<()> {
    let sdir = SessionDir::new(dir);
    let _lock = sdir.lock_checked("overdub tempo")?;
    let mut ed = Editor::open(sdir)?;
    if let Some(b) = bpm {
        ed.apply(Edit::SetTempo(b))?;
    }
    if let Some(m) = meter {
        ed.apply(Edit::SetMeter(parse_meter(m)?))?;
    }
    let s = ed.session();
    println!(
        "{} BPM, {}/{}",
        s.tempo_bpm, s.meter.numerator, s.meter.denominator
    );
    ed.save()
}

fn parse_meter(text: &str) -> Result<Meter> {
    let bad = || Error::InvalidSetting(format!("--meter takes N/D (4/4, 6/8), not {text:?}"));
    let (n, d) = text.split_once('/').ok_or_else(bad)?;
    Ok(Meter {
        numerator: n.trim().parse().map_err(|_| bad())?,
        denominator: d.trim().parse().map_err(|_| bad())?,
    })
}

pub fn takes(dir: &Path, track: usize, use_take: Option<usize>, range: Option<&str>) -> Result<()> {
    let sdir = SessionDir::new(dir);
    let _lock = use_take
        .map(|_| sdir.lock_checked("overdub takes"))
        .transpose()?;
    let mut ed = Editor::open(sdir)?;
    track_id(&ed, track)?;
    let rate = ed.session().rate;
    if let Some(n) = use_take {
        let clips = &ed.session().tracks[track - 1].clips;
        let clip = n
            .checked_sub(1)
            .and_then(|i| clips.get(i))
            .map(|c| c.id)
            .ok_or_else(|| {
                Error::InvalidSetting(format!(
                    "no take {n}: track {track} has takes 1..{}",
                    clips.len()
                ))
            })?;
        let range = range
            .map(|r| {
                let (a, b) = super::span("--range", r)?;
                Ok::<_, Error>((
                    frames(a, rate, "--range start")?,
                    frames(b, rate, "--range end")?,
                ))
            })
            .transpose()?;
        ed.apply(Edit::UseTake { clip, range })?;
        ed.save()?;
    }
    print_takes(ed.session(), track);
    Ok(())
}

/// A track's takes (its clips, in order: later ones play over earlier ones) and the comp.
fn print_takes(s: &overdub_engine::session::Session, track: usize) {
    let t = &s.tracks[track - 1];
    let secs = |f: u64| f as f64 / f64::from(s.rate);
    println!("track {track} '{}': {} take(s)", t.name, t.clips.len());
    for (i, c) in t.clips.iter().enumerate() {
        println!(
            "  take {}: clip {}, {} from {:.3} s to {:.3} s (file offset {:.3} s){}",
            i + 1,
            c.id,
            c.file,
            secs(c.position),
            secs(c.end()),
            secs(c.offset),
            super::fades_and_gain(c)
        );
    }
    println!("comp (what plays):");
    for p in overdub_engine::session::playing_pieces(&t.clips, 0, u64::MAX) {
        println!(
            "  {:.3} s to {:.3} s: take {}",
            secs(p.position),
            secs(p.position + p.length),
            p.clip + 1
        );
    }
}
