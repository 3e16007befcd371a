//! DAWproject export and import through the real binary: the files validate against the format's
//! schemas (xmllint), a session comes back from its own export rendering the same mix sample for
//! sample, every clip in the archive sits where the session's stems put it, another program's
//! project (nested clips, beats, warps, MIDI, effects) comes in with what is left out listed, and
//! hostile archives are refused with one line and nothing written.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use overdub_tests::{World, clips, read_wav};

/// The format's schemas (MIT licence, copied unchanged from the DAWproject repository).
fn schema(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("dawproject")
        .join(name)
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// A mono or stereo 32-bit float WAV of `frames` frames: a quiet tone, with a one-sample click
/// of 0.9 at every frame in `clicks`.
fn write_clicks(path: &Path, rate: u32, channels: u16, frames: u64, clicks: &[u64]) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("wav");
    for i in 0..frames {
        let tone = 0.01 * ((i as f64) * 0.05).sin() as f32;
        let v = if clicks.contains(&i) { 0.9 } else { tone };
        for _ in 0..channels {
            w.write_sample(v).expect("sample");
        }
    }
    w.finalize().expect("finalize");
}

/// Clicks every 0.3 s from 0.1 s.
fn clicks_in(rate: u32, seconds: f64) -> Vec<u64> {
    let step = (0.3 * f64::from(rate)) as u64;
    let end = (seconds * f64::from(rate)) as u64;
    (0..)
        .map(|k| rate as u64 / 10 + k * step)
        .take_while(|&f| f < end)
        .collect()
}

fn clip_id(w: &World, dir: &Path, track: usize, file: &str) -> String {
    let info = w.info(dir);
    clips(&info, track)
        .iter()
        .find(|c| c["file"] == file)
        .map(|c| c["id"].to_string())
        .unwrap_or_else(|| panic!("no clip of {file} on track {track}"))
}

/// A session of several tracks at `rate`: moved and trimmed clips, a punch-like take over
/// another, a take hidden whole under a later one, a stereo track, gains, pans, a mute, markers,
/// a tempo and a time signature.
fn rich_session(w: &World, rate: u32) -> PathBuf {
    let dir = w.path("rich");
    let d = s(&dir);
    let r = rate.to_string();
    w.overdub(&["new", &d, "--rate", &r, "--tracks", "4"]).ok();
    let file = |name: &str, ch: u16, secs: f64| {
        let p = w.path(name);
        write_clicks(
            &p,
            rate,
            ch,
            (secs * f64::from(rate)) as u64,
            &clicks_in(rate, secs),
        );
        s(&p)
    };
    let (a, b, c, d1, e, f) = (
        file("a.wav", 1, 3.0),
        file("b.wav", 1, 1.0),
        file("c.wav", 2, 2.0),
        file("d.wav", 1, 1.0),
        file("e.wav", 1, 2.0),
        file("f.wav", 1, 1.5),
    );
    let import = |f: &str, track: &str, at: &str| {
        w.overdub(&["import", &d, f, "--track", track, "--at", at])
            .ok();
    };
    // Track 1: a take, and a later one over its middle.
    import(&a, "1", "0.5");
    import(&b, "1", "1.9");
    // Track 2: stereo; a clip moved and trimmed.
    w.overdub(&[
        "track",
        &d,
        "set",
        "2",
        "--channels",
        "2",
        "--pan",
        "0.4",
        "--gain",
        "-4.5",
    ])
    .ok();
    import(&c, "2", "0");
    let cid = clip_id(w, &dir, 1, "c.wav");
    w.overdub(&["clip", &d, "move", &cid, "--to", "2.345"]).ok();
    w.overdub(&["clip", &d, "trim", &cid, "--start", "2.5", "--end", "4.1"])
        .ok();
    // Track 3: a take hidden whole under a later, longer one.
    import(&d1, "3", "1.0");
    import(&e, "3", "0.8");
    w.overdub(&["track", &d, "set", "3", "--gain", "2.5", "--pan", "-0.7"])
        .ok();
    // Track 4: muted, split in two.
    import(&f, "4", "0.25");
    let fid = clip_id(w, &dir, 3, "f.wav");
    w.overdub(&["clip", &d, "split", &fid, "--at", "0.9"]).ok();
    w.overdub(&["track", &d, "set", "4", "--mute", "on"]).ok();
    w.overdub(&["marker", &d, "add", "--at", "1.5", "--name", "Verse 2"])
        .ok();
    w.overdub(&["marker", &d, "add", "--at", "3.25", "--name", "Solo"])
        .ok();
    w.overdub(&["tempo", &d, "--bpm", "93.5", "--meter", "7/8"])
        .ok();
    dir
}

