//! The engine's one error type. Each variant says what went wrong in words a musician can act on;
//! [`Error::is_usage`] tells the command line which ones are the user's to fix (exit code 2).

use std::path::PathBuf;

/// Everything the engine can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No such audio host in this build. Not worth retrying.
    #[error("unknown audio host '{name}'; this build has: {available}")]
    UnknownHost {
        /// What was asked for.
        name: String,
        /// Comma-separated host names.
        available: String,
    },
    /// The host exists but cannot be used now (JACK server not running, no devices).
    #[error("audio host '{host}' is not available: {reason}")]
    HostUnavailable {
        /// Host name.
        host: String,
        /// Why.
        reason: String,
    },
    /// No such device on the host. Not worth retrying with the same name.
    #[error("no {direction} device '{name}' on {host}; available: {available}")]
    UnknownDevice {
        /// Host name.
        host: String,
        /// "input" or "output".
        direction: &'static str,
        /// What was asked for.
        name: String,
        /// The devices there are, with their indices.
        available: String,
    },
    /// The device refuses the sample rate.
    #[error("{device} does not run at {rate} Hz; it offers: {available}")]
    UnsupportedRate {
        /// Device name.
        device: String,
        /// Requested rate, Hz.
        rate: u32,
        /// What it offers.
        available: String,
    },
    /// The device refuses the buffer size.
    #[error("{device} does not take a buffer of {buffer} frames; it offers: {available}")]
    UnsupportedBuffer {
        /// Device name.
        device: String,
        /// Requested size, frames.
        buffer: u32,
        /// What it offers.
        available: String,
    },
    /// A setting the user gave is out of range or inconsistent.
    #[error("{0}")]
    InvalidSetting(String),
    /// The device failed while opening or running. May work after replugging or restarting it.
    #[error("audio device error: {0}")]
    Device(String),
    /// A session folder or file is missing, damaged or from a newer version.
    #[error("session {path}: {reason}")]
    Session {
        /// The folder or file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Another process has the session open for writing.
    #[error(
        "session {path} is open in {holder}; close it there first (one program writes a session at a time)"
    )]
    Locked {
        /// The session folder.
        path: PathBuf,
        /// Who holds it: program, pid, for how long.
        holder: String,
    },
    /// An audio file to import is empty, damaged, truncated or not audio. Not worth retrying.
    #[error("{path}: {reason}")]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The window could not be opened (no display, no GL). The command line still works.
    #[error("cannot open the window: {0}")]
    Window(String),
    /// The user cancelled a long job (export, import).
    #[error("cancelled")]
    Cancelled,
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A WAV file could not be read or written.
    #[error("{path}: {source}")]
    Wav {
        /// The file.
        path: PathBuf,
        /// What hound said.
        source: hound::Error,
    },
}

impl Error {
    /// True for errors the user fixes by changing what they asked for (unknown host or device, a
    /// refused rate or buffer size, a bad setting): the command line exits 2 for these.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Error::UnknownHost { .. }
                | Error::HostUnavailable { .. }
                | Error::UnknownDevice { .. }
                | Error::UnsupportedRate { .. }
                | Error::UnsupportedBuffer { .. }
                | Error::InvalidSetting(_)
                | Error::Locked { .. }
        )
    }

    /// Wrap an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Wrap a WAV error with the path it concerns.
    pub fn wav(path: impl Into<PathBuf>, source: hound::Error) -> Self {
        Error::Wav {
            path: path.into(),
            source,
        }
    }
}

/// Shorthand for engine results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
