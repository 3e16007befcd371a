//! A clean minute, or proof that every loss in it was the machine's: a witness saw it stall.

use std::time::{Duration, SystemTime};

use crate::in_step::server_late;
use crate::witness::{self, Seen, Stall, Witness, xrun_clock};
use crate::{InStep, World, measure_then_record, number_after};

/// A minute of overdub at 48 kHz and `buffer` frames on `dev` (whose flags set that buffer) with
/// nothing lost: 0 xruns, 0 bridge slips, 0 shifts, every click back, in step and within `within`
/// frames of the clicks. A [`Witness`] watches the machine through each minute. A minute that was
/// not clean is recorded again, up to three, and fails the test at once unless every loss in it
/// is the machine's: each xrun the recorder logged fell where the witness, at the recorder's
/// priority, was kept from running for half a block or more, and nothing was lost without an
/// xrun. Three such minutes pass, said so: no recorder keeps its deadlines through a machine that
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
    if at.is_empty() {
        return Err("frames lost with no xrun: the bridge's or the driver's, not a stall".into());
    }
    let mut how = Vec::new();
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
