//! `overdub latency`: measure the round trip through a loopback and store it.

use overdub_engine::latency::{self, LatencyOptions};
use overdub_engine::{Error, Result};

use super::{ms, stream_request};
use crate::cli::LatencyArgs;

pub fn run(a: &LatencyArgs) -> Result<()> {
    let (in_channel, out_channel) = (a.in_channel, a.out_channel);
    if in_channel == 0 || out_channel == 0 {
        return Err(Error::InvalidSetting(
            "--in-channel and --out-channel count from 1".into(),
        ));
    }
    let (mut req, mut settings) = stream_request(&a.audio)?;
    super::device_rate(&mut req)?;
    let opts = LatencyOptions {
        in_channel: in_channel - 1,
        out_channel: out_channel - 1,
    };
    let m = latency::measure(&req, &opts)?;
    let s = &m.stream;
    let a = &m.analysis;
    println!(
        "stream: {} in '{}' out '{}' at {} Hz, {} frames ({:.2} ms) per buffer",
        s.host,
        s.input_device.as_deref().unwrap_or("-"),
        s.output_device.as_deref().unwrap_or("-"),
        s.rate,
        s.buffer,
        ms(u64::from(s.buffer), s.rate)
    );
    super::print_buffer_asked(req.buffer, s);
    println!(
        "measured round trip: {} frames ({:.2} ms), output {out_channel} to input {in_channel}, \
         {} impulses, spread {} frames, peak {:.1} dBFS",
        a.frames,
        ms(u64::from(a.frames), s.rate),
        a.delays.len(),
        a.spread,
        20.0 * a.peak.max(1e-9).log10()
    );
    let r = &m.reported;
    println!(
        "reported round trip: {} frames ({:.2} ms) = input {} + output {} + bridge {:.1}",
        r.round_trip(),
        ms(u64::from(r.round_trip()), s.rate),
        r.input,
        r.output,
        r.bridge
    );
    for w in a.warnings() {
        println!("warning: {w}");
    }
    latency::remember(&mut settings.latency, m.stored(&opts));
    settings.save()?;
    println!(
        "stored for {} '{}'/'{}' at {} Hz, {} frames: `overdub record` compensates {} frames",
        s.host,
        s.input_device.as_deref().unwrap_or("-"),
        s.output_device.as_deref().unwrap_or("-"),
        s.rate,
        s.buffer,
        a.frames
    );
    Ok(())
}
