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
    /// Frames of fade-in (a crossfade with what lies below).
    pub fade_in: u64,
    /// Frames of fade-out.
    pub fade_out: u64,
    /// Clip gain, linear.
    pub gain: f32,
}

impl ClipSource {
    /// Whether the clip plays its file's samples unchanged: no fade, unity gain.
    fn plain(&self) -> bool {
        self.fade_in == 0 && self.fade_out == 0 && self.gain == 1.0
    }

    /// How much of the clip is heard at clip frame `t` (0 at the clip's start), 0..=1; the rest
    /// is what lies below. Linear fades, sampled at frame centres: a fade of n frames and the
    /// same fade reversed sum to 1 at every frame, so a crossfade keeps the level.
    pub fn weight(&self, t: u64) -> f32 {
        let mut w = 1.0;
        if t < self.fade_in {
            w *= (t as f64 + 0.5) / self.fade_in as f64;
        }
        let left = self.length.saturating_sub(t);
        if left <= self.fade_out {
            w *= (left as f64 - 0.5) / self.fade_out as f64;
        }
        w.clamp(0.0, 1.0) as f32
    }
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
    layer: Vec<f32>,
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
            layer: Vec::new(),
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
            // A plain clip overwrites what lies below; a faded or gained one is read aside and
            // mixed over it (past the end of a short file, what lies below stays).
            let plain = clip.plain();
            if !plain {
                self.layer.clear();
                self.layer.extend_from_slice(dst);
            }
            let target = if plain {
                &mut *dst
            } else {
                &mut self.layer[..]
            };
            let got = match read_file(
                &mut self.open[i],
                clip,
                file_frame,
                target,
                ch,
                &mut self.scratch,
            ) {
                Ok(got) => got,
                Err(e) => {
                    self.open[i] = None;
                    first_error.get_or_insert(e);
                    0
                }
            };
            if !plain {
                let t0 = a - clip.position;
                // Only the frames the file gave: past its end, what lies below stays as it is.
                let frames = dst
                    .chunks_exact_mut(ch)
                    .zip(self.layer.chunks_exact(ch))
                    .take(got);
                for (k, (d, l)) in frames.enumerate() {
                    let w = clip.weight(t0 + k as u64);
                    for (d, l) in d.iter_mut().zip(l) {
                        *d = *d * (1.0 - w) + l * clip.gain * w;
                    }
                }
            }
        }
        self.position = end;
        first_error.map_or(Ok(()), Err)
    }
}

