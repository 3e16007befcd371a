//! The transport bar: play/stop, record, return to start, loop, markers (add, previous, next),
//! snap, position as time and bars|beats, the session's tempo and time signature, metronome and
//! count-in, and the page and file buttons; and, for the status bar, DSP load, xruns and the
//! recording time left.

use std::sync::atomic::Ordering;

use egui::{Color32, RichText};
use overdub_engine::live::Transport;

use overdub_engine::session::{Edit, Grid, Meter};

use crate::app::{OverdubApp, Page};
use crate::widgets::{bars_beats, clock, named};

pub fn show(app: &mut OverdubApp, ui: &mut egui::Ui) {
    let rate = app.live.editor().session().rate;
    ui.horizontal(|ui| {
        // A little tighter than the default, so the whole bar fits a 1280-point window.
        ui.spacing_mut().item_spacing.x = 6.0;
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
                app.record();
            }
        }
        let (mut looping, range) = app.live.looping();
        if ui
            .toggle_value(&mut looping, "Loop")
            .on_hover_text("Loop playback (drag along the ruler to set the range)")
            .changed()
        {
            // With no range yet, loop the first four bars.
            let grid = Grid::of(app.live.editor().session());
            let bars = grid.beat_frame(4 * u64::from(grid.beats_per_bar));
            app.live.set_loop(looping, range.or(Some((0, bars))));
        }
        let punch = ui.toggle_value(&mut app.punch_on, "Punch").on_hover_text(
            "Record only between the punch points, after a pre-roll (Ctrl+drag along the ruler \
                 to set them)",
        );
        if punch.changed() && app.punch_on && app.punch_range.is_none() {
            // With no range yet, punch the second bar.
            let grid = Grid::of(app.live.editor().session());
            let bar = u64::from(grid.beats_per_bar);
            app.punch_range = Some((grid.beat_frame(bar), grid.beat_frame(2 * bar)));
        }
        ui.toggle_value(&mut app.show_mixer, "Mixer")
            .on_hover_text("Show the mixer under the timeline");
        let clipped = app.master.clipped();
        let clip = egui::Button::new(RichText::new("CLIP").small().color(if clipped {
            Color32::WHITE
        } else {
            Color32::from_gray(110)
        }))
        .fill(if clipped {
            Color32::from_rgb(200, 30, 30)
        } else {
            ui.visuals().widgets.inactive.weak_bg_fill
        });
        if named(ui.add(clip), egui::Role::Button, "Master clip")
            .on_hover_text("The master clipped (click to clear)")
            .clicked()
        {
            app.master.clear();
        }
        ui.toggle_value(&mut app.snap, "Snap").on_hover_text(
            "Clip moves and trims, loop edges and markers snap to the grid (hold Shift to \
             place freely)",
        );
        ui.separator();
        markers(app, ui);
        ui.separator();

        let pos = app.live.position();
        let grid = Grid::of(app.live.editor().session());
        ui.label(RichText::new(clock(pos, rate)).monospace().size(16.0));
        ui.label(RichText::new(bars_beats(pos, &grid)).monospace().size(16.0));
        ui.separator();
        tempo(app, ui);

        let mut m = app.live.metronome();
        let before = m;
        ui.toggle_value(&mut m.on, "Click");
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
            ui.menu_button("Session", |ui| {
                if ui.button("New, open, recent…").clicked() {
                    app.start_screen();
                    ui.close();
                }
                ui.separator();
                if ui.button("Import…").clicked() {
                    let ctx = ui.ctx().clone();
                    app.pick_import(&ctx);
                    ui.close();
                }
                if ui.button("Export…").clicked() {
                    app.export.open = true;
                    ui.close();
                }
                if ui.button("Save").clicked() {
                    app.save();
                    ui.close();
                }
                if ui.button("Save As…").clicked() {
                    app.open_save_copy(crate::save_copy::Mode::SaveAs, None);
                    ui.close();
                }
                if ui.button("Save a copy…").clicked() {
                    app.open_save_copy(crate::save_copy::Mode::Copy, None);
                    ui.close();
                }
                ui.separator();
                if ui.button("Close").clicked() {
                    app.close_session();
                    ui.close();
                }
            });
        });
    });
}

/// DSP load, xruns and the recording time left on disk (shown in the status bar).
pub fn engine_status(app: &mut OverdubApp, ui: &mut egui::Ui) {
    if let Some(left) = time_left(app) {
        ui.label(format!("disk {left}"))
            .on_hover_text("Recording time left on disk for the armed tracks");
    }
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
}

/// Add a marker at the playhead, jump to the previous or next one.
fn markers(app: &mut OverdubApp, ui: &mut egui::Ui) {
    let add = ui
        .button("Marker +")
        .on_hover_text("Add a marker at the playhead (M)");
    if named(add, egui::Role::Button, "Add marker").clicked() {
        app.add_marker();
    }
    let prev = ui.button("<").on_hover_text("Previous marker ([)");
    if named(prev, egui::Role::Button, "Previous marker").clicked() {
        app.jump_marker(false);
    }
    let next = ui.button(">").on_hover_text("Next marker (])");
    if named(next, egui::Role::Button, "Next marker").clicked() {
        app.jump_marker(true);
    }
}

/// The session's tempo and time signature. A drag on the tempo is one edit, made when it is let
/// go.
fn tempo(app: &mut OverdubApp, ui: &mut egui::Ui) {
    let s = app.live.editor().session();
    let (saved, meter) = (s.tempo_bpm, s.meter);
    let mut bpm = app.tempo_drag.unwrap_or(saved);
    let r = ui
        .add(
            egui::DragValue::new(&mut bpm)
                .range(10.0..=999.0)
                .speed(0.1)
                .max_decimals(2)
                .suffix(" BPM"),
        )
        .on_hover_text("Tempo of the session (quarter notes a minute): grid, click, DAWproject");
    if r.dragged() {
        app.tempo_drag = Some(bpm);
    } else {
        app.tempo_drag = None;
        if bpm != saved {
            app.edit(Edit::SetTempo(bpm));
        }
    }
    let mut n = meter.numerator;
    ui.add(egui::DragValue::new(&mut n).range(1..=64))
        .on_hover_text("Beats to the bar");
    let mut d = meter.denominator;
    let combo = egui::ComboBox::from_id_salt("meter-denominator")
        .width(36.0)
        .selected_text(format!("/{d}"))
        .show_ui(ui, |ui| {
            for v in [2u8, 4, 8, 16] {
                ui.selectable_value(&mut d, v, format!("/{v}"));
            }
        });
    named(combo.response, egui::Role::ComboBox, "Beat note value")
        .on_hover_text("The note value of a beat (the time signature's lower number)");
    let wanted = Meter {
        numerator: n,
        denominator: d,
    };
    if wanted != meter {
        app.edit(Edit::SetMeter(wanted));
    }
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
