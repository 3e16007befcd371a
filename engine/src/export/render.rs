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

/// Render `tracks` (with their gain, pan, mute and solo) from timeline frame `from` for `frames`
/// frames into interleaved stereo blocks handed to `sink`. `sink` returning an error stops the
/// render.
pub fn render(
    sdir: &SessionDir,
    rate: u32,
    tracks: &[Track],
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
/// handed to `sink` in order. The output is the same as one [`render`]: every frame of the mix
/// depends only on that frame (faders are at rest in an export). Memory stays bounded: a few
/// seconds per worker.
pub fn render_split(
    sdir: &SessionDir,
    rate: u32,
    tracks: &[Track],
    from: u64,
    frames: u64,
    workers: usize,
    mut sink: impl FnMut(&[f32]) -> Result<()>,
) -> Result<()> {
    let workers = workers.max(1);
    let seg = u64::from(rate) * SPLIT_SECONDS;
    let mut at = from;
    let end = from + frames;
    while at < end {
        let pieces: Vec<(u64, u64)> = (0..workers as u64)
            .map(|k| at + k * seg)
            .filter(|s| *s < end)
            .map(|s| (s, seg.min(end - s)))
            .collect();
        let rendered: Vec<Result<Vec<f32>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = pieces
                .iter()
                .map(|&(s, n)| {
                    scope.spawn(move || {
                        let mut buf = Vec::with_capacity(n as usize * 2);
                        render(sdir, rate, tracks, s, n, |b| {
                            buf.extend_from_slice(b);
                            Ok(())
                        })
                        .map(|()| buf)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(Error::Device("a render thread failed".into())))
                })
                .collect()
        });
        for r in rendered {
            sink(&r?)?;
        }
        at += seg * pieces.len() as u64;
    }
    Ok(())
}
