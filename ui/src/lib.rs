//! Overdub's desktop window: egui views over a [`overdub_engine::live::Live`] session. No audio
//! code here: every action goes through the engine's API, and nothing in this crate waits on the
//! disk or the audio thread (peaks, imports, exports and latency measurements run on their own
//! threads).

mod app;
mod channels;
mod clip_fades;
mod export_dialog;
mod help;
mod input_meters;
mod markers;
mod mixer;
mod notices;
mod peak_hold;
mod peaks_cache;
mod punch;
mod rate_refused;
mod read_only;
mod save_copy;
mod sessions;
mod settings_page;
mod take_lanes;
mod timeline;
mod track_colour;
mod tracks;
mod transport;
mod widgets;

pub use app::{OverdubApp, Page};
pub use read_only::open_live;
pub use tracks::MIN_HEIGHT as MIN_TRACK_HEIGHT;
