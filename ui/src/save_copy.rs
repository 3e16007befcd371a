//! Session ▸ Save As…, Save a copy… and Close. Save As and Save a copy write the session, with
//! the audio its clips play, to a new folder (a name in a folder), at the session's rate or
//! converted to another; the copying runs on its own thread. Save As then goes on in the new
//! folder, a copy leaves this session open. Close saves the session, closes the device, lets go
//! of the folder and shows the start screen.

use std::path::PathBuf;
use std::thread::JoinHandle;

use overdub_engine::live::Transport;
use overdub_engine::session::{SessionDir, copy_session_at, file_safe};

use crate::app::OverdubApp;
use crate::widgets::named;

/// Which of the two the dialog does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Write the copy and go on in it.
    SaveAs,
    /// Write the copy and stay here.
    Copy,
}

/// A copy being written: what it is for, where, and its thread.
type Job = (
    Mode,
    PathBuf,
    JoinHandle<overdub_engine::Result<SessionDir>>,
);

/// The dialog's state, while it is up.
#[derive(Default)]
pub struct SaveCopyDialog {
    mode: Option<Mode>,
    name: String,
    folder: String,
    /// The copy's sample rate.
    rate: u32,
    job: Option<Job>,
}

impl OverdubApp {
    /// Put up the Save As or Save a copy dialog: the new session's name, the folder it goes in
    /// (beside this one, to start with) and its rate (this one's, unless `rate` says another).
    pub(crate) fn open_save_copy(&mut self, mode: Mode, rate: Option<u32>) {
        let root = self.live.editor().dir().root();
        let name = crate::app::session_name(root);
        let folder = root
            .parent()
            .map_or_else(String::new, |p| p.display().to_string());
        let own = self.live.editor().session().rate;
        let rate = rate.unwrap_or(own);
        let name = if rate == own {
            format!("{name} copy")
        } else {
            format!("{name} {rate}")
        };
        self.save_copy = SaveCopyDialog {
            mode: Some(mode),
            name,
            folder,
            rate,
            job: None,
        };
    }

    /// Start writing the copy to `dir` (everything saved first, so it is all in the copy).
    fn start_copy(&mut self, mode: Mode, dir: PathBuf) {
        if mode == Mode::SaveAs && self.live.transport() != Transport::Stopped {
            self.tell("stop the transport before Save As");
            return;
        }
        if self.live.is_recording() {
            self.tell("stop recording before saving a copy");
            return;
        }
        if let Err(e) = self.live.save_now() {
            self.tell(format!("not saved: {e}"));
            return;
        }
        let from = self.live.editor().dir().clone();
        let session = self.live.editor().session().clone();
        let (to, rate) = (dir.clone(), self.save_copy.rate);
        match std::thread::Builder::new()
            .name("overdub-copy".into())
            .spawn(move || copy_session_at(&from, &session, &to, rate))
        {
            Ok(h) => self.save_copy.job = Some((mode, dir, h)),
            Err(e) => self.tell(format!("cannot start the copy: {e}")),
        }
    }

    /// The copy is written: for Save As, open it in place of this session.
    fn finish_copy(&mut self) {
        let Some((mode, dir, h)) =
            crate::widgets::take_finished(&mut self.save_copy.job, |(_, _, h)| h)
        else {
            return;
        };
        match h.join() {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return self.tell(format!("not saved: {e}")),
            Err(_) => return self.tell("the copy failed"),
        }
        self.save_copy.mode = None;
        match mode {
            Mode::SaveAs => self.switch_to(&dir),
            Mode::Copy => {
                self.remember_sessions(&[&dir]);
                self.tell(format!("saved a copy in {}", dir.display()));
            }
        }
    }

    /// A copy is being written.
    pub fn copying(&self) -> bool {
        self.save_copy.job.is_some()
    }

    /// Session ▸ Close: save, close the device, let go of the folder; the start screen stays
    /// until another session is opened or made.
    pub(crate) fn close_session(&mut self) {
        if self.live.transport() != Transport::Stopped {
            self.tell("stop the transport before closing the session");
            return;
        }
        let root = self.live.editor().dir().root().to_path_buf();
        if let Err(e) = self.live.release() {
            self.tell(format!("not closed: {e}"));
            return;
        }
        self.closed = true;
        self.remember_sessions(&[&root]);
        self.start_screen();
        self.tell(format!("closed {}", crate::app::session_name(&root)));
    }

    /// No session is open (it was closed): only the start screen shows.
    pub fn is_closed(&self) -> bool {
        self.closed
    }
}

/// Sample rates a copy can be made at.
const RATES: [u32; 6] = [44_100, 48_000, 88_200, 96_000, 176_400, 192_000];

/// The dialog, while it is up.
pub fn show(app: &mut OverdubApp, ctx: &egui::Context) {
    app.finish_copy();
    let Some(mode) = app.save_copy.mode else {
        return;
    };
    let title = match mode {
        Mode::SaveAs => "Save As",
        Mode::Copy => "Save a copy",
    };
    let own = app.live.editor().session().rate;
    let mut open = true;
    let mut chosen = None;
    egui::Window::new(title)
        .open(&mut open)
        .collapsible(false)
        .resizable(false)
        .show(ctx, |ui| {
            let d = &mut app.save_copy;
            egui::Grid::new("save-copy").num_columns(3).show(ui, |ui| {
                ui.label("Name");
                let r = ui.text_edit_singleline(&mut d.name);
                named(r, egui::Role::TextInput, "New session's name");
                ui.end_row();
                ui.label("In folder");
                let r = ui.text_edit_singleline(&mut d.folder);
                named(r, egui::Role::TextInput, "New session's folder");
                if ui.button("Choose…").clicked()
                    && let Some(dir) = rfd::FileDialog::new().pick_folder()
                {
                    d.folder = dir.display().to_string();
                }
                ui.end_row();
                ui.label("Sample rate");
                let text = |r: u32| {
                    if r == own {
                        format!("{r} Hz (as now)")
                    } else {
                        format!("{r} Hz (converted)")
                    }
                };
                let c = egui::ComboBox::from_id_salt("save-copy-rate")
                    .selected_text(text(d.rate))
                    .show_ui(ui, |ui| {
                        for r in RATES {
                            ui.selectable_value(&mut d.rate, r, text(r));
                        }
                    });
                named(
                    c.response,
                    egui::Role::ComboBox,
                    "New session's sample rate",
                );
                ui.end_row();
            });
            ui.label(
                egui::RichText::new("The session and the audio its clips play are copied.").weak(),
            );
            ui.horizontal(|ui| {
                if d.job.is_some() {
                    ui.spinner();
                    ui.label("copying…");
                    return;
                }
                if named(
                    ui.button("Save"),
                    egui::Role::Button,
                    &format!("{title} now"),
                )
                .clicked()
                {
                    chosen = Some(d.folder.trim().to_string());
                }
                if ui.button("Cancel").clicked() {
                    d.mode = None;
                }
            });
        });
    if !open && app.save_copy.job.is_none() {
        app.save_copy.mode = None;
    }
    if let Some(folder) = chosen {
        let name = file_safe(app.save_copy.name.trim());
        if name.is_empty() || folder.is_empty() {
            app.tell("give the new session a name and a folder");
            return;
        }
        app.start_copy(mode, PathBuf::from(folder).join(name));
    }
    if app.save_copy.job.is_some() {
        ctx.request_repaint_after(std::time::Duration::from_millis(50));
    }
}
