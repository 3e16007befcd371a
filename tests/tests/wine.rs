//! The Windows build, run: `overdub.exe` (cross-built for x86_64-pc-windows-gnu with the ASIO
//! host) under Wine, against a JACK dummy server. ASIO through WineASIO, an ASIO driver that is a
//! JACK client: ASIO calls input and output from one buffer switch, so this is the real test that
//! the bridge adds nothing there (the round trip is the JACK loopback's own period). WASAPI
//! through Wine's ALSA driver on the JACK-paced ALSA device. ASIO and WASAPI run in separate
//! processes (probing both in one process hangs under Wine). `make wine` prepares the exe and
//! the prefix; `make test` runs it first.

use std::time::Duration;

use overdub_tests::witness::Witness;
use overdub_tests::{Wine, World, measure_then_record, number_after, number_before, one_at_a_time};

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
/// holds every click in step (or the loss is counted). The periods are 240 and 480 frames at
/// 48 kHz (5 and 10 ms), which the dummy driver's timer keeps exactly, as for the minute below:
/// at 256 and 512 these takes lost input now and then (counted) for the clock's sake, not the
/// recorder's. Not asserted: that the take lies within a frame of the clicks after a measurement
/// made in an earlier opening. Wine's WASAPI buffers ahead of its ALSA driver by an amount that
/// changes from one opening to the next (round trips of 2400 to 4096 frames measured at 240 to
/// 512) without showing in when the callbacks run, so the bridge cannot read it; the offset is
/// printed.
#[test]
fn wasapi_under_wine_measures_and_records_in_step_at_two_periods() {
    let _one = one_at_a_time();
    for period in [240, 480] {
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

/// A minute of overdub through WASAPI under Wine with nothing lost: 0 xruns, 0 bridge slips,
/// every click back and in step with the others. The JACK period is 480 frames at 48 kHz, 10 ms:
/// a whole number of microseconds, which the dummy driver's timer keeps exactly. At 256 (5333 us
/// for 5333.3) the device runs 62.5 ppm fast against the system clock, and Wine's mixer, which
/// runs on the system clock, meets the device's clock like a second device: every minute at 256
/// lost input (fourteen minutes, 320 to 120 160 frames each, 2026-12-03 to 12-07; one on
/// 2026-12-07 lost 15 120 frames every 13 s, like clockwork), and no minute at 240 or 480 so far
/// lost any (eight). Not asserted: that the take lies within a frame of the clicks (the
/// measurement is made in an earlier opening; see the test above), and that the callbacks'
/// timing counted no shift (in six of those eight minutes the input callbacks' wake-ups moved by
/// one or two JACK periods, the bridge grew by as much and left that silence out of the take, and
/// the wake-up timing read it as a shift; the clicks stayed in step). Up to three minutes: a
/// machine that stops the recorder can cost one a loss (counted), but not all three.
#[test]
fn wasapi_under_wine_records_a_minute_without_a_loss() {
    let _one = one_at_a_time();
    let mut w = World::with_alsa_default_on_jack(48_000, 480);
    w.wine = Some(Wine::prepared());
    for attempt in 1..=3 {
        let witness = Witness::start();
        let report = measure_then_record(&w, &["--host", "wasapi"], 48_000, 2048, 60, attempt);
        let seen = witness.stop();
        eprintln!(
            "WASAPI under Wine, a minute at JACK period 480: {report}\n{}\nthe machine: {} \
             stalls of 5 ms or more (longest {:.1} ms)",
            report.costs(),
            seen.longer_than(Duration::from_millis(5)),
            seen.longest().as_secs_f64() * 1e3,
        );
        assert!(report.stdout.contains("(60.000 s)"), "{}", report.stdout);
        assert!(
            report.losses > 0 || report.in_step(),
            "clicks missing or out of step in the take, and no loss was counted: {report}\n{}",
            report.stdout
        );
        let xruns = number_after(&report.stdout, "xruns: ");
        let slipped = number_before(&report.stdout, " frames slipped");
        if xruns == 0 && slipped == 0 {
            assert!(
                report.in_step(),
                "nothing lost, yet clicks missing or out of step: {report}\n{}",
                report.stdout
            );
            return;
        }
        eprintln!("attempt {attempt}: {xruns} xruns, {slipped} frames slipped; again");
    }
    panic!("WASAPI under Wine lost input in each of three minutes at JACK period 480");
}
