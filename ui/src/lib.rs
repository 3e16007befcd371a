//! Overdub UI.
