//! The command line, as clap types: one `Args` struct per command.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Overdub: a multitrack recorder for musicians who record and monitor live. With no command it
/// opens the window on the last session (or a new one).
#[derive(Debug, Parser)]
#[command(name = "overdub", version, about)]
pub struct Cli {
    /// What to do (default: open the window).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the window on a session folder (created if it does not exist).
    Open {
        /// The session folder.
        dir: PathBuf,
        /// Open on this page: session (default), mixer (the session with the mixer shown),
        /// audio (the audio settings) or start (new, recent and other sessions).
        #[arg(long, default_value = "session")]
        page: String,
    },
    /// List every audio host of this build, its devices, channels, rates and buffer sizes.
    Devices {
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
        /// Only this host (the others are not touched: some drivers dislike being probed
        /// together).
        #[arg(long)]
        host: Option<String>,
    },
    /// Create a session folder with N mono tracks; track i listens to input channel i.
    New(NewArgs),
    /// Record the armed tracks while the other tracks play.
    Record(RecordArgs),
    /// Play the session.
    Play(PlayArgs),
    /// Show the session: rate, tracks, clips.
    Info {
        /// The session folder.
        dir: PathBuf,
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Measure the round trip latency with output N cabled to input N, and store it for this
    /// host, devices, rate and buffer size; `record` then compensates it.
    Latency(LatencyArgs),
    /// Open the audio driver's own control panel, where it has one (an ASIO driver's settings
    /// window; Audio MIDI Setup on macOS). The device is opened for it.
    ControlPanel {
        /// Audio device choice.
        #[command(flatten)]
        audio: AudioArgs,
    },
    /// Import audio files (WAV, FLAC, MP3, Ogg Vorbis, AIFF, AAC/M4A) as clips.
    Import(ImportArgs),
    /// Render stems and/or the mix to WAV files.
    Export(ExportArgs),
    /// Put back the takes of a recording that was interrupted (crash, kill, power loss).
    Recover {
        /// The session folder.
        dir: PathBuf,
    },
    /// Replace a damaged session.json with a backup (the newest, unless one is named); the
    /// damaged file is kept beside it.
    Restore {
        /// The session folder.
        dir: PathBuf,
        /// A file from DIR/backups/ (default: the newest good one).
        backup: Option<PathBuf>,
    },
    /// Time the real process function offline over N playing and M recording tracks, and the
    /// disk thread's writing: the cost per block and what it means as DSP load.
    Bench {
        /// Tracks playing.
        #[arg(long, default_value_t = 64)]
        tracks: usize,
        /// Tracks recording (monitoring on).
        #[arg(long, default_value_t = 16)]
        record: usize,
        /// Buffer size, frames.
        #[arg(long, default_value_t = 64)]
        buffer: usize,
        /// Sample rate, Hz.
        #[arg(long, default_value_t = 48_000)]
        rate: u32,
        /// Seconds of audio to process.
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Find the smallest buffer size that runs clean on the device: tries each size from 512
    /// down for a few seconds with a real load, counting xruns and DSP load.
    Tune {
        /// Run this session's tracks as the load (default: 16 monitored inputs).
        #[arg(long)]
        session: Option<PathBuf>,
        /// Seconds per size.
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
        /// Audio device choice.
        #[command(flatten)]
        audio: AudioArgs,
    },
    /// Edit tracks: add, remove, rename, gain, pan, mute, solo, monitoring, input, channels.
    Track(TrackArgs),
    /// Edit clips: move, trim, split, delete.
    Clip(ClipArgs),
    /// Markers: add, list, move, rename, delete.
    Marker(MarkerArgs),
    /// List a track's takes and what plays (the comp), or choose a take for all of it or a
    /// range. Where takes overlap, the one later in the list plays.
    Takes {
        /// The session folder.
        dir: PathBuf,
        /// Track number, 1-based.
        #[arg(long)]
        track: usize,
        /// Make take N (as listed) play over the others.
        #[arg(long = "use")]
        use_take: Option<usize>,
        /// With --use: only for START:END, seconds (the take plays there, the others elsewhere).
        #[arg(long, requires = "use_take")]
        range: Option<String>,
    },
    /// Set the session's tempo and time signature (used by the grid and by DAWproject).
    Tempo {
        /// The session folder.
        dir: PathBuf,
        /// Beats per minute.
        #[arg(long)]
        bpm: Option<f64>,
        /// Time signature, N/D (4/4, 6/8, ...).
        #[arg(long)]
        meter: Option<String>,
    },
    /// Make a new session folder from a DAWproject file (Bitwig Studio, Studio One, Cubase, ...):
    /// audio clips, tracks, gains, pans, mutes, tempo, markers.
    ImportProject {
        /// The session folder to create (must not hold a session).
        dir: PathBuf,
        /// The .dawproject file.
        file: PathBuf,
    },
}

/// `overdub marker`.
#[derive(Debug, Args)]
pub struct MarkerArgs {
    /// The session folder.
    pub dir: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub action: MarkerAction,
}

/// Marker edits. Markers are named by the id `overdub marker DIR list` prints.
#[derive(Debug, Subcommand)]
pub enum MarkerAction {
    /// Add a marker at a position, seconds.
    Add {
        /// Where, seconds.
        #[arg(long)]
        at: f64,
        /// Its name.
        #[arg(long, default_value = "")]
        name: String,
    },
    /// List the markers in timeline order.
    List {
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Move a marker to a position, seconds.
    Move {
        /// Marker id.
        id: u32,
        /// New position, seconds.
        #[arg(long)]
        to: f64,
    },
    /// Rename a marker.
    Rename {
        /// Marker id.
        id: u32,
        /// New name.
        name: String,
    },
    /// Delete a marker.
    Delete {
        /// Marker id.
        id: u32,
    },
}

/// `overdub new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The folder to create.
    pub dir: PathBuf,
    /// Sample rate, Hz.
    #[arg(long, default_value_t = 48_000)]
    pub rate: u32,
    /// Number of mono tracks.
    #[arg(long, default_value_t = 8)]
    pub tracks: usize,
}

/// `overdub record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// The session folder.
    pub dir: PathBuf,
    /// Length of the take, seconds (with --loop: of the whole recording, round the loop; with
    /// --punch and no punch-out: of the whole run, from the pre-roll).
    #[arg(long, required_unless_present_any = ["passes", "punch"])]
    pub seconds: Option<f64>,
    /// Loop recording: START:END in seconds. Recording starts at START, goes round the loop
    /// without a gap, and each pass becomes a take (the newest plays over the others).
    #[arg(long = "loop")]
    pub loop_range: Option<String>,
    /// With --loop: record this many whole passes.
    #[arg(long, requires = "loop_range", conflicts_with = "seconds")]
    pub passes: Option<u32>,
    /// Punch in and out: IN:OUT in seconds (IN: or :OUT for one alone). The armed tracks play
    /// what they hold until IN and from OUT; in between you hear the input and the old take is
    /// silent. The new take shows only between IN and OUT, over the old one, crossfaded.
    #[arg(long, conflicts_with = "loop_range")]
    pub punch: Option<String>,
    /// With --punch: played before IN, seconds ("2") or bars ("1bar", "2bars").
    #[arg(long, requires = "punch", default_value = "1bar")]
    pub preroll: String,
    /// With --punch: played after OUT before the run stops, seconds or bars.
    #[arg(long, requires = "punch", default_value = "1bar")]
    pub postroll: String,
    /// With --punch: crossfade at each edge, milliseconds (default: the session's fade length,
    /// see `overdub clip DIR fade-length`; 0 for none).
    #[arg(long, requires = "punch", allow_negative_numbers = true)]
    pub crossfade: Option<f64>,
    /// Tracks to arm, 1-based, comma-separated (default: the armed tracks, else the first).
    #[arg(long, value_delimiter = ',')]
    pub arm: Option<Vec<usize>>,
    /// Hear the armed inputs through the outputs.
    #[arg(long)]
    pub monitor: bool,
    /// Take file format: 32f (float) or 24 (bit integer).
    #[arg(long, default_value = "32f")]
    pub format: String,
    /// Audio device choice.
    #[command(flatten)]
    pub audio: AudioArgs,
}

/// `overdub play`.
#[derive(Debug, Args)]
pub struct PlayArgs {
    /// The session folder.
    pub dir: PathBuf,
    /// Seconds to play (default: to the end of the last clip).
    #[arg(long)]
    pub seconds: Option<f64>,
    /// Where to start, seconds.
    #[arg(long, default_value_t = 0.0)]
    pub from: f64,
    /// Audio device choice.
    #[command(flatten)]
    pub audio: AudioArgs,
}

/// `overdub latency`.
#[derive(Debug, Args)]
pub struct LatencyArgs {
    /// Input the loopback returns on, 1-based.
    #[arg(long, default_value_t = 1)]
    pub in_channel: u16,
    /// Output the test signal goes out on, 1-based.
    #[arg(long, default_value_t = 1)]
    pub out_channel: u16,
    /// Audio device choice.
    #[command(flatten)]
    pub audio: AudioArgs,
}

/// `overdub import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The session folder.
    pub dir: PathBuf,
    /// The files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Put the clips on this track (1-based) instead of a new track per file.
    #[arg(long)]
    pub track: Option<usize>,
    /// Timeline position, seconds.
    #[arg(long, default_value_t = 0.0)]
    pub at: f64,
}