/// The entries of a zip, by name.
fn unzip(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).expect("archive")).expect("zip");
    (0..z.len())
        .map(|i| {
            let mut e = z.by_index(i).expect("entry");
            let name = e.name().expect("name").into_owned();
            let mut bytes = Vec::new();
            e.read_to_end(&mut bytes).expect("read");
            (name, bytes)
        })
        .collect()
}

fn xmllint(file: &Path, xsd: &str) {
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(schema(xsd))
        .arg(file)
        .output()
        .expect("xmllint (package libxml2-utils) runs");
    assert!(
        out.status.success(),
        "{} does not validate against {xsd}:\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn exported_project_and_metadata_validate_against_the_schemas() {
    let w = World::new();
    let dir = rich_session(&w, 44_100);
    for (name, range) in [("all", None), ("part", Some("1.2:3.3"))] {
        let out = w.path(&format!("{name}.dawproject"));
        let mut args = vec![
            "export".to_string(),
            s(&dir),
            "--dawproject".into(),
            s(&out),
        ];
        if let Some(r) = range {
            args.extend(["--range".into(), r.into()]);
        }
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = w.overdub(&argv).ok();
        assert!(run.stdout.contains("take(s) kept"), "{}", run.stdout);
        let unpacked = w.path(name);
        std::fs::create_dir_all(&unpacked).expect("dir");
        for (entry, bytes) in unzip(&out) {
            if entry.ends_with(".xml") {
                std::fs::write(unpacked.join(&entry), bytes).expect("write");
            }
        }
        xmllint(&unpacked.join("project.xml"), "Project.xsd");
        xmllint(&unpacked.join("metadata.xml"), "MetaData.xsd");
    }
}

fn mix(w: &World, dir: &Path, name: &str, range: Option<&str>) -> Vec<f32> {
    let out = w.path(name);
    let mut args = vec![
        "export".to_string(),
        s(dir),
        "--out".into(),
        s(&out),
        "--mix".into(),
        "--stems".into(),
        "--include-muted".into(),
        "--format".into(),
        "32f".into(),
    ];
    if let Some(r) = range {
        args.extend(["--range".into(), r.into()]);
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    w.overdub(&argv).ok();
    let mut all = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&out)
        .expect("out")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    for f in files {
        // Every channel of every file, in order.
        let mut r = hound::WavReader::open(&f).expect("wav");
        all.extend(r.samples::<f32>().map(|x| x.expect("sample")));
    }
    all
}

#[test]
fn a_session_comes_back_from_its_dawproject_and_renders_the_same_mix() {
    let w = World::new();
    let dir = rich_session(&w, 96_000);
    let file = w.path("rich.dawproject");
    w.overdub(&["export", &s(&dir), "--dawproject", &s(&file)])
        .ok();
    let back = w.path("back");
    let run = w.overdub(&["import-project", &s(&back), &s(&file)]).ok();
    assert!(
        run.stdout
            .contains("everything in the project was carried over"),
        "{}",
        run.stdout
    );
    let (a, b) = (w.info(&dir), w.info(&back));
    for key in ["rate", "tempo_bpm", "meter", "markers"] {
        assert_eq!(a[key], b[key], "{key}");
    }
    for t in 0..4 {
        for key in ["name", "channels", "gain_db", "pan", "mute", "solo"] {
            assert_eq!(a["tracks"][t][key], b["tracks"][t][key], "track {t} {key}");
        }
    }
    let (m1, m2) = (mix(&w, &dir, "m1", None), mix(&w, &back, "m2", None));
    assert!(m1.len() > 96_000 * 4, "{} samples", m1.len());
    assert!(m1 == m2, "the mix and stems differ after the round trip");

    // A part of the session comes back as that part, moved to time 0.
    let part = w.path("part.dawproject");
    w.overdub(&[
        "export",
        &s(&dir),
        "--dawproject",
        &s(&part),
        "--range",
        "1.2:3.3",
    ])
    .ok();
    let back_part = w.path("back-part");
    w.overdub(&["import-project", &s(&back_part), &s(&part)])
        .ok();
    let p1 = mix(&w, &dir, "p1", Some("1.2:3.3"));
    let p2 = mix(&w, &back_part, "p2", Some("0:2.1"));
    assert!(
        p1 == p2,
        "the range export differs from the range of the session"
    );
}

/// Every track's stem (muted ones too), 32-bit float, in `stems/`.
fn stems_of(w: &World, dir: &Path) -> PathBuf {
    let out = w.path("stems");
    let (d, o) = (s(dir), s(&out));
    w.overdub(&[
        "export",
        &d,
        "--out",
        &o,
        "--stems",
        "--include-muted",
        "--format",
        "32f",
    ])
    .ok();
    out
}

/// A clip in `project.xml`, read with the format's own types.
struct XmlClip {
    time: f64,
    duration: f64,
    play_start: f64,
    file: String,
    enabled: bool,
}

fn xml_clips(xml: &str) -> Vec<Vec<XmlClip>> {
    use dawproject::ClipTypeContent as C;
    let fixed = xml.replace("contentType=\"", "contentTypes=\"");
    let p: dawproject::Project = quick_xml::de::from_str(&fixed).expect("project.xml parses");
    let lanes = p.arrangement.and_then(|a| a.lanes).expect("lanes");
    lanes
        .content
        .iter()
        .filter_map(|c| match c {
            C::Lanes(l) => Some(l),
            _ => None,
        })
        .map(|l| {
            let mut out = Vec::new();
            for c in &l.content {
                if let C::Clips(cs) = c {
                    for clip in &cs.clip {
                        let Some(C::Audio(a)) = &clip.content else {
                            panic!("a clip without audio")
                        };
                        out.push(XmlClip {
                            time: clip.time,
                            duration: clip.duration.expect("duration"),
                            play_start: clip.play_start.unwrap_or(0.0),
                            file: a.file.path.clone(),
                            enabled: clip.enable != Some(false),
                        });
                    }
                }
            }
            out
        })
        .collect()
}

#[test]
fn every_clip_in_the_archive_sits_where_the_stems_put_it() {
    let w = World::new();
    let rate = 44_100u32;
    let dir = rich_session(&w, rate);
    let file = w.path("rich.dawproject");
    w.overdub(&["export", &s(&dir), "--dawproject", &s(&file)])
        .ok();
    let stems = stems_of(&w, &dir);
    let entries = unzip(&file);
    let unpacked = w.path("unpacked");
    for (name, bytes) in &entries {
        let p = unpacked.join(name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("dir");
        std::fs::write(&p, bytes).expect("write");
    }
    let xml = std::fs::read_to_string(unpacked.join("project.xml")).expect("xml");
    let tracks = xml_clips(&xml);
    assert_eq!(tracks.len(), 4);
    let mut stem_files: Vec<PathBuf> = std::fs::read_dir(&stems)
        .expect("stems")
        .map(|e| e.expect("e").path())
        .collect();
    stem_files.sort();
    let frames = |secs: f64| (secs * f64::from(rate)).round() as i64;
    let mut checked = 0;
    for (t, clips) in tracks.iter().enumerate() {
        let stem = read_wav(&stem_files[t]).1;
        for c in clips.iter().filter(|c| c.enabled) {
            let audio = read_wav(&unpacked.join(&c.file)).1;
            let (from, len) = (frames(c.play_start), frames(c.duration));
            let clicks: Vec<i64> = (from..from + len)
                .filter(|&f| audio.get(f as usize).is_some_and(|&x| x > 0.5))
                .collect();
            assert!(
                !clicks.is_empty(),
                "track {} clip of {} has no click",
                t + 1,
                c.file
            );
            for k in clicks {
                let at = frames(c.time) + (k - from);
                let heard = stem.get(at as usize).copied().unwrap_or(0.0).abs();
                let around =
                    [at - 1, at + 1].map(|f| stem.get(f as usize).map_or(0.0, |x| x.abs()));
                assert!(
                    heard > 0.1 && around.iter().all(|&x| x < heard / 4.0),
                    "track {} {}: the click at file frame {k} belongs at frame {at}; the stem has \
                     {heard} there and {around:?} beside it",
                    t + 1,
                    c.file
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 15, "{checked} clicks checked");
    // The take hidden whole is in the file, disabled.
    assert!(
        tracks[2]
            .iter()
            .any(|c| !c.enabled && c.file.ends_with("d.wav")),
        "the hidden take is kept"
    );
}

/// A zip made by hand: (name, bytes) entries, deflated.
fn make_zip(path: &Path, entries: &[(&str, &[u8])]) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).expect("create"));
    for (name, bytes) in entries {
        z.start_file(*name, zip::write::SimpleFileOptions::default())
            .expect("entry");
        z.write_all(bytes).expect("write");
    }
    z.finish().expect("finish");
}

fn wav_bytes(rate: u32, channels: u16, frames: u64, clicks: &[u64]) -> Vec<u8> {
    let tmp = tempfile::NamedTempFile::new().expect("tmp");
    write_clicks(tmp.path(), rate, channels, frames, clicks);
    std::fs::read(tmp.path()).expect("read")
}

/// How Bitwig Studio writes a project (the shape of its own export): beats, a clip holding a
/// clip holding warped audio, a MIDI track, an effect track fed by sends, a master channel.
const BITWIG_STYLE: &str = r##"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Project version="1.0">
    <Application name="Bitwig Studio" version="5.1.6"/>
    <Transport>
        <Tempo max="666.000000" min="20.000000" unit="bpm" value="150.000000" id="id0" name="Tempo"/>
        <TimeSignature denominator="4" numerator="3" id="id1"/>
    </Transport>
    <Structure>
        <Track contentType="notes" loaded="true" id="id2" name="Piano">
            <Channel audioChannels="2" destination="id20" role="regular" solo="false" id="id3">
                <Devices>
                    <BuiltinDevice deviceName="Sampler" deviceRole="instrument" loaded="true" id="id7" name="Piano"/>
                </Devices>
                <Volume max="2.0" min="0.0" unit="linear" value="0.5" id="id4" name="Volume"/>
            </Channel>
        </Track>
        <Track contentType="audio" loaded="true" id="id9" name="Guitar">
            <Channel audioChannels="1" destination="id20" role="regular" solo="false" id="id10">
                <Devices>
                    <Compressor deviceName="Compressor" deviceRole="audioFX" id="id60"/>
                </Devices>
                <Mute value="false" id="id13" name="Mute"/>
                <Pan max="1.000000" min="0.000000" unit="normalized" value="0.750000" id="id12" name="Pan"/>
                <Sends>
                    <Send destination="id15" type="post" id="id24">
                        <Volume max="1.0" min="0.0" unit="linear" value="0.3" id="id25" name="Send"/>
                    </Send>
                </Sends>
                <Volume max="2.000000" min="0.000000" unit="linear" value="0.5" id="id11" name="Volume"/>
            </Channel>
        </Track>
        <Track contentType="audio" loaded="true" id="id30" name="Vocal">
            <Channel audioChannels="2" destination="id20" role="regular" id="id31">
                <Volume unit="decibel" value="-6.0" id="id32"/>
            </Channel>
        </Track>
        <Track contentType="audio" loaded="true" id="id14" name="FX 1">
            <Channel audioChannels="2" destination="id20" role="effect" solo="false" id="id15"/>
        </Track>
        <Track contentType="audio notes" loaded="true" id="id19" name="Master">
            <Channel audioChannels="2" role="master" solo="false" id="id20">
                <Volume max="2.000000" min="0.000000" unit="linear" value="1.000000" id="id21" name="Volume"/>
            </Channel>
        </Track>
    </Structure>
    <Arrangement id="id40">
        <Lanes timeUnit="beats" id="id41">
            <Lanes track="id2" id="id42">
                <Clips id="id43">
                    <Clip time="4.0" duration="8.0" playStart="0.0">
                        <Notes id="id44"><Note time="0" duration="1" channel="0" key="60" vel="0.8"/></Notes>
                    </Clip>
                </Clips>
            </Lanes>
            <Lanes track="id9" id="id45">
                <Clips id="id46">
                    <Clip time="2.0" duration="5.0" playStart="1.0" name="guitar">
                        <Clips id="id47">
                            <Clip time="0.0" duration="10.0" contentTimeUnit="beats" playStart="0.0">
                                <Warps contentTimeUnit="seconds" timeUnit="beats" id="id48">
                                    <Audio algorithm="stretch" channels="1" sampleRate="44100" duration="4.0" id="id49">
                                        <File path="audio/guitar.wav"/>
                                    </Audio>
                                    <Warp time="0.0" contentTime="0.0"/>
                                    <Warp time="10.0" contentTime="4.0"/>
                                </Warps>
                            </Clip>
                        </Clips>
                    </Clip>
                </Clips>
            </Lanes>
            <Lanes track="id30" id="id50">
                <Clips id="id51">
                    <Clip time="8.0" duration="2.5" contentTimeUnit="seconds" playStart="0.5" fadeTimeUnit="beats" fadeInTime="0.25">
                        <Audio channels="2" sampleRate="22050" duration="2.0" id="id52">
                            <File path="audio/vocal.wav"/>
                        </Audio>
                    </Clip>
                </Clips>
            </Lanes>
        </Lanes>
        <Markers id="id53">
            <Marker time="16.0" name="Chorus"/>
        </Markers>
    </Arrangement>
</Project>
"##;

#[test]
fn another_programs_project_comes_in_with_what_is_left_out_listed() {
    let w = World::new();
    let file = w.path("bitwig.dawproject");
    // Guitar: 4 s at 44.1 kHz, clicks at 0.5 s and 1.3 s. Vocal: 2 s at 22.05 kHz (converted).
    let guitar = wav_bytes(44_100, 1, 4 * 44_100, &[22_050, 57_330]);
    let vocal = wav_bytes(22_050, 2, 2 * 22_050, &[11_025]);
    make_zip(
        &file,
        &[
            ("project.xml", BITWIG_STYLE.as_bytes()),
            ("metadata.xml", b"<MetaData><Title>t</Title></MetaData>"),
            ("audio/guitar.wav", &guitar),
            ("audio/vocal.wav", &vocal),
        ],
    );
    let dir = w.path("from-bitwig");
    let run = w.overdub(&["import-project", &s(&dir), &s(&file)]).ok();
    let said = run
        .stdout
        .lines()
        .find(|l| l.starts_with("not carried over: "));
    let said = said.unwrap_or_else(|| panic!("no summary line:\n{}", run.stdout));
    for item in [
        "MIDI track 'Piano'",
        "effect track 'FX 1'",
        "1 send",
        "1 plug-in",
    ] {
        assert!(said.contains(item), "{item:?} missing from {said:?}");
    }
    let info = w.info(&dir);
    assert_eq!(info["rate"], 44_100);
    assert_eq!(info["tempo_bpm"], 150.0);
    assert_eq!(info["meter"]["numerator"], 3);
    let names: Vec<&str> = info["tracks"]
        .as_array()
        .expect("tracks")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["Guitar", "Vocal"]);
    let gain = info["tracks"][0]["gain_db"].as_f64().expect("gain");
    assert!((gain - -6.0206).abs() < 0.01, "{gain}");
    assert!((info["tracks"][0]["pan"].as_f64().expect("pan") - 0.5).abs() < 1e-6);
    assert_eq!(info["tracks"][0]["channels"], 1);
    assert!((info["tracks"][1]["gain_db"].as_f64().expect("gain") + 6.0).abs() < 1e-6);
    // 150 BPM: a beat is 0.4 s. The guitar clip starts at beat 2 (0.8 s) and plays its content
    // from beat 1 (0.4 s of audio) for 5 beats (2 s).
    let g = &clips(&info, 0)[0];
    assert_eq!(g["position"], 35_280);
    assert_eq!(g["offset"], 17_640);
    assert_eq!(g["length"], 88_200);
    // Vocal: beat 8 (3.2 s), from 0.5 s of its audio (seconds, its content unit) for 2.5 beats
    // (1 s, the lane's unit); converted from 22.05 kHz.
    let v = &clips(&info, 1)[0];
    assert_eq!(v["position"], 141_120);
    assert_eq!(v["offset"], 22_050);
    assert_eq!(v["length"], 44_100);
    // Its fade-in of a quarter beat (0.1 s) comes with it.
    assert_eq!(v["fade_in"], 4_410);
    assert!(!said.contains("fade"), "{said}");
    let markers = info["markers"].as_array().expect("markers");
    assert_eq!(markers[0]["name"], "Chorus");
    assert_eq!(markers[0]["position"], 16 * 17_640);
    // The guitar's click at 0.5 s of audio is heard at 0.8 + (0.5 - 0.4) s.
    let stems = stems_of(&w, &dir);
    // The second click, at 1.3 s of audio, at 0.8 + 0.9 s.
    let guitar_stem = read_wav(&stems.join("01-Guitar.wav")).1;
    let clicks: Vec<usize> = guitar_stem
        .iter()
        .enumerate()
        .filter(|(_, x)| x.abs() > 0.1)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(clicks, [39_690, 74_970]);
}

/// A hand-made archive's entries: (name, bytes).
type Entries = Vec<(&'static str, Vec<u8>)>;

/// Run an import that must be refused: one line on stderr, no session folder, nothing left
/// beside it.
fn refused(w: &World, file: &Path, why: &str) {
    let dir = w.path("refused");
    let run = w.overdub(&["import-project", &s(&dir), &s(file)]);
    assert_ne!(run.code, Some(0), "{why}: accepted\n{}", run.stdout);
    assert_eq!(
        run.stderr.trim().lines().count(),
        1,
        "{why}: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&s(file)) || run.stderr.contains("project.xml"),
        "{why}: {}",
        run.stderr
    );
    assert!(!dir.exists(), "{why}: the session folder was made");
    let leftovers: Vec<String> = std::fs::read_dir(w.path(""))
        .expect("world")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".overdub-import"))
        .collect();
    assert!(leftovers.is_empty(), "{why}: left {leftovers:?}");
}

