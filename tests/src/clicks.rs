//! Takes recorded against click tracks, and where the clicks landed in the files on disk.

use std::path::Path;

use crate::{Run, World, clips, edit_track, read_wav, write_mono};

/// Run `overdub latency ARGS` and return the measured round trip, frames.
pub fn measure(w: &World, args: &[&str]) -> u64 {
    let mut all = vec!["latency"];
    all.extend_from_slice(args);
    let run = w.overdub(&all).ok();
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("measured round trip: "))
        .unwrap_or_else(|| panic!("no measurement in {}", run.stdout));
    line["measured round trip: ".len()..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unparsable: {line}"))
}

/// Clicks (one-frame impulses) at these timeline frames.
pub const CLICKS: [u64; 5] = [4_800, 28_800, 52_800, 76_800, 100_800];

/// A session at `rate` whose track 1 holds a click clip and whose track 2 records input
/// `input` (0-based), which a loopback returns from the master.
pub fn click_session(dir: &Path, w: &World, rate: u32, input: u16) {
    click_session_with(dir, w, rate, input, &CLICKS, 120_000);
}

/// A [`click_session`] with clicks at `clicks` in a clip `length` frames long.
pub fn click_session_with(
    dir: &Path,
    w: &World,
    rate: u32,
    input: u16,
    clicks: &[u64],
    length: u64,
) {
    let d = dir.to_string_lossy();
    w.overdub(&["new", &d, "--tracks", "2", "--rate", &rate.to_string()])
        .ok();
    write_mono(&dir.join("audio/click.wav"), rate, length, |i| {
        if clicks.contains(&i) { 0.8 } else { 0.0 }
    });
    edit_track(
        dir,
        0,
        "clips",
        serde_json::json!([{"id": 100, "file": "click.wav", "position": 0, "offset": 0, "length": length}]),
    );
    edit_track(dir, 1, "input", serde_json::json!(input));
}

/// Record track 2 of a [`click_session`] while the clicks play (`record_args` choose the device
/// and the master output); every click must be in the take file on disk within one frame of
/// where it is on the timeline. Returns what `record` printed.
pub fn assert_take_lines_up(w: &World, dir: &Path, seconds: &str, record_args: &[&str]) -> Run {
    let (run, misses) = record_against_clicks(w, dir, seconds, record_args);
    assert!(misses.is_empty(), "{}\n{}", misses.join("\n"), run.stdout);
    run
}

/// Record track 2 of a [`click_session`] as [`assert_take_lines_up`] does and return what
/// `record` printed with every click that is not within one frame of its place in the take.
pub fn record_against_clicks(
    w: &World,
    dir: &Path,
    seconds: &str,
    record_args: &[&str],
) -> (Run, Vec<String>) {
    let d = dir.to_string_lossy();
    let mut args = vec!["record", &d, "--seconds", seconds, "--arm", "2"];
    args.extend_from_slice(record_args);
    let run = w.overdub(&args).ok();
    assert!(
        run.stdout.contains("measured by `overdub latency`"),
        "{}",
        run.stdout
    );
    let info = w.info(dir);
    let clip = &clips(&info, 1)[0];
    let (pos, off) = (
        clip["position"].as_u64().expect("position"),
        clip["offset"].as_u64().expect("offset"),
    );
    let (_, take) = read_wav(&dir.join("audio").join(clip["file"].as_str().expect("file")));
    let rate = info["rate"].as_u64().expect("rate") as f64;
    let rolled = (seconds.parse::<f64>().expect("seconds") * rate) as u64;
    let mut misses = Vec::new();
    for &c in CLICKS.iter().filter(|&&c| c + 4_000 < rolled.min(120_000)) {
        match find_click(&take, c, pos, off) {
            None => misses.push(format!("click at {c} did not come back")),
            Some(off_by) if off_by.abs() > 1 => misses.push(format!(
                "click at timeline {c} is {off_by} frames off in the take"
            )),
            Some(_) => {}
        }
    }
    (run, misses)
}

