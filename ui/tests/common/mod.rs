// Each test binary uses some of these.
#![allow(dead_code)]

//! What the window tests share: the real app over a session on a device, and stepping it in real
//! time (the virtual device runs at real speed).

use std::path::Path;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use overdub_engine::io::{CallbackOrder, HostId, StreamRequest};
use overdub_engine::live::Live;
use overdub_engine::settings::Settings;
use overdub_ui::OverdubApp;

/// The virtual test-signal device at `buffer` frames (its rate is the session's).
pub fn virtual_request(buffer: u32) -> StreamRequest {
    StreamRequest {
        host: HostId::Virtual,
        input: Some("Virtual Test Signal".into()),
        output: None,
        rate: 0,
        buffer: Some(buffer),
        loopback_delay: None,
        master_out: 0,
        faults: Vec::new(),
        callbacks: CallbackOrder::Duplex,
    }
}

/// The app over the session in `dir` on the device `req`, saving its settings to
/// `settings_path`.
pub fn open_app(
    dir: &Path,
    req: StreamRequest,
    settings_path: &Path,
) -> Harness<'static, OverdubApp> {
    let live = Live::open(dir, req, Vec::new()).expect("open");
    assert!(live.engine().is_some(), "the device opens");
    app_over(live, settings_path)
}

/// The app over `live` (whether or not its device opened), saving its settings to
/// `settings_path`.
pub fn app_over(live: Live, settings_path: &Path) -> Harness<'static, OverdubApp> {
    let settings_path = settings_path.to_path_buf();
    Harness::builder()
        .with_size(egui::Vec2::new(1400.0, 800.0))
        .build_eframe(move |_cc| {
            OverdubApp::new(live, Settings::default()).with_settings_path(Some(settings_path))
        })
}

/// Pick `item` in the Session menu.
pub fn session_menu(h: &mut Harness<'_, OverdubApp>, item: &str) {
    h.get_by_label("Session").click();
    h.run_steps(3);
    h.get_by_label(item).click();
    h.run_steps(2);
}

/// Replace the text of the field named `field` by typing `text` into it.
pub fn type_into(h: &mut Harness<'_, OverdubApp>, field: &str, text: &str) {
    h.get_by_label(field).click();
    h.run_steps(2);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.event(egui::Event::Text(text.into()));
    h.run_steps(2);
}

/// Pick `option` in the combo box named `combo`.
pub fn choose(h: &mut Harness<'_, OverdubApp>, combo: &str, option: &str) {
    h.get_by_label(combo).click();
    h.run_steps(2);
    h.get_by_label(option).click();
    h.run_steps(2);
}

/// Step the app until `done` or `limit`.
pub fn run_until(
    h: &mut Harness<'_, OverdubApp>,
    limit: Duration,
    mut done: impl FnMut(&OverdubApp) -> bool,
) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        h.step();
        if done(h.state()) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(15));
    }
    false
}

/// Drag from `from` by `dx` points in six moves, holding `modifiers`.
pub fn drag(
    h: &mut Harness<'_, OverdubApp>,
    from: egui::Pos2,
    dx: f32,
    modifiers: egui::Modifiers,
) {
    drag_by(h, from, egui::Vec2::new(dx, 0.0), modifiers);
}

/// Drag from `from` by `by` in six moves, holding `modifiers`.
pub fn drag_by(
    h: &mut Harness<'_, OverdubApp>,
    from: egui::Pos2,
    by: egui::Vec2,
    modifiers: egui::Modifiers,
) {
    let button = |pos, pressed| egui::Event::PointerButton {
        pos,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers,
    };
    h.event(egui::Event::ModifiersChanged(modifiers));
    h.event(egui::Event::PointerMoved(from));
    h.run_steps(1);
    h.event(button(from, true));
    h.run_steps(1);
    for k in 1..=6 {
        h.event(egui::Event::PointerMoved(from + by * (k as f32 / 6.0)));
        h.run_steps(1);
    }
    h.event(button(from + by, false));
    h.run_steps(2);
    h.event(egui::Event::ModifiersChanged(egui::Modifiers::NONE));
    h.run_steps(1);
}

/// Write a mono 32-bit float WAV at 48 kHz of `frames` frames into the session's audio folder,
/// sample `i` being `sample(i)`.
pub fn write_wav(
    dir: &overdub_engine::session::SessionDir,
    name: &str,
    frames: u32,
    sample: impl Fn(u32) -> f32,
) {
    write_wav_at(&dir.audio().join(name), 48_000, frames, sample);
}

/// Write a mono 32-bit float WAV at `rate` of `frames` frames to `path`, sample `i` being
/// `sample(i)`.
pub fn write_wav_at(path: &Path, rate: u32, frames: u32, sample: impl Fn(u32) -> f32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("wav");
    for i in 0..frames {
        w.write_sample(sample(i)).expect("sample");
    }
    w.finalize().expect("finalize");
}

/// Wait until the session is saved.
pub fn wait_saved(h: &mut Harness<'_, OverdubApp>) {
    assert!(
        run_until(h, Duration::from_secs(5), |a| !a.live().editor().is_dirty()),
        "the session is saved"
    );
}

/// Ctrl+S, and wait until the save is done.
pub fn save(h: &mut Harness<'_, OverdubApp>) {
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::S);
    wait_saved(h);
}

/// Export the session in `dir` as 32-bit float stems and/or mix into `out`, through the engine.
pub fn export_f32(dir: &Path, out: &Path, stems: bool, mix: bool) {
    use overdub_engine::export::{ExportFormat, ExportOptions, ExportProgress, export};
    let opts = ExportOptions {
        out_dir: out.to_path_buf(),
        stems,
        mix,
        format: ExportFormat::F32,
        range: None,
        tail: 0.0,
        normalize: None,
        include_muted: false,
    };
    export(dir, &opts, &ExportProgress::default()).expect("export");
}

/// A new session of `tracks` mono tracks at 48 kHz, open in the app on the virtual test-signal
/// device at 256 frames.
pub fn new_app(
    tracks: usize,
) -> (
    tempfile::TempDir,
    overdub_engine::session::SessionDir,
    Harness<'static, OverdubApp>,
) {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = overdub_engine::session::SessionDir::new(tmp.path().join("s"));
    dir.create(&overdub_engine::session::Session::new(48_000, tracks))
        .expect("create");
    let h = open_app(
        dir.root(),
        virtual_request(256),
        &tmp.path().join("settings.json"),
    );
    (tmp, dir, h)
}
