//! The transport bar: play/stop, record, return to start, metronome and count-in, position as
//! time and bars|beats, DSP load, xruns, recording time left, and the page and file buttons.

use std::sync::atomic::Ordering;

use egui::{Color32, RichText};
use overdub_engine::live::Transport;

use crate::app::{OverdubApp, Page};
use crate::widgets::{bars_beats, clock};

pub fn show(app: &mut OverdubApp, ui: &mut egui::Ui) {
    let rate = app.live.editor().session().rate;
    ui.horizontal(|ui| {
        let state = app.live.transport();
        if ui
            .button("Start")
            .on_hover_text("Return to start (Home)")
            .clicked()
        {
            app.live.locate(0);
            app.view.scroll = 0.0;
        }
        let playing = state != Transport::Stopped;
        let play_label = if playing { "Stop" } else { "Play" };
        if ui
            .button(play_label)
            .on_hover_text("Play / stop (Space)")
            .clicked()
        {
            app.live.toggle_play();
        }
        let rec = RichText::new("Record").color(if state == Transport::Recording {
            Color32::WHITE
        } else {
            Color32::from_rgb(230, 80, 80)
        });
        let rec_button = egui::Button::new(rec).fill(if state == Transport::Recording {
            Color32::from_rgb(190, 40, 40)
        } else {
            ui.visuals().widgets.inactive.weak_bg_fill
        });
        if ui
            .add(rec_button)
            .on_hover_text("Record the armed tracks (Shift+R)")
            .clicked()
        {
            if state == Transport::Recording {
                app.live.stop();
            } else {
                app.live.record();
            }
        }
        let (mut looping, range) = app.live.looping();
        if ui
            .toggle_value(&mut looping, "Loop")
            .on_hover_text("Loop playback (drag along the ruler to set the range)")
            .changed()
        {
            let rate = u64::from(app.live.editor().session().rate);
            // With no range yet, loop the first four bars at the tempo.
            let m = app.live.metronome();
            let bars =
                (rate as f64 * 60.0 / f64::from(m.bpm) * f64::from(m.beats_per_bar) * 4.0) as u64;
            app.live.set_loop(looping, range.or(Some((0, bars))));
        }
        ui.separator();

        let pos = app.live.position();
        let mut m = app.live.metronome();
        ui.label(RichText::new(clock(pos, rate)).monospace().size(18.0));
        ui.label(
            RichText::new(bars_beats(pos, rate, m.bpm, m.beats_per_bar))
                .monospace()
                .size(18.0),
        );
        ui.separator();

        let before = m;
        ui.toggle_value(&mut m.on, "Click");
        ui.add(
            egui::DragValue::new(&mut m.bpm)
                .range(20.0..=400.0)
                .speed(0.5)
                .suffix(" BPM"),
        )
        .on_hover_text("Tempo");
        ui.add(
            egui::DragValue::new(&mut m.beats_per_bar)
                .range(1..=16)
                .suffix("/4"),
        )
        .on_hover_text("Beats per bar");
        ui.add(
            egui::DragValue::new(&mut m.count_in_bars)
                .range(0..=4)
                .prefix("count-in ")
                .suffix(" bar"),
        )
        .on_hover_text("Bars of click before recording starts");
        if m != before {
            app.live.set_metronome(m);
        }
        ui.separator();

        if let Some(s) = app.live.status() {
            let load = s.dsp_peak.take() * 100.0;
            let colour = if load > 70.0 {
                Color32::from_rgb(230, 80, 80)
            } else {
                ui.visuals().text_color()
            };
            ui.colored_label(colour, format!("DSP {load:4.1}%"))
                .on_hover_text("Time in the audio callback over the buffer period");
            let xruns = s.xruns.load(Ordering::Relaxed);
            ui.label(format!("xruns {xruns}"));
        } else {
            ui.colored_label(Color32::from_rgb(230, 80, 80), "no audio device");
        }
        if let Some(left) = time_left(app) {
            ui.label(format!("disk {left}"))
                .on_hover_text("Recording time left on disk for the armed tracks");
        }

        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .button("?")
                .on_hover_text("Keyboard shortcuts (F1)")
                .clicked()
            {
                app.show_help = !app.show_help;
            }
            let audio = app.page == Page::Audio;
            if ui.selectable_label(audio, "Audio settings").clicked() {
                app.page = if audio { Page::Session } else { Page::Audio };
            }
            if ui.button("Export…").clicked() {
                app.export.open = true;
            }
            if ui.button("Import…").clicked() {
                let ctx = ui.ctx().clone();
                app.pick_import(&ctx);
            }
        });
    });
}

/// Recording time left for the armed tracks, as text.
fn time_left(app: &OverdubApp) -> Option<String> {
    let s = app.live.editor().session();
    let bytes_per_frame: u64 = s
        .tracks
        .iter()
        .filter(|t| t.armed)
        .map(|t| u64::from(t.channels.clamp(1, 2)) * app.live.format.bytes_per_sample())
        .sum();
    let secs = overdub_engine::recorder::recording_time_left(
        &app.live.editor().dir().audio(),
        bytes_per_frame * u64::from(s.rate),
    )?;
    Some(if secs >= 3600.0 {
        format!("{:.1} h", secs / 3600.0)
    } else {
        format!("{:.0} min", secs / 60.0)
    })
}
