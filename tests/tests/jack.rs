//! Against a real JACK server (dummy backend, private name): devices, record while another track
//! plays, play to the end, and the server's fixed rate and buffer size.

use overdub_tests::{World, clips, edit_track, read_wav, rms};

#[test]
fn devices_lists_the_running_jack_server() {
    let w = World::with_jack(128);
    let run = w.overdub(&["devices", "--json"]).ok();
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(doc["default_host"], "jack");
    let jack = doc["hosts"]
        .as_array()
        .and_then(|h| h.iter().find(|h| h["host"] == "jack"))
        .expect("a jack host")
        .clone();
    assert_eq!(jack["available"], true);
    let dev = &jack["devices"][0];
    assert_eq!(dev["name"], "JACK");
    // 8 system capture ports plus the 2 loopback ones.
    assert_eq!(dev["inputs"], 10);
    assert_eq!(dev["rates"], serde_json::json!([48000]));
    assert_eq!(
        dev["buffer"],
        serde_json::json!({"kind": "fixed", "frames": 128})
    );
}

#[test]
fn devices_says_when_jack_is_not_running() {
    let w = World::new();
    let run = w.overdub(&["devices", "--json"]).ok();
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(
        doc["default_host"], "virtual",
        "no JACK and no sound card here"
    );
    let jack = &doc["hosts"][0];
    assert_eq!(jack["host"], "jack");
    assert_eq!(jack["available"], false);
    assert!(jack["note"].as_str().unwrap_or("").contains("JACK server"));
}

#[test]
fn record_on_jack_writes_the_take_while_another_track_plays_and_play_runs_to_the_end() {
    let w = World::with_jack(128);
    let dir = w.path("song");
    let d = dir.to_string_lossy();
    w.overdub(&["new", &d, "--tracks", "2"]).ok();
    // A 3 s clip on track 1, from the virtual test signal.
    w.overdub(&[
        "record",
        &d,
        "--seconds",
        "3",
        "--arm",
        "1",
        "--host",
        "virtual",
    ])
    .ok();
    // Track 2 listens to input 9 (loopback:capture_1); the master goes to outputs 9-10
    // (loopback:playback_1-2), so track 2 records what track 1 plays.
    edit_track(&dir, 1, "input", serde_json::json!(8));
    let run = w
        .overdub(&[
            "record",
            &d,
            "--seconds",
            "2",
            "--arm",
            "2",
            "--master-out",
            "9",
        ])
        .ok();
    assert!(run.stdout.contains("stream: jack"), "{}", run.stdout);

    let info = w.info(&dir);
    let clip = &clips(&info, 1)[0];
    let length = clip["length"].as_u64().expect("length");
    assert!(
        length.abs_diff(96_000) <= 128,
        "take is 2 s within one block: {length}"
    );
    let file = dir.join("audio").join(clip["file"].as_str().expect("file"));
    let (_, take) = read_wav(&file);
    let offset = clip["offset"].as_u64().expect("offset") as usize;
    assert_eq!(
        take.len(),
        offset + length as usize,
        "post-roll covers the compensation"
    );
    let heard = rms(&take[offset..]);
    assert!(
        heard > 0.2,
        "track 1's playback came back into the take (rms {heard})"
    );
    // Track 1 was not touched.
    assert_eq!(clips(&info, 0).len(), 1);

    let run = w.overdub(&["play", &d]).ok();
    assert!(
        run.stdout.contains("played 144000 frames"),
        "plays to the end of the 3 s clip: {}",
        run.stdout
    );
}

#[test]
fn jack_refuses_a_rate_or_buffer_size_that_is_not_the_servers() {
    let w = World::with_jack(128);
    let dir = w.path("song44");
    let d = dir.to_string_lossy();
    w.overdub(&["new", &d, "--rate", "44100", "--tracks", "1"])
        .ok();
    let before = std::fs::read(dir.join("session.json")).expect("session");
    let run = w.overdub(&["record", &d, "--seconds", "1", "--host", "jack"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("48000 only"), "{}", run.stderr);
    assert!(
        run.stderr.contains("JACK server sets the rate"),
        "{}",
        run.stderr
    );

    let dir48 = w.path("song48");
    let d48 = dir48.to_string_lossy();
    w.overdub(&["new", &d48, "--tracks", "1"]).ok();
    let run = w.overdub(&[
        "record",
        &d48,
        "--seconds",
        "1",
        "--host",
        "jack",
        "--buffer",
        "256",
    ]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("128 only"), "{}", run.stderr);
    assert_eq!(
        run.stderr.lines().count(),
        1,
        "one clear line: {}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(dir.join("session.json")).expect("session"),
        before
    );
}
