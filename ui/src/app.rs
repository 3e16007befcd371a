//! The window: state, layout, keyboard, messages. The views live in their own files.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use overdub_engine::live::{Live, Transport};
use overdub_engine::session::Edit;
use overdub_engine::settings::Settings;

use crate::export_dialog::ExportDialog;
use crate::peaks_cache::PeakCache;
use crate::settings_page::SettingsPage;
use crate::timeline::TimelineView;

/// How often the window repaints while the transport rolls (meters and playhead move smoothly).
const ROLLING_REPAINT: Duration = Duration::from_millis(25);
/// How long a message stays in the status bar.
const MESSAGE_SECONDS: u64 = 10;

/// Which page is showing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    /// Transport, tracks and timeline.
    Session,
    /// Audio settings.
    Audio,
    /// Sessions: a new one, the recent ones, another folder.
    Start,
}

/// An import running on its own thread.
pub(crate) struct ImportJob {
    pub files: Vec<PathBuf>,
    pub handle: std::thread::JoinHandle<overdub_engine::Result<usize>>,
}

/// The whole app.
pub struct OverdubApp {
    pub(crate) live: Live,
    pub(crate) settings: Settings,
    settings_path: Option<PathBuf>,
    pub(crate) page: Page,
    pub(crate) view: TimelineView,
    pub(crate) peaks: PeakCache,
    pub(crate) export: ExportDialog,
    pub(crate) audio: SettingsPage,
    pub(crate) import: Option<ImportJob>,
    pub(crate) selected_clip: Option<u32>,
    pub(crate) show_help: bool,
    pub(crate) meters: crate::tracks::MeterHolds,
    /// A fader or value field being dragged: its value, edited when it is let go.
    pub(crate) held: crate::widgets::Held,
    /// Clip moves and trims, loop edges and markers snap to the grid.
    pub(crate) snap: bool,
    /// The tempo shown while its field is being dragged (the edit is made when let go).
    pub(crate) tempo_drag: Option<f64>,
    /// A marker being renamed: its id and the name so far.
    pub(crate) renaming: Option<(u32, String)>,
    /// Punch recording on, and the punch range (timeline frames).
    pub(crate) punch_on: bool,
    pub(crate) punch_range: Option<(u64, u64)>,
    /// The start screen's form and recent list.
    pub(crate) start: crate::sessions::StartScreen,
    /// Notices kept until read.
    pub(crate) notices: crate::notices::Notices,
    /// The settings page's input meters between frames.
    pub(crate) inputs: crate::input_meters::InputLevels,
    /// The mixer panel is shown.
    pub(crate) show_mixer: bool,
    /// The master meter between frames.
    pub(crate) master: crate::mixer::MasterHold,
    /// Tracks whose take lanes are folded away.
    pub(crate) takes_folded: std::collections::HashSet<u32>,
    /// Tracks made taller or lower than the default: their lane height, points.
    pub(crate) heights: std::collections::HashMap<u32, f32>,
    messages: Vec<(Instant, String)>,
    /// Who holds the session, while the read-only dialog is up.
    pub(crate) lock_notice: Option<String>,
    /// The session was closed for leaving (see [`OverdubApp::leave`]).
    left: bool,
    /// The Save As / Save a copy dialog.
    pub(crate) save_copy: crate::save_copy::SaveCopyDialog,
    /// The session was closed (Session ▸ Close): only the start screen shows.
    pub(crate) closed: bool,
    /// The device cannot run the session's rate: the dialog that offers what can be done.
    pub(crate) rate_refused: Option<crate::rate_refused::RateRefused>,
}

impl OverdubApp {
    /// The app over an open session.
    pub fn new(live: Live, settings: Settings) -> Self {
        let audio = SettingsPage::new(&live, &settings);
        let mut app = Self {
            live,
            settings,
            settings_path: Settings::path(),
            page: Page::Session,
            view: TimelineView::default(),
            peaks: PeakCache::default(),
            export: ExportDialog::default(),
            audio,
            import: None,
            selected_clip: None,
            show_help: false,
            meters: crate::tracks::MeterHolds::default(),
            held: None,
            snap: true,
            takes_folded: std::collections::HashSet::new(),
            heights: std::collections::HashMap::new(),
            punch_on: false,
            show_mixer: false,
            inputs: crate::input_meters::InputLevels::default(),
            notices: crate::notices::Notices::default(),
            start: crate::sessions::StartScreen::default(),
            master: crate::mixer::MasterHold::default(),
            punch_range: None,
            tempo_drag: None,
            renaming: None,
            messages: Vec::new(),
            lock_notice: None,
            left: false,
            save_copy: crate::save_copy::SaveCopyDialog::default(),
            closed: false,
            rate_refused: None,
        };
        app.rate_refused = crate::rate_refused::check(&app);
        app
    }

