//! Sessions from the window: the start screen (a new session by name, folder, sample rate and
//! track counts; the recent sessions with their length and date; open another folder) and the
//! switch from one session to another on the same audio device. A session's sample rate is
//! chosen when it is made; the device follows the session.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use overdub_engine::live::Transport;
use overdub_engine::session::{Session, SessionDir, file_safe, from_template};

use crate::app::{OverdubApp, Page};
use crate::widgets::named;

/// Sample rates offered for a new session.
const RATES: [u32; 4] = [44_100, 48_000, 88_200, 96_000];

/// The new-session form and the recent sessions as last read.
pub struct StartScreen {
    name: String,
    folder: String,
    rate: u32,
    mono: u8,
    stereo: u8,
    /// A session whose layout (tracks, tempo, markers) the new one takes, in place of the
    /// track counts.
    template: Option<PathBuf>,
    /// (folder, what to show: length and date), read when the screen opens.
    recent: Option<Vec<(PathBuf, String)>>,
}

impl Default for StartScreen {
    fn default() -> Self {
        let folder = overdub_engine::settings::Settings::sessions_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default();
        Self {
            name: String::new(),
            folder,
            rate: 48_000,
            mono: 4,
            stereo: 0,
            template: None,
            recent: None,
        }
    }
}

impl OverdubApp {
    /// Show the start screen (the recent sessions read afresh).
    pub(crate) fn start_screen(&mut self) {
        self.start.recent = None;
        self.page = Page::Start;
    }

    /// Close this session and open the one in `dir` on the same device. Refused while the
    /// transport runs; if `dir` cannot be opened, this session opens again.
    pub(crate) fn switch_to(&mut self, dir: &Path) {
        if self.live.transport() != Transport::Stopped {
            self.tell("stop the transport before opening another session");
            return;
        }
        let old = self.live.editor().dir().root().to_path_buf();
        let mut req = self.live.request().clone();
        // The device runs at the session's rate.
        req.rate = 0;
        let measured = self.settings.latency.clone();
        if let Err(e) = self.live.close() {
            self.tell(e.to_string());
            return;
        }
        let closed = self.closed;
        let opened = crate::read_only::open_live(dir, req.clone(), measured.clone()).or_else(|e| {
            self.tell(format!("could not open {}: {e}", dir.display()));
            if closed {
                // It was closed: it stays closed.
                return Err(e);
            }
            crate::read_only::open_live(&old, req, measured)
        });
        let (live, notice) = match opened {
            Ok(o) => o,
            Err(_) if closed => return,
            Err(e) => {
                self.tell(format!("could not open {} again: {e}", old.display()));
                return;
            }
        };
        let now = live.editor().dir().root().to_path_buf();
        self.replace_live(live, notice);
        self.remember_sessions(&[&old, &now]);
        self.page = Page::Session;
    }

    /// Put these sessions at the front of the recent ones, in this order, and save that.
    pub(crate) fn remember_sessions(&mut self, dirs: &[&Path]) {
        for d in dirs {
            self.settings.remember(d);
        }
        if let Err(e) = self.save_settings() {
            self.tell(format!("the recent sessions could not be saved: {e}"));
        }
    }

    /// Make a new session from the start screen's form and open it.
    fn create_session(&mut self) {
        let f = &self.start;
        let name = f.name.trim();
        if name.is_empty() {
            self.tell("give the new session a name");
            return;
        }
        let dir = Path::new(f.folder.trim()).join(file_safe(name));
        let sdir = SessionDir::new(&dir);
        if let Err(e) = sdir.refuse_a_session() {
            self.tell(e.to_string());
            return;
        }
        let mut s = match &f.template {
            Some(t) => match SessionDir::new(t).load() {
                Ok(t) => from_template(&t, f.rate),
                Err(e) => {
                    self.tell(format!("the template cannot be read: {e}"));
                    return;
                }
            },
            None => {
                let mut s = Session::new(f.rate, usize::from(f.mono));
                for _ in 0..f.stereo {
                    let id = s.add_track();
                    if let Some(t) = s.track_mut(id) {
                        t.channels = 2;
                        t.input = t.input.saturating_mul(2);
                    }
                }
                s
            }
        };
        if let Some(t) = s.tracks.first_mut() {
            t.armed = true;
        }
        if let Err(e) = sdir.create(&s) {
            self.tell(format!("could not make the session: {e}"));
            return;
        }
        self.switch_to(&dir);
    }
}

