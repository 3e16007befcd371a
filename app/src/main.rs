//! `overdub`: the command line (and, later, the window). Thin: parses arguments, calls the engine,
//! prints one clear line on error and exits non-zero (2 when the user asked for something that
//! does not exist or is refused).

mod cli;
mod commands;
mod gui;

use std::process::ExitCode;

use clap::Parser;

// Debug builds abort if the audio thread allocates: every driver wraps its callback in
// `assert_no_alloc`, which only checks when this allocator is installed.
#[cfg(debug_assertions)]
#[global_allocator]
static ALLOC: assert_no_alloc::AllocDisabler = assert_no_alloc::AllocDisabler;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("overdub: {e}");
            if e.is_usage() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