    /// Show the dialog that says another program holds the session (opened read-only).
    pub fn with_lock_notice(mut self, notice: Option<String>) -> Self {
        self.lock_notice = notice;
        self
    }

    /// Whether the dialog about the session being in use is up.
    pub fn lock_notice(&self) -> Option<&str> {
        self.lock_notice.as_deref()
    }

    /// Leaving (the window's close button, or the program's exit): stop, put every take on its
    /// track to its last block, save the session and the settings. Runs once.
    pub fn leave(&mut self) {
        if self.left {
            return;
        }
        self.left = true;
        if let Err(e) = self.live.close() {
            eprintln!("overdub: {e}");
        }
        for m in self.live.take_messages() {
            eprintln!("overdub: {m}");
        }
        if let Err(e) = self.save_settings() {
            eprintln!("overdub: {e}");
        }
    }

    /// Put another session's `Live` in place of this one (already closed): everything that
    /// belonged to the old session's view starts afresh.
    pub(crate) fn replace_live(&mut self, live: Live, lock_notice: Option<String>) {
        self.audio = SettingsPage::new(&live, &self.settings);
        self.live = live;
        self.lock_notice = lock_notice;
        self.closed = false;
        self.rate_refused = crate::rate_refused::check(self);
        self.view = TimelineView::default();
        self.selected_clip = None;
        self.takes_folded.clear();
        self.heights.clear();
        self.punch_on = false;
        self.punch_range = None;
        self.held = None;
        self.meters = crate::tracks::MeterHolds::default();
        self.master = crate::mixer::MasterHold::default();
        self.inputs = crate::input_meters::InputLevels::default();
    }

    /// Save settings to this file instead of the user's config folder (None: never save).
    pub fn with_settings_path(mut self, path: Option<PathBuf>) -> Self {
        self.settings_path = path;
        self
    }

    /// Save the settings where this app keeps them.
    pub(crate) fn save_settings(&self) -> overdub_engine::Result<()> {
        match &self.settings_path {
            Some(p) => self.settings.save_to(p),
            None => Ok(()),
        }
    }

    /// Open on this page.
    pub fn with_page(mut self, page: Page) -> Self {
        self.page = page;
        self
    }

    /// Show the mixer panel (or not).
    pub fn with_mixer(mut self, on: bool) -> Self {
        self.show_mixer = on;
        self
    }

    /// The page showing.
    pub fn page(&self) -> Page {
        self.page
    }

    /// The export dialog's last outcome.
    pub fn export_result(&self) -> Option<&str> {
        self.export.result()
    }

    /// The audio settings page's last measurement or tuning result.
    pub fn audio_result(&self) -> Option<&str> {
        self.audio.last()
    }

    /// An export is running.
    pub fn exporting(&self) -> bool {
        self.export.running()
    }

    /// The live session (for tests and the binary).
    pub fn live(&self) -> &Live {
        &self.live
    }

    /// The live session, mutable.
    pub fn live_mut(&mut self) -> &mut Live {
        &mut self.live
    }

    /// The height of a track's lane in the window, points.
    pub fn track_height(&self, id: u32) -> f32 {
        crate::tracks::height(self, id)
    }

    /// The notices not yet read.
    pub fn unread_notices(&self) -> Vec<String> {
        self.notices
            .unread()
            .into_iter()
            .map(String::from)
            .collect()
    }

    /// The settings page's input meters as last shown: each input's level, linear.
    pub fn input_levels(&self) -> Vec<f32> {
        self.inputs.levels()
    }

    /// The master meter as the window shows it: peak hold left and right (linear) and whether
    /// its clip light is on.
    pub fn master_meter(&self) -> ([f32; 2], bool) {
        (self.master.peaks(), self.master.clipped())
    }

    /// Show a message in the status bar.
    pub fn tell(&mut self, msg: impl Into<String>) {
        self.messages.push((Instant::now(), msg.into()));
    }

