//! Measure in one opening of a device, record against clicks in the next, and say what came back.

use std::time::Duration;

use crate::{World, click_frames, click_session_with, clips, losses_counted, measure, read_wav};

/// What [`measure_then_record`] found.
#[derive(Debug)]
pub struct InStep {
    /// The measured round trip, frames.
    pub round_trip: u64,
    /// Where the take put the first click against the timeline, frames (0: to the frame).
    pub offset: i64,
    /// Clicks that did not come back.
    pub missing: usize,
    /// Pairs of clicks not one interval apart.
    pub out_of_step: usize,
    /// Pairs of clicks not a whole number of intervals apart: a click moved, not just lost.
    pub moved: usize,
    /// Xruns and bridge slips counted during the take.
    pub losses: u64,
    /// What `record` printed.
    pub stdout: String,
}

impl InStep {
    /// Every click that played came back, each one interval after the last.
    pub fn in_step(&self) -> bool {
        self.missing == 0 && self.out_of_step == 0
    }

    /// The lines of `record`'s report that say what the run cost (xruns, disk, bridge).
    pub fn costs(&self) -> String {
        self.stdout
            .lines()
            .filter(|l| {
                ["xruns:", "xruns the driver did not report:", "bridge:"]
                    .iter()
                    .any(|p| l.starts_with(p))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl std::fmt::Display for InStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "measured round trip {}, take {} frames off the timeline, {} clicks missing, {} out \
             of step, {} losses counted",
            self.round_trip, self.offset, self.missing, self.out_of_step, self.losses
        )
    }
}

/// On a device whose output 1 is cabled to its input 1 (`dev`: the device flags): measure the
/// round trip in one opening of the device, then record `seconds` on track 2 against a click
/// track (clicks every quarter second and a bit) in another, and check the take on disk: every
/// click that played came back, each exactly one interval after the last (no frame lost, repeated
/// or moved inside the take), and the take lies on the timeline within one frame of the clicks.
/// `block` is the largest period in the path, for the margin at the take's end.
///
/// A take in which the device lost audio (clicks missing or out of step, or xruns or bridge slips
/// counted) says nothing about where the take lies, only that a loss that moved clicks was
/// counted: such a pair is done again, up to three times, and one must come back whole.
/// `within`: how many frames off the clicks a whole take may lie (1 wherever the bridge's timing
/// allows it).
pub fn measure_then_record_aligned(
    w: &World,
    dev: &[&str],
    rate: u32,
    block: u32,
    seconds: u32,
    within: i64,
) -> InStep {
    for attempt in 1..=3 {
        let report = measure_then_record(w, dev, rate, block, seconds, attempt);
        let whole = report.in_step() && report.losses == 0;
        if whole {
            assert!(
                report.offset.abs() <= within,
                "the take lies {} frames off the clicks it was recorded against: {report}\n{}",
                report.offset,
                report.stdout
            );
            return report;
        }
        assert!(
            report.losses > 0,
            "clicks missing or out of step in the take, and no loss was counted: {report}\n{}",
            report.stdout
        );
        // (A loss counted with every click in step is a loss the bridge kept in place.)
        eprintln!(
            "attempt {attempt}: the device lost audio ({report}); again{}",
            server_late(w)
        );
    }
    panic!("the device lost audio in each of three takes");
}

/// What the world's JACK server said of its own timing so far, for a test's report.
pub(crate) fn server_late(w: &World) -> String {
    w.jack.as_ref().map_or(String::new(), |j| {
        format!(
            " (so far the JACK server ran {} cycles late and its clients missed {})",
            j.late_cycles(),
            j.missed_client_cycles()
        )
    })
}

/// [`measure_then_record_aligned`] without the checks, once (`attempt` names the session
/// folder): what came back.
pub fn measure_then_record(
    w: &World,
    dev: &[&str],
    rate: u32,
    block: u32,
    seconds: u32,
    attempt: usize,
) -> InStep {
    measure_then_record_stalled(w, dev, rate, block, seconds, attempt, None)
}

/// [`measure_then_record`], with the recording process stopped for a while as `stall` says (see
/// [`World::overdub_stalled`]).
pub fn measure_then_record_stalled(
    w: &World,
    dev: &[&str],
    rate: u32,
    block: u32,
    seconds: u32,
    attempt: usize,
    stall: Option<(Duration, Duration)>,
) -> InStep {
    let round_trip = measure(w, dev);
    record_in_step(w, dev, rate, block, seconds, attempt, stall, round_trip)
}

/// The second half of [`measure_then_record_stalled`]: record against the clicks with whatever
/// measurement the world's settings hold (`round_trip`: the one made before, for the report).
#[allow(clippy::too_many_arguments)]
pub fn record_in_step(
    w: &World,
    dev: &[&str],
    rate: u32,
    block: u32,
    seconds: u32,
    attempt: usize,
    stall: Option<(Duration, Duration)>,
    round_trip: u64,
) -> InStep {
    assert!(round_trip > 0, "a round trip");
    let spacing = u64::from(rate) / 4 + 37;
    let length = u64::from(seconds + 1) * u64::from(rate);
    let clicks: Vec<u64> = (1..)
        .map(|k| k * spacing)
        .take_while(|&c| c < length)
        .collect();
    let dir = w.path(&format!("clicks-{attempt}"));
    click_session_with(&dir, w, rate, 0, &clicks, length);
    let d = dir.to_string_lossy().into_owned();
    let secs = seconds.to_string();
    let mut rec = vec![
        "record",
        &d,
        "--seconds",
        &secs,
        "--arm",
        "2",
        "--master-out",
        "1",
    ];
    rec.extend_from_slice(dev);
    let run = w.overdub_stalled(&rec, stall).ok();
    let info = w.info(&dir);
    let clip = &clips(&info, 1)[0];
    let (pos, off) = (
        clip["position"].as_u64().expect("position"),
        clip["offset"].as_u64().expect("offset"),
    );
    let (_, take) = read_wav(&dir.join("audio").join(clip["file"].as_str().expect("file")));
    let found = click_frames(&take);
    // Every click that played before the take ended came back (give or take a few periods), each
    // one interval after the last. Where the device lost audio, the loss must have been counted
    // (an xrun or a bridge slip): a take never changes silently.
    let margin = 4 * u64::from(block);
    let expected = clicks
        .iter()
        .filter(|&&c| c + off + margin < take.len() as u64 + pos)
        .count();
    let broken: Vec<(usize, usize)> = found
        .windows(2)
        .filter(|p| (p[1] - p[0]) as u64 != spacing)
        .map(|p| (p[0], p[1]))
        .collect();
    for (a, b) in broken.iter().take(4) {
        eprintln!(
            "clicks at take frames {a} and {b}: {} frames apart, not {spacing}",
            b - a
        );
    }
    let counted = losses_counted(&run.stdout);
    assert!(
        !found.is_empty() && expected > 0,
        "no click came back\n{}",
        run.stdout
    );
    let first_on_timeline = found[0] as i64 - off as i64 + pos as i64;
    InStep {
        round_trip,
        offset: first_on_timeline - clicks[0] as i64,
        missing: expected.saturating_sub(found.len()),
        out_of_step: broken.len(),
        moved: broken
            .iter()
            .filter(|(a, b)| !((b - a) as u64).is_multiple_of(spacing))
            .count(),
        losses: counted,
        stdout: run.stdout,
    }
}
