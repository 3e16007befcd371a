//! A witness of the machine: on each processor a thread, held there, at the recorder's realtime
//! priority (`SCHED_FIFO` 70, as `engine/src/rt/priority.rs` sets the callback threads), that
//! asks to wake every millisecond and notes each time it woke late. One per processor, because
//! the host can stop one virtual processor and not the other. This machine is a virtual one: measured with nothing else
//! running, such a thread was kept from running for up to 25 ms a few times a minute. No
//! recorder makes its deadline through that at a 5 ms block, and no setting inside the machine
//! changes it, so a test that asks for a minute with nothing lost asks the witness whether the
//! machine let it have one, and checks each loss the recorder logged against what the witness
//! saw at that moment.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How often the witness asks to wake.
const TICK: Duration = Duration::from_millis(1);
/// Wake-ups later than this are noted.
const NOTED: Duration = Duration::from_millis(1);

/// One late wake-up: on which processor, when the witness woke (system clock) and how late.
#[derive(Clone, Copy, Debug)]
pub struct Stall {
    /// The processor.
    pub cpu: usize,
    /// When the witness woke.
    pub woke: SystemTime,
    /// How long after it asked to.
    pub late: Duration,
}

/// What the witness saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// Whether it ran at realtime priority, held to its processor, on each. If not, its stalls
    /// are those of any thread and explain nothing.
    pub realtime: bool,
    /// Every wake-up more than a millisecond late.
    pub stalls: Vec<Stall>,
}

/// A running witness; [`Witness::stop`] says what it saw.
pub struct Witness {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<Seen>>,
}

impl Witness {
    /// Start watching.
    pub fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = (0..cpus)
            .map(|cpu| {
                let flag = stop.clone();
                std::thread::Builder::new()
                    .name(format!("machine-witness-{cpu}"))
                    .spawn(move || watch(cpu, &flag))
                    .expect("a thread for the witness")
            })
            .collect();
        Self { stop, threads }
    }

    /// Stop watching: what was seen.
    pub fn stop(mut self) -> Seen {
        self.stop.store(true, Ordering::Relaxed);
        let mut all = Seen {
            realtime: !self.threads.is_empty(),
            stalls: Vec::new(),
        };
        for t in self.threads.drain(..) {
            let seen = t.join().unwrap_or_default();
            all.realtime &= seen.realtime;
            all.stalls.extend(seen.stalls);
        }
        all
    }
}

impl Drop for Witness {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn watch(cpu: usize, stop: &AtomicBool) -> Seen {
    let mut seen = Seen {
        realtime: held_to(cpu) && realtime(),
        stalls: Vec::with_capacity(4096),
    };
    let mut next = Instant::now() + TICK;
    while !stop.load(Ordering::Relaxed) {
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let now = Instant::now();
        let late = now.saturating_duration_since(next);
        if late > NOTED {
            seen.stalls.push(Stall {
                cpu,
                woke: SystemTime::now(),
                late,
            });
        }
        // After a stall, the next tick is one from now: no burst of catching up.
        next = if late > TICK { now + TICK } else { next + TICK };
    }
    seen
}

#[cfg(unix)]
fn realtime() -> bool {
    use thread_priority::{
        RealtimeThreadSchedulePolicy, ThreadPriority, ThreadPriorityValue, ThreadSchedulePolicy,
        set_thread_priority_and_policy, thread_native_id,
    };
    ThreadPriorityValue::try_from(70u8).is_ok_and(|value| {
        set_thread_priority_and_policy(
            thread_native_id(),
            ThreadPriority::Crossplatform(value),
            ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::Fifo),
        )
        .is_ok()
    })
}

#[cfg(not(unix))]
fn realtime() -> bool {
    false
}

#[cfg(target_os = "linux")]
fn held_to(cpu: usize) -> bool {
    let mut set = rustix::thread::CpuSet::new();
    set.set(cpu);
    rustix::thread::sched_setaffinity(None, &set).is_ok()
}

#[cfg(not(target_os = "linux"))]
fn held_to(_: usize) -> bool {
    false
}

impl Seen {
    /// The longest stall within `near` of `at` (when a loss was logged), if any.
    pub fn stall_near(&self, at: SystemTime, near: Duration) -> Option<Stall> {
        self.stalls
            .iter()
            .filter(|s| apart(s.woke, at) <= near)
            .max_by_key(|s| s.late)
            .copied()
    }

    /// The stalls within `span` of `at`, for a report: "cpu 1 2.3 ms at -40 ms".
    pub fn around(&self, at: SystemTime, span: Duration) -> String {
        let lines: Vec<String> = self
            .stalls
            .iter()
            .filter(|s| apart(s.woke, at) <= span)
            .map(|s| {
                format!(
                    "cpu {} {:.1} ms at {:+} ms",
                    s.cpu,
                    s.late.as_secs_f64() * 1e3,
                    signed_ms(s.woke, at)
                )
            })
            .collect();
        lines.join("; ")
    }

