//! Realtime scheduling for the driver's callback threads. A callback thread at normal priority is
//! what makes a small buffer crackle: JACK and ASIO drivers raise their own threads, but cpal's
//! ALSA and WASAPI threads start at normal priority. Each callback promotes its own thread once, on
//! its first call (one non-blocking syscall, before the realtime work starts), and the outcome is
//! published for the settings page and `overdub devices`.
//!
//! Linux: `SCHED_FIFO` at priority 70, which needs `RLIMIT_RTPRIO` (the `audio` group's limits) or
//! `CAP_SYS_NICE`. Windows: cpal's `realtime` feature raises its own callback threads (MMCSS), and
//! the thread priority is set to time-critical here as well.

use std::sync::atomic::{AtomicU32, Ordering};

/// The outcome of promoting the callback threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Priority {
    /// No callback has run yet, or this driver manages its own threads (JACK, the virtual device).
    Unknown,
    /// Every callback thread that tried runs at realtime priority.
    Realtime,
    /// The system refused; the OS error code.
    Refused(i32),
}

/// [`Priority`] in an atomic, written by the callback threads.
#[derive(Debug, Default)]
pub struct PriorityCell(AtomicU32);

const GRANTED: u32 = 1;
const REFUSED: u32 = 1 << 31;

impl PriorityCell {
    /// The outcome so far. A refusal on any thread wins over a success on another.
    pub fn get(&self) -> Priority {
        match self.0.load(Ordering::Relaxed) {
            0 => Priority::Unknown,
            GRANTED => Priority::Realtime,
            v => Priority::Refused((v & !REFUSED) as i32),
        }
    }

    fn set(&self, p: Priority) {
        let v = match p {
            Priority::Unknown => 0,
            Priority::Realtime => GRANTED,
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
/// per callback thread, from its first callback, outside any allocation check.
pub fn promote_current_thread(cell: &PriorityCell) {
    cell.set(promote());
}

/// What a callback thread would get: try it on a short-lived thread of its own. Not on the audio
/// thread; for `overdub devices` and the settings page before a stream runs.
pub fn probe() -> Priority {
    std::thread::Builder::new()
        .name("overdub-priority-probe".into())
        .spawn(promote)
        .ok()
        .and_then(|t| t.join().ok())
        .unwrap_or(Priority::Unknown)
}

#[cfg(unix)]
fn promote() -> Priority {
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
fn promote() -> Priority {
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
fn promote() -> Priority {
    Priority::Unknown
}

impl Priority {
    /// One line for the settings page and `overdub devices`: whether it worked and, if not, what
    /// to do.
    pub fn describe(self) -> String {
        match self {
            Priority::Unknown => "set by the driver".into(),
            Priority::Realtime => "realtime".into(),
            Priority::Refused(code) => {
                let why = std::io::Error::from_raw_os_error(code);
                if cfg!(target_os = "linux") {
                    format!(
                        "normal (realtime refused: {why}); add your user to the `audio` group \
                         with an rtprio limit (e.g. /etc/security/limits.d/audio.conf: \
                         `@audio - rtprio 95`), log in again, or use JACK with -R"
                    )
                } else {
                    format!("normal (realtime refused: {why})")
                }
            }
        }
    }
}