    /// Messages currently shown.
    pub fn messages(&self) -> Vec<String> {
        self.messages.iter().map(|(_, m)| m.clone()).collect()
    }

    /// Run an edit, telling the user if it was refused.
    pub(crate) fn edit(&mut self, e: Edit) -> Option<u32> {
        match self.live.apply(e) {
            Ok(r) => r,
            Err(err) => {
                self.tell(err.to_string());
                None
            }
        }
    }

    pub(crate) fn undo(&mut self) {
        match self.live.undo() {
            Some(l) => self.tell(format!("undid {l}")),
            None => self.tell("nothing to undo"),
        }
    }

    pub(crate) fn redo(&mut self) {
        match self.live.redo() {
            Some(l) => self.tell(format!("redid {l}")),
            None => self.tell("nothing to redo"),
        }
    }

    pub(crate) fn save(&mut self) {
        match self.live.save() {
            Ok(()) => self.tell("saved"),
            Err(e) => self.tell(e.to_string()),
        }
    }

    /// Start importing files on a background thread.
    pub(crate) fn start_import(&mut self, files: Vec<PathBuf>, ctx: &egui::Context) {
        if files.is_empty() || self.import.is_some() {
            return;
        }
        if let Err(e) = self.live.begin_outside_write("import") {
            self.tell(e.to_string());
            return;
        }
        let dir = self.live.editor().dir().root().to_path_buf();
        let (list, ctx) = (files.clone(), ctx.clone());
        let at = self.live.position() as f64 / f64::from(self.live.editor().session().rate);
        let spawned = std::thread::Builder::new()
            .name("overdub-import".into())
            .spawn(move || {
                let opts = overdub_engine::import::ImportOptions {
                    track: None,
                    at_seconds: at,
                };
                let r = overdub_engine::import::import(&dir, &list, &opts, &mut |_| {});
                ctx.request_repaint();
                r.map(|v| v.len())
            });
        match spawned {
            Ok(handle) => self.import = Some(ImportJob { files, handle }),
            Err(e) => {
                let _ = self.live.end_outside_write();
                self.tell(format!("cannot start the import: {e}"));
            }
        }
    }

    fn finish_import(&mut self) {
        let Some(job) = crate::widgets::take_finished(&mut self.import, |j| &j.handle) else {
            return;
        };
        // The session on disk is the import's (or, if it failed, the one saved before it).
        let reloaded = self.live.end_outside_write();
        match job.handle.join() {
            Ok(Ok(n)) => match reloaded {
                Ok(()) => self.tell(format!("imported {n} file(s)")),
                Err(e) => self.tell(e.to_string()),
            },
            Ok(Err(e)) => self.tell(e.to_string()),
            Err(_) => self.tell(format!("the import of {:?} failed", job.files)),
        }
    }

    pub(crate) fn pick_import(&mut self, ctx: &egui::Context) {
        if let Some(files) = rfd::FileDialog::new()
            .add_filter(
                "Audio",
                &["wav", "flac", "mp3", "ogg", "aif", "aiff", "m4a", "aac"],
            )
            .pick_files()
        {
            self.start_import(files, ctx);
        }
    }

    fn keyboard(&mut self, ctx: &egui::Context) {
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        use egui::{Key, Modifiers};
        let pressed = |m: Modifiers, k: Key| ctx.input_mut(|i| i.consume_key(m, k));
        if pressed(Modifiers::NONE, Key::Space) {
            self.live.toggle_play();
        }
        if pressed(Modifiers::SHIFT, Key::R) {
            self.record();
        }
        if pressed(Modifiers::NONE, Key::Home) {
            self.live.locate(0);
            self.view.scroll = 0.0;
        }
        if pressed(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z) {
            self.redo();
        }
        if pressed(Modifiers::COMMAND, Key::Z) {
            self.undo();
        }
        if pressed(Modifiers::COMMAND, Key::S) {
            self.save();
        }
        if pressed(Modifiers::COMMAND, Key::I) {
            self.pick_import(ctx);
        }
        if pressed(Modifiers::COMMAND, Key::E) {
            self.export.open = true;
        }
        if pressed(Modifiers::NONE, Key::Plus) || pressed(Modifiers::NONE, Key::Equals) {
            self.view.zoom(0.5);
        }
        if pressed(Modifiers::NONE, Key::Minus) {
            self.view.zoom(2.0);
        }
        if pressed(Modifiers::NONE, Key::F1) {
            self.show_help = !self.show_help;
        }
        if pressed(Modifiers::NONE, Key::M) {
            self.add_marker();
        }
        if pressed(Modifiers::NONE, Key::OpenBracket) {
            self.jump_marker(false);
        }
        if pressed(Modifiers::NONE, Key::CloseBracket) {
            self.jump_marker(true);
        }
        if let Some(clip) = self.selected_clip {
            if pressed(Modifiers::NONE, Key::Delete) || pressed(Modifiers::NONE, Key::Backspace) {
                self.edit(Edit::DeleteClip(clip));
                self.selected_clip = None;
            }
            if pressed(Modifiers::NONE, Key::S) {
                let at = self.live.position();
                self.edit(Edit::SplitClip { clip, at });
            }
        }
    }

