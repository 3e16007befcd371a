//! The disk threads ("butler"): the one place where take files are written and clip files read
//! while the engine runs. One thread drains capture rings into take files (and fsyncs them); the
//! other keeps playback rings full from [`TrackReader`]s, so a slow fsync or a slow write never
//! starves playback, and a slow read never makes a capture ring overflow. The audio thread only
//! ever touches the other ends of those rings. Not on the audio thread.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rtrb::{Consumer, Producer};

use super::clip_reader::TrackReader;
use super::take::Take;
use crate::error::{Error, Result};
use crate::rt::{EngineStatus, TrackId};

/// How often the disk thread wakes when it has nothing to be told: short enough that a 3 s
/// playback ring never runs dry and a 4 s capture ring never overflows, long enough to cost nothing.
const POLL: Duration = Duration::from_millis(5);
/// Frames read from clip files per step.
const READ_CHUNK: usize = 4096;

/// Work for the disk thread.
pub enum DiskCommand {
    /// Start writing a take from a capture ring. The take ends when the audio thread says its
    /// capture ended (`status.captures_ended` passes `ends_after`) or the ring's producer is
    /// dropped, and the ring is empty.
    Take {
        /// Track the take belongs to.
        track: TrackId,
        /// The open file(s).
        writer: Take,
        /// What the audio thread captures.
        ring: Consumer<f32>,
        /// The engine's status, whose `captures_ended` counts ended captures.
        status: Arc<EngineStatus>,
        /// `captures_ended` when the take was attached: the next capture to end is this one.
        ends_after: u64,
    },
    /// Stream a track's playback into a ring, replacing any earlier stream for that track. The
    /// ring is filled completely before `ready` is told, so playback can start at once.
    Playback {
        /// Track.
        track: TrackId,
        /// The track's timeline, positioned where playback starts.
        reader: TrackReader,
        /// The ring the audio thread reads.
        ring: Producer<f32>,
        /// Told the track id once the ring is full.
        ready: Sender<TrackId>,
    },
    /// Stop streaming a track's playback.
    StopPlayback(TrackId),
}

/// What the disk thread reports.
#[derive(Debug)]
pub enum DiskEvent {
    /// A take file is complete and closed.
    TakeDone {
        /// Track.
        track: TrackId,
        /// The take's first file.
        path: PathBuf,
        /// Every part with its frames (one part unless the take passed the WAV size limit).
        parts: Vec<(PathBuf, u64)>,
    },
    /// A take could not be written or finished (a full disk, a vanished drive). Its files are
    /// closed with every whole frame that reached the disk, and they are kept.
    TakeFailed {
        /// Track.
        track: TrackId,
        /// The take's first file.
        path: PathBuf,
        /// What went wrong.
        error: String,
        /// The parts kept, with their frames.
        parts: Vec<(PathBuf, u64)>,
    },
    /// A clip could not be read; it plays as silence.
    ReadFailed {
        /// Track.
        track: TrackId,
        /// What went wrong.
        error: String,
    },
}

/// Running totals of the disk thread's work.
#[derive(Debug, Default)]
pub struct DiskStats {
    /// Frames written to take files.
    pub frames_written: AtomicU64,
    /// Frames read from clips into playback rings.
    pub frames_read: AtomicU64,
    /// Time the writing thread spent draining capture rings into take files (fsyncs included),
    /// microseconds.
    pub write_micros: AtomicU64,
    /// Time the reading thread spent filling playback rings, microseconds.
    pub read_micros: AtomicU64,
}

impl DiskStats {
    /// The figures now, to subtract from a later reading.
    pub fn snapshot(&self) -> DiskLoad {
        DiskLoad {
            frames_written: self.frames_written.load(Ordering::Relaxed),
            frames_read: self.frames_read.load(Ordering::Relaxed),
            write_micros: self.write_micros.load(Ordering::Relaxed),
            read_micros: self.read_micros.load(Ordering::Relaxed),
        }
    }
}

/// The disk threads' work over a stretch of time: [`DiskStats::snapshot`] at its end minus the
/// one at its start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct DiskLoad {
    /// Frames written to take files (all tracks).
    pub frames_written: u64,
    /// Frames read from clips (all tracks).
    pub frames_read: u64,
    /// Microseconds the writing thread was busy.
    pub write_micros: u64,
    /// Microseconds the reading thread was busy.
    pub read_micros: u64,
}

impl DiskLoad {
    /// The work done since `earlier`.
    pub fn since(self, earlier: DiskLoad) -> DiskLoad {
        DiskLoad {
            frames_written: self.frames_written.saturating_sub(earlier.frames_written),
            frames_read: self.frames_read.saturating_sub(earlier.frames_read),
            write_micros: self.write_micros.saturating_sub(earlier.write_micros),
            read_micros: self.read_micros.saturating_sub(earlier.read_micros),
        }
    }

