//! Bad input gets one clear line and exit code 2, and leaves the session as it was.

use std::path::Path;
use std::process::Command;

fn overdub(cfg: &Path, args: &[&str]) -> (Option<i32>, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_overdub"))
        .args(args)
        .env("XDG_CONFIG_HOME", cfg)
        .env("JACK_DEFAULT_SERVER", "overdub-test-no-server")
        .output()
        .expect("run overdub");
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn bad_host_device_rate_and_buffer_exit_2_with_one_line() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cfg = tmp.path().join("cfg");
    let dir = tmp.path().join("s");
    let d = dir.to_string_lossy();
    assert_eq!(overdub(&cfg, &["new", &d, "--tracks", "2"]).0, Some(0));
    let before = std::fs::read(dir.join("session.json")).expect("session");

    let cases: [(&[&str], &str); 5] = [
        (
            &["--host", "nope"],
            "unknown audio host 'nope'; this build has: ",
        ),
        (
            &["--host", "VIRTUAL", "--input", "Mixer 9"],
            "no input device 'Mixer 9' on virtual; available: 0: Virtual Loopback",
        ),
        (
            &["--host", "virtual", "--rate", "44100"],
            "the session runs at 48000 Hz",
        ),
        (
            &["--host", "virtual", "--buffer", "4"],
            "does not take a buffer of 4 frames; it offers: 16..8192",
        ),
        (
            &["--host", "virtual", "--arm", "7"],
            "no track 7: the session has tracks 1..2",
        ),
    ];
    for (extra, want) in cases {
        let mut args = vec!["record", &d, "--seconds", "1"];
        args.extend_from_slice(extra);
        let (code, err) = overdub(&cfg, &args);
        assert_eq!(code, Some(2), "{extra:?}: {err}");
        assert!(err.contains(want), "{extra:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{extra:?}: {err}");
    }
    assert_eq!(
        std::fs::read(dir.join("session.json")).expect("session"),
        before
    );
    assert_eq!(
        std::fs::read_dir(dir.join("audio")).expect("audio").count(),
        0,
        "no take files left"
    );
}

#[test]
fn a_missing_session_is_one_line_not_a_crash() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (code, err) = overdub(
        tmp.path(),
        &["info", &tmp.path().join("nothing").to_string_lossy()],
    );
    assert_eq!(code, Some(1));
    assert!(err.contains("no session.json here"), "{err}");
}
