//! The mixer in the real window (egui_kittest): the master fader, moved by a drag, changes the
//! exported mix by exactly as many dB as it shows, and leaves the stems alone; the master meter
//! and its clip light follow what plays.

mod common;

use common::{drag_by, open_app, run_until};
use std::path::Path;
use std::time::Duration;

use egui_kittest::kittest::Queryable;
use overdub_engine::session::{Clip, Session, SessionDir};

fn export_to(dir: &Path, out: &Path) -> (Vec<f32>, Vec<f32>) {
    common::export_f32(dir, out, true, true);
    let read = |name: &str| -> Vec<f32> {
        let mut r = hound::WavReader::open(out.join(name)).expect("wav");
        r.samples::<f32>().map(|x| x.expect("sample")).collect()
    };
    (read("mix.wav"), read("01-Track-1.wav"))
}

#[test]
fn the_master_fader_changes_the_exported_mix_by_what_it_shows() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = SessionDir::new(tmp.path().join("s"));
    let mut s = Session::new(48_000, 1);
    dir.create(&s).expect("create");
    common::write_wav(&dir, "a.wav", 24_000, |i| ((i as f32) * 0.03).sin() * 0.4);
    let id = s.tracks[0].id;
    s.add_clip(id, Clip::new("a.wav".into(), 0, 0, 24_000))
        .expect("clip");
    dir.save(&s).expect("save");
    let (mix_before, stem_before) = export_to(dir.root(), &tmp.path().join("before"));

    let mut h = open_app(
        dir.root(),
        common::virtual_request(256),
        &tmp.path().join("settings.json"),
    );
    h.run_steps(2);
    h.get_by_label("Mixer").click();
    h.run_steps(3);
    let fader = h.get_by_label("Master fader").rect();
    drag_by(
        &mut h,
        fader.center(),
        egui::Vec2::new(0.0, 40.0),
        egui::Modifiers::NONE,
    );
    let db = h.state().live().editor().session().master_gain_db;
    assert!(db < -3.0, "the fader came down: {db} dB");
    common::save(&mut h);
    let (mix, stem) = export_to(dir.root(), &tmp.path().join("after"));
    let gain = 10f32.powf(db / 20.0);
    assert_eq!(mix.len(), mix_before.len());
    for (k, (a, b)) in mix.iter().zip(&mix_before).enumerate() {
        assert!(
            (a - b * gain).abs() <= 1e-6,
            "sample {k}: {a}, not {b} x {gain} ({db} dB)"
        );
    }
    assert_eq!(stem, stem_before, "the stems are before the master");

    // Playing: the master meter reads the mix after the fader, with no clip light.
    h.get_by_label("Play").click();
    assert!(
        run_until(&mut h, Duration::from_secs(3), |a| a.live().position()
            > 12_000),
        "playing"
    );
    let (peaks, clipped) = h.state().master_meter();
    let want = 0.4 * gain;
    for p in peaks {
        assert!(
            p > want * 0.8 && p <= want * 1.001,
            "master peak {p}, not about {want}"
        );
    }
    assert!(!clipped, "nothing reached full scale");
    // The fader all the way up (+12 dB): 0.4 x 4 clips, and the transport bar's light shows it
    // until clicked.
    h.get_by_label("Stop").click();
    h.run_steps(2);
    h.state_mut().live_mut().locate(0);
    let fader = h.get_by_label("Master fader").rect();
    drag_by(
        &mut h,
        fader.center(),
        egui::Vec2::new(0.0, -400.0),
        egui::Modifiers::NONE,
    );
    assert_eq!(h.state().live().editor().session().master_gain_db, 12.0);
    h.get_by_label("Play").click();
    assert!(
        run_until(&mut h, Duration::from_secs(3), |a| a.master_meter().1),
        "the master clip light comes on"
    );
    h.get_by_label("Stop").click();
    h.run_steps(2);
    h.get_by_label("Master clip").click();
    h.run_steps(1);
    assert!(!h.state().master_meter().1, "a click clears it");
}
