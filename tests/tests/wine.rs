//! The Windows build, run: `overdub.exe` (cross-built for x86_64-pc-windows-gnu with the ASIO
//! host) under Wine, against a JACK dummy server. ASIO through WineASIO, an ASIO driver that is a
//! JACK client: ASIO calls input and output from one buffer switch, so this is the real test that
//! the bridge adds nothing there (the round trip is the JACK loopback's own period). WASAPI
//! through Wine's ALSA driver on the JACK-paced ALSA device. ASIO and WASAPI run in separate
//! processes (probing both in one process hangs under Wine). `make wine` prepares the exe and
//! the prefix; `make test` runs it first.

use overdub_tests::{Wine, World, measure_then_record, one_at_a_time};

// The tests share one Wine prefix (one wineserver) and each runs a realtime JACK server, so they
// run one at a time. Three at once on two cores once made Wine so slow that WineASIO could not
// open its JACK client in time ("Unable to open a JACK client as: overdub", a cold CI run of
// `ec98c41`).

/// A world that runs `overdub.exe` under Wine against a realtime JACK server at `period`.
fn asio_world(period: u32) -> World {
    let mut w = World::new();
    w.jack = Some(overdub_tests::JackServer::start_with(48_000, period, true));
    w.wine = Some(Wine::prepared());
    // WineASIO connects its ports to the server's physical ones in order: the dummy driver's 8
    // system ports, then the loopback pair, so ASIO channel 9 is the loopback cable.
    w.env
        .push(("WINEASIO_CONNECT_TO_HARDWARE".into(), "on".into()));
    w.env.push(("WINEASIO_NUMBER_INPUTS".into(), "16".into()));
    w.env.push(("WINEASIO_NUMBER_OUTPUTS".into(), "16".into()));
    w
}

#[test]
fn asio_under_wine_adds_nothing_to_the_loopback_and_takes_line_up() {
    let _one = one_at_a_time();
    for period in [128, 256] {
        let w = asio_world(period);
        let devices = w.overdub(&["devices", "--host", "asio"]).ok();
        assert!(devices.stdout.contains("WineASIO"), "{}", devices.stdout);
        assert!(
            devices.stdout.contains(&format!("{period} frames")),
            "the ASIO buffer is the JACK period: {}",
            devices.stdout
        );
        let dev = ["--host", "asio", "--in-channel", "9", "--out-channel", "9"];
        let got = overdub_tests::measure(&w, &dev);
        assert_eq!(
            got,
            u64::from(period),
            "ASIO's buffer switch runs input then output: the round trip is the loopback's own \
             period, the bridge adds 0"
        );
        let dir = w.path("clicks");
        overdub_tests::click_session(&dir, &w, 48_000, 8);
        overdub_tests::assert_take_lines_up(
            &w,
            &dir,
            "2.4",
            &["--host", "asio", "--master-out", "9"],
        );
        // The buffer belongs to the JACK server: tune runs it and says so.
        let tune = w
            .overdub(&["tune", "--host", "asio", "--seconds", "1"])
            .ok();
        assert!(
            tune.stdout
                .contains(&format!("recommended: {period} frames")),
            "{}",
            tune.stdout
        );
        assert!(tune.stdout.contains("limited by: "), "{}", tune.stdout);
    }
}

/// WASAPI under Wine, at two JACK periods: measured, and a take recorded while a click track plays
/// holds every click in step (or the loss is counted). Not asserted: that the take lies within a
/// frame of the clicks after a measurement made in an earlier opening. Wine's WASAPI buffers
/// ahead of its ALSA driver by an amount that changes from one opening to the next (round trips
/// of 3168 to 4096 frames measured at these periods) without showing in when the callbacks run,
/// so the bridge cannot read it; the offset is printed.
#[test]
fn wasapi_under_wine_measures_and_records_in_step_at_two_periods() {
    let _one = one_at_a_time();
    for period in [256, 512] {
        let mut w = World::with_alsa_default_on_jack(48_000, period);
        w.wine = Some(Wine::prepared());
        let devices = w.overdub(&["devices", "--host", "wasapi"]).ok();
        assert!(devices.stdout.contains("wasapi"), "{}", devices.stdout);
        let report = measure_then_record(&w, &["--host", "wasapi"], 48_000, 2048, 3, 1);
        eprintln!("WASAPI under Wine on JACK at 48000 Hz, period {period}: {report}");
        assert!(
            report.losses > 0 || report.in_step(),
            "clicks missing or out of step in the take, and no loss was counted: {report}\n{}",
            report.stdout
        );
    }
}

#[test]
fn the_asio_driver_opens_its_control_panel_from_overdub() {
    let _one = one_at_a_time();
    let mut w = asio_world(256);
    // WineASIO's control panel runs `wineasio-settings` from PATH: a stand-in that leaves a mark.
    let bin = w.path("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let mark = w.path("panel-opened");
    let script = bin.join("wineasio-settings");
    std::fs::write(&script, format!("#!/bin/sh\ntouch '{}'\n", mark.display())).expect("script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let path = std::env::var("PATH").unwrap_or_default();
    w.env
        .push(("PATH".into(), format!("{}:{path}", bin.display())));
    let run = w.overdub(&["control-panel", "--host", "asio"]).ok();
    assert!(run.stdout.contains("control panel"), "{}", run.stdout);
    let start = std::time::Instant::now();
    while !mark.exists() && start.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(mark.exists(), "the driver ran its control panel");
}

/// A minute of overdub through WASAPI under Wine at a JACK period of 256, with what it cost
/// printed (for the README's figures). Not run by default: it needs a minute, and no minute has
/// been clean here: Wine's WASAPI calls back with its threads late by more than the bridge's
/// cushion now and then, and the bridge drops and counts the input that comes too late (320 to
/// 83 968 frames in four minutes on 2026-12-07, the device cabled straight). Run it with
/// `--ignored --nocapture`.
#[test]
#[ignore = "a minute long; prints figures, run by hand"]
fn wasapi_under_wine_records_a_minute() {
    let _one = one_at_a_time();
    let mut w = World::with_alsa_default_on_jack(48_000, 256);
    w.wine = Some(Wine::prepared());
    let report = measure_then_record(&w, &["--host", "wasapi"], 48_000, 2048, 60, 1);
    eprintln!(
        "WASAPI under Wine, a minute at JACK period 256: {report}\n{}",
        report.costs()
    );
    assert!(report.stdout.contains("(60.000 s)"), "{}", report.stdout);
    assert!(
        report.losses > 0 || report.in_step(),
        "clicks missing or out of step in the take, and no loss was counted: {report}\n{}",
        report.stdout
    );
}