/// The frames the duplex bridge reported slipped in a `record` run's summary (0 when the run
/// went through no bridge).
pub fn bridge_slips(run: &Run) -> u64 {
    number_before(&run.stdout, " frames slipped")
}

/// Where the click at timeline frame `c` is in a take placed at `pos` with file offset `off`:
/// frames off from where it belongs (searched within ±2000 frames), None if it is not there.
pub fn find_click(take: &[f32], c: u64, pos: u64, off: u64) -> Option<i64> {
    // Timeline frame c of the clip is file frame c - pos + off.
    let want = (c + off).checked_sub(pos)? as usize;
    let lo = want.saturating_sub(2_000);
    let hi = (want + 2_000).min(take.len());
    let found = lo
        + take
            .get(lo..hi)?
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .map(|(i, _)| i)?;
    (take[found].abs() > 0.5).then(|| found as i64 - want as i64)
}

/// The frames where a take has clicks (samples above 0.5, at least 1000 frames apart).
pub fn click_frames(take: &[f32]) -> Vec<usize> {
    let mut found: Vec<usize> = Vec::new();
    for (i, s) in take.iter().enumerate() {
        if s.abs() > 0.5 && found.last().is_none_or(|&l| i > l + 1_000) {
            found.push(i);
        }
    }
    found
}

/// The device flags that send the master of a [`jack_loopback_world`] round its loopback: out on
/// channel 9, back on input 9 (input 8, 0-based, for a track) one period later.
pub const JACK_LOOPBACK: [&str; 4] = ["--host", "jack", "--master-out", "9"];

/// A world with a JACK dummy server at `rate` and `period` whose loopback has been measured (and
/// the measurement stored for the takes): one period.
pub fn jack_loopback_world(rate: u32, period: u32) -> World {
    let w = World::with_jack_at(rate, period);
    let probe = ["--host", "jack", "--in-channel", "9", "--out-channel", "9"];
    assert_eq!(measure(&w, &probe), u64::from(period), "one period");
    w
}

/// Run `overdub ARGS` for a take. None when a real server counted a loss in it (an xrun: such a
/// take says nothing about where audio lands, so it is recorded again); the virtual device's
/// xruns are a late timer thread, which loses nothing, so they never count.
pub fn take_unless_lost(w: &World, args: &[&str], tag: &str) -> Option<Run> {
    let run = w.overdub(args).ok();
    if !args.contains(&"virtual") && losses_counted(&run.stdout) > 0 {
        eprintln!("{tag}: the device lost audio; again\n{}", run.stdout);
        return None;
    }
    Some(run)
}

/// Run `take` (attempt 1, 2, 3) until one comes back whole (true); fail if none does.
pub fn whole_within_three(mut take: impl FnMut(usize) -> bool) {
    assert!(
        (1..=3).any(&mut take),
        "the device lost audio in each of three takes"
    );
}

/// Xruns, bridge slips and driver shifts that `record` printed.
pub fn losses_counted(stdout: &str) -> u64 {
    number_after(stdout, "xruns: ")
        + number_before(stdout, " frames slipped")
        + number_before(stdout, " frames shifted by the driver")
}

/// The sum of the whole numbers `stdout` prints just before `label` ("256 frames slipped").
pub fn number_before(stdout: &str, label: &str) -> u64 {
    stdout
        .lines()
        .filter_map(|l| l.split_once(label))
        .filter_map(|(before, _)| before.split_whitespace().last()?.parse::<u64>().ok())
        .sum()
}

/// The sum of the numbers `stdout` prints after `key`.
pub fn number_after(stdout: &str, key: &str) -> u64 {
    stdout
        .lines()
        .filter_map(|l| l.split(key).nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .filter_map(|n| n.parse::<u64>().ok())
        .sum()
}
