//! The audio settings page: driver (every host of this build), input and output device, the
//! sample rate, the buffer-size picker (frames and ms), the reported and measured latency with a
//! Measure button, a test tone, and the live DSP load and xruns. Apply reopens the stream without
//! a restart and saves the settings.

use std::sync::atomic::Ordering;
use std::thread::JoinHandle;

use overdub_engine::io::{self, Direction, HostId, HostInfo, StreamRequest};
use overdub_engine::latency::{self, LatencyOptions, Measurement};
use overdub_engine::live::Live;
use overdub_engine::settings::Settings;
use overdub_engine::tune::{self, TuneReport};

use crate::app::OverdubApp;
use crate::widgets::named;

/// The page's own state: the choices being made, before Apply.
pub struct SettingsPage {
    host: HostId,
    info: HostInfo,
    input: Option<String>,
    output: Option<String>,
    buffer: Option<u32>,
    /// First output of the master pair, from 0.
    master_out: u16,
    in_channel: u16,
    out_channel: u16,
    tone: bool,
    measure: Option<(
        StreamRequest,
        JoinHandle<overdub_engine::Result<Measurement>>,
    )>,
    tune: Option<(
        StreamRequest,
        JoinHandle<overdub_engine::Result<TuneReport>>,
    )>,
    last: Option<String>,
}

impl SettingsPage {
    /// The page showing the stream in use.
    pub fn new(live: &Live, _settings: &Settings) -> Self {
        let req = live.request();
        Self {
            host: req.host,
            info: io::describe(req.host),
            input: req.input.clone(),
            output: req.output.clone(),
            buffer: req.buffer.or(live.engine().map(|e| e.info().buffer)),
            master_out: req.master_out,
            in_channel: 1,
            out_channel: 1,
            tone: false,
            measure: None,
            tune: None,
            last: None,
        }
    }

    /// The last measurement's or tuning run's result, as shown.
    pub fn last(&self) -> Option<&str> {
        self.last.as_deref()
    }

    /// A measurement or a tuning run is going on.
    pub fn measuring(&self) -> bool {
        self.measure.is_some() || self.tune.is_some()
    }

    fn request(&self, app_req: &StreamRequest) -> StreamRequest {
        StreamRequest {
            host: self.host,
            input: self.input.clone(),
            output: self.output.clone(),
            buffer: self.buffer,
            master_out: self.master_out,
            ..app_req.clone()
        }
    }
}

fn ms(frames: u32, rate: u32) -> f64 {
    f64::from(frames) * 1000.0 / f64::from(rate.max(1))
}