/// `overdub export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The session folder.
    pub dir: PathBuf,
    /// Folder for the stems and mix.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also (or only) write the session as a DAWproject file for Bitwig Studio, Studio One,
    /// Cubase and others: every clip, take, gain, pan, the tempo and markers, with the audio
    /// files copied in unchanged.
    #[arg(long)]
    pub dawproject: Option<PathBuf>,
    /// One file per track.
    #[arg(long)]
    pub stems: bool,
    /// The master mix.
    #[arg(long)]
    pub mix: bool,
    /// Sample format: 16 (dithered), 24 or 32f.
    #[arg(long, default_value = "24")]
    pub format: String,
    /// START:END in seconds (default: the session start to the end of the last clip + tail).
    #[arg(long)]
    pub range: Option<String>,
    /// Seconds after the last clip.
    #[arg(long, default_value_t = 0.0)]
    pub tail: f64,
    /// Normalize so the mix (or loudest stem) peaks at this level, dBFS.
    #[arg(long, allow_hyphen_values = true)]
    pub normalize: Option<f32>,
    /// Export muted tracks' stems too.
    #[arg(long)]
    pub include_muted: bool,
}

/// On or off.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Switch {
    /// On.
    On,
    /// Off.
    Off,
}

impl Switch {
    /// As a bool.
    pub fn on(self) -> bool {
        matches!(self, Switch::On)
    }
}

