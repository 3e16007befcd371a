//! Hostile session folders (issue 13): a `session.json`, take journal or `settings.json` made to
//! escape the session folder, overflow a frame count, hold the wrong types, absurd values, huge
//! arrays, deep nesting or a gigabyte of nothing. Each is refused by the real binary in under a
//! second with one line on stderr naming the field, and no file in the session folder, the export
//! folder or beside them is touched. One good session (the control) must still work, so a build
//! that refuses everything fails too.
//!
//! Every case is run and every way it fails is collected; each test fails once at the end with
//! the list, case by case. The three tests take turns (a lock): the one-second bound is measured
//! on whole processes on a two-core machine, and must not also count the other tests' work.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use overdub_tests::{TimedRun, World, write_source};
use serde_json::{Value, json};

/// Frames (and Hz) of the WAV the good session's clip plays.
const FRAMES: u64 = 48_000;
/// The issue's bound on refusing a hostile session, the whole `overdub info` process.
const REFUSE_WITHIN: Duration = Duration::from_secs(1);
/// A run still going after this is taken as hung and killed.
const HANG: Duration = Duration::from_secs(10);
/// Files the session lock leaves at the folder's top. A writer checks `session.json` before it
/// locks, so a hostile session gets none; a good session with a hostile journal is locked (it was
/// opened for writing) before the journal is refused, so there they are not counted as touched.
const LOCK_FILES: [&str; 2] = [".overdub.lock", ".overdub.lock.holder"];

static TURNS: Mutex<()> = Mutex::new(());

fn my_turn() -> MutexGuard<'static, ()> {
    TURNS.lock().unwrap_or_else(PoisonError::into_inner)
}

// ---------------------------------------------------------------------------------------------
// Snapshots: every file under a folder, so that "nothing touched" can be checked.

/// What one entry under a snapshotted folder was.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Entry {
    Dir,
    /// A file: its size, times and inode (any write or a rename over it changes one of them),
    /// and its bytes (the first and last MiB only of a large one).
    File {
        len: u64,
        mtime: (i64, i64),
        ctime: (i64, i64),
        ino: u64,
        head: Vec<u8>,
        tail: Vec<u8>,
    },
    Link(PathBuf),
    Other,
}

/// Whole files up to this size are kept; larger ones by their ends.
const WHOLE: u64 = 64 << 20;
const END: u64 = 1 << 20;

type Snapshot = BTreeMap<PathBuf, Entry>;

fn snapshot(root: &Path) -> Snapshot {
    let mut all = Snapshot::new();
    if root.exists() {
        walk(root, root, &mut all);
    }
    all
}

fn walk(root: &Path, dir: &Path, all: &mut Snapshot) {
    let mut names: Vec<PathBuf> = fs::read_dir(dir)
        .expect("read a snapshotted folder")
        .map(|e| e.expect("a folder entry").path())
        .collect();
    names.sort();
    for path in names {
        let rel = path.strip_prefix(root).expect("under root").to_path_buf();
        let meta = fs::symlink_metadata(&path).expect("metadata");
        let entry = if meta.file_type().is_symlink() {
            Entry::Link(fs::read_link(&path).expect("link target"))
        } else if meta.is_dir() {
            walk(root, &path, all);
            Entry::Dir
        } else if meta.is_file() {
            let (head, tail) = ends(&path, meta.len());
            Entry::File {
                len: meta.len(),
                mtime: (meta.mtime(), meta.mtime_nsec()),
                ctime: (meta.ctime(), meta.ctime_nsec()),
                ino: meta.ino(),
                head,
                tail,
            }
        } else {
            Entry::Other
        };
        all.insert(rel, entry);
    }
}

/// The whole file, or the first and last MiB of a large one.
fn ends(path: &Path, len: u64) -> (Vec<u8>, Vec<u8>) {
    let mut f = fs::File::open(path).expect("open a snapshotted file");
    let mut head = Vec::new();
    (&mut f)
        .take(if len <= WHOLE { len } else { END })
        .read_to_end(&mut head)
        .expect("read a snapshotted file");
    let mut tail = Vec::new();
    if len > WHOLE {
        f.seek(SeekFrom::Start(len - END)).expect("seek");
        f.take(END).read_to_end(&mut tail).expect("read the end");
    }
    (head, tail)
}

