//! Decode any file symphonia reads (WAV, FLAC, MP3, Ogg Vorbis, AIFF, AAC/M4A) to interleaved f32.
//! Not on the audio thread.

use std::fs::File;
use std::path::Path;

use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use crate::error::{Error, Result};

/// The most samples (all channels) one file may decode to: 4 GiB of f32, about three hours of
/// stereo at 48 kHz. A file that says it is longer, or a tiny compressed one that unpacks to more
/// (FLAC of silence), is refused rather than exhausting memory.
pub const MAX_DECODED_SAMPLES: usize = 1 << 30;

/// A decoded file.
#[derive(Clone, Debug)]
pub struct Decoded {
    /// Sample rate, Hz.
    pub rate: u32,
    /// Channels.
    pub channels: usize,
    /// Interleaved samples.
    pub samples: Vec<f32>,
}

impl Decoded {
    /// Frames.
    pub fn frames(&self) -> usize {
        self.samples.len() / self.channels.max(1)
    }
}

fn bad(path: &Path, reason: impl Into<String>) -> Error {
    Error::BadFile {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Decode the whole file. `progress` gets the fraction done (0..1) now and then.
pub fn decode(path: &Path, progress: &mut dyn FnMut(f32)) -> Result<Decoded> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.len() == 0 {
        return Err(bad(path, "the file is empty"));
    }
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| bad(path, format!("not an audio file Overdub can read ({e})")))?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| bad(path, "the file has no audio track"))?;
    let track_id = track.id;
    let declared = track.num_frames;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| bad(path, "the file has no audio track"))?
        .clone();
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| bad(path, format!("unsupported audio codec ({e})")))?;

    let mut rate = params.sample_rate.unwrap_or(0);
    let mut channels = params.channels.as_ref().map_or(0, |c| c.count());
    let mut samples: Vec<f32> = Vec::new();
    let mut buf: Vec<f32> = Vec::new();
    let mut bad_packets = 0usize;
    let mut good_packets = 0usize;
    loop {
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(bad(path, format!("cannot read the file ({e})"))),
        };
        if packet.track_id != track_id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(audio) => {
                good_packets += 1;
                rate = audio.spec().rate();
                channels = audio.spec().channels().count();
                buf.resize(audio.samples_interleaved(), 0.0);
                audio.copy_to_slice_interleaved(&mut buf);
                samples.extend_from_slice(&buf);
                if samples.len() > MAX_DECODED_SAMPLES {
                    return Err(bad(
                        path,
                        format!(
                            "longer than Overdub imports at once ({MAX_DECODED_SAMPLES} \
                             samples, 4 GiB decoded); split it into shorter files"
                        ),
                    ));
                }
            }
            Err(SymError::DecodeError(_)) => bad_packets += 1,
            Err(e) => return Err(bad(path, format!("cannot decode the file ({e})"))),
        }
        if let Some(total) = declared
            && total > 0
            && good_packets.is_multiple_of(64)
        {
            let frames = samples.len() / channels.max(1);
            progress((frames as f64 / total as f64).min(1.0) as f32);
        }
    }
    if channels == 0 || rate == 0 {
        return Err(bad(
            path,
            "the file does not say its channels or sample rate",
        ));
    }
    let frames = (samples.len() / channels) as u64;
    if frames == 0 {
        return Err(bad(
            path,
            if bad_packets > 0 {
                "no part of the audio could be decoded"
            } else {
                "the file holds no audio"
            },
        ));
    }
    if let Some(total) = declared
        && frames < total
    {
        return Err(bad(
            path,
            format!(
                "the file is truncated: it says {total} frames but holds {frames}; nothing was \
                 imported"
            ),
        ));
    }
    progress(1.0);
    Ok(Decoded {
        rate,
        channels,
        samples,
    })
}
