//! Overdub's engine: the realtime process (`rt`), the audio backends (`io`), the disk thread
//! (`disk`), the session model (`session`), settings, and the control-side [`Engine`] that ties
//! them together for the command line and the GUI. No GUI code.

pub mod bench;
pub mod dawproject;
pub mod demo;
pub mod disk;
pub mod engine;
pub mod error;
pub mod export;
pub mod import;
pub mod io;
pub mod latency;
pub mod live;
pub mod peaks;
pub mod recorder;
pub mod rt;
pub mod session;
pub mod settings;
pub mod tune;

pub use engine::Engine;
pub use error::{Error, Result};

// The engine's own tests run every realtime path under `assert_no_alloc`: any allocation inside
// an `assert_no_alloc` block aborts the test binary.
#[cfg(all(test, debug_assertions))]
#[global_allocator]
static ALLOC: assert_no_alloc::AllocDisabler = assert_no_alloc::AllocDisabler;