/// What changed between two snapshots of one folder, lock bookkeeping aside.
fn changes(before: &Snapshot, after: &Snapshot, lock_allowed: bool) -> Vec<String> {
    let lock = |p: &Path| lock_allowed && LOCK_FILES.iter().any(|l| p == Path::new(l));
    let mut out = Vec::new();
    for (p, e) in before.iter().filter(|(p, _)| !lock(p)) {
        match after.get(p) {
            None => out.push(format!("removed {}", p.display())),
            Some(a) if a != e => out.push(format!("changed {}", p.display())),
            Some(_) => {}
        }
    }
    for p in after.keys().filter(|p| !lock(p)) {
        if !before.contains_key(p) {
            out.push(format!("created {}", p.display()));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Checking one run.

/// The failures of one group of cases: (case, what went wrong).
#[derive(Default)]
struct Failures(Vec<(String, String)>);

impl Failures {
    fn add(&mut self, case: &str, what: String) {
        eprintln!("  FAIL {case}: {what}");
        self.0.push((case.to_string(), what));
    }

    /// Fail the test with every failure, case by case, if there is any.
    fn assert_none(&self, group: &str, cases: usize) {
        if self.0.is_empty() {
            return;
        }
        let mut names: Vec<&str> = self.0.iter().map(|(c, _)| c.as_str()).collect();
        names.dedup();
        let mut msg = format!(
            "{group}: {} of {cases} cases failed: {}\n",
            names.len(),
            names.join(", ")
        );
        for (case, what) in &self.0 {
            msg.push_str(&format!("\n{case}: {what}"));
        }
        panic!("{msg}");
    }
}

/// What a run printed on stderr as messages: its lines, split at carriage returns too, without
/// empty ones and without the export progress bar (`\rexporting [###   ]  40%`).
fn message_lines(stderr: &str) -> Vec<&str> {
    stderr
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("exporting ["))
        .collect()
}

/// Whether `text` holds `word` as a whole word (not inside a longer run of letters, digits and
/// underscores): `gain` is not found in `gain_db`, `id` is not found in `valid`.
fn has_word(text: &str, word: &str) -> bool {
    let in_word = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(i, _)| {
        !text[..i].chars().next_back().is_some_and(in_word)
            && !text[i + word.len()..].chars().next().is_some_and(in_word)
    })
}

/// Whether a message names the field by one of `tokens` (whole words, any case), once the test's
/// own folder names are taken out of it (they must not answer for the message).
fn names_field(message: &str, tokens: &[&str], hide: &Path) -> bool {
    let text = message
        .replace(&*hide.to_string_lossy(), "<tmp>")
        .to_lowercase();
    tokens.iter().any(|t| has_word(&text, t))
}

fn short(s: &str) -> String {
    const MAX: usize = 300;
    let s = s.trim();
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{:?}...", &s[..i]),
        None => format!("{s:?}"),
    }
}

/// How a run ended, when that is not a refusal (exit 1 or 2).
fn not_refused(r: &TimedRun) -> Option<String> {
    if r.timed_out {
        return Some(format!(
            "hung: killed after {:.0} s",
            r.elapsed.as_secs_f64()
        ));
    }
    match r.run.code {
        Some(1 | 2) => None,
        Some(0) => Some(format!(
            "accepted (exit 0); stdout {}",
            short(&r.run.stdout)
        )),
        Some(101) => Some(format!("panicked (exit 101): {}", short(&r.run.stderr))),
        Some(c) => Some(format!("exit {c}: {}", short(&r.run.stderr))),
        None => Some(format!("killed by a signal: {}", short(&r.run.stderr))),
    }
}

/// `r` must be a refusal: exit 1 or 2 (not 0, not a panic, not a signal, not hung) and one line on
/// stderr naming the field by one of `tokens`.
fn expect_refused(
    f: &mut Failures,
    case: &str,
    cmd: &str,
    r: &TimedRun,
    tokens: &[&str],
    hide: &Path,
) {
    if let Some(how) = not_refused(r) {
        f.add(case, format!("{cmd}: {how}"));
        return;
    }
    let lines = message_lines(&r.run.stderr);
    if lines.len() != 1 {
        f.add(
            case,
            format!(
                "{cmd}: {} lines on stderr, want one: {}",
                lines.len(),
                short(&r.run.stderr)
            ),
        );
    }
    if !names_field(&r.run.stderr, tokens, hide) {
        f.add(
            case,
            format!(
                "{cmd}: the refusal does not name the field (any of {tokens:?}): {}",
                short(&r.run.stderr)
            ),
        );
    }
}

