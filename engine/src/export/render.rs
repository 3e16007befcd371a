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
    for t in tracks {
        let ch = usize::from(t.channels.clamp(1, 2));
        let mut rt = TrackRt::new(t.id, t.input)
            .with_channels(t.channels)
            .with_gain(db_to_gain(t.gain_db));
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
