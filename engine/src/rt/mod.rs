//! The realtime side: the process function and everything it calls. Every line under `rt/` may
//! run on the audio thread and obeys DESIGN.md's realtime rules: no allocation or free, no lock, no
//! I/O, no blocking, no panic on any input.

mod command;
mod denormals;
mod leave_out;
mod meter;
mod process;
mod track;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_bridge;
#[cfg(test)]
mod tests_take;

pub use command::{Command, Event, Garbage, TrackId};
pub use denormals::DenormalGuard;
pub use meter::{AtomicF32, EngineStatus, INPUT_METERS, MasterMeter, TrackMeter, XRUN_LOG};
pub use process::{MAX_TRACKS, Process, ProcessConfig, ProcessHandle};
pub use track::{MonitorMode, TrackRt, pan_gains};

mod bridge;
mod cable;
mod callback_clock;
mod click;
mod cycle_watch;
mod duplex;
mod priority;
mod steady_block;
mod test_signal;

pub use bridge::{BridgeInput, BridgeOutput, PullReport, bridge};
pub use cable::{CableReceive, CableSend, LoopbackCable, SharedCable};
pub use callback_clock::WINDOW_SECONDS as CALLBACK_WINDOW_SECONDS;
pub use click::Click;
pub use cycle_watch::CycleWatch;
pub use duplex::{DuplexInput, DuplexOutput, duplex};
pub use priority::{Priority, PriorityCell, probe as probe_priority, promote_current_thread};
pub use steady_block::SteadyBlock;
pub use test_signal::{fill_test_signal, test_signal};
