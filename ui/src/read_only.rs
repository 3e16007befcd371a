//! Opening a session another program is writing: it opens read-only behind a dialog that says
//! who holds it and offers to look and listen, or to quit.

use std::path::Path;

use overdub_engine::io::StreamRequest;
use overdub_engine::latency::StoredLatency;
use overdub_engine::live::Live;
use overdub_engine::{Error, Result};

use crate::OverdubApp;

/// Open the session in `dir` for writing; when another program holds it, open it read-only and
/// return what to tell the user (who holds it).
pub fn open_live(
    dir: &Path,
    req: StreamRequest,
    measured: Vec<StoredLatency>,
) -> Result<(Live, Option<String>)> {
    match Live::open(dir, req.clone(), measured.clone()) {
        Ok(live) => Ok((live, None)),
        Err(e @ Error::Locked { .. }) => {
            let live = Live::open_read_only(dir, req, measured)?;
            Ok((live, Some(e.to_string())))
        }
        // The folder cannot take a lock (read-only media, a share without locks): it can still
        // be looked at and played.
        Err(Error::Io { path, source }) if path.ends_with(".overdub.lock") => {
            let live = Live::open_read_only(dir, req, measured)?;
            Ok((
                live,
                Some(format!(
                    "this session's folder cannot be locked for writing ({source})"
                )),
            ))
        }
        Err(e) => Err(e),
    }
}

/// The dialog, while it is up.
pub(crate) fn show(app: &mut OverdubApp, ctx: &egui::Context) {
    let Some(why) = app.lock_notice.clone() else {
        return;
    };
    egui::Modal::new(egui::Id::unique("session-in-use")).show(ctx, |ui| {
        ui.heading("This session is in use");
        ui.label(why);
        ui.label(
            "Open it read-only to look and listen: nothing can be recorded, changed or saved \
             until the other program lets it go and you open it again.",
        );
        ui.horizontal(|ui| {
            if ui.button("Open read-only").clicked() {
                app.lock_notice = None;
            }
            if ui.button("Quit").clicked() {
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
        });
    });
}
