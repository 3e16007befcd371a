//! cpal's PipeWire host against a real PipeWire: a private, headless daemon (pipewire and
//! wireplumber, started by `tests/pipewire/start-pipewire.sh` in a temporary runtime folder) with
//! a null sink. cpal's input stream on a sink records what is played into it, so the sink is a
//! loopback cable: output 1 comes back on input 1. The host is listed, the round trip is measured,
//! and a take recorded while a click track plays holds every click in step.
//!
//! The sink's monitor reaches cpal's input stream in the same graph cycle or the next, depending
//! on the order PipeWire settles on when the streams start, and cpal reports no latency for either
//! stream, so the round trip can differ by one quantum from one opening to the next (measured 3072
//! and 4096 frames at 1024). The bridge reads that from when its callbacks are called, so a take
//! still lies within one frame of the clicks after a measurement made in an earlier opening.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use overdub_tests::witness::Witness;
use overdub_tests::{
    World, a_clean_minute_unless_the_machine_stalls, bridge_slips, measure_then_record_aligned,
    measure_then_record_stalled, one_at_a_time, record_in_step, xruns_and_stalls,
};

const SINK: &str = "cpal-test-sink";

// Each test starts its own PipeWire and WirePlumber and runs a recorder against it, so they run
// one at a time: four daemons and four recorders at once on two cores made PipeWire skip the
// recorder's cycles (counted, and in place, but then no test of a clean minute or of what one
// stall costs: cold CI runs of `fd49b4e`).

/// A private PipeWire, stopped on drop.
struct PipeWire {
    dir: tempfile::TempDir,
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("pipewire")
        .join(name)
}

impl PipeWire {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = Command::new(script("start-pipewire.sh"))
            .arg(dir.path())
            .output()
            .expect("pipewire and wireplumber must be installed; .ci/run installs them");
        assert!(
            out.status.success(),
            "PipeWire did not start: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Self { dir }
    }

    /// A world whose runs reach this PipeWire (and no JACK server).
    fn world(&self) -> World {
        let mut w = World::new();
        let run = self.dir.path().to_string_lossy().into_owned();
        w.env.push(("XDG_RUNTIME_DIR".into(), run.clone()));
        w.env.push(("PIPEWIRE_RUNTIME_DIR".into(), run));
        w
    }
}

impl PipeWire {
    /// Set the server's quantum for every stream, as `pw-metadata` does (0: free again).
    fn set_quantum(&self, frames: u32) {
        let out = Command::new("pw-metadata")
            .args([
                "-n",
                "settings",
                "0",
                "clock.force-quantum",
                &frames.to_string(),
            ])
            .env("XDG_RUNTIME_DIR", self.dir.path())
            .env("PIPEWIRE_RUNTIME_DIR", self.dir.path())
            .output()
            .expect("pw-metadata comes with pipewire");
        assert!(out.status.success(), "pw-metadata: {out:?}");
    }
}

impl Drop for PipeWire {
    fn drop(&mut self) {
        let _ = Command::new(script("stop-pipewire.sh"))
            .arg(self.dir.path())
            .status();
    }
}

/// The device flags for the sink, in and out.
const ON_SINK: [&str; 6] = ["--host", "pipewire", "--input", SINK, "--output", SINK];

fn pipewire(buffer: u32) -> Vec<String> {
    ON_SINK
        .iter()
        .map(|s| s.to_string())
        .chain(["--buffer".to_string(), buffer.to_string()])
        .collect()
}

/// `overdub tune` on the sink for `seconds` a size.
fn tune(w: &World, seconds: &str) -> String {
    let mut args = vec!["tune", "--seconds", seconds];
    args.extend(ON_SINK);
    w.overdub(&args).ok().stdout
}

#[test]
fn pipewire_is_listed_measured_and_takes_line_up_at_two_buffer_sizes() {
    let _one = one_at_a_time();
    let pw = PipeWire::start();
    let devices = pw.world().overdub(&["devices"]).ok();
    assert!(devices.stdout.contains(SINK), "{}", devices.stdout);
    for buffer in [256, 1024] {
        let w = pw.world();
        let dev = pipewire(buffer);
        let dev: Vec<&str> = dev.iter().map(String::as_str).collect();
        let report = measure_then_record_aligned(&w, &dev, 48_000, buffer, 3, 1);
        eprintln!("PipeWire at 48000 Hz, buffer {buffer}: {report}");
    }
}