pub fn show(app: &mut OverdubApp, ui: &mut egui::Ui) {
    finish_measure(app);
    finish_tune(app);
    let rate = app.live.editor().session().rate;
    ui.heading("Audio settings");
    ui.add_space(6.0);
    let page = &mut app.audio;
    let before = page.host;
    egui::ComboBox::new("driver", "Driver")
        .selected_text(page.host.name())
        .show_ui(ui, |ui| {
            for h in io::hosts() {
                ui.selectable_value(&mut page.host, h, h.name());
            }
        });
    if page.host != before {
        page.info = io::describe(page.host);
        page.input = None;
        page.output = None;
        page.buffer = None;
    }
    if let Some(note) = &page.info.note {
        ui.label(egui::RichText::new(note).small());
    }
    for (dir, label) in [
        (Direction::Input, "Input device"),
        (Direction::Output, "Output device"),
    ] {
        let current = match dir {
            Direction::Input => page.input.clone(),
            Direction::Output => page.output.clone(),
        };
        let default = page.info.default_device(dir).map(|d| d.name.clone());
        let shown = current.clone().or(default).unwrap_or_else(|| "none".into());
        let mut chosen = current.clone();
        egui::ComboBox::new(label, label)
            .selected_text(shown)
            .width(260.0)
            .show_ui(ui, |ui| {
                for d in page.info.devices.iter().filter(|d| d.has(dir)) {
                    ui.selectable_value(&mut chosen, Some(d.name.clone()), &d.name);
                }
            });
        if chosen != current {
            match dir {
                Direction::Input => page.input = chosen,
                Direction::Output => page.output = chosen,
            }
        }
    }
    ui.label(format!("Sample rate: {rate} Hz (the session's)"));
    let device = page
        .output
        .as_ref()
        .and_then(|n| page.info.find(n, Direction::Output).ok())
        .or_else(|| page.info.default_device(Direction::Output));
    let choices = device.map(|d| d.buffer.choices()).unwrap_or_default();
    let text = |b: Option<u32>| match b {
        Some(b) => format!("{b} frames ({:.1} ms)", ms(b, rate)),
        None => "driver default".into(),
    };
    egui::ComboBox::new("buffer", "Buffer size")
        .selected_text(text(page.buffer))
        .show_ui(ui, |ui| {
            for b in choices {
                ui.selectable_value(&mut page.buffer, Some(b), text(Some(b)));
            }
        })
        .response
        .on_hover_text("Smaller buffers mean less latency and more CPU load: start at 512 and go down until it crackles");
    ui.horizontal(|ui| {
        if ui.button("Apply").clicked() {
            let req = app.audio.request(app.live.request());
            match app.live.set_stream(req) {
                Ok(()) => {
                    app.settings.host = Some(app.audio.host.name().to_string());
                    app.settings.input = app.audio.input.clone();
                    app.settings.output = app.audio.output.clone();
                    app.settings.buffer = app.audio.buffer;
                    app.settings.master_out = Some(app.audio.master_out + 1);
                    match app.save_settings() {
                        Ok(()) => app.tell("audio settings applied and saved"),
                        Err(e) => app.tell(format!("applied, but not saved: {e}")),
                    }
                }
                Err(e) => app.tell(e.to_string()),
            }
        }
        if ui.button("Refresh devices").clicked() {
            app.audio.info = io::describe(app.audio.host);
        }
        // The driver's own window (ASIO), for what only the driver sets.
        let panel = app
            .live
            .engine()
            .filter(|e| io::control_panel::has_control_panel(e.info().host));
        if let Some(e) = panel
            && ui
                .button("Driver control panel")
                .on_hover_text("The driver's own settings window")
                .clicked()
        {
            let r = e.open_control_panel();
            match r {
                Ok(()) => app.tell("asked the driver for its control panel"),
                Err(e) => app.tell(e.to_string()),
            }
        }
        if app.audio.tune.is_some() {
            ui.spinner();
            ui.label("trying buffer sizes…");
        } else if ui
            .button("Find the best buffer size")
            .on_hover_text("Runs this session on the device at each size from 512 down and picks the smallest that plays clean")
            .clicked()
        {
            start_tune(app);
        }
        let mut tone = app.audio.tone;
        if ui.toggle_value(&mut tone, "Test tone").changed() {
            app.audio.tone = tone;
            app.live.set_test_tone(tone);
        }
    });
    ui.separator();
    running(app, ui, rate);
    ui.separator();
    crate::input_meters::show(app, ui);
    ui.separator();
    outputs(app, ui);
    ui.separator();
    latency_section(app, ui, rate);
}

