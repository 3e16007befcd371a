//! The window on big sessions: egui_kittest drives the real app (no GPU here, so a frame is the
//! app's own work: layout, meters, clips and waveforms from the peak cache; not the painting).
//! For 8, 64 and 128 tracks, each with an hour-long take: the time to open the session and show
//! its first frame with a cold peak cache, then the frame time (mean, p99, max) while playing and
//! while zooming in and out. Figures, not a test:
//!
//!     cargo bench -p overdub-ui --bench window
//!
//! Every track's take is the same one-hour file (64 separate hour-long files would need 22 GB);
//! the peak cache builds it once, in the background, as it would each file.

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use overdub_engine::io::{CallbackOrder, HostId, StreamRequest};
use overdub_engine::live::Live;
use overdub_engine::session::{Clip, Session, SessionDir};
use overdub_engine::settings::Settings;
use overdub_ui::OverdubApp;

const RATE: u32 = 48_000;
const HOUR: u32 = 3_600 * RATE;
const FRAMES: usize = 300;

fn main() {
    let tmp = tempfile::tempdir().expect("tmp");
    let hour = tmp.path().join("hour.wav");
    write_hour(&hour);
    println!("window frame time (kittest, no GPU), 1400x900, tracks with a one-hour take each");
    for tracks in [8, 64, 128] {
        let dir = SessionDir::new(tmp.path().join(format!("s{tracks}")));
        let mut s = Session::new(RATE, tracks);
        dir.create(&s).expect("create");
        std::fs::hard_link(&hour, dir.audio().join("hour.wav")).expect("link");
        let ids: Vec<u32> = s.tracks.iter().map(|t| t.id).collect();
        for id in ids {
            s.add_clip(id, Clip::new("hour.wav".into(), 0, 0, u64::from(HOUR)));
        }
        dir.save(&s).expect("save");

        let t0 = Instant::now();
        let live = Live::open(dir.root(), request(), Vec::new()).expect("open");
        let mut h = Harness::builder()
            .with_size(egui::Vec2::new(1400.0, 900.0))
            .build_eframe(move |_| {
                OverdubApp::new(live, Settings::default()).with_settings_path(None)
            });
        h.step();
        let open = t0.elapsed();

        h.state_mut().live_mut().play();
        let playing = frames(&mut h, |_, _| {});
        let zooming = frames(&mut h, |h, i| {
            let key = if (i / 10) % 2 == 0 {
                egui::Key::Minus
            } else {
                egui::Key::Plus
            };
            h.key_press(key);
        });
        h.state_mut().live_mut().stop();
        println!(
            "{tracks:>3} tracks: open and first frame {:.0} ms; playing {}; zooming {}",
            ms(open),
            playing,
            zooming
        );
    }
}

/// The virtual device (a real-time paced stream), at the session's rate.
fn request() -> StreamRequest {
    StreamRequest {
        host: HostId::Virtual,
        input: Some("Virtual Test Signal".into()),
        output: None,
        rate: 0,
        buffer: Some(256),
        loopback_delay: None,
        master_out: 0,
        faults: Vec::new(),
        callbacks: CallbackOrder::Duplex,
    }
}

/// Step `FRAMES` frames, each after `input`; the frame times as text.
fn frames(
    h: &mut Harness<'_, OverdubApp>,
    mut input: impl FnMut(&mut Harness<'_, OverdubApp>, usize),
) -> String {
    let mut times = Vec::with_capacity(FRAMES);
    for i in 0..FRAMES {
        input(h, i);
        let t0 = Instant::now();
        h.step();
        times.push(t0.elapsed());
        // About the window's own pace while rolling (40 frames a second), so the engine and
        // the peak cache run between frames as they do on screen.
        std::thread::sleep(Duration::from_millis(25));
    }
    times.sort_unstable();
    let mean = times.iter().sum::<Duration>() / FRAMES as u32;
    let p99 = times[FRAMES * 99 / 100];
    let max = times[FRAMES - 1];
    format!(
        "mean {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(mean),
        ms(p99),
        ms(max)
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// One hour of 16-bit mono at 48 kHz: a tone whose level rises and falls, so waveforms show.
fn write_hour(path: &std::path::Path) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("wav");
    {
        let mut i16s = w.get_i16_writer(HOUR);
        for i in 0..HOUR {
            let t = f64::from(i) / f64::from(RATE);
            let env = 0.5 + 0.4 * (t * 0.5).sin();
            let v = env * (t * 220.0 * std::f64::consts::TAU).sin();
            i16s.write_sample((v * 20_000.0) as i16);
        }
        i16s.flush().expect("flush");
    }
    w.finalize().expect("finalize");
}