#[test]
fn hostile_archives_are_refused_with_one_line_and_nothing_written() {
    let w = World::new();
    let wav = wav_bytes(48_000, 1, 4_800, &[]);
    let good_xml = |path: &str| {
        BITWIG_STYLE
            .replace("audio/guitar.wav", path)
            .replace("audio/vocal.wav", path)
    };
    let cases: Vec<(&str, Entries)> = vec![
        (
            "an entry climbing out of the archive",
            vec![
                ("project.xml", good_xml("audio/x.wav").into_bytes()),
                ("../escape.wav", wav.clone()),
            ],
        ),
        (
            "an absolute entry",
            vec![
                ("project.xml", good_xml("audio/x.wav").into_bytes()),
                ("/tmp/abs.wav", wav.clone()),
            ],
        ),
        (
            "a clip naming a file outside the archive",
            vec![("project.xml", good_xml("../../etc/passwd").into_bytes())],
        ),
        (
            "a project.xml over the size limit",
            vec![("project.xml", {
                let mut x = good_xml("audio/x.wav").into_bytes();
                x.extend(std::iter::repeat_n(b' ', 33 << 20));
                x
            })],
        ),
        (
            "XML without the required Application",
            vec![(
                "project.xml",
                good_xml("audio/x.wav")
                    .replace(
                        "<Application name=\"Bitwig Studio\" version=\"5.1.6\"/>",
                        "",
                    )
                    .into_bytes(),
            )],
        ),
        (
            "a clip time that is not a number",
            vec![(
                "project.xml",
                good_xml("audio/x.wav")
                    .replace("time=\"2.0\"", "time=\"soon\"")
                    .into_bytes(),
            )],
        ),
        (
            "a lane naming a track that does not exist",
            vec![(
                "project.xml",
                good_xml("audio/x.wav")
                    .replace("track=\"id30\"", "track=\"nowhere\"")
                    .into_bytes(),
            )],
        ),
        (
            "another root element",
            vec![("project.xml", b"<Song version=\"1.0\"/>".to_vec())],
        ),
        ("no project.xml", vec![("readme.txt", b"hello".to_vec())]),
    ];
    for (why, entries) in &cases {
        let file = w.path("hostile.dawproject");
        let refs: Vec<(&str, &[u8])> = entries.iter().map(|(n, b)| (*n, b.as_slice())).collect();
        make_zip(&file, &refs);
        refused(&w, &file, why);
    }
    let not_zip = w.path("not-a-zip.dawproject");
    std::fs::write(&not_zip, b"this is not a zip archive").expect("write");
    refused(&w, &not_zip, "not a zip");

    // A folder that already holds a session is never overwritten.
    let existing = w.path("existing");
    w.overdub(&["new", &s(&existing), "--tracks", "1"]).ok();
    let before = std::fs::read(existing.join("session.json")).expect("session");
    let file = w.path("fine.dawproject");
    make_zip(
        &file,
        &[("project.xml", good_xml("audio/x.wav").as_bytes())],
    );
    let run = w.overdub(&["import-project", &s(&existing), &s(&file)]);
    assert_ne!(run.code, Some(0));
    assert_eq!(
        std::fs::read(existing.join("session.json")).expect("session"),
        before
    );
}

