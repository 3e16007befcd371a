//! A clean minute, or proof that every loss in it was the machine's: a witness saw it stall.

use std::time::{Duration, SystemTime};

use crate::in_step::server_late;
use crate::witness::{self, Seen, Stall, Witness, xrun_clock};
use crate::{InStep, World, measure_then_record, number_after, number_before};

/// A minute of overdub at 48 kHz and `buffer` frames on `dev` (whose flags set that buffer) with
/// nothing lost: 0 xruns, 0 bridge slips, 0 shifts, every click back, in step and within `within`
/// frames of the clicks. A [`Witness`] watches the machine through each minute. A minute that was
/// not clean is recorded again, up to three, and fails the test at once unless every loss in it
/// is the machine's: each xrun the recorder logged fell where the witness, at the recorder's
/// priority, was kept from running for half a block or more, each shift the callbacks' timing
/// showed was noticed within [`SHIFT_NEAR`] of such a stall, and nothing was lost without an xrun
/// or a shift. Three such minutes pass, said so: no recorder keeps its deadlines through a machine that
/// stops it, and this one was not given a clean minute to show it. A take that changed with
/// nothing counted fails at once. What each minute cost is printed, named `what`.
pub fn a_clean_minute_unless_the_machine_stalls(
    w: &World,
    dev: &[&str],
    buffer: u32,
    what: &str,
    within: i64,
) {
    let block = Duration::from_secs_f64(f64::from(buffer) / 48_000.0);
    for attempt in 1..=3 {
        let witness = Witness::start();
        let report = measure_then_record(w, dev, 48_000, buffer, 60, attempt);
        let seen = witness.stop();
        eprintln!(
            "{what}, a minute at {buffer} frames: {report}\n{}\nthe machine: {} stalls of half a \
             block or more (longest {:.1} ms) at realtime priority",
            report.costs(),
            seen.longer_than(block / 2),
            seen.longest().as_secs_f64() * 1e3,
        );
        assert!(report.stdout.contains("(60.000 s)"), "{}", report.stdout);
        let whole = report.in_step() && report.offset.abs() <= within;
        assert!(
            whole || report.losses > 0,
            "the take changed and no loss was counted: {report}\n{}",
            report.stdout
        );
        if whole && report.losses == 0 {
            return;
        }
        match the_machines_doing(&report, &seen, block) {
            Ok(why) => eprintln!(
                "attempt {attempt}: not clean, {why}; again{}",
                server_late(w)
            ),
            Err(why) => panic!(
                "attempt {attempt}: {why}{}\n{}",
                server_late(w),
                report.stdout
            ),
        }
    }
    eprintln!("no clean minute in three: the machine stalled the recorder in each");
}

/// Ok (saying how) when every loss in `report` fell where `seen` shows the machine stalled a
/// realtime thread for at least half a `block`; Err saying which loss did not.
fn the_machines_doing(report: &InStep, seen: &Seen, block: Duration) -> Result<String, String> {
    if !seen.realtime {
        return Err(
            "losses, and the witness could not run at realtime priority to tell whose".into(),
        );
    }
    let (near, at) = xruns_and_stalls(report, seen)?;
    let shifts = shifts_and_stalls(report, seen)?;
    if at.is_empty() && shifts.is_empty() {
        return Err(
            "frames lost with no xrun and no shift: the bridge's or the driver's, not a stall"
                .into(),
        );
    }
    let mut how = Vec::new();
    for (i, (t, stall)) in shifts.iter().enumerate() {
        match stall {
            Some(s) if s.late >= block / 2 => how.push(format!(
                "shift {} noticed {} ms after a {:.1} ms stall on cpu {}",
                i + 1,
                witness::signed_ms(*t, s.woke),
                s.late.as_secs_f64() * 1e3,
                s.cpu,
            )),
            s => {
                return Err(format!(
                    "shift {} of {} with no stall of half a block within {} ms (the longest \
                     there: {:.1} ms): the driver moved input against output, or the recorder \
                     misread its timing (stalls within two seconds: {})",
                    i + 1,
                    shifts.len(),
                    SHIFT_NEAR.as_millis(),
                    s.map_or(0.0, |s| s.late.as_secs_f64() * 1e3),
                    seen.around(*t, 2 * SHIFT_NEAR)
                ));
            }
        }
    }
    for (i, (t, stall)) in at.iter().enumerate() {
        match stall {
            Some(s) if s.late >= block / 2 => how.push(format!(
                "xrun {} in a {:.1} ms stall on cpu {} ({:+} ms)",
                i + 1,
                s.late.as_secs_f64() * 1e3,
                s.cpu,
                witness::signed_ms(s.woke, *t)
            )),
            s => {
                return Err(format!(
                    "xrun {} of {} with no stall of half a block within {} ms (the longest \
                     there: {:.1} ms): a loss of the recorder's own (stalls within a second: {})",
                    i + 1,
                    at.len(),
                    near.as_millis(),
                    s.map_or(0.0, |s| s.late.as_secs_f64() * 1e3),
                    seen.around(*t, Duration::from_secs(1))
                ));
            }
        }
    }
    Ok(how.join(", "))
}

