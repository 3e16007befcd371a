//! Realtime scheduling for the driver's callback threads. A callback thread at normal priority is
//! what makes a small buffer crackle: JACK and ASIO drivers raise their own threads, but cpal's
//! ALSA and WASAPI threads start at normal priority. Each callback promotes its own thread once, on
//! its first call (one non-blocking syscall, before the realtime work starts), and the outcome is
//! published for the settings page and `overdub devices`.
//!
//! Linux: `SCHED_FIFO` at priority 70, which needs `RLIMIT_RTPRIO` (the `audio` group's limits) or
//! `CAP_SYS_NICE`. Where that is refused, RealtimeKit (rtkit, the desktop's D-Bus service that
//! PipeWire and PulseAudio use) is asked instead, from a thread of its own so the callback never
//! waits on D-Bus; rtkit gives `SCHED_RR` at its own ceiling (20 by default; 10 asked). Windows:
//! cpal's `realtime` feature raises its own callback threads (MMCSS), and the thread priority is
//! set to time-critical here as well.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// The outcome of promoting the callback threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Priority {
    /// No callback has run yet, or this driver manages its own threads (JACK, the virtual device).
    Unknown,
    /// Every callback thread that tried runs at realtime priority, set directly.
    Realtime,
    /// Every callback thread that tried runs at realtime priority, granted by rtkit.
    Rtkit,
    /// The system refused (the OS error code), and so did rtkit where it was asked.
    Refused(i32),
}

/// [`Priority`] in an atomic, written by the callback threads (and by the thread that asks rtkit
/// for them, so it is shared).
#[derive(Clone, Debug, Default)]
pub struct PriorityCell(Arc<AtomicU32>);

const GRANTED: u32 = 1;
const RTKIT: u32 = 2;
const REFUSED: u32 = 1 << 31;

impl PriorityCell {
    /// The outcome so far. A refusal on any thread wins over a success on another.
    pub fn get(&self) -> Priority {
        match self.0.load(Ordering::Relaxed) {
            0 => Priority::Unknown,
            GRANTED => Priority::Realtime,
            RTKIT => Priority::Rtkit,
            v => Priority::Refused((v & !REFUSED) as i32),
        }
    }

    fn set(&self, p: Priority) {
        let v = match p {
            Priority::Unknown => 0,
            Priority::Realtime => GRANTED,
            Priority::Rtkit => RTKIT,
            Priority::Refused(code) => REFUSED | (code.max(0) as u32 & !REFUSED),
        };
        // Keep a refusal once there is one.
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
                (old & REFUSED == 0).then_some(v)
            });
    }
}

/// Promote the calling thread to realtime priority and record the outcome in `cell`. Call once
/// per callback thread, from its first callback, outside any allocation check. Where the system
/// refuses and rtkit may grant it, rtkit is asked from a new thread, which records the outcome
/// when rtkit answers: this call never waits on D-Bus.
pub fn promote_current_thread(cell: &PriorityCell) {
    match promote_directly() {
        Priority::Refused(code) => rtkit::ask_later(cell.clone(), code),
        p => cell.set(p),
    }
}

/// What a callback thread would get: try it on a short-lived thread of its own (rtkit too, where
/// the system refuses). Not on the audio thread; for `overdub devices` and the settings page
/// before a stream runs.
pub fn probe() -> Priority {
    std::thread::Builder::new()
        .name("overdub-priority-probe".into())
        .spawn(|| match promote_directly() {
            Priority::Refused(code) => rtkit::ask_now(code),
            p => p,
        })
        .ok()
        .and_then(|t| t.join().ok())
        .unwrap_or(Priority::Unknown)
}

/// RealtimeKit, asked over the system D-Bus for a thread the system would not promote.
#[cfg(target_os = "linux")]
mod rtkit {
    use super::{Priority, PriorityCell};
    use audio_thread_priority::{RtPriorityThreadInfo, get_current_thread_info};