/// Read file frames from `frame` on into `dst` (interleaved, `out_ch` channels), converting the
/// file's channel count. Returns the frames written: fewer than `dst` holds past the end of a
/// short file.
fn read_file(
    slot: &mut Option<OpenFile>,
    clip: &ClipSource,
    frame: u64,
    dst: &mut [f32],
    out_ch: usize,
    scratch: &mut Vec<f32>,
) -> Result<usize> {
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
        return Ok(0);
    };
    let file_len = u64::from(f.reader.duration());
    if frame >= file_len {
        return Ok(0);
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
    Ok(got)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A mono float WAV of `n` frames, each `value`, in `dir`.
    fn constant(dir: &std::path::Path, name: &str, n: u32, value: f32) -> PathBuf {
        let path = dir.join(name);
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 48_000,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut w = hound::WavWriter::create(&path, spec).expect("wav");
        for _ in 0..n {
            w.write_sample(value).expect("write");
        }
        w.finalize().expect("finalize");
        path
    }

    fn source(path: PathBuf, position: u64, length: u64) -> ClipSource {
        ClipSource {
            path,
            position,
            offset: 0,
            length,
            fade_in: 0,
            fade_out: 0,
            gain: 1.0,
        }
    }

    #[test]
    fn a_fade_and_its_reverse_sum_to_one_at_every_frame() {
        let c = ClipSource {
            fade_in: 10,
            fade_out: 10,
            ..source(PathBuf::new(), 0, 30)
        };
        for k in 0..10 {
            // The fade-in against the fade-out frame for frame: a crossfade keeps the level.
            assert!((c.weight(k) + c.weight(20 + k) - 1.0).abs() < 1e-6, "k {k}");
            assert!((c.weight(k) - c.weight(29 - k)).abs() < 1e-6, "symmetric");
        }
        assert!((10..20).all(|k| c.weight(k) == 1.0));
        assert!(c.weight(0) > 0.0 && c.weight(29) > 0.0 && c.weight(30) == 0.0);
    }

    #[test]
    fn a_faded_clip_crosses_into_the_clip_below_and_clip_gain_scales_it() {
        let tmp = tempfile::tempdir().expect("tmp");
        let below = constant(tmp.path(), "below.wav", 100, 1.0);
        let above = constant(tmp.path(), "above.wav", 40, 0.5);
        let top = ClipSource {
            fade_in: 8,
            fade_out: 8,
            gain: 2.0,
            ..source(above, 30, 40)
        };
        let mut r = TrackReader::new(vec![source(below, 0, 100), top.clone()], 0, 1);
        let mut out = vec![0.0; 100];
        r.read(&mut out).expect("read");
        for (f, &v) in out.iter().enumerate() {
            let want = if (30..70).contains(&f) {
                let w = top.weight(f as u64 - 30);
                (1.0 - w) + 0.5 * 2.0 * w
            } else {
                1.0
            };
            assert!((v - want).abs() < 1e-6, "frame {f}: {v} vs {want}");
        }
        // Gain 2 on 0.5 is unity: the crossfade between equal levels never dips.
        assert!(out.iter().all(|&v| (v - 1.0).abs() < 1e-6));
    }

    #[test]
    fn past_the_end_of_a_short_file_a_gained_clip_leaves_what_lies_below() {
        let tmp = tempfile::tempdir().expect("tmp");
        let below = constant(tmp.path(), "below.wav", 60, 0.5);
        // The clip says 40 frames; its file (cut short by a crash, say) holds 10.
        let short = constant(tmp.path(), "short.wav", 10, 0.1);
        let top = ClipSource {
            gain: 2.0,
            ..source(short, 10, 40)
        };
        let mut r = TrackReader::new(vec![source(below, 0, 60), top], 0, 1);
        let mut out = vec![0.0; 60];
        r.read(&mut out).expect("read");
        for (f, &v) in out.iter().enumerate() {
            // The file's ten frames at gain 2; below them, and past them, the clip below.
            let want = if (10..20).contains(&f) { 0.2 } else { 0.5 };
            assert!((v - want).abs() < 1e-6, "frame {f}: {v} vs {want}");
        }
    }

    #[test]
    fn a_plain_clip_is_read_unchanged_in_pieces_of_any_size() {
        let tmp = tempfile::tempdir().expect("tmp");
        let a = constant(tmp.path(), "a.wav", 50, 0.25);
        let faded = ClipSource {
            fade_in: 20,
            ..source(a.clone(), 10, 50)
        };
        let mut whole = vec![0.0; 80];
        TrackReader::new(vec![faded.clone()], 0, 1)
            .read(&mut whole)
            .expect("read");
        let mut pieces = Vec::new();
        let mut r = TrackReader::new(vec![faded], 0, 1);
        for n in [3, 17, 1, 40, 19] {
            let mut buf = vec![0.0; n];
            r.read(&mut buf).expect("read");
            pieces.extend(buf);
        }
        assert_eq!(pieces, whole, "a fade does not depend on the block size");
        let mut plain = vec![0.0; 80];
        TrackReader::new(vec![source(a, 10, 50)], 0, 1)
            .read(&mut plain)
            .expect("read");
        assert!(plain[10..60].iter().all(|&v| v == 0.25));
        assert!(whole[10] < 0.25 && whole[30..60].iter().all(|&v| v == 0.25));
    }
}
