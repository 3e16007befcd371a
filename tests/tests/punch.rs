//! Punching in over an existing take through the real binary, on the virtual loopback (which
//! returns the master output to input 1, so the take records exactly what was heard): during the
//! pre-roll and post-roll the old take plays, inside the punch range it is silent and only the
//! input is heard; the new take shows only in the range, over the old one, and the exported stem
//! is the old take outside, the new take inside and one centred crossfade at each edge.

use std::path::Path;

use overdub_tests::{
    World, click_session_with, clips, edit_track, export_stems, measure, read_wav, write_mono,
};

const RATE: u32 = 48_000;

fn device() -> Vec<&'static str> {
    vec![
        "--host",
        "virtual",
        "--input",
        "0",
        "--rate",
        "48000",
        "--buffer",
        "200",
        "--loopback-delay",
        "333",
    ]
}

/// The old take on track 2: a slow sine under the clicks, never zero for long.
fn old(n: u64) -> f32 {
    0.05 + 0.1 * ((n as f32) * 0.003).sin()
}

/// A click session at `rate` whose track 2 (recording input `input`) already holds an old take
/// (`old`) over all of it.
fn session_with_old_take(w: &World, dir: &Path, rate: u32, input: u16, clicks: &[u64], len: u64) {
    click_session_with(dir, w, rate, input, clicks, len);
    write_mono(&dir.join("audio/old.wav"), rate, len, old);
    edit_track(
        dir,
        1,
        "clips",
        serde_json::json!([{"id": 200, "file": "old.wav", "position": 0, "offset": 0, "length": len}]),
    );
}

/// Punch track 2 in over its old take from 1.5 s to 2.5 s (1 s pre-roll, 0.5 s post-roll, 4 ms
/// crossfades) on a device whose loopback returns the master on input `input`, and check what
/// was heard (in the take file) and the exported stem. Returns false, checking nothing, if the
/// device counted a loss (an xrun) during the take.
fn punch_over_the_old_take(w: &World, dev: &[&str], rate: u32, input: u16, tag: &str) -> bool {
    let r = u64::from(rate);
    let len = 4 * r;
    let (pin, pout) = (r * 3 / 2, r * 5 / 2);
    let clicks = [
        r / 2 + 3,
        r + 11,
        pin + 700,
        pin + r / 3,
        pout - 5,
        pout + r / 5,
    ];
    let dir = w.path(tag);
    session_with_old_take(w, &dir, rate, input, &clicks, len);
    let d = dir.to_string_lossy();
    let mut args = vec![
        "record",
        &*d,
        "--punch",
        "1.5:2.5",
        "--preroll",
        "1",
        "--postroll",
        "0.5",
        "--crossfade",
        "4",
        "--arm",
        "2",
    ];
    args.extend_from_slice(dev);
    let Some(run) = overdub_tests::take_unless_lost(w, &args, tag) else {
        return false;
    };
    assert!(
        run.stdout.contains("punched in at 1.5:2.5"),
        "{}",
        run.stdout
    );

    // The new take is a clip of its own over the old one: the range and half a crossfade
    // (4 ms) either side.
    let info = w.info(&dir);
    let c = clips(&info, 1);
    assert_eq!(c.len(), 2, "{c:?}");
    assert_eq!(c[0]["file"], "old.wav");
    let n = |k: &str| c[1][k].as_u64().expect("number");
    let h = (4 * r + 500) / 1000 / 2;
    let fade = 2 * h;
    assert_eq!(
        (n("position"), n("length"), n("fade_in"), n("fade_out")),
        (pin - h, pout - pin + fade, fade, fade)
    );
    let file = c[1]["file"].as_str().expect("file");
    let take = read_wav(&dir.join("audio").join(file)).1;
    // Timeline frame t is file frame t - position + offset.
    let at = |t: u64| take[(t - n("position") + n("offset")) as usize];
    let click = |t: u64| if clicks.contains(&t) { 0.8f32 } else { 0.0 };

    // What was heard (the loopback took it into the take, compensated to the frame): the old
    // take and the clicks before the punch-in and after the punch-out, only the clicks inside.
    for t in (pin - h)..(pout + h) {
        let heard = if (pin..pout).contains(&t) {
            click(t)
        } else {
            click(t) + old(t)
        };
        assert!(
            (at(t) - heard).abs() < 1e-6,
            "frame {t}: heard {} but {heard} was played{}",
            at(t),
            if (pin..pout).contains(&t) {
                " (the old take is audible inside the punch)"
            } else {
                ""
            }
        );
    }

    // The stem: old take outside, new take inside, a centred linear crossfade at each edge.
    let stem = read_wav(&export_stems(w, &dir, &format!("{tag}-stems")).join("02-Track-2.wav")).1;
    for t in 0..len {
        let got = stem[t as usize];
        let want = if t < pin - h || t >= pout + h {
            old(t)
        } else if t < pin + h {
            let w = ((t - (pin - h)) as f32 + 0.5) / fade as f32;
            (1.0 - w) * old(t) + w * at(t)
        } else if t >= pout - h {
            let w = ((pout + h - t) as f32 - 0.5) / fade as f32;
            (1.0 - w) * old(t) + w * at(t)
        } else {
            at(t)
        };
        if t < pin - h || t >= pout + h || (pin + h..pout - h).contains(&t) {
            assert_eq!(got, want, "frame {t}: not the take that belongs there");
        } else {
            assert!(
                (got - want).abs() < 1e-6,
                "frame {t}: {got} is not the crossfade {want}"
            );
        }
    }
    // Every click inside the range is in the stem where it was played.
    for &k in clicks.iter().filter(|&&k| (pin + h..pout - h).contains(&k)) {
        assert!((stem[k as usize] - 0.8).abs() < 1e-6, "click at {k}");
    }
    true
}

