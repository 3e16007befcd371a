//! `overdub info DIR`: the session's rate, tracks and clips.

use std::path::Path;

use overdub_engine::Result;
use overdub_engine::session::SessionDir;

pub fn run(dir: &Path, json: bool) -> Result<()> {
    let (session, warnings) = SessionDir::new(dir).load_checked()?;
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&session).unwrap_or_default()
        );
        return Ok(());
    }
    println!(
        "{}: {} Hz, {} track(s), {:.3} s long",
        dir.display(),
        session.rate,
        session.tracks.len(),
        session.end() as f64 / f64::from(session.rate)
    );
    println!(
        "  {} BPM, {}/{}, {} marker(s)",
        session.tempo_bpm,
        session.meter.numerator,
        session.meter.denominator,
        session.markers.len()
    );
    for (i, t) in session.tracks.iter().enumerate() {
        println!(
            "  track {} '{}': {}, input {}, gain {:+.1} dB, pan {:+.2}{}{}{}",
            i + 1,
            t.name,
            if t.channels == 2 { "stereo" } else { "mono" },
            if t.channels == 2 {
                format!("{}-{}", t.input + 1, t.input + 2)
            } else {
                (t.input + 1).to_string()
            },
            t.gain_db,
            t.pan,
            if t.mute { ", muted" } else { "" },
            if t.solo { ", solo" } else { "" },
            if t.armed { ", armed" } else { "" },
        );
        for c in &t.clips {
            println!(
                "    clip {}: {} at frame {} length {} frames (file offset {}){}",
                c.id,
                c.file,
                c.position,
                c.length,
                c.offset,
                super::fades_and_gain(c)
            );
        }
    }
    Ok(())
}
