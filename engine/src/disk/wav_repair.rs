//! Repair of WAV headers whose length fields are zero or short, as a recorder that crashed (or
//! lost power) leaves them: the RIFF and data sizes are set from what the file really holds,
//! keeping every whole frame present. A header that claims more than the file holds is a
//! truncated file and is reported, not "repaired". Not on the audio thread.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::error::{Error, Result};

/// What a header check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderState {
    /// The sizes match the file.
    Sound,
    /// The data size is zero or smaller than the whole frames present: repairable.
    Short {
        /// Frames the header claims.
        claimed: u64,
        /// Whole frames present.
        present: u64,
    },
    /// The header claims more data than the file holds: the file was cut short.
    Truncated {
        /// Frames the header claims.
        claimed: u64,
        /// Whole frames present.
        present: u64,
    },
}

/// Where a WAV file's sizes live and what it holds.
#[derive(Clone, Copy, Debug)]
struct Layout {
    data_size_at: u64,
    data_start: u64,
    claimed_bytes: u64,
    block_align: u64,
    file_len: u64,
}

fn bad(path: &Path, reason: &str) -> Error {
    Error::BadFile {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

fn layout(path: &Path, f: &mut File) -> Result<Option<Layout>> {
    let file_len = f.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut head = [0u8; 12];
    if f.read_exact(&mut head).is_err() || &head[0..4] != b"RIFF" || &head[8..12] != b"WAVE" {
        return Ok(None);
    }
    let mut pos = 12u64;
    let mut block_align = 0u64;
    loop {
        let mut ch = [0u8; 8];
        f.seek(SeekFrom::Start(pos))
            .map_err(|e| Error::io(path, e))?;
        if f.read_exact(&mut ch).is_err() {
            return Err(bad(path, "a WAV file with no data chunk"));
        }
        let size = u64::from(u32::from_le_bytes([ch[4], ch[5], ch[6], ch[7]]));
        match &ch[0..4] {
            b"fmt " => {
                let mut fmt = [0u8; 16];
                f.read_exact(&mut fmt)
                    .map_err(|_| bad(path, "a WAV file whose format chunk is cut off"))?;
                block_align = u64::from(u16::from_le_bytes([fmt[12], fmt[13]]));
            }
            b"data" => {
                if block_align == 0 {
                    return Err(bad(path, "a WAV file with no format before its data"));
                }
                return Ok(Some(Layout {
                    data_size_at: pos + 4,
                    data_start: pos + 8,
                    claimed_bytes: size,
                    block_align,
                    file_len,
                }));
            }
            _ => {}
        }
        // Chunks are padded to an even size.
        pos += 8 + size + (size & 1);
        if pos >= file_len {
            return Err(bad(path, "a WAV file with no data chunk"));
        }
    }
}

/// Where the sample data of a WAV file starts, bytes (None for a file that is not RIFF/WAVE).
pub(crate) fn data_start(path: &Path) -> Result<Option<u64>> {
    let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
    Ok(layout(path, &mut f)?.map(|l| l.data_start))
}

/// Check a file's header. `Ok(None)` for a file that is not RIFF/WAVE (other formats are left to
/// the decoder).
pub fn check(path: &Path) -> Result<Option<HeaderState>> {
    let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
    Ok(layout(path, &mut f)?.map(|l| state(&l)))
}

fn state(l: &Layout) -> HeaderState {
    let present = l.file_len.saturating_sub(l.data_start) / l.block_align;
    let claimed = l.claimed_bytes / l.block_align;
    if claimed == present {
        HeaderState::Sound
    } else if claimed < present {
        HeaderState::Short { claimed, present }
    } else {
        HeaderState::Truncated { claimed, present }
    }
}

/// Repair a short header in place (the RIFF and data sizes); returns the state found. With
/// `fit`, a header that claims more than the file holds is also brought down to the whole frames
/// present: for Overdub's own takes, whose header can run ahead of data that a full disk refused.
/// Only the two size fields are written, so this needs no free disk space. Files over 4 GiB
/// cannot be described by a plain WAV header and are left alone.
pub fn repair_in_place(path: &Path, fit: bool) -> Result<Option<HeaderState>> {
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    let Some(l) = layout(path, &mut f)? else {
        return Ok(None);
    };
    let st = state(&l);
    let target = match st {
        HeaderState::Short { present, .. } => Some(present),
        HeaderState::Truncated { present, .. } if fit => Some(present),
        _ => None,
    };
    if let Some(present) = target {
        let data = present * l.block_align;
        let riff = l.data_start - 8 + data;
        let (Ok(data32), Ok(riff32)) = (u32::try_from(data), u32::try_from(riff)) else {
            return Ok(Some(st));
        };
        let write = |f: &mut File, at: u64, v: u32| -> std::io::Result<()> {
            f.seek(SeekFrom::Start(at))?;
            f.write_all(&v.to_le_bytes())
        };
        write(&mut f, l.data_size_at, data32).map_err(|e| Error::io(path, e))?;
        write(&mut f, 4, riff32).map_err(|e| Error::io(path, e))?;
        f.sync_all().map_err(|e| Error::io(path, e))?;
    }
    Ok(Some(st))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(path: &Path, frames: u32) -> Vec<u8> {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 48_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).expect("wav");
        for i in 0..frames * 2 {
            w.write_sample(i as i16).expect("s");
        }
        w.finalize().expect("fin");
        std::fs::read(path).expect("read")
    }

    #[test]
    fn zeroed_and_short_sizes_are_repaired_keeping_every_whole_frame() {
        let tmp = tempfile::tempdir().expect("tmp");
        let p = tmp.path().join("a.wav");
        let good = wav(&p, 1000);
        assert_eq!(check(&p).expect("check"), Some(HeaderState::Sound));
        for (riff, data) in [(0u32, 0u32), (1000, 400)] {
            let mut b = good.clone();
            b[4..8].copy_from_slice(&riff.to_le_bytes());
            b[40..44].copy_from_slice(&data.to_le_bytes());
            // Plus half a frame at the end, as a crash mid-write leaves it.
            b.extend_from_slice(&[1, 2]);
            std::fs::write(&p, &b).expect("write");
            assert_eq!(
                repair_in_place(&p, false).expect("repair"),
                Some(HeaderState::Short {
                    claimed: u64::from(data) / 4,
                    present: 1000
                })
            );
            let r = hound::WavReader::open(&p).expect("opens after repair");
            assert_eq!(r.duration(), 1000);
            assert_eq!(check(&p).expect("check"), Some(HeaderState::Sound));
        }
    }

    #[test]
    fn a_cut_file_is_truncated_not_repaired() {
        let tmp = tempfile::tempdir().expect("tmp");
        let p = tmp.path().join("a.wav");
        let good = wav(&p, 1000);
        std::fs::write(&p, &good[..good.len() / 2]).expect("write");
        assert!(matches!(
            repair_in_place(&p, false).expect("repair"),
            Some(HeaderState::Truncated { claimed: 1000, .. })
        ));
        assert_eq!(
            check(&p).expect("check"),
            Some(HeaderState::Truncated {
                claimed: 1000,
                present: 494
            })
        );
        // Overdub's own take: fit the header to what is there.
        repair_in_place(&p, true).expect("fit");
        assert_eq!(hound::WavReader::open(&p).expect("opens").duration(), 494);
        let q = tmp.path().join("x.txt");
        std::fs::write(&q, b"hello").expect("write");
        assert_eq!(check(&q).expect("check"), None);
    }
}