    /// RLIMIT_RTTIME, which rtkit insists on: this is a budget per buffer at 48 kHz, which
    /// audio_thread_priority turns into 200 ms of CPU without blocking (rtkit's own ceiling) before
    /// the kernel signals. A callback blocks every buffer, long before that.
    const BUDGET: (u32, u32) = (9_600, 48_000);

    /// Ask rtkit to promote `thread` (of this process); `code` is the system's refusal, kept if
    /// rtkit refuses too.
    fn ask(thread: RtPriorityThreadInfo, code: i32) -> Priority {
        match audio_thread_priority::promote_thread_to_real_time(thread, BUDGET.0, BUDGET.1) {
            Ok(_) => Priority::Rtkit,
            Err(_) => Priority::Refused(code),
        }
    }

    /// For the calling thread, from another thread; `cell` gets the outcome.
    pub(super) fn ask_later(cell: PriorityCell, code: i32) {
        let Ok(thread) = get_current_thread_info() else {
            return cell.set(Priority::Refused(code));
        };
        let asker = std::thread::Builder::new()
            .name("overdub-rtkit".into())
            .spawn({
                let cell = cell.clone();
                move || cell.set(ask(thread, code))
            });
        if asker.is_err() {
            cell.set(Priority::Refused(code));
        }
    }

    /// For the calling thread, waiting for the answer.
    pub(super) fn ask_now(code: i32) -> Priority {
        match get_current_thread_info() {
            Ok(thread) => ask(thread, code),
            Err(_) => Priority::Refused(code),
        }
    }
}

/// No rtkit outside Linux: the system's answer stands.
#[cfg(not(target_os = "linux"))]
mod rtkit {
    use super::{Priority, PriorityCell};

    pub(super) fn ask_later(cell: PriorityCell, code: i32) {
        cell.set(Priority::Refused(code));
    }

    pub(super) fn ask_now(code: i32) -> Priority {
        Priority::Refused(code)
    }
}

#[cfg(unix)]
fn promote_directly() -> Priority {
    use thread_priority::{
        RealtimeThreadSchedulePolicy, ThreadPriority, ThreadPriorityValue, ThreadSchedulePolicy,
        set_thread_priority_and_policy, thread_native_id,
    };
    let Ok(value) = ThreadPriorityValue::try_from(70u8) else {
        return Priority::Refused(0);
    };
    match set_thread_priority_and_policy(
        thread_native_id(),
        ThreadPriority::Crossplatform(value),
        ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::Fifo),
    ) {
        Ok(()) => Priority::Realtime,
        Err(thread_priority::Error::OS(code)) => Priority::Refused(code),
        Err(_) => Priority::Refused(0),
    }
}

#[cfg(windows)]
fn promote_directly() -> Priority {
    use thread_priority::{ThreadPriority, WinAPIThreadPriority, set_current_thread_priority};
    match set_current_thread_priority(ThreadPriority::Os(
        WinAPIThreadPriority::TimeCritical.into(),
    )) {
        Ok(()) => Priority::Realtime,
        Err(thread_priority::Error::OS(code)) => Priority::Refused(code),
        Err(_) => Priority::Refused(0),
    }
}

#[cfg(not(any(unix, windows)))]
fn promote_directly() -> Priority {
    Priority::Unknown
}

impl Priority {
    /// One line for the settings page and `overdub devices`: whether it worked and, if not, what
    /// to do.
    pub fn describe(self) -> String {
        match self {
            Priority::Unknown => "set by the driver".into(),
            Priority::Realtime => "realtime".into(),
            Priority::Rtkit => "realtime (granted by rtkit)".into(),
            Priority::Refused(code) => {
                let why = std::io::Error::from_raw_os_error(code);
                if cfg!(target_os = "linux") {
                    format!(
                        "normal (realtime refused: {why}; rtkit did not grant it either: it is \
                         not running or this is not an active login session); add your user to \
                         the `audio` group with an rtprio limit (e.g. \
                         /etc/security/limits.d/audio.conf: `@audio - rtprio 95`), log in again, \
                         or use JACK with -R"
                    )
                } else {
                    format!("normal (realtime refused: {why})")
                }
            }
        }
    }
}
