//! A take is never lost: kill -9 mid-take, a full disk, a dead JACK server, a damaged session
//! file, crashed recorders' WAV headers, the WAV size limit. Each done for real.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use overdub_tests::{World, clips, overdub_bin, read_wav, start_recording};

fn journal_files(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("takes.journal.json")).expect("a take journal");
    let j: serde_json::Value = serde_json::from_str(&text).expect("json");
    j["takes"]
        .as_array()
        .expect("takes")
        .iter()
        .map(|t| t["file"].as_str().expect("file").to_string())
        .collect()
}

#[test]
fn kill_9_at_several_moments_leaves_playable_takes_that_recover_puts_back() {
    for (i, after) in [0.6f64, 1.7, 3.2].into_iter().enumerate() {
        let w = World::new();
        let dir = w.path(&format!("kill{i}"));
        let d = dir.to_string_lossy().to_string();
        w.overdub(&["new", &d, "--tracks", "2"]).ok();
        let (mut child, started) = start_recording(
            &w,
            &[
                "record",
                &d,
                "--seconds",
                "60",
                "--arm",
                "1,2",
                "--host",
                "virtual",
            ],
        );
        std::thread::sleep(Duration::from_secs_f64(after));
        let elapsed = started.elapsed().as_secs_f64();
        child.kill().expect("SIGKILL");
        let _ = child.wait();

        let files = journal_files(&dir);
        assert_eq!(files.len(), 2);
        let mut lengths = Vec::new();
        for f in &files {
            let path = dir.join("audio").join(f);
            // Opens with no repair step, in hound, symphonia and sox.
            let frames = u64::from(
                hound::WavReader::open(&path)
                    .expect("hound opens it")
                    .duration(),
            );
            let decoded = overdub_engine::import::decode(&path, &mut |_| {}).expect("symphonia");
            assert_eq!(decoded.frames() as u64, frames, "{f}: symphonia agrees");
            let sox = Command::new("sox")
                .args(["--i", "-s"])
                .arg(&path)
                .output()
                .expect("sox");
            assert!(sox.status.success(), "sox opens {f}");
            let sox_frames: u64 = String::from_utf8_lossy(&sox.stdout)
                .trim()
                .parse()
                .expect("sox count");
            assert_eq!(sox_frames, frames, "{f}: sox agrees");
            // Holds the audio up to at most 0.5 s before the kill (plus 0.15 s for scheduling on
            // a busy two-core machine).
            let floor = ((elapsed - 0.5 - 0.15) * 48_000.0).max(0.0) as u64;
            assert!(
                frames >= floor,
                "{f}: {frames} frames after {elapsed:.2} s (want >= {floor})"
            );
            assert!(
                frames as f64 <= (elapsed + 0.15) * 48_000.0,
                "{f}: {frames} frames is too many"
            );
            lengths.push(frames);
        }

        let run = w.overdub(&["recover", &d]).ok();
        assert!(run.stdout.contains("2 clip(s) put back"), "{}", run.stdout);
        assert!(!dir.join("takes.journal.json").exists());
        let info = w.info(&dir);
        // The kill may fall between the disk thread's writes of one block to the two files.
        let shortest = lengths.iter().copied().min().unwrap_or(0);
        for (t, f) in files.iter().enumerate() {
            let c = &clips(&info, t)[0];
            assert_eq!(c["file"], f.as_str());
            assert_eq!(c["position"], 0, "back where it was recorded");
            // Recovery keeps every whole frame on disk, at least what the header said, and the
            // clips show all of the shorter take.
            let (_, samples) = read_wav(&dir.join("audio").join(f));
            assert!(
                samples.len() as u64 >= lengths[t],
                "{f}: the file keeps every frame"
            );
            let shown = c["length"].as_u64().expect("len");
            assert!(
                shown >= shortest && shown <= samples.len() as u64,
                "{f}: {shown}"
            );
        }
        // Both tracks of the take have the same length.
        assert_eq!(clips(&info, 0)[0]["length"], clips(&info, 1)[0]["length"]);
        // Nothing left to recover.
        let again = w.overdub(&["recover", &d]).ok();
        assert!(again.stdout.contains("nothing to recover"));
    }
}

