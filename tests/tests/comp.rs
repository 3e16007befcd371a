//! Comping through the real binary: four takes of one passage, three ranges chosen from three of
//! them with `overdub takes --use --range`, exported as a stem. Outside the joins the stem is
//! each chosen take sample for sample; at a join it is one crossfade between the two takes that
//! meet (no third take under them), centred on the join and never longer than the session's fade
//! length. Undo (through the engine's editor, as the window does it) gives back the comp before.

use std::path::Path;

use overdub_engine::session::{Clip, Edit, Editor, Session, SessionDir};
use overdub_tests::{World, export_stems, read_wav, write_mono};

const RATE: u32 = 44_100;
const LEN: u64 = 3 * RATE as u64;

/// Take `k`'s sample at file frame `n`: a level of its own plus a tone, so every take differs
/// from every other at every frame.
fn take_sample(k: usize, n: u64) -> f32 {
    0.1 + 0.2 * k as f32 + 0.05 * ((n as f32) * 0.013 * (k + 1) as f32).sin()
}

/// A session with one mono track holding four takes of 3 s at 0 s (take 4 plays).
fn four_takes(dir: &Path) {
    let sdir = SessionDir::new(dir);
    let mut s = Session::new(RATE, 1);
    sdir.create(&s).expect("create");
    let track = s.tracks[0].id;
    for k in 0..4 {
        let name = format!("take{}.wav", k + 1);
        write_mono(&sdir.audio().join(&name), RATE, LEN, |n| take_sample(k, n));
        s.add_clip(track, Clip::new(name, 0, 0, LEN)).expect("clip");
    }
    sdir.save(&s).expect("save");
}

/// Export the one stem as 32-bit float and read it.
fn stem(w: &World, dir: &Path, name: &str) -> Vec<f32> {
    read_wav(&export_stems(w, dir, name).join("01-Track-1.wav")).1
}

/// Check `got` against a comp: `joins` are (frame, take before, take after); between joins the
/// take that plays. Every frame at least `half` away from a join is that take exactly; near a join
/// the stem is `(1 - w) * before + w * after` with `w` rising from 0 to 1 across the join,
/// symmetric around it, and reaching 0 and 1 within `half` frames of it.
fn check_comp(got: &[f32], first: usize, joins: &[(u64, usize, usize)], half: u64) {
    let mut playing = first;
    let mut next = 0;
    for n in 0..LEN {
        if next < joins.len() && n >= joins[next].0 {
            playing = joins[next].2;
            next += 1;
        }
        let near = joins.iter().find(|j| n + half >= j.0 && n < j.0 + half);
        let g = got[n as usize];
        match near {
            None => assert_eq!(
                g,
                take_sample(playing, n),
                "frame {n}: not take {} sample for sample",
                playing + 1
            ),
            Some(&(at, before, after)) => {
                let (x, y) = (take_sample(before, n), take_sample(after, n));
                let w = (g - x) / (y - x);
                assert!(
                    (-1e-4..=1.0 + 1e-4).contains(&w),
                    "frame {n}: {g} is no mix of take {} and take {}",
                    before + 1,
                    after + 1
                );
                // Mirror frame across the join (which lies between frames at - 1 and at).
                let m = 2 * at - 1 - n;
                let wm = (got[m as usize] - take_sample(before, m))
                    / (take_sample(after, m) - take_sample(before, m));
                assert!(
                    (w + wm - 1.0).abs() < 1e-3,
                    "frame {n}: the crossfade at {at} is not centred ({w} and {wm})"
                );
                if n > 0 && n > at - half {
                    let prev = n - 1;
                    let wp = (got[prev as usize] - take_sample(before, prev))
                        / (take_sample(after, prev) - take_sample(before, prev));
                    assert!(w >= wp - 1e-4, "frame {n}: the crossfade turns back");
                }
            }
        }
    }
}

#[test]
fn a_comp_of_three_takes_exports_those_takes_and_one_crossfade_at_each_join() {
    let w = World::new();
    let dir = w.path("comp");
    four_takes(&dir);
    let d = dir.to_string_lossy();
    // Session fade length 5 ms (the default): 220 frames at 44.1 kHz, 110 either side of a join.
    let half = 110;
    for (take, range) in [("1", "0.5:1"), ("2", "1:1.6"), ("3", "1.6:2.2")] {
        let run = w
            .overdub(&["takes", &d, "--track", "1", "--use", take, "--range", range])
            .ok();
        assert!(run.stdout.contains("comp (what plays):"), "{}", run.stdout);
    }
    let s = |sec: f64| (sec * f64::from(RATE)).round() as u64;
    let joins = [
        (s(0.5), 3, 0),
        (s(1.0), 0, 1),
        (s(1.6), 1, 2),
        (s(2.2), 2, 3),
    ];
    let got = stem(&w, &dir, "stems");
    check_comp(&got, 3, &joins, half);

    // The same session in the engine's editor: a fourth range, then undo.
    let sdir = SessionDir::new(&dir);
    let mut ed = Editor::open(sdir).expect("open");
    let take2 = ed.session().tracks[0].clips[1].id;
    ed.apply(Edit::UseTake {
        clip: take2,
        range: Some((s(2.5), s(2.8))),
    })
    .expect("comp");
    ed.save().expect("save");
    let more = stem(&w, &dir, "stems-more");
    let joins_more = [
        (s(0.5), 3, 0),
        (s(1.0), 0, 1),
        (s(1.6), 1, 2),
        (s(2.2), 2, 3),
        (s(2.5), 3, 1),
        (s(2.8), 1, 3),
    ];
    check_comp(&more, 3, &joins_more, half);
    assert_eq!(ed.undo(), Some("choose take"));
    ed.save().expect("save");
    let back = stem(&w, &dir, "stems-back");
    assert_eq!(
        back, got,
        "undo gives back the comp before, sample for sample"
    );
}

#[test]
fn clip_set_fades_and_gain_shape_the_stem_and_fade_length_zero_makes_comps_cut() {
    let w = World::new();
    let dir = w.path("fades");
    four_takes(&dir);
    let d = dir.to_string_lossy();
    // Take 4 (clip id 4) plays: a 10 ms fade-in and -6 dB.
    let run = w
        .overdub(&["clip", &d, "set", "4", "--fade-in", "10", "--gain", "-6"])
        .ok();
    assert!(run.stdout.contains("fade-in 441 frames"), "{}", run.stdout);
    let got = stem(&w, &dir, "stems-set");
    let g = 10f32.powf(-6.0 / 20.0);
    for n in 0..2_000u64 {
        // Over the fade, take 4 crosses in from the takes under it (take 3 plays there).
        let w4 = if n < 441 {
            (n as f32 + 0.5) / 441.0
        } else {
            1.0
        };
        let want = (1.0 - w4) * take_sample(2, n) + w4 * g * take_sample(3, n);
        assert!(
            (got[n as usize] - want).abs() < 1e-6,
            "frame {n}: {} not {want}",
            got[n as usize]
        );
    }
    // No fades at all: a comp range cuts.
    w.overdub(&["clip", &d, "fade-length", "0"]).ok();
    w.overdub(&["clip", &d, "set", "4", "--fade-in", "0", "--gain", "0"])
        .ok();
    w.overdub(&["takes", &d, "--track", "1", "--use", "1", "--range", "1:2"])
        .ok();
    let got = stem(&w, &dir, "stems-cut");
    let at = |s: f64| (s * f64::from(RATE)).round() as u64;
    check_comp(&got, 3, &[(at(1.0), 3, 0), (at(2.0), 0, 3)], 0);
}
