//! The session: model (serde), the folder on disk, the editing API with undo, and autosave.

mod autosave;
mod copy;
mod edit;
mod grid;
mod journal;
mod lock;
mod model;
mod playing;
mod saver;
mod store;
pub mod validate;

pub use autosave::{
    AUTOSAVE_INTERVAL, Autosave, KEEP_BACKUPS, backup, backup_current, list_backups,
    newest_good_backup, restore_backup,
};
pub use copy::{copy_session, copy_session_at, from_template};
pub use edit::{Edit, Editor, UNDO_LIMIT};
pub use grid::Grid;
pub use journal::{
    JournalEntry, Punch, Recovered, TakeJournal, clear_journal, clips_for_take, forget_takes,
    read_journal, recording_clips, recover, write_journal,
};
pub use lock::SessionLock;
pub use model::{
    Clip, DEFAULT_TEMPO, Marker, Meter, SESSION_VERSION, Session, Track, db_to_gain, file_safe,
};
pub use playing::{Piece, TakeLane, playing_pieces, take_lanes};
pub use saver::{SaveJob, SaveResult, Saver};
pub use store::{SessionDir, file_name, write_atomic};
