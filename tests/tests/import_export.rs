//! Import every format, convert rates, export stems and mix, and refuse bad files without touching
//! the session. Input files are made here (hound, sox) or are the committed MP3/M4A fixtures.

use std::path::{Path, PathBuf};

use overdub_tests::{World, align, clips, read_wav, source_signal, sox, write_source};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn new_session(w: &World, name: &str, tracks: &str) -> PathBuf {
    let dir = w.path(name);
    w.overdub(&["new", &dir.to_string_lossy(), "--tracks", tracks])
        .ok();
    dir
}

/// Import one file onto a new track and return the stored WAV's first channel.
fn import_one(w: &World, dir: &Path, file: &Path) -> Vec<f32> {
    let run = w
        .overdub(&["import", &dir.to_string_lossy(), &file.to_string_lossy()])
        .ok();
    assert!(run.stdout.contains("imported"), "{}", run.stdout);
    let info = w.info(dir);
    let n = info["tracks"].as_array().map_or(0, Vec::len);
    let clip = &clips(&info, n - 1)[0];
    read_wav(&dir.join("audio").join(clip["file"].as_str().expect("file"))).1
}

fn reference(frames: u64, rate: u32) -> Vec<f32> {
    (0..frames).map(|i| source_signal(i, rate)).collect()
}

#[test]
fn every_format_imports_and_decodes_within_tolerance() {
    let w = World::new();
    let dir = new_session(&w, "formats", "0");
    let src = w.path("src.wav");
    write_source(&src, 48_000, 1, 32, true, 48_000);
    let want = reference(48_000, 48_000);
    let s = src.to_string_lossy().to_string();
    let p = |n: &str| w.path(n).to_string_lossy().to_string();

    // Lossless: (file, max abs error). Integer formats are within two steps of their
    // quantisation: one for rounding, one for writers that scale by 2^(n-1)-1 where readers
    // divide by 2^(n-1).
    let mut lossless: Vec<(String, f32)> = Vec::new();
    for (bits, float) in [(16, false), (24, false), (32, false), (32, true)] {
        let f = p(&format!("hound-{bits}-{float}.wav"));
        write_source(Path::new(&f), 48_000, 1, bits, float, 48_000);
        let tol = if float {
            0.0
        } else {
            2.0 / (1u64 << (bits - 1)) as f32
        };
        lossless.push((f, tol));
    }
    sox(&[&s, "-e", "floating-point", "-b", "64", &p("f64.wav")]);
    lossless.push((p("f64.wav"), 1e-7));
    // WAVE_FORMAT_EXTENSIBLE: sox writes it for 3 channels.
    sox(&[&s, "-b", "24", "-c", "3", &p("ext.wav")]);
    let header = std::fs::read(p("ext.wav")).expect("ext");
    assert_eq!(
        &header[20..22],
        &[0xFE, 0xFF],
        "format tag is WAVE_FORMAT_EXTENSIBLE"
    );
    lossless.push((p("ext.wav"), 2.0 / 8_388_608.0));
    sox(&[&s, "-b", "24", &p("src.flac")]);
    lossless.push((p("src.flac"), 2.0 / 8_388_608.0));
    sox(&[&s, "-b", "24", &p("src.aiff")]);
    lossless.push((p("src.aiff"), 2.0 / 8_388_608.0));
    for (file, tol) in lossless {
        let got = import_one(&w, &dir, Path::new(&file));
        assert_eq!(got.len(), 48_000, "{file}: length");
        let worst = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        // Converting to f32 may add half a float ulp on top of the format's own step.
        assert!(worst <= tol + 1e-7, "{file}: max error {worst} > {tol}");
    }

    // Lossy: after lining up the codec's delay (searched within ±3000 frames), the error is at
    // least 20 dB below the signal, and the length is within the codec's padding (one second
    // plus at most 3000 frames).
    sox(&[&s, "-C", "6", &p("src.ogg")]);
    for file in [
        p("src.ogg"),
        fixture("source.mp3").to_string_lossy().to_string(),
        fixture("source.m4a").to_string_lossy().to_string(),
    ] {
        let got = import_one(&w, &dir, Path::new(&file));
        assert!(
            (47_000..=51_000).contains(&got.len()),
            "{file}: length {}",
            got.len()
        );
        let (lag, err_db) = align(&got, &want, 3000);
        assert!(err_db < -20.0, "{file}: error {err_db:.1} dB at lag {lag}");
    }
}