/// PipeWire runs all its streams at one quantum: a power of two at or below the smallest size
/// asked, or the one its server is set to (here `clock.force-quantum` 256, as a user's
/// `pw-metadata` or another program's settings would). Overdub says what it runs, keeps the
/// measurement for the size it ran, and a take recorded at another size asked that runs at the
/// same quantum uses it and lines up. (Kept under the size asked, the measurement made asking
/// 1024 would not be found for a take asking 512, and the take would lie hundreds of frames off,
/// compensated by what the driver reports.) `overdub tune` labels each size it asked for with the
/// 256 that ran, and says that is what limited it. Then 384 asked, with the server free again,
/// runs 256.
#[test]
fn measurements_follow_the_quantum_pipewire_runs_not_the_size_asked() {
    let _one = one_at_a_time();
    let pw = PipeWire::start();
    pw.set_quantum(256);
    let w = pw.world();
    let measure_at = pipewire(1024);
    let measure_at: Vec<&str> = measure_at.iter().map(String::as_str).collect();
    let record_at = pipewire(512);
    let record_at: Vec<&str> = record_at.iter().map(String::as_str).collect();
    let mut latency = vec!["latency"];
    latency.extend_from_slice(&measure_at);
    for attempt in 1..=3 {
        let measured = w.overdub(&latency).ok();
        for said in [
            "48000 Hz, 256 frames (5.33 ms) per buffer",
            "buffer: 1024 frames asked for; pipewire runs 256 frames",
            "at 48000 Hz, 256 frames: `overdub record` compensates",
        ] {
            assert!(
                measured.stdout.contains(said),
                "{said}:\n{}",
                measured.stdout
            );
        }
        let round_trip = overdub_tests::number_after(&measured.stdout, "measured round trip: ");
        let report = record_in_step(&w, &record_at, 48_000, 256, 3, attempt, None, round_trip);
        eprintln!("PipeWire set to 256, measured asking 1024, recorded asking 512: {report}");
        assert!(
            report
                .stdout
                .contains("buffer: 512 frames asked for; pipewire runs 256 frames"),
            "{}",
            report.stdout
        );
        if report.in_step() && report.losses == 0 {
            assert!(
                report.stdout.contains("measured by `overdub latency`"),
                "the measurement made at the quantum the take ran at: {}",
                report.stdout
            );
            assert!(
                report.offset.abs() <= 1,
                "the take lies {} frames off the clicks: {report}\n{}",
                report.offset,
                report.stdout
            );
            break;
        }
        assert!(
            report.losses > 0 && attempt < 3,
            "clicks missing or out of step in each take (losses counted: {}): {report}\n{}",
            report.losses,
            report.stdout
        );
    }
    // Tune, asking every size, ran 256 each time and says so.
    let tuned = tune(&w, "0.5");
    for said in [
        "  256 frames ( 5.33 ms): ",
        "(512 asked for)",
        "(16 asked for)",
        "recommended: 256 frames",
        "limited by: asked for fewer frames, the driver still ran 256",
    ] {
        assert!(tuned.contains(said), "{said}:\n{tuned}");
    }
    pw.set_quantum(0);
    let mut asked = vec!["latency"];
    let odd = pipewire(384);
    asked.extend(odd.iter().map(String::as_str));
    let run = w.overdub(&asked).ok();
    assert!(
        run.stdout
            .contains("buffer: 384 frames asked for; pipewire runs 256 frames"),
        "{}",
        run.stdout
    );
}

