//! The export dialog: stems and/or mix, a DAWproject file for another program, format, range,
//! tail, normalisation, output folder (native picker), a progress bar and Cancel. The export runs
//! on its own thread.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;

use overdub_engine::dawproject::{self, ProjectReport};
use overdub_engine::export::{self, ExportFormat, ExportOptions, ExportProgress, ExportReport};

/// What one run of the dialog made: the audio files and/or the DAWproject file.
type Made = (Option<ExportReport>, Option<ProjectReport>);

use crate::app::OverdubApp;

/// The dialog's state.
pub struct ExportDialog {
    /// Shown.
    pub open: bool,
    stems: bool,
    mix: bool,
    dawproject: bool,
    format: ExportFormat,
    start: String,
    end: String,
    tail: f32,
    normalize: bool,
    normalize_db: f32,
    include_muted: bool,
    out_dir: String,
    job: Option<(
        JoinHandle<overdub_engine::Result<Made>>,
        Arc<ExportProgress>,
    )>,
    result: Option<String>,
}

impl Default for ExportDialog {
    fn default() -> Self {
        Self {
            open: false,
            stems: true,
            mix: true,
            dawproject: false,
            format: ExportFormat::I24,
            start: String::new(),
            end: String::new(),
            tail: 0.0,
            normalize: false,
            normalize_db: -1.0,
            include_muted: false,
            out_dir: String::new(),
            job: None,
            result: None,
        }
    }
}

impl ExportDialog {
    /// An export is running.
    pub fn running(&self) -> bool {
        self.job.is_some()
    }

    /// The last export's outcome.
    pub fn result(&self) -> Option<&str> {
        self.result.as_deref()
    }

    fn options(&self) -> Result<ExportOptions, String> {
        let range = match (self.start.trim(), self.end.trim()) {
            ("", "") => None,
            (a, b) => {
                let a: f64 = if a.is_empty() { Ok(0.0) } else { a.parse() }
                    .map_err(|_| format!("start '{a}' is not a number of seconds"))?;
                let b: f64 = b
                    .parse()
                    .map_err(|_| format!("end '{b}' is not a number of seconds"))?;
                Some((a, b))
            }
        };
        Ok(ExportOptions {
            out_dir: PathBuf::from(self.out_dir.trim()),
            stems: self.stems,
            mix: self.mix,
            format: self.format,
            range,
            tail: f64::from(self.tail),
            normalize: self.normalize.then_some(self.normalize_db),
            include_muted: self.include_muted,
        })
    }
}

