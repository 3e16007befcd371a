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

use overdub_tests::{World, measure_then_record, measure_then_record_aligned};

const SINK: &str = "cpal-test-sink";

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

impl Drop for PipeWire {
    fn drop(&mut self) {
        let _ = Command::new(script("stop-pipewire.sh"))
            .arg(self.dir.path())
            .status();
    }
}

fn pipewire(buffer: u32) -> Vec<String> {
    [
        "--host", "pipewire", "--input", SINK, "--output", SINK, "--buffer",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([buffer.to_string()])
    .collect()
}

#[test]
fn pipewire_is_listed_measured_and_takes_line_up_at_two_buffer_sizes() {
    let pw = PipeWire::start();
    let devices = pw.world().overdub(&["devices"]).ok();
    assert!(devices.stdout.contains(SINK), "{}", devices.stdout);
    for buffer in [256, 1024] {
        let w = pw.world();
        let dev = pipewire(buffer);
        let dev: Vec<&str> = dev.iter().map(String::as_str).collect();
        let report = measure_then_record_aligned(&w, &dev, 48_000, buffer, 3, false, 1);
        eprintln!("PipeWire at 48000 Hz, buffer {buffer}: {report}");
    }
}

#[test]
fn tune_finds_a_buffer_size_on_pipewire_and_says_what_limited_it() {
    let pw = PipeWire::start();
    let w = pw.world();
    let run = w
        .overdub(&[
            "tune",
            "--host",
            "pipewire",
            "--input",
            SINK,
            "--output",
            SINK,
            "--seconds",
            "1",
        ])
        .ok();
    eprintln!("{}", run.stdout);
    assert!(run.stdout.contains("recommended: "), "{}", run.stdout);
    assert!(run.stdout.contains("limited by: "), "{}", run.stdout);
}

/// A minute of overdub at 256 frames: every click back, in step and within a frame of where it
/// belongs, or the loss counted (an xrun, a bridge slip, or the driver shifting input against
/// output, which the private PipeWire on a busy two-core machine does now and then). What it
/// cost is printed.
#[test]
fn pipewire_records_a_minute_and_counts_any_loss() {
    let pw = PipeWire::start();
    let w = pw.world();
    let dev = pipewire(256);
    let dev: Vec<&str> = dev.iter().map(String::as_str).collect();
    let report = measure_then_record(&w, &dev, 48_000, 256, 60, 1);
    eprintln!(
        "PipeWire, a minute at 256 frames: {report}\n{}",
        report.costs()
    );
    assert!(report.stdout.contains("(60.000 s)"), "{}", report.stdout);
    let whole = report.in_step() && report.offset.abs() <= 1;
    assert!(
        whole || report.losses > 0,
        "the take changed and no loss was counted: {report}\n{}",
        report.stdout
    );
}
