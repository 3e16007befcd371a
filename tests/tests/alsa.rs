//! cpal's ALSA host under real pacing: an ALSA device that alsa-plugins' `jack` PCM makes out of a
//! JACK dummy server (a realtime one), its outputs cabled back to its inputs through the server's
//! loopback ports. At two rates and buffer sizes the device opens, runs in real time, the round
//! trip is measured in one opening of the device, and a take recorded in another while a click
//! track plays has its full length, every click back in step, and lies within two frames of the
//! clicks on the timeline (one is the goal; see [`PLUGIN_WITHIN`]).
//!
//! That last part is what the bridge's timing is for: the plugin's capture and playback are two
//! JACK clients whose phase is set when each starts, so the round trip changes from one opening to
//! the next by whole JACK periods (384, 512 and 640 frames at 48 kHz/128 in six runs) while the
//! plugin reports the same delay. The bridge reads that phase from when its callbacks are called
//! (`engine/src/rt/callback_clock.rs`) and the latency model carries the measurement across.
//!
//! The JACK dummy server runs late now and then on a two-core machine, even with realtime
//! scheduling (its log says `JackTimedDriver::Process XRun`), and the plugin then drops a period
//! on its capture or its playback side without any error reaching ALSA's API: a click goes
//! missing and what follows moves by that period. A take in which that happened is recorded
//! again (up to three times); see `measure_then_record_aligned`. A clean minute is checked by
//! hand (`alsa_records_a_clean_minute`, ignored by default).

use overdub_tests::{
    ALSA_TEST_DEVICE, World, a_clean_minute_unless_the_machine_stalls, measure_then_record_aligned,
    one_at_a_time,
};

/// How far off the clicks a whole take may lie on this device: 2 frames, not the 1 the issue asks
/// for (issue 11 stays open for it). Here the bridge reads the input and output phase from when
/// its two callback threads wake, and the plugin's capture and playback are two JACK clients the
/// server runs one after the other in each cycle, so the two threads wake a few tens of
/// microseconds apart, by an amount that is not the same in every opening. On this kind of
/// machine most takes lie 0 or 1 frame off at 44.1 and 48 kHz, and now and then 2 (one take in a
/// cold CI run of `cee6a74`, 48 kHz/256: measured with the bridge at 513.6, recorded at 511.6).
/// Measured over many openings (2026-12-07), the bridge's figure lies off the whole periods the
/// plugin moves by -1.0 to +0.6 frames at 44.1 kHz/512 and -0.7 to +0.3 at 48 kHz/256. Not the
/// dummy server's clock running off its rate (its timer counts whole microseconds: 84 ppm fast
/// at 44.1 kHz/512): at 48 kHz/240, where that timer is exact, the spread was wider (-1.3 to
/// +0.9), and a four-second window instead of one narrowed it only a little.
const PLUGIN_WITHIN: i64 = 2;

fn alsa(buffer: u32) -> Vec<String> {
    [
        "--host",
        "alsa",
        "--input",
        ALSA_TEST_DEVICE,
        "--output",
        ALSA_TEST_DEVICE,
        "--buffer",
        &buffer.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Measure, then record `seconds` against clicks on the ALSA test device: the take lines up.
fn measure_and_record(rate: u32, period: u32, buffer: u32, seconds: u32) -> String {
    let w = World::with_alsa_on_jack(rate, period);
    let dev = alsa(buffer);
    let dev: Vec<&str> = dev.iter().map(String::as_str).collect();
    let report = measure_then_record_aligned(
        &w,
        &dev,
        rate,
        period.max(buffer),
        seconds,
        true,
        PLUGIN_WITHIN,
    );
    eprintln!("ALSA on JACK at {rate} Hz, period {period}, buffer {buffer}: {report}");
    assert!(
        report.stdout.contains(&format!("({seconds}.000 s)")),
        "{}",
        report.stdout
    );
    report.stdout
}

/// One after the other, and [`one_at_a_time`] with the minute below: two JACK servers and two
/// recorders at once on two cores make the servers run late, and then the plugin loses input.
#[test]
fn alsa_at_44k1_512_and_48k_256_takes_line_up_across_openings() {
    let _one = one_at_a_time();
    measure_and_record(44_100, 512, 512, 3);
    measure_and_record(48_000, 256, 256, 3);
}

/// A minute of overdub at 256 frames with nothing lost: 0 xruns, 0 bridge slips, 0 shifts, every
/// click back and in step, and the take within [`PLUGIN_WITHIN`] of the clicks; one of three tries
/// must be clean. What each minute cost is printed, with how often the JACK server ran late and
/// its clients missed a cycle. Not run by default: audio moves below the engine without a word,
/// even with the server on time. One cause is found: one of the plugin's JACK clients misses its
/// cycle, the plugin says nothing to ALSA and that period is replaced by the next; only the
/// server's log shows it (`JackServer::missed_client_cycles`). Measured: at 256 frames 4 of 5
/// minutes clean on a quiet machine, none of three in a cold CI run; at 1024 frames one of three
/// clean, the other two with clicks moved and nothing counted. Run it with `--ignored
/// --nocapture`.
#[test]
#[ignore = "audio is lost silently below the engine on this test device; run by hand"]
fn alsa_records_a_clean_minute() {
    let _one = one_at_a_time();
    let w = World::with_alsa_on_jack(48_000, 256);
    let dev = alsa(256);
    let dev: Vec<&str> = dev.iter().map(String::as_str).collect();
    a_clean_minute_unless_the_machine_stalls(&w, &dev, 256, "ALSA on JACK", true, PLUGIN_WITHIN);
}
