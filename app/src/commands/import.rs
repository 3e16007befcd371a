//! `overdub import DIR FILE...`: decode, convert to the session rate, add as clips;
//! `overdub import-project DIR FILE`: a new session from a DAWproject file.

use overdub_engine::Result;
use overdub_engine::import::{self, ImportOptions};
use overdub_engine::session::SessionDir;

use super::progress::{Plain, Progress};
use crate::cli::ImportArgs;

pub fn run(a: &ImportArgs) -> Result<()> {
    let _lock = SessionDir::new(&a.dir).lock_checked("overdub import")?;
    let opts = ImportOptions {
        track: a.track,
        at_seconds: a.at,
    };
    // A bar over all the files on a terminal; off one, a line as each file starts.
    let mut shown = Progress::new("importing", Plain::Stages);
    let mut current = None;
    let imported = import::import(&a.dir, &a.files, &opts, &mut |p| {
        if current != Some(p.file) {
            current = Some(p.file);
            let name = a.files.get(p.file).map(|f| f.display().to_string());
            shown.stage(&format!(
                "importing {}/{}: {}",
                p.file + 1,
                p.files,
                name.unwrap_or_default()
            ));
        }
        let files = p.files.max(1) as f32;
        shown.set((p.file as f32 + p.fraction) / files);
    })?;
    shown.finish();
    for i in imported {
        if let Some(claimed) = i.repaired_from {
            println!(
                "repaired {}: its header said {claimed} frames; all {} whole frames present were \
                 imported",
                i.source.display(),
                i.frames
            );
        }
        println!(
            "imported {} -> {} ({} Hz, {} ch, {} frames) as clip {} at frame {}",
            i.source.display(),
            i.file.display(),
            i.source_rate,
            i.channels,
            i.frames,
            i.clip.id,
            i.clip.position
        );
    }
    Ok(())
}

pub fn project(dir: &std::path::Path, file: &std::path::Path) -> Result<()> {
    let r = overdub_engine::dawproject::import_project(dir, file)?;
    println!(
        "made {} at {} Hz: {} track(s), {} clip(s), {} disabled clip(s) kept as takes, {} \
         marker(s); {} audio file(s) copied, {} converted",
        r.dir.display(),
        r.rate,
        r.tracks,
        r.clips,
        r.takes,
        r.markers,
        r.copied,
        r.converted
    );
    if r.left_out.is_empty() {
        println!("everything in the project was carried over");
    } else {
        println!("not carried over: {}", r.left_out.join(", "));
    }
    Ok(())
}