#[test]
fn rate_conversion_to_48k_keeps_length_and_waveform() {
    let w = World::new();
    let dir = new_session(&w, "rates", "0");
    for rate in [44_100u32, 96_000] {
        let f = w.path(&format!("src-{rate}.wav"));
        write_source(&f, rate, 2, 32, true, u64::from(rate));
        let got = import_one(&w, &dir, &f);
        // One second at any rate is 48000 frames at 48 kHz, within 2 frames.
        assert!(
            got.len().abs_diff(48_000) <= 2,
            "{rate} Hz: {} frames",
            got.len()
        );
        // The waveform is the same signal, in time (no delay), within -60 dB away from the
        // edges.
        let want = reference(48_000, 48_000);
        let (lag, err_db) = align(&got, &want, 50);
        assert_eq!(lag, 0, "{rate} Hz: resampler delay left in");
        assert!(err_db < -60.0, "{rate} Hz: error {err_db:.1} dB");
    }
    let info = w.info(&dir);
    assert_eq!(
        info["tracks"][0]["channels"], 2,
        "a stereo file makes a stereo track"
    );
}

#[test]
fn a_stem_equals_its_clip_and_the_mix_is_the_sum_of_the_stems() {
    let w = World::new();
    let dir = new_session(&w, "mixdown", "0");
    let d = dir.to_string_lossy().to_string();
    let a = w.path("a.wav");
    write_source(&a, 48_000, 1, 32, true, 48_000);
    w.overdub(&["import", &d, &a.to_string_lossy()]).ok();

    let out = overdub_tests::export_stems(&w, &dir, "stems32");
    let clip = read_wav(&dir.join("audio/a.wav")).1;
    let mut r = hound::WavReader::open(out.join("01-a.wav")).expect("stem");
    assert_eq!(r.spec().channels, 2);
    let stem: Vec<f32> = r.samples::<f32>().map(|s| s.expect("s")).collect();
    assert_eq!(stem.len(), 2 * clip.len());
    for (i, f) in stem.chunks_exact(2).enumerate() {
        assert_eq!(f, [clip[i], clip[i]], "frame {i} at 32f");
    }
    let out24 = w.path("stems24");
    w.overdub(&[
        "export",
        &d,
        "--out",
        &out24.to_string_lossy(),
        "--stems",
        "--format",
        "24",
    ])
    .ok();
    let mut r = hound::WavReader::open(out24.join("01-a.wav")).expect("stem");
    let lsb = 1.0 / 8_388_607.0;
    for (i, s) in r.samples::<i32>().enumerate() {
        let v = s.expect("s") as f32 * lsb;
        assert!((v - clip[i / 2]).abs() <= lsb, "frame {} at 24-bit", i / 2);
    }

    // Three tracks with different gains and pans, one starting later.
    let b = w.path("b.wav");
    sox(&[&a.to_string_lossy(), &b.to_string_lossy(), "reverse"]);
    w.overdub(&["import", &d, &b.to_string_lossy(), "--at", "0.25"])
        .ok();
    w.overdub(&["import", &d, &a.to_string_lossy(), "--at", "0.5"])
        .ok();
    w.overdub(&["track", &d, "set", "1", "--gain", "-3", "--pan", "-0.4"])
        .ok();
    w.overdub(&["track", &d, "set", "2", "--gain", "2.5", "--pan", "0.7"])
        .ok();
    w.overdub(&["track", &d, "set", "3", "--gain", "-10"]).ok();
    let all = w.path("all");
    w.overdub(&[
        "export",
        &d,
        "--out",
        &all.to_string_lossy(),
        "--stems",
        "--mix",
        "--format",
        "32f",
        "--tail",
        "0.1",
    ])
    .ok();
    let read = |n: &str| {
        let mut r = hound::WavReader::open(all.join(n)).expect(n);
        r.samples::<f32>()
            .map(|s| s.expect("s"))
            .collect::<Vec<f32>>()
    };
    let (s1, s2, s3, mix) = (
        read("01-a.wav"),
        read("02-b.wav"),
        read("03-a.wav"),
        read("mix.wav"),
    );
    assert_eq!(
        mix.len(),
        2 * (72_000 + 4_800),
        "to the end of the last clip plus the tail"
    );
    for f in [&s1, &s2, &s3] {
        assert_eq!(f.len(), mix.len(), "every file has the same length");
    }
    for i in 0..mix.len() {
        assert_eq!(mix[i], s1[i] + s2[i] + s3[i], "sample {i}");
    }
    assert!(
        s3[..2 * 24_000].iter().all(|&s| s == 0.0),
        "track 3 starts at 0.5 s"
    );

    // Two exports of one session are byte-identical (16-bit: the dither is deterministic).
    let x = w.path("x");
    let y = w.path("y");
    for o in [&x, &y] {
        w.overdub(&[
            "export",
            &d,
            "--out",
            &o.to_string_lossy(),
            "--stems",
            "--mix",
            "--format",
            "16",
        ])
        .ok();
    }
    for n in ["01-a.wav", "02-b.wav", "03-a.wav", "mix.wav"] {
        assert_eq!(
            std::fs::read(x.join(n)).expect("x"),
            std::fs::read(y.join(n)).expect("y"),
            "{n}"
        );
    }

    // Normalize: the mix peaks at the target.
    let norm = w.path("norm");
    w.overdub(&[
        "export",
        &d,
        "--out",
        &norm.to_string_lossy(),
        "--mix",
        "--format",
        "32f",
        "--normalize",
        "-1",
    ])
    .ok();
    let mut r = hound::WavReader::open(norm.join("mix.wav")).expect("mix");
    let peak = r
        .samples::<f32>()
        .map(|s| s.expect("s").abs())
        .fold(0.0f32, f32::max);
    assert!((20.0 * peak.log10() + 1.0).abs() < 0.01, "peak {peak}");
}

