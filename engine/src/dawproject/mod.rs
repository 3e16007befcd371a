//! DAWproject interchange: take a session to Bitwig Studio, Studio One, Cubase and the other
//! programs that read the open DAWproject format, and make a session from their files.
//!
//! A `.dawproject` file is a zip holding `project.xml` (tracks, mixer channels, the transport and
//! the arrangement), `metadata.xml` and the audio. The XML is read and written through the
//! `dawproject` crate's types, generated from the format's schemas; the zip with the `zip` crate.
//!
//! - [`export_project`] writes one audio track per track (its channel: channels, volume, pan,
//!   mute, solo) into a master channel, the tempo and time signature, the markers, and one lane
//!   per track in seconds. Overdub plays a later clip over an earlier one; the file holds the
//!   stretches that play, as clips that do not overlap, and every take covered in whole or in
//!   part as a disabled clip, so nothing recorded is left out. Audio files go in unchanged.
//! - [`import_project`] makes a new session from a file (see [`read`]).
//!
//! Not on the audio thread.

mod archive;
mod read;
mod write;

pub use archive::{MAX_AUDIO_BYTES, MAX_ENTRIES, MAX_XML_BYTES, safe_name};
pub use read::{ProjectImport, import_project};
pub use write::{ProjectReport, export_project};

/// The DAWproject format version written.
pub const FORMAT_VERSION: &str = "1.0";
/// The project file inside the archive.
pub const PROJECT_XML: &str = "project.xml";
/// The metadata file inside the archive.
pub const METADATA_XML: &str = "metadata.xml";
/// The folder of the audio files inside the archive.
pub const AUDIO_FOLDER: &str = "audio";
/// The top of the linear volume range written (+24 dB, Overdub's highest fader gain).
pub const MAX_VOLUME: f64 = 15.848_931_924_611_133;

/// The folder `path` goes in (`.` for a bare name), made if missing, and the topmost folder
/// that had to be made (to remove again if what goes in it fails).
fn parent_made(
    path: &std::path::Path,
) -> crate::Result<(std::path::PathBuf, Option<std::path::PathBuf>)> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let top = parent
        .ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
        .last()
        .map(std::path::Path::to_path_buf);
    std::fs::create_dir_all(parent).map_err(|e| crate::Error::io(parent, e))?;
    Ok((parent.to_path_buf(), top))
}
