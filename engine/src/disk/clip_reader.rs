//! Reads a track's timeline from its clips' files, for the disk thread to stream into a playback
//! ring: silence between clips, later clips over earlier ones, files opened only while they play.
//! Not on the audio thread.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use crate::error::{Error, Result};

/// One clip as the reader needs it.
#[derive(Clone, Debug)]
pub struct ClipSource {
    /// The WAV file.
    pub path: PathBuf,
    /// Timeline position of the first frame that plays.
    pub position: u64,
    /// First file frame that plays.
    pub offset: u64,
    /// Frames that play.
    pub length: u64,
}

struct OpenFile {
    reader: hound::WavReader<BufReader<File>>,
    /// 32-bit float files are read straight from the file: (the file, where the data starts).
    raw: Option<(File, u64)>,
    bytes: Vec<u8>,
    channels: usize,
    /// File frame the reader stands at.
    at: u64,
    float: bool,
    scale: f32,
}

/// Streams one track's timeline forward from a start frame, as `channels` interleaved channels.
pub struct TrackReader {
    clips: Vec<ClipSource>,
    open: Vec<Option<OpenFile>>,
    position: u64,
    channels: usize,
    looping: Option<(u64, u64)>,
    scratch: Vec<f32>,
}

impl TrackReader {
    /// A reader over `clips` that starts at timeline frame `from` and gives `channels` (1 or 2)
    /// channels: a mono file plays on both sides of a stereo track, a multichannel file on a mono
    /// track is mixed down.
    pub fn new(clips: Vec<ClipSource>, from: u64, channels: usize) -> Self {
        let open = clips.iter().map(|_| None).collect();
        Self {
            clips,
            open,
            position: from,
            channels: channels.clamp(1, 2),
            looping: None,
            scratch: Vec::new(),
        }
    }

    /// Loop `start..end` (timeline frames): reading past `end` goes on from `start`, exactly as
    /// the audio thread's playhead does. Only if the reader starts before `end`.
    pub fn with_loop(mut self, range: Option<(u64, u64)>) -> Self {
        self.looping = range.filter(|&(a, b)| b > a && self.position < b);
        self
    }

    /// Channels per frame.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Timeline frame the next read starts at.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Fill `out` with the next `out.len() / channels` timeline frames (wrapping round the loop,
    /// if one is set). A clip whose file cannot be read plays as silence and the error is
    /// returned after the whole buffer is filled, so playback keeps its place.
    pub fn read(&mut self, out: &mut [f32]) -> Result<()> {
        let Some((a, b)) = self.looping else {
            return self.read_linear(out);
        };
        let ch = self.channels;
        let mut done = 0;
        let mut first_error = None;
        while done < out.len() {
            let room = ((b - self.position) as usize * ch).min(out.len() - done);
            if let Err(e) = self.read_linear(&mut out[done..done + room]) {
                first_error.get_or_insert(e);
            }
            done += room;
            if self.position >= b {
                self.position = a;
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    fn read_linear(&mut self, out: &mut [f32]) -> Result<()> {
        out.fill(0.0);
        let ch = self.channels;
        let start = self.position;
        let end = start + (out.len() / ch) as u64;
        let mut first_error = None;
        for i in 0..self.clips.len() {
            let clip = &self.clips[i];
            let (a, b) = (
                start.max(clip.position),
                end.min(clip.position + clip.length),
            );
            if a >= b {
                if clip.position + clip.length <= start {
                    self.open[i] = None;
                }
                continue;
            }
            let file_frame = clip.offset + (a - clip.position);
            let dst = &mut out[(a - start) as usize * ch..(b - start) as usize * ch];
            if let Err(e) = read_file(
                &mut self.open[i],
                clip,
                file_frame,
                dst,
                ch,
                &mut self.scratch,
            ) {
                self.open[i] = None;
                first_error.get_or_insert(e);
            }
        }
        self.position = end;
        first_error.map_or(Ok(()), Err)
    }
}

/// Read file frames from `frame` on into `dst` (interleaved, `out_ch` channels), converting the
/// file's channel count.
fn read_file(
    slot: &mut Option<OpenFile>,
    clip: &ClipSource,
    frame: u64,
    dst: &mut [f32],
    out_ch: usize,
    scratch: &mut Vec<f32>,
) -> Result<()> {
    if slot.is_none() {
        let reader = hound::WavReader::open(&clip.path).map_err(|e| Error::wav(&clip.path, e))?;
        let spec = reader.spec();
        let raw = if spec.sample_format == hound::SampleFormat::Float && spec.bits_per_sample == 32
        {
            match super::wav_repair::data_start(&clip.path)? {
                Some(start) => Some((
                    File::open(&clip.path).map_err(|e| Error::io(&clip.path, e))?,
                    start,
                )),
                None => None,
            }
        } else {
            None
        };
        *slot = Some(OpenFile {
            raw,
            bytes: Vec::new(),
            channels: usize::from(spec.channels.max(1)),
            float: spec.sample_format == hound::SampleFormat::Float,
            scale: 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32,
            reader,
            at: u64::MAX,
        });
    }
    let Some(f) = slot.as_mut() else {
        return Ok(());
    };
    let file_len = u64::from(f.reader.duration());
    if frame >= file_len {
        return Ok(());
    }
    let frames = (dst.len() / out_ch).min((file_len - frame) as usize);
    let ch = f.channels;
    scratch.clear();
    if let Some((file, start)) = f.raw.as_mut() {
        // Fast path: little-endian f32 straight from the file, a block at a time.
        use std::io::{Read, Seek, SeekFrom};
        if f.at != frame {
            file.seek(SeekFrom::Start(*start + frame * (ch as u64) * 4))
                .map_err(|e| Error::io(&clip.path, e))?;
        }
        f.bytes.resize(frames * ch * 4, 0);
        file.read_exact(&mut f.bytes)
            .map_err(|e| Error::io(&clip.path, e))?;
        scratch.extend(
            f.bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        );
    } else {
        read_with_hound(f, clip, frame, frames, scratch)?;
    }
    let got = scratch.len() / ch;
    for (d, frame) in dst.chunks_exact_mut(out_ch).zip(scratch.chunks_exact(ch)) {
        match (out_ch, ch) {
            (1, 1) => d[0] = frame[0],
            (1, _) => d[0] = frame.iter().sum::<f32>() / ch as f32,
            (_, 1) => d.fill(frame[0]),
            _ => d.copy_from_slice(&frame[..out_ch]),
        }
    }
    f.at = frame + got as u64;
    Ok(())
}

/// Read `frames` frames from `frame` on through hound (integer and 64-bit files).
fn read_with_hound(
    f: &mut OpenFile,
    clip: &ClipSource,
    frame: u64,
    frames: usize,
    scratch: &mut Vec<f32>,
) -> Result<()> {
    let ch = f.channels;
    if f.at != frame {
        let to = u32::try_from(frame).map_err(|_| Error::Session {
            path: clip.path.clone(),
            reason: "clip offset beyond what a WAV file can hold".into(),
        })?;
        f.reader.seek(to).map_err(|e| Error::io(&clip.path, e))?;
    }
    if f.float {
        for s in f.reader.samples::<f32>().take(frames * ch) {
            scratch.push(s.map_err(|e| Error::wav(&clip.path, e))?);
        }
    } else {
        let scale = f.scale;
        for s in f.reader.samples::<i32>().take(frames * ch) {
            scratch.push(s.map_err(|e| Error::wav(&clip.path, e))? as f32 * scale);
        }
    }
    Ok(())
}