/// The open device's outputs: which are on, and the pair the master plays on (Apply reopens
/// the stream on it).
fn outputs(app: &mut OverdubApp, ui: &mut egui::Ui) {
    let Some(count) = app.live.engine().map(|e| e.info().out_channels) else {
        return;
    };
    ui.heading("Outputs");
    let off = crate::channels::setup(app, true).outputs_off;
    let mut toggled = None;
    ui.horizontal_wrapped(|ui| {
        for c in 0..count.min(usize::from(u16::MAX)) as u16 {
            let mut on = !off.contains(&c);
            let r = ui.checkbox(&mut on, format!("Out {}", c + 1));
            if named(r, egui::Role::CheckBox, &format!("Output {} on", c + 1)).changed() {
                toggled = Some((c, on));
            }
        }
    });
    if let Some((c, on)) = toggled {
        crate::channels::change(app, true, true, |d| {
            crate::channels::switch(&mut d.outputs_off, c, on);
        });
    }
    let off = crate::channels::setup(app, true).outputs_off;
    let pairs: Vec<u16> = (0..count.saturating_sub(1).min(usize::from(u16::MAX)) as u16)
        .filter(|c| !off.contains(c) && !off.contains(&(c + 1)))
        .collect();
    let page = &mut app.audio;
    let text = |c: u16| format!("Out {}-{}", c + 1, c + 2);
    let combo = egui::ComboBox::new("master-out", "Master out")
        .selected_text(text(page.master_out))
        .show_ui(ui, |ui| {
            for c in pairs {
                ui.selectable_value(&mut page.master_out, c, text(c));
            }
        });
    named(combo.response, egui::Role::ComboBox, "Master output pair")
        .on_hover_text("The outputs the mix plays on (press Apply)");
}

/// What the open stream is doing.
fn running(app: &OverdubApp, ui: &mut egui::Ui, rate: u32) {
    match app.live.engine() {
        None => {
            ui.colored_label(
                egui::Color32::from_rgb(230, 80, 80),
                "No audio device is open.",
            );
        }
        Some(e) => {
            let i = e.info();
            ui.label(format!(
                "Running: {} — in '{}' ({} ch), out '{}' ({} ch), {} Hz, {} frames ({:.1} ms) per buffer",
                i.host,
                i.input_device.as_deref().unwrap_or("-"),
                i.in_channels,
                i.output_device.as_deref().unwrap_or("-"),
                i.out_channels,
                i.rate,
                i.buffer,
                ms(i.buffer, rate)
            ));
            let s = e.status();
            ui.label(format!(
                "DSP load {:.1}% mean, xruns {}",
                s.dsp_mean() * 100.0,
                s.xruns.load(Ordering::Relaxed)
            ));
            ui.label(format!(
                "Audio thread priority: {}",
                s.priority.get().describe()
            ));
            ui.label(format!(
                "Memory: {}",
                overdub_engine::io::memory_lock::status().describe()
            ));
        }
    }
}

fn latency_section(app: &mut OverdubApp, ui: &mut egui::Ui, rate: u32) {
    ui.heading("Latency");
    if let Some(e) = app.live.engine() {
        let l = e.latency_now();
        ui.label(format!(
            "Reported: input {} + output {} + bridge {:.1} = {} frames ({:.2} ms) round trip",
            l.input,
            l.output,
            l.bridge,
            l.round_trip(),
            ms(l.round_trip(), rate)
        ));
        let measured = latency::find_stored(&app.settings.latency, e.info());
        match measured {
            Some(m) => ui.label(format!(
                "Measured: {} frames ({:.2} ms), output {} to input {} (the bridge added {:.1} \
                 then, {:.1} now)",
                m.frames,
                ms(m.frames, rate),
                m.out_channel,
                m.in_channel,
                m.bridge,
                l.bridge
            )),
            None => ui.label("Measured: not yet for this device, rate and buffer size"),
        };
        let (used, from) = app.live.latency();
        ui.label(format!("Takes are moved back by {used} frames ({from})."));
    }
    ui.horizontal(|ui| {
        ui.label("Cable output");
        ui.add(egui::DragValue::new(&mut app.audio.out_channel).range(1..=64));
        ui.label("to input");
        ui.add(egui::DragValue::new(&mut app.audio.in_channel).range(1..=64));
        let measuring = app.audio.measure.is_some();
        if measuring {
            ui.spinner();
            ui.label("measuring…");
        } else if ui.button("Measure").clicked() {
            start_measure(app);
        }
    });
    if let Some(m) = &app.audio.last {
        ui.label(m);
    }
}

/// Seconds each buffer size runs while tuning.
const TUNE_SECONDS: f64 = 2.0;

