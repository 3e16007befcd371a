//! `cargo bench -p overdub-engine`: the mixer (the process function), the realtime rings and
//! the disk thread's take writing, timed with std (no extra dependency). Prints figures; asserts
//! nothing.

use std::time::Instant;

use overdub_engine::bench::{BenchOptions, run};

fn main() {
    for (tracks, record, buffer) in [(8, 2, 256), (32, 8, 128), (64, 16, 64), (128, 32, 64)] {
        match run(&BenchOptions {
            tracks,
            record,
            buffer,
            rate: 48_000,
            seconds: 5.0,
        }) {
            Ok(r) => println!(
                "mixer {tracks:3} play + {record:2} rec @ {buffer:3} frames: mean {:6.1} us, p99 {:6.1} us, p99.9 {:6.1} us, max {:6.1} us = {:5.2}% / {:5.2}% / {:5.2}% / {:5.2}% DSP; {} page faults; disk {:4.0} MB/s",
                r.mean_us,
                r.p99_us,
                r.p999_us,
                r.max_us,
                r.load_mean_pct,
                r.load_p99_pct,
                r.load_p999_pct,
                r.load_max_pct,
                r.page_faults.map_or("?".into(), |f| f.to_string()),
                r.disk_write_mb_s
            ),
            Err(e) => println!("mixer {tracks} + {record} @ {buffer}: {e}"),
        }
    }
    // The rtrb ring between the audio and disk threads: push and pop 64-frame blocks.
    let (mut tx, mut rx) = rtrb::RingBuffer::<f32>::new(48_000 * 4);
    let block = [0.25f32; 64];
    let mut out = [0.0f32; 64];
    let n = 2_000_000;
    let t0 = Instant::now();
    for _ in 0..n {
        let _ = tx.push_entire_slice(&block);
        let _ = rx.pop_entire_slice(&mut out);
    }
    let s = t0.elapsed().as_secs_f64();
    println!(
        "ring: {:.1} ns per 64-frame push+pop ({:.0} M frames/s)",
        s / n as f64 * 1e9,
        n as f64 * 64.0 / s / 1e6
    );
}
