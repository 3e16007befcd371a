//! Keeping the process in RAM while a driver runs it (`mlockall`), as JACK and Ardour do.
//!
//! A realtime callback thread that touches a page the kernel has dropped waits for the disk: code
//! it has not run for a while (the paths that count a lost period), or a page of its own buffers
//! written out under memory pressure. While the machine writes a lot (a build, a backup, the page
//! cache being flushed) such a read takes tens of milliseconds, the callback misses its period
//! and the driver loses audio. Locking every page of the process, now and as it maps more, takes
//! that wait away. It is done once per process, on the control thread, before the first stream of
//! a real driver starts (not for the virtual device or the offline driver, which are not paced by
//! hardware), and kept for the life of the process.
//!
//! Locking needs `RLIMIT_MEMLOCK` unlimited (the `audio` group's limits) or the privilege to
//! ignore it. Under a small limit it is not tried: with future mappings locked, the process would
//! fail to allocate once it grew past the limit. `OVERDUB_NO_MLOCK` in the environment turns it
//! off. Linux only; elsewhere the driver's own threads and the system manage paging.

use std::sync::OnceLock;

/// Whether the process's memory is locked in RAM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemoryLock {
    /// Every page locked, and every page mapped from now on.
    Locked,
    /// Not locked, and why: what the system said, or the limit that kept it from being tried.
    NotLocked(String),
    /// Turned off by the user ([`OFF`] set in the environment).
    Off,
    /// Not a system where Overdub locks memory.
    Unsupported,
}

/// Set in the environment (to anything), memory is not locked: for a machine short of RAM, where
/// the resident memory it costs matters more.
pub const OFF: &str = "OVERDUB_NO_MLOCK";

static OUTCOME: OnceLock<MemoryLock> = OnceLock::new();

/// Lock the process's memory, once per process: the outcome, kept for later calls. Not on the
/// audio thread (it makes every mapped page resident, which can take a moment).
pub fn lock() -> MemoryLock {
    OUTCOME.get_or_init(imp::lock).clone()
}

/// What [`lock`] did, if it ran in this process (a real driver was opened).
pub fn outcome() -> Option<MemoryLock> {
    OUTCOME.get().cloned()
}

/// What [`lock`] did, or would do if it has not run yet (without locking anything): for
/// `overdub devices` and the settings page.
pub fn status() -> MemoryLock {
    // The settings page asks every frame; the limits it reads do not change while it runs.
    static PROBED: OnceLock<MemoryLock> = OnceLock::new();
    OUTCOME
        .get()
        .unwrap_or_else(|| PROBED.get_or_init(imp::probe))
        .clone()
}

/// How much of process `pid` the kernel holds locked in RAM, KiB (`VmLck` in `/proc/PID/status`;
/// None where that cannot be read).
pub fn locked_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmLck:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

impl MemoryLock {
    /// One line for the settings page and `overdub devices`: whether it worked and, if not, what
    /// to do.
    pub fn describe(&self) -> String {
        match self {
            MemoryLock::Locked => "locked in RAM".into(),
            MemoryLock::NotLocked(why) => format!(
                "not locked ({why}); a realtime thread may then wait for the disk and drop out \
                 while the machine writes a lot: give the `audio` group an unlimited memlock \
                 limit (/etc/security/limits.d/audio.conf: `@audio - memlock unlimited`) and log \
                 in again"
            ),
            MemoryLock::Off => format!("not locked ({OFF} is set)"),
            MemoryLock::Unsupported => "managed by the system".into(),
        }
    }
}

#[cfg(target_os = "linux")]
mod imp {
    use super::{MemoryLock, OFF};
    use rustix::mm::{MlockAllFlags, mlockall};
    use rustix::process::{Resource, geteuid, getrlimit};

    /// Whether locking is worth trying, or what to report instead.
    fn allowed() -> Result<(), MemoryLock> {
        if std::env::var_os(OFF).is_some() {
            return Err(MemoryLock::Off);
        }
        if geteuid().is_root() {
            return Ok(());
        }
        match getrlimit(Resource::Memlock).current {
            None => Ok(()),
            Some(bytes) => Err(MemoryLock::NotLocked(format!(
                "the memlock limit is {} KiB",
                bytes.div_ceil(1024)
            ))),
        }
    }

    pub(super) fn probe() -> MemoryLock {
        allowed().err().unwrap_or(MemoryLock::Locked)
    }

    pub(super) fn lock() -> MemoryLock {
        if let Err(not) = allowed() {
            return not;
        }
        match mlockall(MlockAllFlags::CURRENT | MlockAllFlags::FUTURE) {
            Ok(()) => MemoryLock::Locked,
            Err(e) => MemoryLock::NotLocked(format!("mlockall refused: {e}")),
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::MemoryLock;

    pub(super) fn probe() -> MemoryLock {
        MemoryLock::Unsupported
    }

    pub(super) fn lock() -> MemoryLock {
        MemoryLock::Unsupported
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_says_what_to_do() {
        let line = MemoryLock::NotLocked("the memlock limit is 8192 KiB".into()).describe();
        assert!(line.contains("8192 KiB"), "{line}");
        assert!(line.contains("memlock unlimited"), "{line}");
    }

    /// On Linux the probe and the lock agree, and a locked process shows it in `/proc`.
    #[cfg(target_os = "linux")]
    #[test]
    fn locking_does_what_the_probe_said() {
        let said = status();
        let did = lock();
        assert_eq!(said, did);
        let locked = locked_kib(std::process::id());
        match did {
            MemoryLock::Locked => assert!(locked.is_some_and(|k| k > 0), "{locked:?}"),
            _ => assert_eq!(locked, Some(0)),
        }
        assert_eq!(status(), did, "the outcome is kept");
    }
}
