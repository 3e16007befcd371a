//! Clip fades in the real window (egui_kittest): drag a clip's fade-in handle and the exported
//! stem is faded in over that many frames; a clip gain dragged in its right-click menu scales it.

mod common;

use common::{drag, open_app};

use egui_kittest::kittest::Queryable;
use overdub_engine::session::{Clip, Session, SessionDir};

#[test]
fn a_dragged_fade_in_fades_the_exported_stem() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = SessionDir::new(tmp.path().join("s"));
    let mut s = Session::new(48_000, 1);
    dir.create(&s).expect("create");
    common::write_wav(&dir, "a.wav", 48_000, |_| 0.5);
    let id = s.tracks[0].id;
    s.add_clip(id, Clip::new("a.wav".into(), 0, 0, 48_000))
        .expect("clip");
    dir.save(&s).expect("save");
    let mut h = open_app(
        dir.root(),
        common::virtual_request(256),
        &tmp.path().join("settings.json"),
    );
    h.run_steps(3);
    let clip = h.get_by_label("Clip a.wav on Track 1").rect();
    let per_point = 48_000.0 / f64::from(clip.width());
    let handle = h.get_by_label("Fade-in of a.wav on Track 1").rect();
    // Drag the handle 30 points to the right: about 30 points of fade.
    drag(&mut h, handle.center(), 30.0, egui::Modifiers::NONE);
    let fade = h.state().live().editor().session().tracks[0].clips[0].fade_in;
    let want = 30.0 * per_point;
    assert!(
        (fade as f64 - want).abs() <= 2.0 * per_point,
        "fade-in of {fade} frames, not about {want}"
    );
    // Clip gain -6 dB from the clip's menu.
    h.get_by_label("Clip a.wav on Track 1").click_secondary();
    h.run_steps(2);
    let field = h.get_by_label("Clip gain").rect();
    // Dragged left 60 points at 0.1 dB a point.
    drag(&mut h, field.center(), -60.0, egui::Modifiers::NONE);
    let gain_db = h.state().live().editor().session().tracks[0].clips[0].gain_db;
    assert!(
        (gain_db + 6.0).abs() < 0.05,
        "clip gain {gain_db} dB set in the menu"
    );
    h.key_press(egui::Key::Escape);
    h.run_steps(1);
    common::save(&mut h);
    let out = tmp.path().join("stems");
    common::export_f32(dir.root(), &out, true, false);
    let mut r = hound::WavReader::open(out.join("01-Track-1.wav")).expect("stem");
    let left: Vec<f32> = r
        .samples::<f32>()
        .map(|x| x.expect("sample"))
        .step_by(2)
        .collect();
    let level = 0.5 * 10f32.powf(gain_db / 20.0);
    for (k, &v) in left.iter().enumerate().take(48_000) {
        let want = if (k as u64) < fade {
            level * (k as f32 + 0.5) / fade as f32
        } else {
            level
        };
        assert!((v - want).abs() < 1e-6, "frame {k}: {v}, not {want}");
    }
}