#[test]
fn a_punch_replaces_the_range_only_with_the_old_take_silent_inside_and_crossfaded_joins() {
    let w = World::new();
    let dev = device();
    assert_eq!(measure(&w, &dev), 333);
    assert!(punch_over_the_old_take(&w, &dev, RATE, 0, "punch"));
}

#[test]
fn a_punch_on_a_jack_server_replaces_the_range_only() {
    // 44.1 kHz, 256-frame periods; the loopback (channel 9) returns one period later.
    let w = overdub_tests::jack_loopback_world(44_100, 256);
    let dev = overdub_tests::JACK_LOOPBACK;
    overdub_tests::whole_within_three(|k| {
        punch_over_the_old_take(&w, &dev, 44_100, 8, &format!("jack-{k}"))
    });
}

#[test]
fn a_punch_with_only_an_out_point_and_a_refused_one_are_clear() {
    let w = World::new();
    let dev = device();
    let len = 2 * u64::from(RATE);
    let dir = w.path("out-only");
    session_with_old_take(&w, &dir, RATE, 0, &[1_000], len);
    let d = dir.to_string_lossy();
    for (args, why) in [
        (vec!["--punch", "2:1"], "after the punch-in"),
        (vec!["--punch", ":"], "IN:OUT"),
        (
            vec!["--punch", "1:2", "--loop", "0:1"],
            "cannot be used with",
        ),
        (
            vec!["--punch", "0.5:1", "--preroll", "soon"],
            "--preroll soon",
        ),
        (vec!["--punch", "0.5:1", "--crossfade", "-3"], "--crossfade"),
    ] {
        let mut all = vec!["record", &*d, "--arm", "2"];
        all.extend_from_slice(&args);
        all.extend_from_slice(&dev);
        let run = w.overdub(&all);
        assert_ne!(run.code, Some(0), "{args:?} accepted");
        assert!(
            run.stderr.contains(why),
            "{args:?}: {why:?} not in {}",
            run.stderr
        );
    }
    assert_eq!(clips(&w.info(&dir), 1).len(), 1, "nothing recorded");
    // Out point alone: the take runs from the start of the recording to the punch-out.
    let mut all = vec!["record", &*d, "--arm", "2", "--punch", ":0.5"];
    all.extend_from_slice(&dev);
    w.overdub(&all).ok();
    let c = clips(&w.info(&dir), 1);
    assert_eq!(c.len(), 2, "{c:?}");
    assert_eq!(c[1]["position"], 0);
    assert_eq!(c[1]["fade_in"], 0, "nothing to cross into before the start");
    let fade = c[1]["fade_out"].as_u64().expect("fade");
    assert_eq!(fade, 240, "the session's 5 ms");
    assert_eq!(c[1]["length"].as_u64().expect("length"), 24_000 + fade / 2);
}
