//! Fuzzing of everything Overdub reads from a session folder or a file the user opens: the
//! session loader, the take journal (through recovery), the WAV header repair, the importer's
//! decode path (symphonia behind our code) and the DAWproject importer's `project.xml`. Each target starts from the corpus in
//! `tests/fuzz/corpus/TARGET/` plus every input once found to fail (`tests/fuzz/regressions/
//! TARGET/`), mutates them with `mutatis` for a bounded time (`OVERDUB_FUZZ_SECONDS`, default 10
//! per target) and requires that no input panics, hangs or asks for an absurd amount of memory.
//! A failing input, shrunk, is written to `target/fuzz-failures/`; copy it into the regressions
//! folder so it is checked on every run from then on.

// The one unsafe code in the tests: a global allocator that refuses absurd requests, below.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mutatis::check::{Check, CheckError};
use mutatis::mutators as m;
use overdub_engine::dawproject::import_project;
use overdub_engine::disk::{check_wav_header, repair_in_place};
use overdub_engine::import::{ImportOptions, import};
use overdub_engine::session::{Session, SessionDir, recover};
use overdub_tests::write_source;

/// No single allocation may ask for more than this: a length field read from a file and trusted
/// shows up here. Past it the allocator refuses and the process aborts, failing the test.
const MAX_ALLOCATION: usize = 256 << 20;

struct Capped;

// SAFETY: forwards to the system allocator; only refuses (returns null) above the cap, which is
// how an allocator reports failure.
unsafe impl GlobalAlloc for Capped {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > MAX_ALLOCATION {
            return std::ptr::null_mut();
        }
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > MAX_ALLOCATION {
            return std::ptr::null_mut();
        }
        // SAFETY: `ptr` came from `System` with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Capped = Capped;

/// Milliseconds since [`epoch`] at which the last input finished (in any target); a watchdog
/// aborts the run when no input has finished for [`HANG`].
static LAST_PROGRESS: AtomicU64 = AtomicU64::new(0);
const HANG: Duration = Duration::from_secs(60);

/// One clock for every target, which run on parallel test threads.
fn epoch() -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn progress() {
    LAST_PROGRESS.store(epoch().elapsed().as_millis() as u64, Ordering::Relaxed);
}

fn watchdog() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        progress();
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(1));
                let last = Duration::from_millis(LAST_PROGRESS.load(Ordering::Relaxed));
                if epoch().elapsed().saturating_sub(last) > HANG {
                    eprintln!(
                        "fuzz: one input ran for more than {HANG:?} (a hang); the input is in \
                         target/fuzz-failures/current-*"
                    );
                    std::process::abort();
                }
            }
        });
    });
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn failures() -> PathBuf {
    let exe = std::env::current_exe().expect("exe");
    let d = exe
        .ancestors()
        .nth(3)
        .expect("target dir")
        .join("fuzz-failures");
    std::fs::create_dir_all(&d).expect("failures dir");
    d
}

/// Every file in the target's corpus and regression folders.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for kind in ["corpus", "regressions"] {
        let Ok(dir) = std::fs::read_dir(repo().join(kind).join(target)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = dir.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files {
            out.push(std::fs::read(&f).expect("seed"));
        }
    }
    assert!(!out.is_empty(), "no corpus for {target}");
    out
}

fn budget() -> Duration {
    let secs = std::env::var("OVERDUB_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(10.0);
    Duration::from_secs_f64(secs)
}

/// Run `property` on the seeds of `target` and on mutations of them for the time budget.
fn fuzz(target: &str, mut property: impl FnMut(&[u8]) -> Result<(), String>) {
    let start = Instant::now();
    watchdog();
    progress();
    let current = failures().join(format!("current-{target}"));
    let mut runs = 0u64;
    let result = Check::new()
        .min_iters(50)
        .max_iters(usize::MAX)
        .duration(budget())
        .max_shrink_duration(Duration::from_secs(20))
        .run_with(m::default::<Vec<u8>>(), seeds(target), |input: &Vec<u8>| {
            // Kept on disk while it runs, so a hang or an abort leaves it behind.
            let _ = std::fs::write(&current, input);
            let r = property(input);
            runs += 1;
            progress();
            r
        });
    match result {
        Ok(()) => {
            let _ = std::fs::remove_file(&current);
            eprintln!(
                "fuzz {target}: {runs} inputs in {:.1} s, none failed",
                start.elapsed().as_secs_f64()
            );
        }
        Err(CheckError::Failed(f)) => {
            let path = failures().join(format!("{target}-{}.bin", f.value.len()));
            std::fs::write(&path, &f.value).expect("save the failing input");
            panic!(
                "fuzz {target}: {} on the input saved as {} (copy it into tests/fuzz/\
                 regressions/{target}/ once fixed)",
                f.message,
                path.display()
            );
        }
        Err(e) => panic!("fuzz {target}: {e:?}"),
    }
}

/// The files in a folder, with their bytes.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files(&p));
            } else if let Ok(b) = std::fs::read(&p) {
                out.push((p, b));
            }
        }
    }
    out.sort();
    out
}

/// A session of two tracks with a short WAV in `audio/`, and a file outside it that nothing may
/// touch.
fn playground() -> (tempfile::TempDir, SessionDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = SessionDir::new(tmp.path().join("s"));
    dir.create(&Session::new(48_000, 2)).expect("create");
    write_source(&dir.audio().join("a.wav"), 48_000, 1, 16, false, 480);
    let outside = tmp.path().join("outside.wav");
    write_source(&outside, 48_000, 1, 16, false, 480);
    (tmp, dir, outside)
}