    /// Stalls at least `long`, for a report.
    pub fn longer_than(&self, long: Duration) -> usize {
        self.stalls.iter().filter(|s| s.late >= long).count()
    }

    /// The longest stall.
    pub fn longest(&self) -> Duration {
        self.stalls.iter().map(|s| s.late).max().unwrap_or_default()
    }
}

/// `a` after `b`, milliseconds (negative: before).
pub fn signed_ms(a: SystemTime, b: SystemTime) -> i128 {
    match a.duration_since(b) {
        Ok(d) => d.as_millis() as i128,
        Err(e) => -(e.duration().as_millis() as i128),
    }
}

fn apart(a: SystemTime, b: SystemTime) -> Duration {
    a.duration_since(b)
        .or_else(|_| b.duration_since(a))
        .unwrap_or_default()
}

/// The times of day `record` printed for its xruns ("xruns at: 1.234 s (19:45:12.345 UTC), …"),
/// placed on today's (UTC) date near `around`; None if the line is missing any.
pub fn xrun_clock(stdout: &str, around: SystemTime) -> Option<Vec<SystemTime>> {
    clock_after(stdout, "xruns at: ", around)
}

/// When each shift by the driver was noticed, from the times of day that `record` printed
/// ("driver shifts noticed at: 19:45:12.345 UTC, ..."), read as for [`xrun_clock`].
pub fn shift_clock(stdout: &str, around: SystemTime) -> Option<Vec<SystemTime>> {
    clock_after(stdout, "driver shifts noticed at: ", around)
}

/// The times of day on the line that starts with `key`, each "HH:MM:SS.mmm UTC", alone or in
/// parentheses after other text.
fn clock_after(stdout: &str, key: &str, around: SystemTime) -> Option<Vec<SystemTime>> {
    let Some(line) = stdout.lines().find_map(|l| l.strip_prefix(key)) else {
        return Some(Vec::new());
    };
    let since = around.duration_since(UNIX_EPOCH).ok()?;
    let day = since.as_millis() / 86_400_000 * 86_400_000;
    line.split(", ")
        .map(|entry| {
            let entry = entry.rsplit('(').next()?.trim_end_matches(')');
            let clock = entry.strip_suffix(" UTC")?;
            let mut parts = clock.split([':', '.']);
            let mut next = || parts.next()?.parse::<u128>().ok();
            let (h, m, s, ms) = (next()?, next()?, next()?, next()?);
            let mut at = day + ((h * 60 + m) * 60 + s) * 1000 + ms;
            // A run across midnight: the time of day is nearest `around` on one side or the other.
            let now = since.as_millis();
            if at > now + 43_200_000 {
                at -= 86_400_000;
            } else if at + 43_200_000 < now {
                at += 86_400_000;
            }
            Some(UNIX_EPOCH + Duration::from_millis(u64::try_from(at).ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xrun_times_are_read_back_across_midnight() {
        let around = UNIX_EPOCH + Duration::from_secs(86_400 * 20_000 + 10);
        let out = "xruns at: 1.000 s (23:59:59.500 UTC), 2.000 s (00:00:00.250 UTC)\nxruns: 2";
        let got = xrun_clock(out, around).expect("both read");
        let secs: Vec<f64> = got
            .iter()
            .map(|t| t.duration_since(UNIX_EPOCH).expect("after").as_secs_f64())
            .collect();
        let day = 86_400.0 * 20_000.0;
        assert_eq!(secs, vec![day - 0.5, day + 0.25]);
        assert_eq!(xrun_clock("xruns: 0", around).map(|v| v.len()), Some(0));
        assert_eq!(xrun_clock("xruns at: 1.000 s\n", around), None);
        let out = "bridge: 256.0 frames added\ndriver shifts noticed at: 23:59:58.000 UTC";
        let got = shift_clock(out, around).expect("read");
        let secs = got[0]
            .duration_since(UNIX_EPOCH)
            .expect("after")
            .as_secs_f64();
        assert_eq!(secs, day - 2.0);
        assert_eq!(
            shift_clock(out.lines().next().unwrap_or(""), around),
            Some(vec![])
        );
    }

    #[test]
    fn the_longest_stall_near_a_loss_is_the_one_that_explains_it() {
        let t0 = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let stall = |ms: u64, late: u64| Stall {
            cpu: 0,
            woke: t0 + Duration::from_millis(ms),
            late: Duration::from_millis(late),
        };
        let seen = Seen {
            realtime: true,
            stalls: vec![stall(0, 2), stall(30, 9), stall(500, 20)],
        };
        let near = Duration::from_millis(50);
        let at = t0 + Duration::from_millis(20);
        assert_eq!(
            seen.stall_near(at, near).map(|s| s.late.as_millis()),
            Some(9)
        );
        assert!(
            seen.stall_near(t0 + Duration::from_millis(200), near)
                .is_none()
        );
        assert_eq!(seen.longer_than(Duration::from_millis(9)), 2);
        assert_eq!(seen.longest(), Duration::from_millis(20));
    }
}