fn start_tune(app: &mut OverdubApp) {
    let req = app.audio.request(app.live.request());
    let dir = app.live.editor().dir().clone();
    let session = app.live.editor().session().clone();
    app.live.close_stream();
    let r = req.clone();
    match std::thread::Builder::new()
        .name("overdub-tune".into())
        .spawn(move || tune::tune(&r, Some((&dir, &session)), TUNE_SECONDS))
    {
        Ok(h) => app.audio.tune = Some((req, h)),
        Err(e) => app.tell(format!("cannot start tuning: {e}")),
    }
}

fn finish_tune(app: &mut OverdubApp) {
    let Some((req, h)) = crate::widgets::take_finished(&mut app.audio.tune, |(_, h)| h) else {
        return;
    };
    let rate = req.rate;
    let msg = match h.join() {
        Ok(Ok(r)) => {
            let mut lines: Vec<String> = r
                .steps
                .iter()
                .map(|s| match &s.error {
                    Some(e) => format!("{} frames: could not run ({e})", s.buffer),
                    None => format!(
                        "{} frames ({:.1} ms): {} xruns, peak load {:.0}%{}{}",
                        s.buffer,
                        s.buffer_ms,
                        s.xruns,
                        s.dsp_peak_pct,
                        if s.clean { ", clean" } else { "" },
                        s.asked_note(" ")
                    ),
                })
                .collect();
            if let Some(n) = r.note {
                lines.push(n);
            }
            match r.recommended {
                Some(b) => {
                    app.audio.buffer = Some(b);
                    lines.push(format!(
                        "Recommended: {b} frames ({:.1} ms), the smallest that ran clean. Press Apply to use it.",
                        ms(b, rate)
                    ));
                }
                None => lines.push("No size ran clean.".into()),
            }
            if let Some(l) = r.limit {
                lines.push(format!("Limited by: {l}."));
            }
            lines.join("\n")
        }
        Ok(Err(e)) => e.to_string(),
        Err(_) => "tuning failed".into(),
    };
    app.audio.last = Some(msg);
    if let Err(e) = app.live.set_stream(app.live.request().clone()) {
        app.tell(e.to_string());
    }
}

fn start_measure(app: &mut OverdubApp) {
    let req = app.live.request().clone();
    let opts = LatencyOptions {
        in_channel: app.audio.in_channel.saturating_sub(1),
        out_channel: app.audio.out_channel.saturating_sub(1),
    };
    // The measurement opens the device itself.
    app.live.close_stream();
    let r = req.clone();
    match std::thread::Builder::new()
        .name("overdub-measure".into())
        .spawn(move || latency::measure(&r, &opts))
    {
        Ok(h) => app.audio.measure = Some((req, h)),
        Err(e) => app.tell(format!("cannot start the measurement: {e}")),
    }
}

fn finish_measure(app: &mut OverdubApp) {
    let Some((req, h)) = crate::widgets::take_finished(&mut app.audio.measure, |(_, h)| h) else {
        return;
    };
    let msg = match h.join() {
        Ok(Ok(m)) => {
            let opts = LatencyOptions {
                in_channel: app.audio.in_channel.saturating_sub(1),
                out_channel: app.audio.out_channel.saturating_sub(1),
            };
            latency::remember(&mut app.settings.latency, m.stored(&opts));
            let _ = app.save_settings();
            let mut text = format!(
                "Measured {} frames round trip (the driver reports {}).",
                m.analysis.frames,
                m.reported.round_trip()
            );
            for w in m.analysis.warnings() {
                text.push_str("\nWarning: ");
                text.push_str(&w);
            }
            text
        }
        Ok(Err(e)) => e.to_string(),
        Err(_) => "the measurement failed".into(),
    };
    app.audio.last = Some(msg);
    app.live.set_measured(app.settings.latency.clone());
    if let Err(e) = app.live.set_stream(req) {
        app.tell(e.to_string());
    }
}