    fn status_bar(&mut self, ui: &mut egui::Ui) {
        let now = Instant::now();
        self.messages
            .retain(|(t, _)| now.duration_since(*t) < Duration::from_secs(MESSAGE_SECONDS));
        ui.horizontal(|ui| {
            // The session's name (its folder's); the whole path on hover.
            let root = self.live.editor().dir().root().to_path_buf();
            let name = session_name(&root);
            let dirty = if self.closed {
                " (closed)"
            } else if self.live.is_read_only() {
                " (read-only: another program is writing it)"
            } else if self.live.editor().is_dirty() {
                " (unsaved)"
            } else {
                ""
            };
            ui.label(format!("{name}{dirty}"))
                .on_hover_text(root.display().to_string());
            crate::notices::button(self, ui);
            if let Some(job) = &self.import {
                ui.spinner();
                ui.label(format!("importing {} file(s)…", job.files.len()));
            }
            if let Some((_, m)) = self.messages.last() {
                ui.separator();
                ui.colored_label(egui::Color32::from_rgb(240, 190, 90), m);
            }
            if !self.closed {
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    crate::transport::engine_status(self, ui);
                });
            }
        });
    }
}

/// A session's name: its folder's (the whole path if it has none).
pub(crate) fn session_name(root: &std::path::Path) -> String {
    root.file_name().map_or_else(
        || root.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

impl eframe::App for OverdubApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        if ctx.input(|i| i.viewport().close_requested()) {
            self.leave();
        }
        if self.left {
            return;
        }
        self.live.poll();
        // What the engine reports (devices, disks, saves) also stays as a notice until read.
        for m in self.live.take_messages() {
            self.notices.push(m.clone());
            self.tell(m);
        }
        crate::notices::watch_xruns(self);
        self.finish_import();
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if self.closed {
            // No session: the start screen alone, until one is opened or made.
            self.page = Page::Start;
        } else {
            self.start_import(dropped, &ctx);
            self.keyboard(&ctx);
            egui::Panel::top("transport").show(ui, |ui| crate::transport::show(self, ui));
        }
        egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui));
        crate::mixer::update_master(self);
        crate::tracks::update_meters(self);
        if self.show_mixer && self.page == Page::Session {
            egui::Panel::bottom("mixer")
                .resizable(true)
                .show(ui, |ui| crate::mixer::show(self, ui));
        }
        egui::CentralPanel::default().show(ui, |ui| match self.page {
            Page::Session => crate::tracks::show(self, ui),
            Page::Audio => crate::settings_page::show(self, ui),
            Page::Start => crate::sessions::show(self, ui),
        });
        crate::export_dialog::show(self, &ctx);
        crate::notices::window(self, &ctx);
        crate::markers::rename_dialog(self, &ctx);
        crate::read_only::show(self, &ctx);
        crate::save_copy::show(self, &ctx);
        crate::rate_refused::show(self, &ctx);
        let mut help = self.show_help;
        crate::help::show(&ctx, &mut help);
        self.show_help = help;

        let busy = self.live.transport() != Transport::Stopped
            || self.import.is_some()
            || self.export.running()
            || self.audio.measuring();
        if busy {
            ctx.request_repaint_after(ROLLING_REPAINT);
        } else {
            // Meters keep moving while stopped (input monitoring), a little slower.
            ctx.request_repaint_after(Duration::from_millis(50));
        }
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.leave();
    }
}