pub fn show(app: &mut OverdubApp, ctx: &egui::Context) {
    if app.export.out_dir.is_empty() {
        app.export.out_dir = app
            .live
            .editor()
            .dir()
            .root()
            .join("export")
            .display()
            .to_string();
    }
    finish(app);
    let mut open = app.export.open;
    egui::Window::new("Export")
        .open(&mut open)
        .collapsible(false)
        .resizable(false)
        .show(ctx, |ui| {
            let d = &mut app.export;
            let busy = d.job.is_some();
            ui.add_enabled_ui(!busy, |ui| {
                ui.horizontal(|ui| {
                    ui.checkbox(&mut d.stems, "Stems");
                    ui.checkbox(&mut d.mix, "Mix");
                    ui.checkbox(&mut d.dawproject, "DAWproject").on_hover_text(
                        "A .dawproject file for Bitwig Studio, Studio One, Cubase and others: \
                             every clip and take, gains, pans, tempo and markers, with the audio \
                             copied in unchanged",
                    );
                    ui.checkbox(&mut d.include_muted, "Include muted tracks");
                });
                egui::Grid::new("export-grid")
                    .num_columns(2)
                    .show(ui, |ui| {
                        ui.label("Format");
                        egui::ComboBox::from_id_salt("export-format")
                            .selected_text(match d.format {
                                ExportFormat::I16 => "16-bit (dithered)",
                                ExportFormat::I24 => "24-bit",
                                ExportFormat::F32 => "32-bit float",
                            })
                            .show_ui(ui, |ui| {
                                ui.selectable_value(
                                    &mut d.format,
                                    ExportFormat::I16,
                                    "16-bit (dithered)",
                                );
                                ui.selectable_value(&mut d.format, ExportFormat::I24, "24-bit");
                                ui.selectable_value(
                                    &mut d.format,
                                    ExportFormat::F32,
                                    "32-bit float",
                                );
                            });
                        ui.end_row();
                        ui.label("Range (s)");
                        ui.horizontal(|ui| {
                            ui.add(
                                egui::TextEdit::singleline(&mut d.start)
                                    .hint_text("start")
                                    .desired_width(60.0),
                            );
                            ui.label("to");
                            ui.add(
                                egui::TextEdit::singleline(&mut d.end)
                                    .hint_text("end")
                                    .desired_width(60.0),
                            );
                        });
                        ui.end_row();
                        ui.label("Tail");
                        ui.add(
                            egui::DragValue::new(&mut d.tail)
                                .range(0.0..=60.0)
                                .speed(0.1)
                                .suffix(" s"),
                        );
                        ui.end_row();
                        ui.checkbox(&mut d.normalize, "Normalize to");
                        ui.add_enabled(
                            d.normalize,
                            egui::DragValue::new(&mut d.normalize_db)
                                .range(-60.0..=0.0)
                                .speed(0.1)
                                .suffix(" dBFS"),
                        );
                        ui.end_row();
                        ui.label("Folder");
                        ui.horizontal(|ui| {
                            ui.add(egui::TextEdit::singleline(&mut d.out_dir).desired_width(260.0));
                            if ui.button("Choose…").clicked()
                                && let Some(p) = rfd::FileDialog::new().pick_folder()
                            {
                                d.out_dir = p.display().to_string();
                            }
                        });
                        ui.end_row();
                    });
            });
            ui.separator();
            match &d.job {
                Some((_, progress)) => {
                    let f = progress.fraction();
                    ui.add(egui::ProgressBar::new(f).show_percentage());
                    if ui.button("Cancel").clicked() {
                        progress.cancel.store(true, Ordering::Relaxed);
                    }
                }
                None => {
                    if ui.button("Export").clicked() {
                        match d.options() {
                            Ok(_) if !(d.stems || d.mix || d.dawproject) => {
                                d.result =
                                    Some("nothing to export: tick Stems, Mix or DAWproject".into());
                            }
                            Ok(opts) => {
                                let audio = d.stems || d.mix;
                                let project = d.dawproject.then(|| {
                                    let name = app
                                        .live
                                        .editor()
                                        .dir()
                                        .root()
                                        .file_name()
                                        .map(|n| n.to_string_lossy().into_owned())
                                        .unwrap_or_else(|| "session".into());
                                    opts.out_dir.join(format!("{name}.dawproject"))
                                });
                                let progress = Arc::new(ExportProgress::default());
                                let dir = app.live.editor().dir().root().to_path_buf();
                                let (p, c) = (progress.clone(), ctx.clone());
                                let spawned = std::thread::Builder::new()
                                    .name("overdub-export".into())
                                    .spawn(move || {
                                        let r = run(&dir, &opts, audio, project.as_deref(), &p);
                                        c.request_repaint();
                                        r
                                    });
                                match spawned {
                                    Ok(h) => {
                                        d.job = Some((h, progress));
                                        d.result = None;
                                    }
                                    Err(e) => {
                                        d.result = Some(format!("cannot start the export: {e}"))
                                    }
                                }
                            }
                            Err(e) => d.result = Some(e),
                        }
                    }
                }
            }
            if let Some(r) = &d.result {
                ui.label(r);
            }
        });
    app.export.open = open;
}

/// The audio export (if asked for), then the DAWproject file (if asked for).
fn run(
    dir: &std::path::Path,
    opts: &ExportOptions,
    audio: bool,
    project: Option<&std::path::Path>,
    progress: &ExportProgress,
) -> overdub_engine::Result<Made> {
    let files = audio
        .then(|| export::export(dir, opts, progress))
        .transpose()?;
    let project = project
        .map(|out| {
            std::fs::create_dir_all(&opts.out_dir)
                .map_err(|e| overdub_engine::Error::io(&opts.out_dir, e))?;
            dawproject::export_project(dir, out, opts.range)
        })
        .transpose()?;
    Ok((files, project))
}

fn finish(app: &mut OverdubApp) {
    let Some((h, _)) = crate::widgets::take_finished(&mut app.export.job, |(h, _)| h) else {
        return;
    };
    let msg = match h.join() {
        Ok(Ok((files, project))) => {
            let mut said = Vec::new();
            if let Some(r) = files {
                said.push(format!(
                    "exported {} file(s), {:.1} s each, in {:.1} s",
                    r.files.len(),
                    r.frames as f64 / f64::from(app.live.editor().session().rate),
                    r.seconds
                ));
            }
            if let Some(p) = project {
                said.push(format!(
                    "wrote {} ({} clips, {} takes kept)",
                    p.path.display(),
                    p.clips,
                    p.takes
                ));
            }
            said.join("; ")
        }
        Ok(Err(overdub_engine::Error::Cancelled)) => {
            "export cancelled; its files were removed".into()
        }
        Ok(Err(e)) => e.to_string(),
        Err(_) => "the export failed".into(),
    };
    app.export.result = Some(msg.clone());
    app.tell(msg);
}
