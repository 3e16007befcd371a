//! The disk side: the disk thread that writes takes and streams clips, and the file code it uses.
//! Nothing here runs on the audio thread.

mod clip_reader;
mod take;
mod take_writer;
mod thread;
mod wav_repair;

pub use clip_reader::{ClipSource, TrackReader};
pub use take::{MAX_PART_BYTES, Take, part_path, salvage_parts};
pub use take_writer::{HEADER_INTERVAL, SYNC_INTERVAL, TakeFormat, TakeWriter, f32_to_i24};
pub use thread::{DiskCommand, DiskEvent, DiskLoad, DiskStats, DiskThread};
pub use wav_repair::{HeaderState, check as check_wav_header, repair_in_place};
