//! `overdub play DIR`: play the session.

use overdub_engine::recorder;
use overdub_engine::{Error, Result};

use super::record::{print_health, print_stream};
use super::stream_request;
use crate::cli::PlayArgs;

pub fn run(a: &PlayArgs) -> Result<()> {
    let (req, _) = stream_request(&a.audio)?;
    let report = recorder::play(&a.dir, &req, a.from, a.seconds)?;
    print_stream(&report, req.buffer);
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
