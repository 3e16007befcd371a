//! What plays of each clip on a track: Overdub lets clips overlap and plays the later one over
//! the earlier one. This is the comp `overdub takes` shows, and what a DAWproject file holds as
//! clips that do not overlap (other programs each treat overlaps their own way). Not on the audio
//! thread.

use std::collections::BTreeMap;

use super::model::Clip;

/// A stretch of one clip that plays: no later clip on its track covers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    /// Index of the clip in its track's list.
    pub clip: usize,
    /// Timeline frame of the first frame that plays.
    pub position: u64,
    /// The file frame heard at `position`.
    pub offset: u64,
    /// Frames.
    pub length: u64,
}

/// The stretches of `clips` (in the order they were added: later ones play over earlier ones)
/// that play within the timeline frames `start..end`, in timeline order.
pub fn playing_pieces(clips: &[Clip], start: u64, end: u64) -> Vec<Piece> {
    // Frames already covered by later clips: start -> end, disjoint, not touching.
    let mut covered: BTreeMap<u64, u64> = BTreeMap::new();
    let mut pieces = Vec::new();
    for (i, c) in clips.iter().enumerate().rev() {
        let (a, b) = (c.position.max(start), c.end().min(end));
        if a >= b {
            continue;
        }
        for (pa, pb) in uncovered(&covered, a, b) {
            pieces.push(Piece {
                clip: i,
                position: pa,
                offset: c.offset + (pa - c.position),
                length: pb - pa,
            });
        }
        cover(&mut covered, a, b);
    }
    pieces.sort_by_key(|p| p.position);
    pieces
}

/// The parts of `a..b` that no interval in `covered` overlaps.
fn uncovered(covered: &BTreeMap<u64, u64>, a: u64, b: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut cur = a;
    let before = covered.range(..a).next_back();
    let within = covered.range(a..b);
    for (&s, &e) in before.into_iter().chain(within) {
        if s > cur {
            out.push((cur, s));
        }
        cur = cur.max(e);
        if cur >= b {
            break;
        }
    }
    if cur < b {
        out.push((cur, b));
    }
    out
}

/// Add `a..b` to `covered`, merging what it overlaps or touches.
fn cover(covered: &mut BTreeMap<u64, u64>, a: u64, b: u64) {
    let (mut lo, mut hi) = (a, b);
    let touching: Vec<u64> = covered
        .range(..=b)
        .rev()
        .take_while(|&(_, &e)| e >= a)
        .map(|(&s, _)| s)
        .collect();
    for s in touching {
        if let Some(e) = covered.remove(&s) {
            lo = lo.min(s);
            hi = hi.max(e);
        }
    }
    covered.insert(lo, hi);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip(position: u64, offset: u64, length: u64) -> Clip {
        Clip::new(String::new(), position, offset, length)
    }

    /// The clip index heard at each frame, the slow way.
    fn heard(clips: &[Clip], frames: u64) -> Vec<Option<(usize, u64)>> {
        (0..frames)
            .map(|f| {
                clips
                    .iter()
                    .enumerate()
                    .rev()
                    .find(|(_, c)| c.position <= f && f < c.end())
                    .map(|(i, c)| (i, c.offset + f - c.position))
            })
            .collect()
    }

    fn heard_from_pieces(pieces: &[Piece], frames: u64) -> Vec<Option<(usize, u64)>> {
        let mut out = vec![None; frames as usize];
        for p in pieces {
            for k in 0..p.length {
                let slot = &mut out[(p.position + k) as usize];
                assert!(slot.is_none(), "two pieces at frame {}", p.position + k);
                *slot = Some((p.clip, p.offset + k));
            }
        }
        out
    }

    #[test]
    fn a_punch_splits_the_take_under_it() {
        let clips = [clip(0, 0, 100), clip(30, 500, 20)];
        let p = playing_pieces(&clips, 0, u64::MAX);
        assert_eq!(
            p,
            [
                Piece {
                    clip: 0,
                    position: 0,
                    offset: 0,
                    length: 30
                },
                Piece {
                    clip: 1,
                    position: 30,
                    offset: 500,
                    length: 20
                },
                Piece {
                    clip: 0,
                    position: 50,
                    offset: 50,
                    length: 50
                },
            ]
        );
    }

    #[test]
    fn every_frame_plays_the_same_clip_frame_as_the_mixer_would() {
        // Overlaps of every kind: covered whole, covering, touching, gaps, in a range.
        let clips = [
            clip(10, 0, 50),
            clip(0, 7, 20),
            clip(40, 3, 10),
            clip(45, 0, 5),
            clip(100, 1, 30),
            clip(15, 2, 5),
            clip(60, 9, 40),
            clip(0, 0, 3),
        ];
        let all = playing_pieces(&clips, 0, 200);
        assert_eq!(heard_from_pieces(&all, 200), heard(&clips, 200));
        let part = playing_pieces(&clips, 12, 70);
        let mut want = heard(&clips, 200);
        for (f, w) in want.iter_mut().enumerate() {
            if !(12..70).contains(&f) {
                *w = None;
            }
        }
        assert_eq!(heard_from_pieces(&part, 200), want);
        assert!(playing_pieces(&clips, 0, 0).is_empty());
    }
}