/// Nothing under any of `roots` changed since `before` (one snapshot per root).
fn expect_untouched(f: &mut Failures, case: &str, cmd: &str, before: &[(PathBuf, Snapshot)]) {
    expect_untouched_but(f, case, cmd, before, false);
}

/// As [`expect_untouched`], the session lock's files aside when `lock_allowed`.
fn expect_untouched_but(
    f: &mut Failures,
    case: &str,
    cmd: &str,
    before: &[(PathBuf, Snapshot)],
    lock_allowed: bool,
) {
    for (root, snap) in before {
        let c = changes(snap, &snapshot(root), lock_allowed);
        if !c.is_empty() {
            f.add(
                case,
                format!("{cmd}: touched {}: {}", root.display(), c.join(", ")),
            );
        }
    }
}

/// The export folder was not made, or is empty.
fn expect_no_output(f: &mut Failures, case: &str, out: &Path) {
    if let Ok(rd) = fs::read_dir(out) {
        let left: Vec<String> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        if !left.is_empty() {
            f.add(case, format!("export: wrote {}", left.join(", ")));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Making sessions.

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// A good session made by the binary: two mono tracks, the first with one clip playing all of
/// `audio/source.wav` (one second, 16-bit, 48 kHz) from frame 0.
fn template(w: &World) -> PathBuf {
    let dir = w.path("template");
    w.overdub(&["new", &s(&dir), "--tracks", "2"]).ok();
    write_source(&dir.join("audio/source.wav"), 48_000, 1, 16, false, FRAMES);
    let place = Place {
        dir: dir.clone(),
        outside: w.path("unused"),
    };
    place.edit(|d| {
        d["tracks"][0]["clips"] = json!([
            {"id": 1, "file": "source.wav", "position": 0, "offset": 0, "length": FRAMES}
        ]);
        d["next_clip_id"] = json!(2);
    });
    dir
}

/// Copy a folder (files and folders only, as the template holds).
fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("make a copy's folder");
    for e in fs::read_dir(from).expect("read the template") {
        let e = e.expect("template entry");
        let dest = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            fs::copy(e.path(), &dest).expect("copy a template file");
        }
    }
}

/// A WAV whose header says it holds nothing (as a recorder killed mid-take leaves it): opening it
/// for recovery would rewrite the header, a write.
fn write_unfinished_wav(path: &Path) {
    write_source(path, 48_000, 1, 16, false, 24_000);
    let mut b = fs::read(path).expect("wav");
    let data = b
        .windows(4)
        .position(|w| w == b"data")
        .expect("a data chunk");
    b[4..8].copy_from_slice(&0u32.to_le_bytes());
    b[data + 4..data + 8].copy_from_slice(&0u32.to_le_bytes());
    fs::write(path, b).expect("write the unfinished wav");
}

/// A case's session folder and the folder beside it (outside the session), which holds a real
/// WAV (`source.wav`, the same as the session's) and a sentinel file.
struct Place {
    dir: PathBuf,
    outside: PathBuf,
}

impl Place {
    fn new(w: &World, template: &Path, name: &str) -> Self {
        let root = w.path(name);
        let place = Self {
            dir: root.join("session"),
            outside: root.join("outside"),
        };
        copy_dir(template, &place.dir);
        fs::create_dir_all(&place.outside).expect("outside");
        write_source(
            &place.outside.join("source.wav"),
            48_000,
            1,
            16,
            false,
            FRAMES,
        );
        fs::write(place.outside.join("sentinel.txt"), "must stay as it is\n").expect("sentinel");
        place
    }

    fn file(&self) -> PathBuf {
        self.dir.join("session.json")
    }

    /// Snapshots of the session folder and the folder beside it, taken before each command so
    /// that what one command touched is told against it.
    fn snapshots(&self) -> Vec<(PathBuf, Snapshot)> {
        [&self.dir, &self.outside]
            .into_iter()
            .map(|r| (r.clone(), snapshot(r)))
            .collect()
    }

    fn doc(&self) -> Value {
        let text = fs::read_to_string(self.file()).expect("session.json");
        serde_json::from_str(&text).expect("session.json is JSON")
    }

    /// Change the document and write it back.
    fn edit(&self, f: impl FnOnce(&mut Value)) {
        let mut d = self.doc();
        f(&mut d);
        fs::write(
            self.file(),
            serde_json::to_string_pretty(&d).expect("serialize"),
        )
        .expect("write session.json");
    }

    /// Change the document, write it, and then put raw text in place of string values `"KEY"`
    /// (for what a JSON value cannot hold, or is too big to build as one).
    fn edit_raw(&self, f: impl FnOnce(&mut Value), raw: &[(&str, String)]) {
        let mut d = self.doc();
        f(&mut d);
        let mut text = serde_json::to_string(&d).expect("serialize");
        for (key, with) in raw {
            let quoted = format!("\"{key}\"");
            assert!(text.contains(&quoted), "placeholder {key}");
            text = text.replace(&quoted, with);
        }
        fs::write(self.file(), text).expect("write session.json");
    }

    fn clip(&self, field: &str, v: Value) {
        self.edit(|d| d["tracks"][0]["clips"][0][field] = v);
    }

    fn track(&self, field: &str, v: Value) {
        self.edit(|d| d["tracks"][0][field] = v);
    }
}

// ---------------------------------------------------------------------------------------------
// The hostile session files.

/// What a case must do.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Every command refuses it.
    Refused,
    /// `info` refuses it, or takes it with the value cut down and a warning naming the field
    /// (the spec allows a clip longer than its file to be clamped); either way nothing written.
    RefusedOrClamped,
}

