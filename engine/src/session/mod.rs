//! The session: model (serde) and the folder on disk.

mod model;
mod store;

pub use model::{Clip, SESSION_VERSION, Session, Track, db_to_gain};
pub use store::{SessionDir, write_atomic};
