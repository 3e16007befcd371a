//! The command line, as clap types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Overdub: a multitrack recorder for musicians who record and monitor live.
#[derive(Debug, Parser)]
#[command(name = "overdub", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List every audio host of this build, its devices, channels, rates and buffer sizes.
    Devices {
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Create a session folder with N mono tracks; track i listens to input channel i.
    New {
        /// The folder to create.
        dir: PathBuf,
        /// Sample rate, Hz.
        #[arg(long, default_value_t = 48_000)]
        rate: u32,
        /// Number of mono tracks.
        #[arg(long, default_value_t = 8)]
        tracks: usize,
    },
    /// Record the armed tracks while the other tracks play.
    Record {
        /// The session folder.
        dir: PathBuf,
        /// Length of the take, seconds.
        #[arg(long)]
        seconds: f64,
        /// Tracks to arm, 1-based, comma-separated (default: the first track).
        #[arg(long, value_delimiter = ',')]
        arm: Option<Vec<usize>>,
        /// Hear the armed inputs through the outputs.
        #[arg(long)]
        monitor: bool,
        /// Take file format: 32f (float) or 24 (bit integer).
        #[arg(long, default_value = "32f")]
        format: String,
        /// Audio device choice.
        #[command(flatten)]
        audio: AudioArgs,
    },
    /// Play the session.
    Play {
        /// The session folder.
        dir: PathBuf,
        /// Seconds to play (default: to the end of the last clip).
        #[arg(long)]
        seconds: Option<f64>,
        /// Where to start, seconds.
        #[arg(long, default_value_t = 0.0)]
        from: f64,
        /// Audio device choice.
        #[command(flatten)]
        audio: AudioArgs,
    },
    /// Measure the round trip latency with output N cabled to input N, and store it for this
    /// host, devices, rate and buffer size; `record` then compensates it.
    Latency {
        /// Input the loopback returns on, 1-based.
        #[arg(long, default_value_t = 1)]
        in_channel: u16,
        /// Output the test signal goes out on, 1-based.
        #[arg(long, default_value_t = 1)]
        out_channel: u16,
        /// Audio device choice.
        #[command(flatten)]
        audio: AudioArgs,
    },
    /// Show the session: rate, tracks, clips.
    Info {
        /// The session folder.
        dir: PathBuf,
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
}

/// Device flags shared by the commands that open audio. Each overrides the settings file for one
/// run.
#[derive(Debug, Args, Clone)]
pub struct AudioArgs {
    /// Audio host: jack, alsa, wasapi, asio, coreaudio or virtual.
    #[arg(long)]
    pub host: Option<String>,
    /// Input device, by name or by the index `overdub devices` prints.
    #[arg(long)]
    pub input: Option<String>,
    /// Output device, by name or index.
    #[arg(long)]
    pub output: Option<String>,
    /// Sample rate, Hz (must be the session's).
    #[arg(long)]
    pub rate: Option<u32>,
    /// Buffer size, frames.
    #[arg(long)]
    pub buffer: Option<u32>,
    /// Virtual loopback device only: the cable's round trip, frames (default: one buffer).
    #[arg(long)]
    pub loopback_delay: Option<u32>,
    /// First output channel (1-based) of the stereo master pair (default 1: outputs 1 and 2).
    #[arg(long)]
    pub master_out: Option<u16>,
}
