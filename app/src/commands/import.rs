//! `overdub import DIR FILE...`: decode, convert to the session rate, add as clips.

use std::io::Write;

use overdub_engine::Result;
use overdub_engine::import::{self, ImportOptions};

use crate::cli::ImportArgs;

pub fn run(a: &ImportArgs) -> Result<()> {
    let opts = ImportOptions {
        track: a.track,
        at_seconds: a.at,
    };
    let mut last = (usize::MAX, -1i32);
    let imported = import::import(&a.dir, &a.files, &opts, &mut |p| {
        let pct = (p.fraction * 100.0) as i32;
        if (p.file, pct / 10) != (last.0, last.1 / 10) {
            last = (p.file, pct);
            eprint!(
                "\rimporting {}/{}: {}  {pct:3}%",
                p.file + 1,
                p.files,
                a.files[p.file].display()
            );
            let _ = std::io::stderr().flush();
        }
    });
    eprintln!();
    for i in imported? {
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
