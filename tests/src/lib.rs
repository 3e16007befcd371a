//! End-to-end tests for Overdub live in `tests/tests/`; this crate has no library code.