#[test]
fn the_session_loader_refuses_or_loads_and_never_writes() {
    let (_tmp, dir, outside) = playground();
    let before_audio = files(&dir.audio());
    let outside_bytes = std::fs::read(&outside).expect("outside");
    fuzz("session", |input| {
        std::fs::write(dir.file(), input).map_err(|e| e.to_string())?;
        if let Ok((s, _)) = dir.load_checked() {
            for c in s.tracks.iter().flat_map(|t| &t.clips) {
                if c.file.contains(['/', '\\']) || c.file == ".." {
                    return Err(format!("accepted the clip file {:?}", c.file));
                }
            }
        }
        if files(&dir.audio()) != before_audio
            || std::fs::read(&outside).ok().as_ref() != Some(&outside_bytes)
        {
            return Err("loading wrote a file".into());
        }
        Ok(())
    });
}

#[test]
fn the_take_journal_is_recovered_or_refused_and_nothing_outside_is_touched() {
    let (_tmp, dir, outside) = playground();
    let good_session = std::fs::read(dir.file()).expect("session");
    let good_wav = std::fs::read(dir.audio().join("a.wav")).expect("wav");
    let outside_bytes = std::fs::read(&outside).expect("outside");
    fuzz("journal", |input| {
        // Every input starts from the same session.
        std::fs::write(dir.file(), &good_session).map_err(|e| e.to_string())?;
        std::fs::write(dir.audio().join("a.wav"), &good_wav).map_err(|e| e.to_string())?;
        std::fs::write(dir.journal(), input).map_err(|e| e.to_string())?;
        let r = recover(&dir);
        if std::fs::read(&outside).ok().as_ref() != Some(&outside_bytes) {
            return Err("recovery wrote outside the session".into());
        }
        if r.is_ok() && dir.journal().exists() {
            return Err("recovered but kept the journal".into());
        }
        if r.is_ok() {
            dir.load()
                .map_err(|e| format!("recovery saved a session that does not load: {e}"))?;
        }
        Ok(())
    });
}

#[test]
fn the_wav_header_repair_never_panics_and_only_touches_the_sizes() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("x.wav");
    fuzz("wav", |input| {
        std::fs::write(&path, input).map_err(|e| e.to_string())?;
        let _ = check_wav_header(&path);
        let _ = repair_in_place(&path, true);
        let after = std::fs::read(&path).map_err(|e| e.to_string())?;
        if after.len() != input.len() {
            return Err("the repair changed the file's length".into());
        }
        let changed: Vec<usize> = (0..input.len()).filter(|&i| after[i] != input[i]).collect();
        // The RIFF size and the data size: two 32-bit fields, nothing else.
        if changed.len() > 8 {
            return Err(format!("the repair rewrote {} bytes", changed.len()));
        }
        Ok(())
    });
}

#[test]
fn the_importer_refuses_or_imports_whatever_the_bytes() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = SessionDir::new(tmp.path().join("s"));
    dir.create(&Session::new(48_000, 1)).expect("create");
    let good_session = std::fs::read(dir.file()).expect("session");
    let opts = ImportOptions {
        track: None,
        at_seconds: 0.0,
    };
    let exts = ["wav", "flac", "mp3", "ogg", "aiff", "bin"];
    let mut n = 0usize;
    fuzz("import", |input| {
        // The extension rotates: symphonia picks its probe by content, our code by name.
        let file = tmp.path().join(format!("in.{}", exts[n % exts.len()]));
        n += 1;
        std::fs::write(dir.file(), &good_session).map_err(|e| e.to_string())?;
        for (p, _) in files(&dir.audio()) {
            let _ = std::fs::remove_file(p);
        }
        std::fs::write(&file, input).map_err(|e| e.to_string())?;
        if import(dir.root(), std::slice::from_ref(&file), &opts, &mut |_| {}).is_ok() {
            dir.load()
                .map_err(|e| format!("an import saved a session that does not load: {e}"))?;
        }
        Ok(())
    });
}

#[test]
fn a_dawproject_import_makes_a_session_that_loads_or_refuses_and_leaves_nothing() {
    use std::io::Write;
    let tmp = tempfile::tempdir().expect("tmp");
    let wav = tmp.path().join("a.wav");
    write_source(&wav, 48_000, 1, 16, false, 480);
    let wav = std::fs::read(&wav).expect("wav");
    let archive = tmp.path().join("in.dawproject");
    let target = tmp.path().join("made");
    fuzz("dawproject", |input| {
        let mut z =
            zip::ZipWriter::new(std::fs::File::create(&archive).map_err(|e| e.to_string())?);
        for (name, bytes) in [("project.xml", input), ("audio/a.wav", &wav[..])] {
            z.start_file(name, zip::write::SimpleFileOptions::default())
                .map_err(|e| e.to_string())?;
            z.write_all(bytes).map_err(|e| e.to_string())?;
        }
        z.finish().map_err(|e| e.to_string())?;
        let _ = std::fs::remove_dir_all(&target);
        match import_project(&target, &archive) {
            Ok(_) => {
                SessionDir::new(&target)
                    .load()
                    .map_err(|e| format!("the import made a session that does not load: {e}"))?;
            }
            Err(e) => {
                if target.exists() {
                    return Err(format!("refused ({e}) but made the folder"));
                }
                if e.to_string().lines().count() != 1 {
                    return Err(format!("a refusal of more than one line: {e}"));
                }
            }
        }
        let stray = std::fs::read_dir(tmp.path())
            .map_err(|e| e.to_string())?
            .flatten()
            .any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(".overdub-import")
            });
        if stray {
            return Err("a hidden import folder was left behind".into());
        }
        Ok(())
    });
}