/// A machine that stalls the recorder for 40 ms mid-take (the whole process stopped, as a VM or
/// a swap storm does) makes PipeWire run cycles without calling its streams, which it does not
/// report to cpal ("client missed N wakeups" in its own log). Each stream's callbacks are stamped
/// with the graph's cycle time, so the engine sees the cycles it missed: it counts them as xruns
/// and keeps everything after them in place. The take loses the stalled cycles and at most a few
/// more, and every click after them is still where it belongs on the timeline. If a take cost more
/// and one of its xruns fell where the machine itself stopped the recorder too (seen by a witness
/// thread on each processor), it says nothing about the stall alone and is recorded again, up to
/// three times; a take that cost more with no such xrun fails.
#[test]
fn a_stall_costs_the_stalled_cycles_in_place_and_is_counted() {
    let _one = one_at_a_time();
    let pw = PipeWire::start();
    let w = pw.world();
    let dev = pipewire(256);
    let dev: Vec<&str> = dev.iter().map(String::as_str).collect();
    let stall = (Duration::from_millis(2_500), Duration::from_millis(40));
    let block = Duration::from_secs_f64(256.0 / 48_000.0);
    for attempt in 1..=3 {
        let witness = Witness::start();
        let report = measure_then_record_stalled(&w, &dev, 48_000, 256, 5, attempt, Some(stall));
        let seen = witness.stop();
        eprintln!(
            "PipeWire, 256 frames, stalled 40 ms: {report}\n{}",
            report.costs()
        );
        assert!(report.stdout.contains("(5.000 s)"), "{}", report.stdout);
        assert!(
            report.stdout.contains("xruns: ") && !report.stdout.contains("xruns: 0 "),
            "the cycles missed are counted as xruns:\n{}",
            report.stdout
        );
        assert!(
            report.stdout.contains("xruns the driver did not report: "),
            "and said to be cycles PipeWire ran without the recorder:\n{}",
            report.stdout
        );
        // 40 ms is 1920 frames, on each side, and a few quanta more while the woken process
        // catches up (each counted: 13 quanta a side in the worst run seen, a cold CI run). A
        // bridge that lost its place kept dropping input for at least 64 pulls, 16 384 frames,
        // counting none.
        let slipped = bridge_slips(&overdub_tests::Run {
            code: Some(0),
            stdout: report.stdout.clone(),
            stderr: String::new(),
        });
        let in_place = report.moved == 0 && report.missing <= 1 && report.offset.abs() <= 1;
        if in_place && slipped <= 2 * (1_920 + 8 * 256) {
            return;
        }
        // The stall cost more than itself. Where the machine stopped the recorder too (an xrun
        // fell where the witness, at the recorder's priority, was kept from running for half a
        // block or more), the take says nothing about what the stall alone costs: again.
        let stopped = xruns_and_stalls(&report, &seen).map_or(0, |(_, at)| {
            at.iter()
                .filter(|(_, s)| s.is_some_and(|s| s.late >= block / 2))
                .count()
        });
        assert!(
            seen.realtime && stopped > 0,
            "the stall alone: no click moved, at most the one inside it missing, the take lined \
             up, at most {} frames slipped; {slipped} slipped, and no xrun fell where the machine \
             stopped the recorder (witness realtime: {}, longest stall {:.1} ms): {report}\n{}",
            2 * (1_920 + 8 * 256),
            seen.realtime,
            seen.longest().as_secs_f64() * 1e3,
            report.stdout
        );
        eprintln!(
            "attempt {attempt}: the machine stopped the recorder too ({stopped} xruns in stalls \
             of half a block or more); again"
        );
    }
    panic!("the machine stopped the recorder during each of three stalled takes");
}

#[test]
fn tune_finds_a_buffer_size_on_pipewire_and_says_what_limited_it() {
    let _one = one_at_a_time();
    let pw = PipeWire::start();
    let w = pw.world();
    let tuned = tune(&w, "1");
    eprintln!("{tuned}");
    assert!(tuned.contains("recommended: "), "{tuned}");
    assert!(tuned.contains("limited by: "), "{tuned}");
}

/// A minute of overdub at 256 frames with nothing lost: 0 xruns, 0 bridge slips, 0 shifts, every
/// click back, in step and within a frame of where it belongs. A machine that stalls the recorder
/// makes PipeWire skip its cycles, which is counted (see the stall test above) and not the
/// engine's doing: a witness thread on each processor watches the machine, and a minute that was
/// not clean is recorded again (up to three) only if every xrun in it fell in a stall the witness
/// saw; any other loss, or a minute that changed with nothing counted, fails at once. What each
/// cost is printed.
#[test]
fn pipewire_records_a_clean_minute() {
    let _one = one_at_a_time();
    let pw = PipeWire::start();
    let w = pw.world();
    let dev = pipewire(256);
    let dev: Vec<&str> = dev.iter().map(String::as_str).collect();
    a_clean_minute_unless_the_machine_stalls(&w, &dev, 256, "PipeWire", 1);
}
