//! The driver's own control panel, where the host has one: an ASIO driver's settings window
//! (Steinberg's `ASIOControlPanel` on the driver the open stream runs), and on macOS the system's
//! Audio MIDI Setup for CoreAudio. JACK, ALSA, PipeWire and WASAPI have none of their own (their
//! settings live in the server's or the system's tools). Not on the audio thread.

use super::HostId;
use crate::error::{Error, Result};

/// Whether `host` has a control panel of its own in this build.
pub fn has_control_panel(host: HostId) -> bool {
    match host {
        HostId::Asio => cfg!(all(target_os = "windows", feature = "asio")),
        HostId::CoreAudio => cfg!(target_os = "macos"),
        _ => false,
    }
}

/// Show the control panel of `host`'s driver. For ASIO it is the loaded driver's, so a stream
/// must be open on it (see `Engine::open_control_panel`); the panel is the driver's own window
/// and this returns once it is asked for.
pub fn open(host: HostId) -> Result<()> {
    match host {
        #[cfg(all(target_os = "windows", feature = "asio"))]
        HostId::Asio => asio::control_panel(),
        #[cfg(target_os = "macos")]
        HostId::CoreAudio => std::process::Command::new("open")
            .args(["-a", "Audio MIDI Setup"])
            .spawn()
            .map(drop)
            .map_err(|e| Error::Device(format!("cannot open Audio MIDI Setup ({e})"))),
        other => Err(Error::InvalidSetting(format!(
            "the {other} driver has no control panel of its own"
        ))),
    }
}

// The one foreign call: Steinberg's SDK function that no crate binds.
#[cfg(all(target_os = "windows", feature = "asio"))]
#[allow(unsafe_code)]
mod asio {
    use crate::error::{Error, Result};

    // asio-sys builds Steinberg's asio.cpp as C++ without `extern "C"`, and binds no control
    // panel: the symbol is the C++ one, mangled as each Windows toolchain mangles it.
    unsafe extern "C" {
        #[cfg_attr(target_env = "gnu", link_name = "_Z16ASIOControlPanelv")]
        #[cfg_attr(target_env = "msvc", link_name = "?ASIOControlPanel@@YAJXZ")]
        fn ASIOControlPanel() -> i32;
    }

    /// ASE_OK and ASE_SUCCESS; ASE_NotPresent.
    const OK: [i32; 2] = [0, 0x3f48_47a0];
    const NOT_PRESENT: i32 = -1000;

    pub(super) fn control_panel() -> Result<()> {
        // SAFETY: ASIOControlPanel takes nothing; it calls the loaded driver's controlPanel, or
        // returns ASE_NotPresent when no driver is loaded.
        let code = unsafe { ASIOControlPanel() };
        match code {
            c if OK.contains(&c) => Ok(()),
            NOT_PRESENT => Err(Error::Device(
                "no ASIO driver is loaded: open the device first".into(),
            )),
            c => Err(Error::Device(format!(
                "the ASIO driver did not open its control panel (ASIO error {c})"
            ))),
        }
    }
}