/// Monitoring mode on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Monitor {
    /// Never the input.
    Off,
    /// The input while armed.
    Auto,
    /// Always the input.
    Input,
}

/// `overdub track`.
#[derive(Debug, Args)]
pub struct TrackArgs {
    /// The session folder.
    pub dir: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub action: TrackAction,
}

/// Track edits.
#[derive(Debug, Subcommand)]
pub enum TrackAction {
    /// The master fader (it scales the exported mix, not the stems). Without --gain, show it.
    Master {
        /// Master gain, dB (up to +24).
        #[arg(long, allow_negative_numbers = true)]
        gain: Option<f32>,
    },
    /// Add a track at the bottom.
    Add {
        /// Its name.
        #[arg(long)]
        name: Option<String>,
        /// Make it stereo.
        #[arg(long)]
        stereo: bool,
    },
    /// Remove track N (1-based) and its clips; the files stay in audio/.
    Remove {
        /// Track number.
        n: usize,
    },
    /// Change track N (1-based).
    Set {
        /// Track number.
        n: usize,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        /// Fader gain, dB.
        #[arg(long, allow_hyphen_values = true)]
        gain: Option<f32>,
        /// Pan, -1 (left) to 1 (right).
        #[arg(long, allow_hyphen_values = true)]
        pan: Option<f32>,
        /// Mute.
        #[arg(long)]
        mute: Option<Switch>,
        /// Solo.
        #[arg(long)]
        solo: Option<Switch>,
        /// Arm for recording.
        #[arg(long)]
        arm: Option<Switch>,
        /// Input monitoring.
        #[arg(long)]
        monitor: Option<Monitor>,
        /// First input channel, 1-based.
        #[arg(long)]
        input: Option<u16>,
        /// 1 (mono) or 2 (stereo).
        #[arg(long)]
        channels: Option<u8>,
    },
}