    /// How many times the tracks it served the thread could serve: its wall time over its busy
    /// time (None when it did no work). A thread busy a tenth of the time could take about ten
    /// times the tracks, as long as the disk keeps its speed.
    pub fn room(busy_micros: u64, wall: std::time::Duration) -> Option<f64> {
        (busy_micros > 0).then(|| wall.as_micros() as f64 / busy_micros as f64)
    }
}

/// Handle to the running disk threads (one writes takes, one reads clips). Dropping it
/// finishes every open take and joins both.
pub struct DiskThread {
    writes: Option<Sender<DiskCommand>>,
    reads: Option<Sender<DiskCommand>>,
    events: Receiver<DiskEvent>,
    stats: Arc<DiskStats>,
    handles: Vec<JoinHandle<()>>,
}

impl DiskThread {
    /// Start the threads.
    pub fn start() -> Result<Self> {
        let (ev_tx, events) = mpsc::channel();
        let stats = Arc::new(DiskStats::default());
        let mut handles = Vec::new();
        let mut spawn = |name: &str, role: Role| -> Result<Sender<DiskCommand>> {
            let (tx, rx) = mpsc::channel();
            let worker = Worker {
                role,
                rx,
                events: ev_tx.clone(),
                stats: stats.clone(),
                takes: Vec::new(),
                streams: Vec::new(),
                buf: vec![0.0; READ_CHUNK],
            };
            let h = std::thread::Builder::new()
                .name(name.into())
                .spawn(move || worker.run())
                .map_err(|e| Error::Device(format!("cannot start the disk thread: {e}")))?;
            handles.push(h);
            Ok(tx)
        };
        let writes = spawn("overdub-disk-write", Role::Write)?;
        let reads = spawn("overdub-disk-read", Role::Read)?;
        Ok(Self {
            writes: Some(writes),
            reads: Some(reads),
            events,
            stats,
            handles,
        })
    }

    /// Send work to the thread it belongs to. Fails only if that thread has died.
    pub fn send(&self, cmd: DiskCommand) -> Result<()> {
        let tx = match cmd {
            DiskCommand::Take { .. } => &self.writes,
            DiskCommand::Playback { .. } | DiskCommand::StopPlayback(_) => &self.reads,
        };
        tx.as_ref()
            .and_then(|tx| tx.send(cmd).ok())
            .ok_or_else(|| Error::Device("the disk thread has stopped".into()))
    }

    /// The next report, if any, without waiting.
    pub fn try_event(&self) -> Option<DiskEvent> {
        self.events.try_recv().ok()
    }

    /// The next report, waiting up to `timeout`.
    pub fn wait_event(&self, timeout: Duration) -> Option<DiskEvent> {
        self.events.recv_timeout(timeout).ok()
    }

    /// Stop the threads after every take is drained and closed; returns everything they
    /// reported that nobody had read yet.
    pub fn finish(mut self) -> Vec<DiskEvent> {
        self.join();
        self.events.try_iter().collect()
    }

    fn join(&mut self) {
        self.writes = None;
        self.reads = None;
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }

    /// Running totals.
    pub fn stats(&self) -> &DiskStats {
        &self.stats
    }
}

impl Drop for DiskThread {
    fn drop(&mut self) {
        self.join();
    }
}

struct Running {
    track: TrackId,
    writer: Take,
    ring: Consumer<f32>,
    status: Arc<EngineStatus>,
    ends_after: u64,
}

struct Stream {
    track: TrackId,
    reader: TrackReader,
    ring: Producer<f32>,
    failed: bool,
}

/// Which of the two threads a worker is: what its busy time counts as.
#[derive(Clone, Copy)]
enum Role {
    Write,
    Read,
}

struct Worker {
    role: Role,
    rx: Receiver<DiskCommand>,
    events: Sender<DiskEvent>,
    stats: Arc<DiskStats>,
    takes: Vec<Running>,
    streams: Vec<Stream>,
    buf: Vec<f32>,
}

