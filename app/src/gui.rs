//! Opening the window: pick the session (the one given, the last one, or a new one in the data
//! folder), open it on the configured device (falling back to the automatic choice, and saying
//! so), and hand it to the egui app.

use std::path::PathBuf;

use overdub_engine::io::{self, StreamRequest};
use overdub_engine::session::{Session, SessionDir};
use overdub_engine::settings::Settings;
use overdub_engine::{Error, Result};
use overdub_ui::{OverdubApp, Page};

use crate::cli::AudioArgs;
use crate::commands::stream_request;

/// Tracks in a session the window creates.
const NEW_TRACKS: usize = 4;

fn choose_session(dir: Option<PathBuf>, settings: &Settings) -> Result<PathBuf> {
    if let Some(d) = dir {
        return Ok(d);
    }
    if let Some(last) = &settings.last_session
        && last.join("session.json").exists()
    {
        return Ok(last.clone());
    }
    let root = Settings::sessions_dir()
        .ok_or_else(|| Error::InvalidSetting("this platform has no data folder".into()))?;
    // First start: the demo session, so Space plays something right away.
    if settings.last_session.is_none() {
        let demo = root.join("Demo");
        if !demo.join("session.json").exists() {
            overdub_engine::demo::create_demo(&demo)?;
        }
        return Ok(demo);
    }
    Ok((1..)
        .map(|n| root.join(format!("Session {n}")))
        .find(|p| !p.exists())
        .unwrap_or_else(|| root.join("Session")))
}

pub fn run(dir: Option<PathBuf>, page: &str) -> Result<()> {
    let (page, mixer) = match page {
        "session" => (Page::Session, false),
        "mixer" => (Page::Session, true),
        "audio" => (Page::Audio, false),
        "start" => (Page::Start, false),
        other => {
            return Err(Error::InvalidSetting(format!(
                "--page {other}: use session, mixer, audio or start"
            )));
        }
    };
    let (mut req, mut settings) = stream_request(&AudioArgs::default())?;
    let dir = choose_session(dir, &settings)?;
    let sdir = SessionDir::new(&dir);
    if !sdir.file().exists() {
        let mut s = Session::new(48_000, NEW_TRACKS);
        if let Some(t) = s.tracks.first_mut() {
            t.armed = true;
        }
        sdir.create(&s)?;
    }
    req.rate = 0;
    let (mut live, lock_notice) =
        overdub_ui::open_live(&dir, req.clone(), settings.latency.clone())?;
    if let Some(bytes) = settings.take_part_bytes {
        live.part_bytes = bytes;
    }
    let mut fell_back = None;
    if live.engine().is_none() {
        // The saved device is missing: fall back to the automatic choice and say so.
        let auto = StreamRequest {
            host: io::default_host(),
            input: None,
            output: None,
            buffer: None,
            ..req
        };
        if live.set_stream(auto.clone()).is_ok() {
            fell_back = Some(format!(
                "the saved audio device could not be opened; using {} instead",
                auto.host
            ));
        }
    }
    settings.remember(&dir);
    let _ = settings.save();
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_inner_size([1280.0, 760.0])
            .with_title(format!("Overdub — {}", dir.display())),
        ..Default::default()
    };
    eframe::run_native(
        "Overdub",
        options,
        Box::new(move |_cc| {
            let mut app = OverdubApp::new(live, settings)
                .with_page(page)
                .with_mixer(mixer)
                .with_lock_notice(lock_notice);
            if let Some(m) = fell_back {
                app.tell(m);
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| Error::Window(e.to_string()))
}