/// `overdub clip`.
#[derive(Debug, Args)]
pub struct ClipArgs {
    /// The session folder.
    pub dir: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub action: ClipAction,
}

/// Clip edits. Clips are named by the id `overdub info` prints.
#[derive(Debug, Subcommand)]
pub enum ClipAction {
    /// Move a clip to a position (seconds), optionally onto track N.
    Move {
        /// Clip id.
        clip: u32,
        /// New position, seconds.
        #[arg(long)]
        to: f64,
        /// Destination track, 1-based.
        #[arg(long)]
        track: Option<usize>,
    },
    /// Trim a clip's start and/or end to timeline positions, seconds.
    Trim {
        /// Clip id.
        clip: u32,
        /// New start, seconds.
        #[arg(long)]
        start: Option<f64>,
        /// New end, seconds.
        #[arg(long)]
        end: Option<f64>,
    },
    /// Split a clip at a timeline position, seconds.
    Split {
        /// Clip id.
        clip: u32,
        /// Where, seconds.
        #[arg(long)]
        at: f64,
    },
    /// Delete a clip (its file stays in audio/).
    Delete {
        /// Clip id.
        clip: u32,
    },
    /// Set a clip's fades and gain (the file is never changed).
    Set {
        /// Clip id.
        clip: u32,
        /// Fade-in, milliseconds (0: none).
        #[arg(long)]
        fade_in: Option<f64>,
        /// Fade-out, milliseconds (0: none).
        #[arg(long)]
        fade_out: Option<f64>,
        /// Clip gain, dB (-96 to +24).
        #[arg(long, allow_negative_numbers = true)]
        gain: Option<f32>,
    },
    /// The session's fade length, milliseconds (0: none): the crossfade at each join of a comp
    /// or a punch, and the fade a trim puts on the edge it moves. Without MS, show it.
    FadeLength {
        /// Milliseconds, 0 to 1000.
        ms: Option<f32>,
    },
}

/// Device flags shared by the commands that open audio. Each overrides the settings file for one
/// run.
#[derive(Debug, Args, Clone, Default)]
pub struct AudioArgs {
    /// Audio host: jack, pipewire or alsa (Linux), wasapi or asio (Windows), coreaudio (macOS),
    /// virtual; `overdub devices` lists this build's.
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
    /// Virtual host only, a test double of cpal's drivers: `asio` (input then output callbacks
    /// on one thread), `reverse` (output then input), `threads` (two jittery threads; `threads:N`
    /// starts the input N frames after the output), `asio-then-reverse:N` (`asio` until the
    /// transport has run past timeline frame N, then `reverse`), `duplex`.
    #[arg(long, hide = true)]
    pub callbacks: Option<String>,
    /// First output channel (1-based) of the stereo master pair (default 1: outputs 1 and 2).
    #[arg(long)]
    pub master_out: Option<u16>,
}