impl Worker {
    fn run(mut self) {
        loop {
            match self.rx.recv_timeout(POLL) {
                Ok(cmd) => self.handle(cmd),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            while let Ok(cmd) = self.rx.try_recv() {
                self.handle(cmd);
            }
            let t0 = Instant::now();
            self.service_takes(false);
            self.service_streams();
            let busy = match self.role {
                Role::Write => &self.stats.write_micros,
                Role::Read => &self.stats.read_micros,
            };
            busy.fetch_add(t0.elapsed().as_micros() as u64, Ordering::Relaxed);
        }
        // The engine is going away: whatever the rings still hold goes to the files.
        self.service_takes(true);
    }

    fn handle(&mut self, cmd: DiskCommand) {
        match cmd {
            DiskCommand::Take {
                track,
                writer,
                ring,
                status,
                ends_after,
            } => self.takes.push(Running {
                track,
                writer,
                ring,
                status,
                ends_after,
            }),
            DiskCommand::Playback {
                track,
                reader,
                ring,
                ready,
            } => {
                self.streams.retain(|s| s.track != track);
                let mut s = Stream {
                    track,
                    reader,
                    ring,
                    failed: false,
                };
                fill(&mut s, &mut self.buf, &self.events, &self.stats);
                let _ = ready.send(track);
                self.streams.push(s);
            }
            DiskCommand::StopPlayback(track) => self.streams.retain(|s| s.track != track),
        }
    }

    /// Drain every capture ring into its file; close takes whose producer is gone. With
    /// `closing`, close every take after draining.
    fn service_takes(&mut self, closing: bool) {
        let now = Instant::now();
        let mut i = 0;
        while i < self.takes.len() {
            let take = &mut self.takes[i];
            // Read these first: if one is true, everything pushed is already visible.
            let abandoned = take.ring.is_abandoned()
                || take.status.captures_ended.load(Ordering::Acquire) > take.ends_after;
            let result = drain(take, now, &self.stats);
            let done = abandoned || closing;
            if result.is_err() || done {
                let take = self.takes.swap_remove(i);
                let path = take.writer.base().to_path_buf();
                let event = match result {
                    Ok(()) => match take.writer.finish() {
                        Ok(parts) => DiskEvent::TakeDone {
                            track: take.track,
                            path,
                            parts,
                        },
                        Err(e) => DiskEvent::TakeFailed {
                            track: take.track,
                            error: e.to_string(),
                            parts: super::take::salvage_parts(&path),
                            path,
                        },
                    },
                    Err(e) => {
                        let (parts, _) = take.writer.salvage();
                        DiskEvent::TakeFailed {
                            track: take.track,
                            path,
                            error: e.to_string(),
                            parts,
                        }
                    }
                };
                let _ = self.events.send(event);
            } else {
                i += 1;
            }
        }
    }

    fn service_streams(&mut self) {
        for s in &mut self.streams {
            fill(s, &mut self.buf, &self.events, &self.stats);
        }
    }
}

fn drain(take: &mut Running, now: Instant, stats: &DiskStats) -> Result<()> {
    let n = take.ring.slots();
    if n > 0
        && let Ok(chunk) = take.ring.read_chunk(n)
    {
        let (a, b) = chunk.as_slices();
        take.writer.write(a)?;
        take.writer.write(b)?;
        chunk.commit_all();
        stats.frames_written.fetch_add(n as u64, Ordering::Relaxed);
    }
    take.writer.maintain(now)
}

fn fill(s: &mut Stream, buf: &mut [f32], events: &Sender<DiskEvent>, stats: &DiskStats) {
    loop {
        let n = s.ring.slots().min(buf.len());
        if n == 0 {
            return;
        }
        if let Err(e) = s.reader.read(&mut buf[..n])
            && !s.failed
        {
            s.failed = true;
            let _ = events.send(DiskEvent::ReadFailed {
                track: s.track,
                error: e.to_string(),
            });
        }
        let _ = s.ring.push_partial_slice(&buf[..n]);
        stats.frames_read.fetch_add(n as u64, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_s_disk_load_is_the_work_between_two_snapshots() {
        let stats = DiskStats::default();
        stats.frames_written.store(1_000, Ordering::Relaxed);
        stats.write_micros.store(50, Ordering::Relaxed);
        let start = stats.snapshot();
        stats.frames_written.fetch_add(96_000, Ordering::Relaxed);
        stats.write_micros.fetch_add(20_000, Ordering::Relaxed);
        stats.frames_read.fetch_add(480, Ordering::Relaxed);
        stats.read_micros.fetch_add(5, Ordering::Relaxed);
        let load = stats.snapshot().since(start);
        assert_eq!(
            load,
            DiskLoad {
                frames_written: 96_000,
                frames_read: 480,
                write_micros: 20_000,
                read_micros: 5,
            }
        );
        // Busy 20 ms of a second: it could serve fifty times the tracks.
        let room = DiskLoad::room(load.write_micros, Duration::from_secs(1));
        assert_eq!(room, Some(50.0));
        assert_eq!(DiskLoad::room(0, Duration::from_secs(1)), None);
    }
}