/// A disabled clip sticking out from under the clip that plays, a play stop, and one file named
/// two ways.
const DISABLED_UNDER: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Project version="1.0">
  <Application name="Test" version="1"/>
  <Structure>
    <Track contentType="audio" id="t1" name="A">
      <Channel id="c1" audioChannels="1" role="regular"/>
    </Track>
  </Structure>
  <Arrangement>
    <Lanes timeUnit="seconds">
      <Lanes track="t1">
        <Clips>
          <Clip time="1" duration="2" playStart="0" enable="false">
            <Audio channels="1" sampleRate="48000" duration="4"><File path="./audio/a.wav"/></Audio>
          </Clip>
          <Clip time="2" duration="2" playStart="0.5" playStop="1.5">
            <Audio channels="1" sampleRate="48000" duration="4"><File path="audio/a.wav"/></Audio>
          </Clip>
        </Clips>
      </Lanes>
    </Lanes>
  </Arrangement>
</Project>
"#;

#[test]
fn a_disabled_clip_stays_silent_and_a_file_named_twice_comes_in_once() {
    let w = World::new();
    let file = w.path("disabled.dawproject");
    let a = wav_bytes(48_000, 1, 4 * 48_000, &[]);
    make_zip(
        &file,
        &[
            ("project.xml", DISABLED_UNDER.as_bytes()),
            ("audio/a.wav", &a),
        ],
    );
    let dir = w.path("disabled");
    let run = w.overdub(&["import-project", &s(&dir), &s(&file)]).ok();
    assert!(
        run.stdout.contains("1 audio file(s) copied"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("1 disabled clip part no clip covers"),
        "{}",
        run.stdout
    );
    let info = w.info(&dir);
    let c = clips(&info, 0);
    let got: Vec<(u64, u64, u64)> = c
        .iter()
        .map(|c| {
            let n = |k: &str| c[k].as_u64().expect("number");
            (n("position"), n("offset"), n("length"))
        })
        .collect();
    // The disabled clip keeps only 2..3 s, under the playing clip, which plays its file from
    // 0.5 s to its play stop at 1.5 s.
    assert_eq!(got, [(96_000, 48_000, 48_000), (96_000, 24_000, 48_000)]);
}

#[test]
fn a_refused_import_leaves_no_folder_it_made() {
    let w = World::new();
    // Refused late: the audio a clip plays is not in the archive.
    let file = w.path("bad.dawproject");
    make_zip(&file, &[("project.xml", DISABLED_UNDER.as_bytes())]);
    let nested = w.path("new").join("deeper").join("session");
    let run = w.overdub(&["import-project", &s(&nested), &s(&file)]);
    assert_ne!(run.code, Some(0));
    assert!(!w.path("new").exists(), "the parents it made are gone");
    // A file where the session folder would go is refused, and kept.
    let taken = w.path("taken");
    std::fs::write(&taken, b"mine").expect("write");
    let run = w.overdub(&["import-project", &s(&taken), &s(&file)]);
    assert_ne!(run.code, Some(0));
    assert_eq!(std::fs::read(&taken).expect("kept"), b"mine");
}
