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

/// One take of a track as the window shows it in a lane of its own: every clip of the track cut
/// from the same file at the same alignment (the whole take and the comp pieces made from it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TakeLane {
    /// Index of the whole take in the track's list: of the clips of this take, the one made
    /// first (the lowest id).
    pub clip: usize,
    /// First timeline frame any clip of the take covers.
    pub start: u64,
    /// One past the last.
    pub end: u64,
    /// The stretches of the take that play, in timeline order.
    pub playing: Vec<(u64, u64)>,
}

/// The takes of a track, in the order they were made (a choice or a comp never reorders them).
pub fn take_lanes(clips: &[Clip]) -> Vec<TakeLane> {
    // (file, position - offset): the same recording at the same place.
    fn key(c: &Clip) -> (&str, i128) {
        (
            c.file.as_str(),
            i128::from(c.position) - i128::from(c.offset),
        )
    }
    let mut lanes: Vec<((&str, i128), TakeLane)> = Vec::new();
    for (i, c) in clips.iter().enumerate() {
        match lanes.iter_mut().find(|(k, _)| *k == key(c)) {
            Some((_, lane)) => {
                lane.start = lane.start.min(c.position);
                lane.end = lane.end.max(c.end());
                if c.id < clips[lane.clip].id {
                    lane.clip = i;
                }
            }
            None => lanes.push((
                key(c),
                TakeLane {
                    clip: i,
                    start: c.position,
                    end: c.end(),
                    playing: Vec::new(),
                },
            )),
        }
    }
    for p in playing_pieces(clips, 0, u64::MAX) {
        let k = key(&clips[p.clip]);
        if let Some((_, lane)) = lanes.iter_mut().find(|(key, _)| *key == k) {
            match lane.playing.last_mut() {
                Some(last) if last.1 == p.position => last.1 += p.length,
                _ => lane.playing.push((p.position, p.position + p.length)),
            }
        }
    }
    let mut out: Vec<TakeLane> = lanes.into_iter().map(|(_, l)| l).collect();
    out.sort_by_key(|l| clips[l.clip].id);
    out
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
    fn takes_keep_their_lanes_and_order_through_choices_and_comps() {
        let take = |id, file: &str, position, offset, length| Clip {
            id,
            ..Clip::new(file.into(), position, offset, length)
        };
        // Three passes of a loop at 100 (one file), then a comp piece of pass 1 on top, then
        // pass 2 chosen whole (moved to the top of the list).
        let clips = [
            take(1, "loop.wav", 100, 10, 50),
            take(3, "loop.wav", 100, 110, 50),
            take(4, "loop.wav", 120, 30, 10),
            take(2, "loop.wav", 100, 60, 50),
        ];
        let lanes = take_lanes(&clips);
        let got: Vec<(usize, u64, u64)> = lanes.iter().map(|l| (l.clip, l.start, l.end)).collect();
        assert_eq!(got, [(0, 100, 150), (3, 100, 150), (1, 100, 150)]);
        assert_eq!(lanes[1].playing, [(100, 150)], "pass 2 plays whole");
        assert!(lanes[0].playing.is_empty() && lanes[2].playing.is_empty());
        // Before pass 2 was chosen (and without it), the comp piece of pass 1 plays inside
        // pass 3.
        let lanes = take_lanes(&clips[..3]);
        assert_eq!(lanes.len(), 2);
        assert_eq!(lanes[0].playing, [(120, 130)]);
        assert_eq!(lanes[1].playing, [(100, 120), (130, 150)]);
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
