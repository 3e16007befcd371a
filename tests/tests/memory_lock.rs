//! Locked memory, end to end: a recording on a real driver (ALSA's `null` device, which needs no
//! hardware) locks the process in RAM, as the kernel shows in `/proc`, and says so; a user whose
//! memlock limit is small (64 KiB here, set with `prlimit`) gets nothing tried, and `overdub
//! devices` and `overdub record` say why and what to do; `OVERDUB_NO_MLOCK` turns it off. Runs as
//! root (CI does), becoming `nobody` for the second part.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use overdub_engine::io::memory_lock::locked_kib;
use overdub_tests::{AS_NOBODY, open_to_all, overdub_as};

/// `overdub ARGS`, as root or as `nobody` with a 64 KiB memlock limit, its home in `home`.
fn overdub(home: &std::path::Path, nobody: bool, args: &[&str]) -> Command {
    let small = ["prlimit", "--memlock=65536:65536", "--"];
    let wrapper: Vec<&str> = if nobody {
        small.iter().chain(&AS_NOBODY).copied().collect()
    } else {
        Vec::new()
    };
    let mut cmd = overdub_as(&wrapper, home);
    cmd.args(args);
    cmd
}

/// What `overdub devices --host alsa --json` says of memory.
fn devices_memory(home: &std::path::Path, nobody: bool) -> String {
    let out = overdub(home, nobody, &["devices", "--host", "alsa", "--json"])
        .output()
        .expect("run overdub devices");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("devices --json");
    doc["memory"].as_str().expect("memory").to_string()
}

/// Record on ALSA's null device (as `nobody` or not) and, while it runs, read how much of it the
/// kernel holds locked: (what it printed, the most VmLck seen).
fn record_on_null(nobody: bool, off: bool) -> (String, u64) {
    let tmp = tempfile::tempdir().expect("tmp");
    let home = tmp.path().join("home");
    open_to_all(tmp.path());
    let session = home.join("s");
    let s = session.to_string_lossy().into_owned();
    let made = overdub(&home, nobody, &["new", &s, "--tracks", "1"])
        .output()
        .expect("overdub new");
    assert!(made.status.success(), "{made:?}");
    let memory = devices_memory(&home, nobody);
    let mut child = overdub(
        &home,
        nobody,
        &[
            "record",
            &s,
            "--seconds",
            "3",
            "--host",
            "alsa",
            "--input",
            "null",
            "--output",
            "null",
            "--buffer",
            "256",
        ],
    )
    .envs(off.then_some((overdub_engine::io::memory_lock::OFF, "1")))
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("overdub record");
    // The null device is not paced: the run may be over in a moment, so look at once and often.
    let start = Instant::now();
    let mut most = 0;
    while child.try_wait().ok().flatten().is_none() && start.elapsed() < Duration::from_secs(60) {
        // prlimit and setpriv exec in place: the pid is overdub's either way.
        most = most.max(locked_kib(child.id()).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(2));
    }
    let out = child.wait_with_output().expect("overdub record");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (format!("devices: {memory}\n{stdout}"), most)
}

#[test]
fn a_real_driver_locks_memory_where_the_limit_allows_and_says_why_not_where_not() {
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata("/proc/self").map(|m| m.uid()).ok(),
        Some(0),
        "this test locks memory as root and runs overdub as nobody: run it as root (CI does)"
    );

    let (said, locked) = record_on_null(false, false);
    eprintln!("as root: {said}VmLck up to {locked} kB");
    assert!(said.contains("devices: locked in RAM"), "{said}");
    assert!(said.contains("\nmemory: locked in RAM"), "{said}");
    assert!(
        locked > 0,
        "the kernel shows memory locked while it records"
    );

    let (said, locked) = record_on_null(true, false);
    eprintln!("as nobody with 64 KiB: {said}VmLck up to {locked} kB");
    for line in ["devices: not locked", "\nmemory: not locked"] {
        assert!(said.contains(line), "{line}: {said}");
    }
    assert!(said.contains("the memlock limit is 64 KiB"), "{said}");
    assert!(said.contains("@audio - memlock unlimited"), "{said}");
    assert_eq!(locked, 0, "nothing locked under the limit");

    let (said, locked) = record_on_null(false, true);
    eprintln!("as root, turned off: {said}VmLck up to {locked} kB");
    assert!(
        said.contains("\nmemory: not locked (OVERDUB_NO_MLOCK is set)\n"),
        "{said}"
    );
    assert_eq!(locked, 0, "nothing locked when turned off");
}
