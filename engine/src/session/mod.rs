//! The session: model (serde), the folder on disk, the editing API with undo, and autosave.

mod autosave;
mod edit;
mod model;
mod store;

pub use autosave::{AUTOSAVE_INTERVAL, Autosave, KEEP_BACKUPS, backup, list_backups};
pub use edit::{Edit, Editor, UNDO_LIMIT};
pub use model::{Clip, SESSION_VERSION, Session, Track, db_to_gain};
pub use store::{SessionDir, write_atomic};
