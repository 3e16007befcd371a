//! `overdub play DIR`: play the session.

use std::path::Path;

use overdub_engine::recorder;
use overdub_engine::{Error, Result};

use super::record::{print_health, print_stream};
use super::stream_request;
use crate::cli::AudioArgs;

pub fn run(dir: &Path, seconds: Option<f64>, from: f64, audio: &AudioArgs) -> Result<()> {
    let (req, _) = stream_request(audio)?;
    let report = recorder::play(dir, &req, from, seconds)?;
    print_stream(&report);
    println!(
        "played {} frames ({:.3} s)",
        report.frames_rolled,
        report.frames_rolled as f64 / f64::from(report.stream.rate)
    );
    print_health(&report);
    if let Some(why) = &report.interrupted {
        return Err(Error::Device(why.clone()));
    }
    Ok(())
}