#[test]
fn bad_files_are_refused_and_the_session_is_untouched() {
    let w = World::new();
    let dir = new_session(&w, "bad", "1");
    let d = dir.to_string_lossy().to_string();
    let good = w.path("good.wav");
    write_source(&good, 48_000, 1, 16, false, 48_000);
    let bytes = std::fs::read(&good).expect("good");

    let truncated = w.path("truncated.wav");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("write");
    let flac = w.path("t.flac");
    sox(&[&good.to_string_lossy(), &flac.to_string_lossy()]);
    let fb = std::fs::read(&flac).expect("flac");
    let truncated_flac = w.path("truncated.flac");
    std::fs::write(&truncated_flac, &fb[..fb.len() / 2]).expect("write");
    let random = w.path("random.wav");
    let mut x: u64 = 0x1234_5678;
    let noise: Vec<u8> = (0..100_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(&random, &noise).expect("write");
    let text = w.path("notes.mp3");
    std::fs::write(&text, "verse, chorus, verse\n").expect("write");
    let empty = w.path("empty.flac");
    std::fs::write(&empty, b"").expect("write");

    let before = std::fs::read(dir.join("session.json")).expect("session");
    for bad in [&truncated, &truncated_flac, &random, &text, &empty] {
        // Alone, and after a good file in the same command: all or nothing.
        for args in [vec![bad.clone()], vec![good.clone(), bad.clone()]] {
            let mut a = vec!["import".to_string(), d.clone()];
            a.extend(args.iter().map(|p| p.to_string_lossy().to_string()));
            let a: Vec<&str> = a.iter().map(String::as_str).collect();
            let run = w.overdub(&a);
            assert_eq!(run.code, Some(1), "{bad:?}: {run:?}");
            let line = run.stderr.lines().last().unwrap_or("");
            assert!(
                line.starts_with("overdub: ") && line.contains(&*bad.to_string_lossy()),
                "{bad:?}: {}",
                run.stderr
            );
            assert_eq!(
                std::fs::read(dir.join("session.json")).expect("s"),
                before,
                "{bad:?}"
            );
            assert_eq!(
                std::fs::read_dir(dir.join("audio")).expect("a").count(),
                0,
                "{bad:?}: files left"
            );
        }
    }
}

#[test]
fn an_export_reports_progress_and_can_be_cancelled_leaving_no_files() {
    use std::sync::atomic::Ordering;

    use overdub_engine::export::{self, ExportFormat, ExportOptions, ExportProgress};

    let w = World::new();
    let dir = new_session(&w, "cancel", "0");
    let long = w.path("long.wav");
    write_source(&long, 48_000, 1, 32, true, 48_000 * 120);
    w.overdub(&["import", &dir.to_string_lossy(), &long.to_string_lossy()])
        .ok();
    let out = w.path("out");
    let opts = ExportOptions {
        out_dir: out.clone(),
        stems: true,
        mix: true,
        format: ExportFormat::F32,
        range: None,
        tail: 0.0,
        normalize: None,
        include_muted: false,
    };
    let progress = ExportProgress::default();
    let result = std::thread::scope(|s| {
        let job = s.spawn(|| export::export(&dir, &opts, &progress));
        while progress.fraction() <= 0.0 && !job.is_finished() {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let seen = progress.fraction();
        progress.cancel.store(true, Ordering::Relaxed);
        (seen, job.join().expect("export thread"))
    });
    assert!(
        result.0 > 0.0 && result.0 < 1.0,
        "progress was reported: {}",
        result.0
    );
    assert!(
        matches!(result.1, Err(overdub_engine::Error::Cancelled)),
        "{:?}",
        result.1.map(|r| r.files)
    );
    let left: Vec<_> = std::fs::read_dir(&out).expect("out").collect();
    assert!(left.is_empty(), "cancelled files are removed: {left:?}");
}

#[test]
fn a_long_mix_split_across_cores_equals_one_pass_of_the_mixer() {
    use overdub_engine::export::render;
    use overdub_engine::session::SessionDir;

    let w = World::new();
    let dir = new_session(&w, "long", "0");
    let d = dir.to_string_lossy().to_string();
    let a = w.path("a.wav");
    write_source(&a, 48_000, 1, 32, true, 48_000 * 40);
    w.overdub(&["import", &d, &a.to_string_lossy()]).ok();
    w.overdub(&["import", &d, &a.to_string_lossy(), "--at", "3.3"])
        .ok();
    w.overdub(&["track", &d, "set", "2", "--gain", "-4.5", "--pan", "0.6"])
        .ok();
    let out = w.path("out");
    w.overdub(&[
        "export",
        &d,
        "--out",
        &out.to_string_lossy(),
        "--mix",
        "--format",
        "32f",
    ])
    .ok();
    let mut r = hound::WavReader::open(out.join("mix.wav")).expect("mix");
    let exported: Vec<f32> = r.samples::<f32>().map(|s| s.expect("s")).collect();

    let sdir = SessionDir::new(&dir);
    let session = sdir.load().expect("session");
    let frames = session.end();
    let mut one_pass = Vec::new();
    let master = overdub_engine::session::db_to_gain(session.master_gain_db);
    render(
        &sdir,
        session.rate,
        &session.tracks,
        master,
        0,
        frames,
        |b| {
            one_pass.extend_from_slice(b);
            Ok(())
        },
    )
    .expect("render");
    assert_eq!(exported.len(), one_pass.len());
    assert!(
        frames > 3 * 15 * 48_000 / 2,
        "long enough to be split into several stretches"
    );
    for (i, (x, y)) in exported.iter().zip(&one_pass).enumerate() {
        assert_eq!(x, y, "sample {i}");
    }
}

#[test]
fn off_a_terminal_progress_is_a_few_plain_lines_not_a_redrawn_bar() {
    let w = World::new();
    let dir = new_session(&w, "plain", "0");
    let d = dir.to_string_lossy().to_string();
    let a = w.path("a.wav");
    let b = w.path("b.wav");
    write_source(&a, 48_000, 1, 32, true, 48_000 * 60);
    write_source(&b, 44_100, 2, 16, false, 44_100 * 30);
    // Standard error is a pipe here, not a terminal: one line as each file starts.
    let run = w
        .overdub(&["import", &d, &a.to_string_lossy(), &b.to_string_lossy()])
        .ok();
    assert!(!run.stderr.contains('\r'), "{:?}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 2, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("importing 1/2: ") && run.stderr.contains("importing 2/2: "),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout.matches("imported ").count(), 2, "{}", run.stdout);

    let out = w.path("out");
    let run = w
        .overdub(&[
            "export",
            &d,
            "--out",
            &out.to_string_lossy(),
            "--stems",
            "--mix",
        ])
        .ok();
    assert!(!run.stderr.contains('\r'), "{:?}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(
        !lines.is_empty() && lines.len() <= 10,
        "a few lines: {}",
        run.stderr
    );
    assert!(
        lines.iter().all(|l| l.starts_with("exporting: ")),
        "{}",
        run.stderr
    );
    assert!(
        lines.last().is_some_and(|l| l.contains("100%")),
        "{}",
        run.stderr
    );
    // Standard output is as before: what was written, then the summary.
    assert_eq!(run.stdout.matches("wrote ").count(), 3, "{}", run.stdout);
    assert!(run.stdout.contains("3 file(s)"), "{}", run.stdout);
}
