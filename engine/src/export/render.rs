//! Offline rendering with the live mixer: the tracks go into a [`Process`] exactly as they do
//! when the session plays, their playback rings are filled straight from the clip files, and the
//! offline driver runs it block by block as fast as the machine allows. A stem sounds as it
//! sounded. Not on the audio thread (the process runs on the calling thread).

use rtrb::{Producer, RingBuffer};

use crate::disk::TrackReader;
use crate::error::{Error, Result};
use crate::io::OfflineDriver;
use crate::rt::{Command, MonitorMode, Process, ProcessConfig, TrackRt};
use crate::session::{SessionDir, Track, db_to_gain};

/// Frames per offline block.
pub const RENDER_BLOCK: usize = 4096;

struct Feed {
    reader: TrackReader,
    ring: Producer<f32>,
    buf: Vec<f32>,
}

/// Render `tracks` (with their gain, pan, mute and solo) through a master fader of `master`
/// (linear) from timeline frame `from` for `frames` frames into interleaved stereo blocks handed
/// to `sink`. `sink` returning an error stops the render.
#[allow(clippy::too_many_arguments)]
pub fn render(
    sdir: &SessionDir,
    rate: u32,
    tracks: &[Track],
    master: f32,
    from: u64,
    frames: u64,
    mut sink: impl FnMut(&[f32]) -> Result<()>,
) -> Result<()> {
    let (process, mut handle) = Process::new(ProcessConfig {
        rate,
        max_block: RENDER_BLOCK,
    });
    let mut feeds = Vec::new();
    let mut send = |c: Command| {
        handle
            .commands
            .push(c)
            .map_err(|_| Error::Device("too many tracks to render at once".into()))
    };
    let any_solo = tracks.iter().any(|t| t.solo);
    for t in tracks {
        let ch = usize::from(t.channels.clamp(1, 2));
        // A track that is not heard starts at silence: no fade-out ramp at the start of a render
        // (or of each stretch of a split one).
        let audible = !t.mute && (!any_solo || t.solo);
        let gain = if audible { db_to_gain(t.gain_db) } else { 0.0 };
        let mut rt = TrackRt::new(t.id, t.input)
            .with_channels(t.channels)
            .with_gain(gain);
        rt.pan = t.pan;
        rt.mute = t.mute;
        rt.solo = t.solo;
        rt.monitor = MonitorMode::Off;
        let (tx, rx) = RingBuffer::new(RENDER_BLOCK * ch);
        send(Command::AddTrack(Box::new(rt)))?;
        send(Command::SetPlayback(t.id, rx))?;
        let clips = t.clip_sources(&sdir.audio());
        feeds.push(Feed {
            reader: TrackReader::new(clips, from, ch),
            ring: tx,
            buf: vec![0.0; RENDER_BLOCK * ch],
        });
    }
    send(Command::SetMasterGain {
        gain: master,
        ramp: false,
    })?;
    send(Command::Locate(from))?;
    send(Command::Start)?;
    let mut driver = OfflineDriver::new(process, 0, 2, RENDER_BLOCK);
    let mut left = frames;
    while left > 0 {
        for f in &mut feeds {
            // A clip that cannot be read is an error here: an export must not be silently wrong.
            f.reader.read(&mut f.buf)?;
            let _ = f.ring.push_entire_slice(&f.buf);
        }
        let out = driver.run_block(|_, _| {});
        let n = left.min(RENDER_BLOCK as u64) as usize;
        sink(&out[..n * 2])?;
        left -= n as u64;
    }
    Ok(())
}

/// Seconds of the timeline each worker renders at a time in [`render_split`].
const SPLIT_SECONDS: u64 = 15;

/// [`render`] with the range cut into stretches rendered side by side on `workers` threads and
/// handed to `sink` in order while the next ones render. The output is the same as one
/// [`render`]: every frame of the mix depends only on that frame (faders are at rest in an
/// export). Memory stays bounded: worker `k` renders stretches `k`, `k + workers`, ... and holds at
/// most one finished stretch until `sink` has taken it.
#[allow(clippy::too_many_arguments)]
pub fn render_split(
    sdir: &SessionDir,
    rate: u32,
    tracks: &[Track],
    master: f32,
    from: u64,
    frames: u64,
    workers: usize,
    mut sink: impl FnMut(&[f32]) -> Result<()>,
) -> Result<()> {
    let seg = u64::from(rate) * SPLIT_SECONDS;
    let count = frames.div_ceil(seg).max(1) as usize;
    let workers = workers.clamp(1, count);
    if workers == 1 {
        return render(sdir, rate, tracks, master, from, frames, sink);
    }
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let mut inboxes = Vec::new();
        for k in 0..workers {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<f32>>>(1);
            inboxes.push(rx);
            let stop = &stop;
            scope.spawn(move || {
                for i in (k..count).step_by(workers) {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        return;
                    }
                    let s = from + i as u64 * seg;
                    let n = seg.min(from + frames - s);
                    let mut buf = Vec::with_capacity(n as usize * 2);
                    let r = render(sdir, rate, tracks, master, s, n, |b| {
                        buf.extend_from_slice(b);
                        Ok(())
                    })
                    .map(|()| buf);
                    if tx.send(r).is_err() {
                        return;
                    }
                }
            });
        }
        let mut result = Ok(());
        for i in 0..count {
            let piece = inboxes[i % workers]
                .recv()
                .unwrap_or_else(|_| Err(Error::Device("a render thread failed".into())));
            if let Err(e) = piece.and_then(|b| sink(&b)) {
                result = Err(e);
                break;
            }
        }
        // On an error (or a cancel from the sink) let the workers stop: dropping the inboxes
        // fails their next send.
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        drop(inboxes);
        result
    })
}