/// How near a stall a shift by the driver must be noticed: the callbacks' timing is read over
/// the last second (`overdub_engine::rt::CALLBACK_WINDOW_SECONDS`), so a stall shows in it up to
/// a second later, plus the 100 ms an xrun is given.
const SHIFT_NEAR: Duration = Duration::from_millis(1_100);

/// Each shift by the driver `record` reported in `report`, by the time of day it printed, with
/// the longest stall `seen` within [`SHIFT_NEAR`] of it. Err unless shifts were counted only
/// with their times.
fn shifts_and_stalls(report: &InStep, seen: &Seen) -> Result<Vec<XrunStall>, String> {
    let frames = number_before(&report.stdout, " frames shifted by the driver");
    let at = witness::shift_clock(&report.stdout, SystemTime::now())
        .filter(|at| at.is_empty() == (frames == 0))
        .ok_or_else(|| format!("{frames} frames shifted by the driver, not each with its time"))?;
    Ok(at
        .into_iter()
        .map(|t| (t, seen.stall_near(t, SHIFT_NEAR)))
        .collect())
}

/// An xrun's time of day and the longest stall a witness saw near it.
pub type XrunStall = (SystemTime, Option<Stall>);

/// Each xrun `record` logged in `report`, by the time of day it printed, with the longest stall
/// `seen` near it; and how near counts: 100 ms (the block it was noticed in, the estimate of when
/// the stream started) and the frames lost before it. Err unless every xrun has its time.
pub fn xruns_and_stalls(
    report: &InStep,
    seen: &Seen,
) -> Result<(Duration, Vec<XrunStall>), String> {
    let xruns = number_after(&report.stdout, "xruns: ");
    let at = xrun_clock(&report.stdout, SystemTime::now())
        .filter(|at| at.len() as u64 == xruns)
        .ok_or_else(|| format!("{xruns} xruns, not each with its time"))?;
    let near = Duration::from_millis(100) + Duration::from_secs_f64(report.losses as f64 / 48e3);
    let found = at
        .into_iter()
        .map(|t| (t, seen.stall_near(t, near)))
        .collect();
    Ok((near, found))
}

#[cfg(test)]
mod tests {
    use overdub_engine::recorder::time_of_day;

    use super::*;
    use crate::witness::Stall;

    /// A report of a take whose only loss is a shift of 256 frames, noticed at `at` (None: no
    /// time printed).
    fn shifted(at: Option<SystemTime>) -> InStep {
        let mut stdout = "xruns: 0  dsp load: peak 1.0% mean 0.10%\nbridge: 256.0 frames added, \
                          0 frames slipped, 0 frames grown mid-take, 256 frames shifted by the \
                          driver  callback threads: realtime\n"
            .to_string();
        if let Some(t) = at {
            stdout += &format!("driver shifts noticed at: {}\n", time_of_day(t));
        }
        InStep {
            round_trip: 768,
            offset: 0,
            missing: 0,
            out_of_step: 0,
            moved: 0,
            losses: 256,
            stdout,
        }
    }

    #[test]
    fn a_shift_is_the_machines_only_when_noticed_near_a_stall_of_half_a_block() {
        let stalled = SystemTime::now() - Duration::from_secs(30);
        let block = Duration::from_secs_f64(256.0 / 48_000.0);
        let seen = |late_ms: u64| Seen {
            realtime: true,
            stalls: vec![Stall {
                cpu: 1,
                woke: stalled,
                late: Duration::from_millis(late_ms),
            }],
        };
        let after = |ms: u64| Some(stalled + Duration::from_millis(ms));
        let ok = the_machines_doing(&shifted(after(700)), &seen(8), block);
        assert!(ok.is_ok(), "{ok:?}");
        let far = the_machines_doing(&shifted(after(3_000)), &seen(8), block);
        assert!(far.is_err_and(|e| e.contains("shift 1 of 1")));
        let short = the_machines_doing(&shifted(after(700)), &seen(1), block);
        assert!(
            short.is_err(),
            "a stall shorter than half a block explains nothing"
        );
        let untimed = the_machines_doing(&shifted(None), &seen(8), block);
        assert!(untimed.is_err_and(|e| e.contains("not each with its time")));
    }
}