/// Length and date of a recent session, for the list.
fn describe(dir: &Path) -> String {
    let sdir = SessionDir::new(dir);
    let Ok(s) = sdir.load() else {
        return "cannot be opened".into();
    };
    let secs = s.end() / u64::from(s.rate.max(1));
    let age = std::fs::metadata(sdir.file())
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .map_or_else(String::new, |d| {
            let m = d.as_secs() / 60;
            match m {
                0..60 => format!(", saved {m} min ago"),
                60..1440 => format!(", saved {} h ago", m / 60),
                _ => format!(", saved {} days ago", m / 1440),
            }
        });
    format!(
        "{}:{:02}, {} tracks, {} Hz{age}",
        secs / 60,
        secs % 60,
        s.tracks.len(),
        s.rate
    )
}

pub fn show(app: &mut OverdubApp, ui: &mut egui::Ui) {
    ui.heading("Sessions");
    ui.add_space(8.0);
    ui.columns(2, |cols| {
        new_session(app, &mut cols[0]);
        recent(app, &mut cols[1]);
    });
}

fn new_session(app: &mut OverdubApp, ui: &mut egui::Ui) {
    ui.strong("New session");
    let f = &mut app.start;
    egui::Grid::new("new-session")
        .num_columns(2)
        .show(ui, |ui| {
            ui.label("Name");
            let r = ui.text_edit_singleline(&mut f.name);
            named(r, egui::Role::TextInput, "Session name");
            ui.end_row();
            ui.label("Folder");
            let r = ui.text_edit_singleline(&mut f.folder);
            named(r, egui::Role::TextInput, "Session folder");
            ui.end_row();
            ui.label("Sample rate");
            let c = egui::ComboBox::from_id_salt("new-rate")
                .selected_text(format!("{} Hz", f.rate))
                .show_ui(ui, |ui| {
                    for r in RATES {
                        ui.selectable_value(&mut f.rate, r, format!("{r} Hz"));
                    }
                });
            named(
                c.response,
                egui::Role::ComboBox,
                "New session's sample rate",
            );
            ui.end_row();
            ui.label("Template");
            let shown = f.template.as_deref().map_or_else(
                || "none: tracks below".to_string(),
                crate::app::session_name,
            );
            let c = egui::ComboBox::from_id_salt("new-template")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut f.template, None, "none: tracks below");
                    for d in &app.settings.recent {
                        let name = crate::app::session_name(d);
                        ui.selectable_value(&mut f.template, Some(d.clone()), name);
                    }
                });
            named(c.response, egui::Role::ComboBox, "New session's template").on_hover_text(
                "Take the tracks, tempo and markers of another session (none of its audio)",
            );
            ui.end_row();
            let counts = f.template.is_none();
            for (label, count) in [
                ("Mono tracks", &mut f.mono),
                ("Stereo tracks", &mut f.stereo),
            ] {
                ui.label(label);
                if !counts {
                    ui.disable();
                }
                let c = egui::ComboBox::from_id_salt(label)
                    .selected_text(count.to_string())
                    .show_ui(ui, |ui| {
                        for n in 0..=16u8 {
                            ui.selectable_value(count, n, format!("{n} {}", label.to_lowercase()));
                        }
                    });
                named(
                    c.response,
                    egui::Role::ComboBox,
                    &format!("New session's {}", label.to_lowercase()),
                );
                ui.end_row();
            }
        });
    ui.add_space(6.0);
    if ui
        .horizontal(|ui| ui.button("Create session").clicked())
        .inner
    {
        app.create_session();
    }
}

fn recent(app: &mut OverdubApp, ui: &mut egui::Ui) {
    ui.strong("Recent");
    let list = app.start.recent.get_or_insert_with(|| {
        app.settings
            .recent
            .iter()
            .map(|d| (d.clone(), describe(d)))
            .collect()
    });
    let mut open = None;
    if list.is_empty() {
        ui.label("No sessions yet.");
    }
    for (dir, what) in list.iter() {
        let name = crate::app::session_name(dir);
        ui.horizontal(|ui| {
            let r = ui.button(&name).on_hover_text(dir.display().to_string());
            if named(r, egui::Role::Button, &format!("Recent {name}")).clicked() {
                open = Some(dir.clone());
            }
            ui.label(egui::RichText::new(what).weak());
        });
    }
    ui.add_space(8.0);
    ui.horizontal(|ui| {
        if ui.button("Open a session folder…").clicked()
            && let Some(dir) = rfd::FileDialog::new().pick_folder()
        {
            open = Some(dir);
        }
        let current = app.live.editor().dir().root().to_path_buf();
        let name = current
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        if !app.closed && ui.button(format!("Back to {name}")).clicked() {
            app.page = Page::Session;
        }
    });
    if let Some(dir) = open {
        app.switch_to(&dir);
    }
}