#[test]
fn a_full_disk_stops_the_take_cleanly_and_keeps_everything() {
    let w = World::new();
    let mnt = w.path("small-disk");
    let out = w.path("copied");
    std::fs::create_dir_all(&mnt).expect("mnt");
    let bin = overdub_bin();
    // A 3 MiB tmpfs in a private mount namespace (no root needed where user namespaces are on).
    let script = format!(
        r#"set -e
mount -t tmpfs -o size=3M tmpfs '{mnt}'
'{bin}' new '{mnt}/s' --tracks 2 >/dev/null
set +e
'{bin}' record '{mnt}/s' --seconds 60 --arm 1,2 --host virtual >'{tmp}/out.txt' 2>'{tmp}/err.txt'
echo $? >'{tmp}/code.txt'
cp -r '{mnt}/s' '{out}'
"#,
        mnt = mnt.display(),
        bin = bin.display(),
        tmp = w.tmp.path().display(),
        out = out.display()
    );
    let status = Command::new("unshare")
        .args(["-r", "-m", "sh", "-c", &script])
        .env("XDG_CONFIG_HOME", w.path("config"))
        .env("JACK_DEFAULT_SERVER", "overdub-test-no-server")
        .status()
        .expect("unshare (util-linux)");
    assert!(status.success(), "the tmpfs script failed");
    let read = |n: &str| std::fs::read_to_string(w.path(n)).expect(n);
    let (stdout, stderr, code) = (read("out.txt"), read("err.txt"), read("code.txt"));
    assert_eq!(code.trim(), "1", "{stdout}\n{stderr}");
    assert!(stdout.contains("recording time left on disk:"), "{stdout}");
    assert!(
        stdout.contains("warning: the disk holds only"),
        "warned before: {stdout}"
    );
    assert!(
        stderr.contains("recording stopped: a take could not be written")
            && stderr.contains("No space left"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    // The session was saved with both takes, same length, every file finalized.
    let info = w.info(&out);
    let (a, b) = (&clips(&info, 0)[0], &clips(&info, 1)[0]);
    let len = a["length"].as_u64().expect("len");
    assert!(len > 48_000, "seconds of audio were kept, not {len} frames");
    assert_eq!(a["length"], b["length"], "tracks stay in sync");
    for c in [a, b] {
        let p = out.join("audio").join(c["file"].as_str().expect("file"));
        let r = hound::WavReader::open(&p).expect("finalized");
        // The file keeps every frame that reached the disk; the clip shows what both tracks have.
        assert!(u64::from(r.duration()) >= len);
    }
    assert!(!out.join("takes.journal.json").exists());
    assert!(!out.join("audio/.overdub-reserve").exists());
}

#[test]
fn a_jack_server_that_dies_mid_take_keeps_the_take_and_a_new_one_works() {
    let mut w = World::with_jack(128);
    let dir = w.path("jackdies");
    let d = dir.to_string_lossy().to_string();
    w.overdub(&["new", &d, "--tracks", "1"]).ok();
    let (mut child, started) =
        start_recording(&w, &["record", &d, "--seconds", "30", "--host", "jack"]);
    std::thread::sleep(Duration::from_millis(1500));
    let killed_after = started.elapsed().as_secs_f64();
    w.jack.as_mut().expect("jack").stop();
    let t0 = Instant::now();
    let status = child.wait().expect("wait");
    assert!(
        t0.elapsed() < Duration::from_secs(10),
        "overdub noticed within seconds"
    );
    assert_eq!(status.code(), Some(1));
    let info = w.info(&dir);
    let c = &clips(&info, 0)[0];
    let len = c["length"].as_u64().expect("len") as f64 / 48_000.0;
    assert!(
        (len - killed_after).abs() < 0.5,
        "kept {len:.2} s of {killed_after:.2} s"
    );
    assert!(!dir.join("takes.journal.json").exists());

    w.jack.as_mut().expect("jack").restart();
    let run = w
        .overdub(&["record", &d, "--seconds", "1", "--host", "jack"])
        .ok();
    assert!(run.stdout.contains("take: "), "{}", run.stdout);
    assert_eq!(clips(&w.info(&dir), 0).len(), 2);
}

#[test]
fn a_damaged_session_file_is_reported_and_the_newest_backup_restored() {
    let w = World::new();
    let dir = w.path("damaged");
    let d = dir.to_string_lossy().to_string();
    w.overdub(&["new", &d, "--tracks", "2"]).ok();
    w.overdub(&["record", &d, "--seconds", "0.5", "--host", "virtual"])
        .ok();
    w.overdub(&["track", &d, "set", "2", "--name", "Bass"]).ok();
    let good = std::fs::read_to_string(dir.join("session.json")).expect("good");
    std::fs::write(dir.join("session.json"), &good[..good.len() / 2]).expect("damage it");

    for args in [
        vec!["info", &d],
        vec!["record", &d, "--seconds", "1", "--host", "virtual"],
    ] {
        let run = w.overdub(&args);
        assert_eq!(run.code, Some(1), "{run:?}");
        assert!(
            run.stderr.contains("damaged session file"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("overdub restore"), "{}", run.stderr);
        assert_eq!(run.stderr.trim().lines().count(), 1);
    }
    assert_eq!(
        std::fs::read_dir(dir.join("audio")).expect("audio").count(),
        1,
        "no new take was started"
    );

    let run = w.overdub(&["restore", &d]).ok();
    assert!(
        run.stdout.contains("session.json.damaged-1"),
        "{}",
        run.stdout
    );
    let info = w.info(&dir);
    assert_eq!(clips(&info, 0).len(), 1, "the take is back");
    assert_eq!(
        std::fs::read_to_string(dir.join("session.json.damaged-1")).expect("kept"),
        good[..good.len() / 2]
    );
}

#[test]
fn wav_files_with_zeroed_or_short_headers_are_repaired_on_import() {
    let w = World::new();
    let dir = w.path("repair");
    let d = dir.to_string_lossy().to_string();
    w.overdub(&["new", &d, "--tracks", "0"]).ok();
    let src = w.path("src.wav");
    overdub_tests::write_source(&src, 48_000, 2, 24, false, 10_000);
    let bytes = std::fs::read(&src).expect("src");
    let data_at = bytes
        .windows(4)
        .position(|b| b == b"data")
        .expect("data chunk");
    for (name, riff, data) in [("zeroed", 0u32, 0u32), ("short", 1000, 600)] {
        let mut b = bytes.clone();
        b[4..8].copy_from_slice(&riff.to_le_bytes());
        b[data_at + 4..data_at + 8].copy_from_slice(&data.to_le_bytes());
        b.extend_from_slice(&[7, 7, 7]); // half a frame, as a crash mid-write leaves
        let f = w.path(&format!("{name}.wav"));
        std::fs::write(&f, &b).expect("write");
        let run = w.overdub(&["import", &d, &f.to_string_lossy()]).ok();
        assert!(run.stdout.contains("repaired"), "{}", run.stdout);
        assert_eq!(
            std::fs::read(&f).expect("src"),
            b,
            "the source file is not changed"
        );
    }
    let info = w.info(&dir);
    for t in 0..2 {
        assert_eq!(
            clips(&info, t)[0]["length"],
            10_000,
            "every whole frame kept"
        );
    }
}

#[test]
fn a_take_past_the_wav_size_limit_continues_gaplessly_in_parts() {
    let w = World::new();
    let cfg = w.path("config/overdub");
    std::fs::create_dir_all(&cfg).expect("cfg");
    // The real limit is just under 4 GiB; lowered here to 100 kB so 2 s make four parts.
    std::fs::write(cfg.join("settings.json"), r#"{"take_part_bytes": 100000}"#).expect("settings");
    let dir = w.path("parts");
    let d = dir.to_string_lossy().to_string();
    w.overdub(&["new", &d, "--tracks", "1"]).ok();
    w.overdub(&["record", &d, "--seconds", "2", "--host", "virtual"])
        .ok();
    let info = w.info(&dir);
    let cs = clips(&info, 0);
    assert_eq!(cs.len(), 4, "{cs:?}");
    let mut total = 0;
    let mut joined: Vec<f32> = Vec::new();
    for (i, c) in cs.iter().enumerate() {
        if i > 0 {
            assert_eq!(
                c["position"],
                cs[i - 1]["position"].as_u64().expect("p")
                    + cs[i - 1]["length"].as_u64().expect("l"),
                "gapless"
            );
        }
        let p: PathBuf = dir.join("audio").join(c["file"].as_str().expect("file"));
        assert!(std::fs::metadata(&p).expect("part").len() <= 100_000 + 100);
        joined.extend(read_wav(&p).1);
        total += c["length"].as_u64().expect("l");
    }
    assert_eq!(total, 96_000);
    // The parts are one continuous stream of the test signal.
    let start = (0..480_000u64)
        .find(|&k| {
            (0..32).all(|i| joined[i] == overdub_engine::rt::test_signal(0, k + i as u64, 48_000))
        })
        .expect("aligned");
    for (i, s) in joined.iter().enumerate() {
        assert_eq!(
            *s,
            overdub_engine::rt::test_signal(0, start + i as u64, 48_000),
            "frame {i}"
        );
    }
    // Import reads a part back.
    let part = dir
        .join("audio")
        .join(cs[1]["file"].as_str().expect("file"));
    w.overdub(&["import", &d, &part.to_string_lossy()]).ok();
}
