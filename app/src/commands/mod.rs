//! One file per command.

mod bench;
mod devices;
mod edit;
mod export;
mod import;
mod info;
mod latency;
mod new;
mod play;
mod progress;
mod record;
mod recover;

use overdub_engine::io::{self, CallbackOrder, HostId, StreamRequest};
use overdub_engine::settings::Settings;
use overdub_engine::{Error, Result};

use crate::cli::{AudioArgs, Cli, Command};

/// With no session to set it: the chosen output device's own rate (on JACK, the server's).
pub fn device_rate(req: &mut StreamRequest) -> Result<()> {
    if req.rate != 0 {
        return Ok(());
    }
    let host = io::describe(req.host);
    let device = match &req.output {
        Some(name) => Some(host.find(name, io::Direction::Output)?),
        None => host.default_device(io::Direction::Output),
    };
    req.rate = device.map_or(48_000, |d| d.default_rate);
    Ok(())
}

/// Run the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let Some(command) = cli.command else {
        return crate::gui::run(None, "session");
    };
    match command {
        Command::Open { dir, page } => crate::gui::run(Some(dir), &page),
        Command::Devices { json, host } => devices::run(json, host.as_deref()),
        Command::New(a) => new::run(&a),
        Command::Record(a) => record::run(&a),
        Command::Play(a) => play::run(&a),
        Command::Info { dir, json } => info::run(&dir, json),
        Command::Latency(a) => latency::run(&a),
        Command::ControlPanel { audio } => devices::control_panel(&audio),
        Command::Import(a) => import::run(&a),
        Command::Export(a) => export::run(&a),
        Command::Recover { dir } => recover::run(&dir),
        Command::Restore { dir, backup } => recover::restore(&dir, backup.as_deref()),
        Command::Bench {
            tracks,
            record,
            buffer,
            rate,
            seconds,
            json,
        } => bench::bench(tracks, record, buffer, rate, seconds, json),
        Command::Tune {
            session,
            seconds,
            json,
            audio,
        } => bench::tune(session.as_deref(), seconds, json, &audio),
        Command::Track(a) => edit::track(&a),
        Command::Clip(a) => edit::clip(&a),
        Command::Marker(a) => edit::marker(&a),
        Command::Takes {
            dir,
            track,
            use_take,
            range,
        } => edit::takes(&dir, track, use_take, range.as_deref()),
        Command::Tempo { dir, bpm, meter } => edit::tempo(&dir, bpm, meter.as_deref()),
        Command::ImportProject { dir, file } => import::project(&dir, &file),
    }
}

/// The stream to open: flags over settings over automatic choice. The rate is left 0 for the
/// session to fill in (or the flag, which must match it).
pub fn stream_request(audio: &AudioArgs) -> Result<(StreamRequest, Settings)> {
    let (settings, warning) = Settings::load();
    if let Some(w) = warning {
        eprintln!("overdub: warning: {w}");
    }
    let flagged_host = audio.host.is_some();
    let host = match audio.host.as_deref().or(settings.host.as_deref()) {
        Some(name) => HostId::parse(name)?,
        None => io::default_host(),
    };
    // Saved devices belong to the saved host; a host chosen on the command line starts from its
    // own defaults.
    let same_host = !flagged_host || settings.host.as_deref().is_some_and(|h| h == host.name());
    let req = StreamRequest {
        host,
        input: audio
            .input
            .clone()
            .or_else(|| same_host.then(|| settings.input.clone()).flatten()),
        output: audio
            .output
            .clone()
            .or_else(|| same_host.then(|| settings.output.clone()).flatten()),
        rate: audio.rate.unwrap_or(0),
        buffer: audio
            .buffer
            .or_else(|| same_host.then_some(settings.buffer).flatten()),
        loopback_delay: audio.loopback_delay.or(settings.loopback_delay),
        master_out: match audio.master_out.or(settings.master_out).unwrap_or(1) {
            0 => {
                return Err(Error::InvalidSetting(
                    "--master-out counts from 1 (outputs 1 and 2)".into(),
                ));
            }
            n => n - 1,
        },
        faults: Vec::new(),
        callbacks: match &audio.callbacks {
            Some(c) => CallbackOrder::parse(c)?,
            None => CallbackOrder::Duplex,
        },
    };
    Ok((req, settings))
}

/// Seconds as frames at a rate; refuses negative and non-finite values.
/// A clip's fades and gain as `info` and `takes` print them after its place: empty for a clip
/// with neither.
fn fades_and_gain(c: &overdub_engine::session::Clip) -> String {
    let mut out = String::new();
    if c.fade_in > 0 {
        out += &format!(", fade-in {} frames", c.fade_in);
    }
    if c.fade_out > 0 {
        out += &format!(", fade-out {} frames", c.fade_out);
    }
    if c.gain_db != 0.0 {
        out += &format!(", gain {} dB", c.gain_db);
    }
    out
}

fn frames(seconds: f64, rate: u32, what: &str) -> Result<u64> {
    if seconds.is_finite() && seconds >= 0.0 {
        Ok((seconds * f64::from(rate)).round() as u64)
    } else {
        Err(Error::InvalidSetting(format!(
            "{what} must be 0 or more seconds, not {seconds}"
        )))
    }
}

/// `START:END` in seconds, as given to `flag` (`--range`, `--loop`).
fn span(flag: &str, text: &str) -> Result<(f64, f64)> {
    let bad = || Error::InvalidSetting(format!("{flag} {text}: give START:END in seconds"));
    let (a, b) = text.split_once(':').ok_or_else(bad)?;
    Ok((
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    ))
}

/// Say so when the driver runs another buffer size than the one asked for (PipeWire: a power of
/// two at or below it, or the size its server is set to). Measurements are kept for the size it
/// runs.
fn print_buffer_asked(asked: Option<u32>, s: &io::StreamInfo) {
    if let Some(asked) = asked.filter(|&a| a != s.buffer) {
        println!(
            "buffer: {asked} frames asked for; {} runs {} frames",
            s.host, s.buffer
        );
    }
}

/// Frames as milliseconds at a rate.
fn ms(frames: u64, rate: u32) -> f64 {
    frames as f64 * 1000.0 / f64::from(rate.max(1))
}