struct Case {
    name: &'static str,
    /// Words, one of which the refusal must contain: the JSON key, mostly.
    tokens: &'static [&'static str],
    expect: Expect,
    corrupt: Box<dyn Fn(&Place)>,
}

fn case(
    name: &'static str,
    tokens: &'static [&'static str],
    corrupt: impl Fn(&Place) + 'static,
) -> Case {
    Case {
        name,
        tokens,
        expect: Expect::Refused,
        corrupt: Box::new(corrupt),
    }
}

fn clip_file(name: &'static str, file: &'static str) -> Case {
    case(name, &["file"], move |p| p.clip("file", json!(file)))
}

/// Words a refusal of a file for its size may use.
const SIZE_WORDS: &[&str] = &[
    "size", "large", "larger", "big", "bigger", "bytes", "long", "longer", "mib", "gib", "mb", "gb",
];
/// A million tracks cannot be written in under 32 MiB: refusing the file for its size before
/// counting them is a refusal too.
const TRACKS_OR_SIZE: &[&str] = &[
    "tracks", "size", "large", "larger", "big", "bigger", "bytes", "long", "longer", "mib", "gib",
    "mb", "gb",
];

fn session_cases() -> Vec<Case> {
    let mut cases = vec![
        // Path escapes.
        clip_file("file_dotdot_to_etc", "../../../etc/hostname"),
        clip_file("file_dotdot_to_a_real_wav", "../../outside/source.wav"),
        clip_file("file_absolute_etc", "/etc/hostname"),
        case("file_absolute_real_wav", &["file"], |p| {
            p.clip("file", json!(s(&p.outside.join("source.wav"))))
        }),
        clip_file("file_with_separator", "audio/x.wav"),
        clip_file("file_dot_slash", "./source.wav"),
        clip_file("file_backslash_dotdot", "..\\x.wav"),
        clip_file("file_empty", ""),
        clip_file("file_dot", "."),
        clip_file("file_dotdot", ".."),
        clip_file("file_with_nul", "source.wav\u{0}.txt"),
        case("file_name_of_100k_chars", &["file"], |p| {
            p.clip("file", json!(format!("{}.wav", "a".repeat(100_000))))
        }),
        case("file_symlink_leading_out", &["file"], |p| {
            std::os::unix::fs::symlink(p.outside.join("source.wav"), p.dir.join("audio/link.wav"))
                .expect("symlink");
            p.clip("file", json!("link.wav"));
        }),
        // Absurd frame counts.
        case("length_1e15", &["length"], |p| {
            p.clip("length", json!(1_000_000_000_000_000u64))
        }),
        case("offset_1e15", &["offset"], |p| {
            p.clip("offset", json!(1_000_000_000_000_000u64))
        }),
        case(
            "position_plus_length_overflows",
            &["position", "length"],
            |p| p.clip("position", json!(u64::MAX - 100)),
        ),
        case("position_negative", &["position"], |p| {
            p.clip("position", json!(-1))
        }),
        // Out of range.
        case("rate_0", &["rate"], |p| p.edit(|d| d["rate"] = json!(0))),
        case("rate_10_000_000", &["rate"], |p| {
            p.edit(|d| d["rate"] = json!(10_000_000))
        }),
        case("channels_0", &["channels"], |p| {
            p.track("channels", json!(0))
        }),
        case("channels_7", &["channels"], |p| {
            p.track("channels", json!(7))
        }),
        case("gain_db_1e308", &["gain_db", "gain"], |p| {
            p.track("gain_db", json!(1e308))
        }),
        case("pan_5", &["pan"], |p| p.track("pan", json!(5.0))),
        case("duplicate_track_ids", &["id"], |p| {
            p.edit(|d| d["tracks"][1]["id"] = d["tracks"][0]["id"].clone())
        }),
        case("duplicate_clip_ids", &["id"], |p| {
            p.edit(|d| d["tracks"][1]["clips"] = d["tracks"][0]["clips"].clone())
        }),
        case("version_999", &["version", "format"], |p| {
            p.edit(|d| d["version"] = json!(999))
        }),
        // Wrong types.
        case("rate_as_a_string", &["rate"], |p| {
            p.edit(|d| d["rate"] = json!("48000"))
        }),
        case("tracks_as_an_object", &["tracks"], |p| {
            p.edit(|d| d["tracks"] = json!({"0": {}}))
        }),
        // Huge arrays.
        case("tracks_1m_empty_objects", &["tracks"], |p| {
            let empties = vec!["{}"; 1_000_000].join(",");
            p.edit_raw(
                |d| d["tracks"] = json!("TRACKS"),
                &[("TRACKS", format!("[{empties}]"))],
            );
        }),
        case("tracks_100k_tracks", &["tracks"], |p| {
            many_tracks(p, 100_000)
        }),
        case("tracks_1m_tracks", TRACKS_OR_SIZE, |p| {
            many_tracks(p, 1_000_000)
        }),
        // Deep nesting, where a string belongs and in a field nobody reads.
        case("name_nested_100k_deep", &["name"], |p| {
            p.edit_raw(
                |d| d["tracks"][0]["name"] = json!("NEST"),
                &[("NEST", nest(100_000))],
            );
        }),
        case("unknown_field_nested_100k_deep", &["x_nested"], |p| {
            p.edit_raw(
                |d| d["x_nested"] = json!("NEST"),
                &[("NEST", nest(100_000))],
            );
        }),
        // A gigabyte: a good session followed by 1 GiB less its size of zero bytes (sparse, so
        // it costs no disk).
        case("session_json_1gb", SIZE_WORDS, |p| {
            let f = fs::OpenOptions::new()
                .write(true)
                .open(p.file())
                .expect("open session.json");
            f.set_len(1 << 30).expect("make it 1 GiB");
        }),
    ];
    cases.push(Case {
        name: "length_just_past_the_file",
        tokens: &["length"],
        expect: Expect::RefusedOrClamped,
        corrupt: Box::new(|p| p.clip("length", json!(FRAMES + 1000))),
    });
    cases
}

