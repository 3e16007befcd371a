//! Reading a DAWproject archive, which is untrusted (it comes from another program, or from
//! anyone): every entry name is checked before anything is read, and every read stops at a size
//! limit whatever the archive claims. Not on the audio thread.

use std::collections::HashSet;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Most entries an archive may hold.
pub const MAX_ENTRIES: usize = 20_000;
/// The largest `project.xml` or `metadata.xml` read, bytes.
pub const MAX_XML_BYTES: u64 = 32 << 20;
/// The largest audio file extracted, bytes (a 64-bit WAV of a long multichannel take).
pub const MAX_AUDIO_BYTES: u64 = 16 << 30;

/// An open archive whose entry names have all been checked.
pub struct Archive {
    zip: zip::ZipArchive<File>,
    path: PathBuf,
    names: HashSet<String>,
}

impl Archive {
    /// Open `path` and check every entry: a name that is absolute or climbs out of the archive
    /// (`..`), a link, or more than [`MAX_ENTRIES`] entries refuse the whole file.
    pub fn open(path: &Path) -> Result<Self> {
        let f = File::open(path).map_err(|e| Error::io(path, e))?;
        let mut zip = zip::ZipArchive::new(f).map_err(|e| {
            bad(
                path,
                format!("not a DAWproject file (not a zip archive: {e})"),
            )
        })?;
        if zip.len() > MAX_ENTRIES {
            return Err(bad(
                path,
                format!("{} entries, more than {MAX_ENTRIES}", zip.len()),
            ));
        }
        let mut names = HashSet::with_capacity(zip.len());
        for i in 0..zip.len() {
            let entry = zip
                .by_index_raw(i)
                .map_err(|e| bad(path, format!("entry {i} is damaged ({e})")))?;
            let name = entry
                .name()
                .map_err(|e| bad(path, format!("entry {i} has no readable name ({e})")))?
                .into_owned();
            if !safe_name(&name) || entry.enclosed_name().is_none() {
                return Err(bad(
                    path,
                    format!("entry {name:?} points outside the archive; nothing was imported"),
                ));
            }
            if entry.is_symlink() {
                return Err(bad(
                    path,
                    format!("entry {name:?} is a link; nothing was imported"),
                ));
            }
            if entry.is_file() {
                names.insert(name);
            }
        }
        Ok(Self {
            zip,
            path: path.to_path_buf(),
            names,
        })
    }

    /// True when the archive holds a file of this name.
    pub fn has(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    /// The whole text of entry `name`, refused past [`MAX_XML_BYTES`]. `Ok(None)` if absent.
    pub fn text(&mut self, name: &str) -> Result<Option<String>> {
        if !self.has(name) {
            return Ok(None);
        }
        let path = self.path.clone();
        let entry = self
            .zip
            .by_name(name)
            .map_err(|e| bad(&path, format!("{name}: {e}")))?;
        let mut text = String::new();
        entry
            .take(MAX_XML_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| bad(&path, format!("{name} cannot be read ({e})")))?;
        if text.len() as u64 > MAX_XML_BYTES {
            return Err(bad(
                &path,
                format!(
                    "{name} is larger than {} MiB; nothing was imported",
                    MAX_XML_BYTES >> 20
                ),
            ));
        }
        Ok(Some(text))
    }

    /// Copy entry `name` to the file `dest`, refused past [`MAX_AUDIO_BYTES`] or past `room`
    /// bytes (the free disk space to use); returns the bytes.
    pub fn extract(&mut self, name: &str, dest: &Path, room: u64) -> Result<u64> {
        let path = self.path.clone();
        let entry = self
            .zip
            .by_name(name)
            .map_err(|e| bad(&path, format!("{name}: {e}")))?;
        let limit = MAX_AUDIO_BYTES.min(room);
        let mut out = File::create(dest).map_err(|e| Error::io(dest, e))?;
        let n = std::io::copy(&mut entry.take(limit + 1), &mut out)
            .map_err(|e| bad(&path, format!("{name} cannot be read ({e})")))?;
        if n > limit && limit < MAX_AUDIO_BYTES {
            return Err(bad(
                &path,
                format!("{name} does not fit on the disk; nothing was imported"),
            ));
        }
        if n > limit {
            return Err(bad(
                &path,
                format!(
                    "{name} is larger than {} GiB; nothing was imported",
                    MAX_AUDIO_BYTES >> 30
                ),
            ));
        }
        Ok(n)
    }
}

/// A relative path of plain components: no root, drive (`C:`), `..`, `.`, backslash or NUL.
pub fn safe_name(name: &str) -> bool {
    let drive = name.as_bytes().get(1) == Some(&b':');
    !name.is_empty()
        && !drive
        && !name.starts_with('/')
        && !name.contains(['\\', '\0'])
        && name
            .trim_end_matches('/')
            .split('/')
            .all(|c| !c.is_empty() && c != ".." && c != ".")
}

/// A refusal naming the archive.
pub fn bad(path: &Path, reason: String) -> Error {
    Error::BadFile {
        path: path.to_path_buf(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::safe_name;

    #[test]
    fn names_that_leave_the_archive_are_refused() {
        for ok in [
            "project.xml",
            "audio/take 1.wav",
            "audio/",
            "audio/Take 2: Vox.wav",
        ] {
            assert!(safe_name(ok), "{ok}");
        }
        for no in [
            "",
            "/etc/passwd",
            "../x.wav",
            "audio/../../x",
            "audio\\..\\x",
            "C:/x",
            "./project.xml",
            "a//b",
        ] {
            assert!(!safe_name(no), "{no}");
        }
    }
}