/// `n` mono tracks with ids 1 to n and no clips.
fn many_tracks(p: &Place, n: u32) {
    let tracks: Vec<String> = (1..=n)
        .map(|i| format!(r#"{{"id":{i},"name":"t","input":0}}"#))
        .collect();
    p.edit_raw(
        |d| {
            d["tracks"] = json!("TRACKS");
            d["next_track_id"] = json!(n + 1);
        },
        &[("TRACKS", format!("[{}]", tracks.join(",")))],
    );
}

fn nest(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// Run one case: `info` (within a second), `export` and `record` each refuse it with one line
/// naming the field and touch nothing.
fn run_session_case(w: &World, template: &Path, n: usize, c: &Case, f: &mut Failures) {
    eprintln!("case {}", c.name);
    let p = Place::new(w, template, &format!("c{n:02}"));
    let out = w.path(&format!("c{n:02}/out"));
    (c.corrupt)(&p);
    let d = s(&p.dir);
    let hide = w.tmp.path();

    let before = p.snapshots();
    let info = w.overdub_within(&["info", &d], HANG);
    match (c.expect, info.run.code) {
        (Expect::RefusedOrClamped, Some(0)) if !info.timed_out => {
            // A warning about a clamped clip names the field or the clip.
            let words = [c.tokens, &["clip"]].concat();
            let warned = message_lines(&info.run.stderr)
                .iter()
                .any(|l| l.to_lowercase().contains("warning") && names_field(l, &words, hide));
            if !warned {
                f.add(
                    c.name,
                    format!(
                        "info: taken (exit 0) with no warning naming the field (any of {:?}): \
                         stdout {}, stderr {}",
                        words,
                        short(&info.run.stdout),
                        short(&info.run.stderr)
                    ),
                );
            }
        }
        _ => expect_refused(f, c.name, "info", &info, c.tokens, hide),
    }
    if info.elapsed >= REFUSE_WITHIN {
        f.add(
            c.name,
            format!(
                "info: took {:.2} s (the bound is {:.0} s)",
                info.elapsed.as_secs_f64(),
                REFUSE_WITHIN.as_secs_f64()
            ),
        );
    }
    expect_untouched(f, c.name, "info", &before);
    if c.expect == Expect::RefusedOrClamped {
        return;
    }

    // One second at most, so a session that is wrongly taken does not fill the disk.
    let before = p.snapshots();
    let export = w.overdub_within(
        &["export", &d, "--out", &s(&out), "--mix", "--range", "0:1"],
        HANG,
    );
    expect_refused(f, c.name, "export", &export, c.tokens, hide);
    expect_untouched(f, c.name, "export", &before);
    expect_no_output(f, c.name, &out);

    let before = p.snapshots();
    let record = w.overdub_within(
        &["record", &d, "--seconds", "0.2", "--host", "virtual"],
        HANG,
    );
    expect_refused(f, c.name, "record", &record, c.tokens, hide);
    expect_untouched(f, c.name, "record", &before);
}

#[test]
fn hostile_session_files_are_refused_within_a_second_with_one_line_and_nothing_touched() {
    let _turn = my_turn();
    let w = World::new();
    let template = template(&w);
    let mut f = Failures::default();

    // The control: the good session is read, exported and recorded on, and reading it touches
    // nothing; the harness's checks pass on it.
    eprintln!("case control");
    let p = Place::new(&w, &template, "control");
    let before = p.snapshots();
    let d = s(&p.dir);
    let info = w.overdub_within(&["info", &d], HANG);
    assert_eq!(
        (info.run.code, info.timed_out),
        (Some(0), false),
        "control: info refused the good session: {info:?}"
    );
    assert!(
        info.elapsed < REFUSE_WITHIN,
        "control: info took {:?}",
        info.elapsed
    );
    assert!(
        info.run.stdout.contains("source.wav"),
        "control: {}",
        info.run.stdout
    );
    expect_untouched(&mut f, "control", "info", &before);
    let out = w.path("control/out");
    let export = w.overdub_within(
        &["export", &d, "--out", &s(&out), "--mix", "--range", "0:1"],
        HANG,
    );
    assert_eq!(export.run.code, Some(0), "control: export: {export:?}");
    assert!(out.join("mix.wav").is_file(), "control: no mix written");
    let record = w.overdub_within(
        &["record", &d, "--seconds", "0.2", "--host", "virtual"],
        HANG,
    );
    assert_eq!(record.run.code, Some(0), "control: record: {record:?}");
    f.assert_none("control", 1);

    let cases = session_cases();
    for (n, c) in cases.iter().enumerate() {
        run_session_case(&w, &template, n, c, &mut f);
    }
    f.assert_none("hostile session.json", cases.len());
}

// ---------------------------------------------------------------------------------------------
// The take journal.

/// A good journal: one take, `audio/take.wav` (half a second, not yet in the session), on
/// track 1 at frame 0.
fn good_journal() -> Value {
    json!({"takes": [
        {"track": 1, "file": "take.wav", "position": 0, "offset": 0, "length": null}
    ]})
}

/// Changes a good journal (and may put files beside it).
type JournalCorruption = Box<dyn Fn(&Place, &mut Value)>;

struct JournalCase {
    name: &'static str,
    tokens: &'static [&'static str],
    corrupt: JournalCorruption,
}

fn journal_case(
    name: &'static str,
    tokens: &'static [&'static str],
    corrupt: impl Fn(&Place, &mut Value) + 'static,
) -> JournalCase {
    JournalCase {
        name,
        tokens,
        corrupt: Box::new(corrupt),
    }
}

fn journal_cases() -> Vec<JournalCase> {
    vec![
        // `../x.wav` is `x.wav` beside session.json; it is an unfinished WAV, so a recovery that
        // took it would rewrite its header.
        journal_case("journal_file_dotdot", &["file"], |p, j| {
            write_unfinished_wav(&p.dir.join("x.wav"));
            j["takes"][0]["file"] = json!("../x.wav");
        }),
        journal_case("journal_file_dotdot_leading_out", &["file"], |p, j| {
            write_unfinished_wav(&p.outside.join("take.wav"));
            j["takes"][0]["file"] = json!("../../outside/take.wav");
        }),
        journal_case("journal_file_absolute", &["file"], |p, j| {
            write_unfinished_wav(&p.outside.join("take.wav"));
            j["takes"][0]["file"] = json!(s(&p.outside.join("take.wav")));
        }),
        journal_case("journal_length_1e15", &["length"], |_, j| {
            j["takes"][0]["length"] = json!(1_000_000_000_000_000u64);
        }),
        journal_case("journal_offset_1e15", &["offset"], |_, j| {
            j["takes"][0]["offset"] = json!(1_000_000_000_000_000u64);
        }),
        journal_case("journal_position_overflows", &["position"], |_, j| {
            j["takes"][0]["position"] = json!(u64::MAX - 10);
        }),
        // A track id the session does not have is a track added after the last save (its
        // take is recovered onto it); an id no track can have is refused.
        journal_case("journal_track_id_0", &["track"], |_, j| {
            j["takes"][0]["track"] = json!(0);
        }),
        journal_case("journal_takes_as_an_object", &["takes"], |_, j| {
            j["takes"] = json!({"0": {}});
        }),
    ]
}

/// A session with an interrupted recording: the good template, `audio/take.wav` and the journal
/// `corrupt` makes of the good one.
fn journal_place(
    w: &World,
    template: &Path,
    name: &str,
    corrupt: impl FnOnce(&Place, &mut Value),
) -> Place {
    let p = Place::new(w, template, name);
    write_source(&p.dir.join("audio/take.wav"), 48_000, 1, 16, false, 24_000);
    let mut journal = good_journal();
    corrupt(&p, &mut journal);
    fs::write(
        p.dir.join("takes.journal.json"),
        serde_json::to_string_pretty(&journal).expect("journal"),
    )
    .expect("write the journal");
    p
}

#[test]
fn hostile_take_journals_are_refused_with_one_line_and_nothing_touched() {
    let _turn = my_turn();
    let w = World::new();
    let template = template(&w);
    let mut f = Failures::default();

    // The control: the good journal is recovered.
    let p = journal_place(&w, &template, "jcontrol", |_, _| {});
    let run = w.overdub_within(&["recover", &s(&p.dir)], HANG);
    assert_eq!(run.run.code, Some(0), "control: recover: {run:?}");
    assert!(
        run.run.stdout.contains("1 clip(s) put back"),
        "control: {}",
        run.run.stdout
    );

    let cases = journal_cases();
    for (n, c) in cases.iter().enumerate() {
        eprintln!("case {}", c.name);
        let p = journal_place(&w, &template, &format!("j{n:02}"), &c.corrupt);
        let d = s(&p.dir);
        let hide = w.tmp.path();

        // `info` may refuse it or show the session; it must not hang or write.
        let before = p.snapshots();
        let info = w.overdub_within(&["info", &d], HANG);
        if info.timed_out || !matches!(info.run.code, Some(0..=2)) {
            f.add(
                c.name,
                format!("info: {}", not_refused(&info).unwrap_or_default()),
            );
        }
        expect_untouched_but(&mut f, c.name, "info", &before, true);
        let before = p.snapshots();
        let recover = w.overdub_within(&["recover", &d], HANG);
        expect_refused(&mut f, c.name, "recover", &recover, c.tokens, hide);
        expect_untouched_but(&mut f, c.name, "recover", &before, true);
        // Recording recovers an interrupted recording first: the same refusal.
        let before = p.snapshots();
        let record = w.overdub_within(
            &["record", &d, "--seconds", "0.2", "--host", "virtual"],
            HANG,
        );
        expect_refused(&mut f, c.name, "record", &record, c.tokens, hide);
        expect_untouched_but(&mut f, c.name, "record", &before, true);
    }
    f.assert_none("hostile takes.journal.json", cases.len());
}

// ---------------------------------------------------------------------------------------------
// settings.json.

/// A loopback measurement for the virtual host's devices at 48 kHz, `frames` round trip.
fn measurement(frames: u64) -> Value {
    json!({
        "host": "virtual", "input": "virtual", "output": "virtual", "rate": 48_000,
        "buffer": 256, "frames": frames, "bridge": 0, "reported": 256,
        "in_channel": 1, "out_channel": 1, "measured_at": 0
    })
}

fn settings_cases() -> Vec<(&'static str, Value)> {
    vec![
        ("settings_buffer_0", json!({"host": "virtual", "buffer": 0})),
        (
            "settings_take_part_bytes_1",
            json!({"host": "virtual", "take_part_bytes": 1}),
        ),
        (
            "settings_latency_frames_1e15",
            json!({"host": "virtual", "latency": [measurement(1_000_000_000_000_000)]}),
        ),
        (
            "settings_latency_frames_4e9",
            json!({"host": "virtual", "latency": [measurement(4_000_000_000)]}),
        ),
        (
            "settings_all_at_once",
            json!({"host": "virtual", "buffer": 0, "take_part_bytes": 1,
                   "latency": [measurement(1_000_000_000_000_000)]}),
        ),
    ]
}

/// The lines of a run's stderr that name `settings.json`.
fn settings_lines(r: &TimedRun) -> Vec<&str> {
    message_lines(&r.run.stderr)
        .into_iter()
        .filter(|l| l.contains("settings.json"))
        .collect()
}

/// A run that neither hung nor crashed (exit 0, 1 or 2).
fn expect_no_crash(f: &mut Failures, case: &str, cmd: &str, r: &TimedRun) {
    if r.timed_out || !matches!(r.run.code, Some(0..=2)) {
        f.add(
            case,
            format!("{cmd}: {}", not_refused(r).unwrap_or_default()),
        );
    }
}

#[test]
fn hostile_settings_are_ignored_with_a_one_line_warning_and_nothing_crashes() {
    let _turn = my_turn();
    let w = World::new();
    let template = template(&w);
    let config = w.path("config/overdub");
    fs::create_dir_all(&config).expect("config folder");
    let settings = config.join("settings.json");
    let mut f = Failures::default();

    // The control: good settings, no warning, and the take is recorded.
    let p = Place::new(&w, &template, "scontrol");
    fs::write(&settings, r#"{"host": "virtual"}"#).expect("settings");
    let record = w.overdub_within(&["record", &s(&p.dir), "--seconds", "0.2"], HANG);
    assert_eq!(record.run.code, Some(0), "control: record: {record:?}");
    assert!(settings_lines(&record).is_empty(), "control: {record:?}");

    let cases = settings_cases();
    for (n, (name, value)) in cases.iter().enumerate() {
        eprintln!("case {name}");
        let p = Place::new(&w, &template, &format!("s{n:02}"));
        fs::write(
            &settings,
            serde_json::to_string_pretty(value).expect("settings"),
        )
        .expect("write settings.json");
        let before = [(config.clone(), snapshot(&config))];
        let audio_before = snapshot(&p.dir.join("audio")).len();
        let d = s(&p.dir);

        // Commands that do not use the audio settings need not read them, but must not trip on
        // them either.
        let devices = w.overdub_within(&["devices"], HANG);
        expect_no_crash(&mut f, name, "devices", &devices);
        let info = w.overdub_within(&["info", &d], HANG);
        expect_no_crash(&mut f, name, "info", &info);
        expect_untouched(&mut f, name, "devices and info", &before);

        // The command that uses these settings: it must not crash, hang or write a file per
        // few bytes, and it must say what it did with settings.json.
        let before = [(config.clone(), snapshot(&config))];
        let record = w.overdub_within(&["record", &d, "--seconds", "0.2"], HANG);
        expect_no_crash(&mut f, name, "record", &record);
        if settings_lines(&record).len() != 1 {
            f.add(
                name,
                format!(
                    "record: no one line naming settings.json: {}",
                    short(&record.run.stderr)
                ),
            );
        }
        let made = snapshot(&p.dir.join("audio"))
            .len()
            .saturating_sub(audio_before);
        if made > 1 {
            f.add(
                name,
                format!("record: wrote {made} files in audio/ for 0.2 s of one track"),
            );
        }
        expect_untouched(&mut f, name, "record", &before);
    }
    f.assert_none("hostile settings.json", cases.len());
}
