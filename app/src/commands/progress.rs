//! Progress of the command line's long jobs on standard error: a bar with percent and ETA on a
//! terminal (indicatif), a few plain lines off one (a log file, a pipe), never a carriage return.
//! Standard output is left alone: scripts and tests read it.
//!
//! Nothing shows until the job reports progress, so a job refused at once prints only its error.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Steps of the bar: a fraction is shown in tenths of a percent.
const STEPS: u64 = 1000;

/// Off a terminal, a line when the job starts and at every this many percent after.
const PLAIN_EVERY: u32 = 25;

/// What is printed off a terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plain {
    /// A line as the job starts, then at 25, 50, 75 and 100 %.
    Quarters,
    /// A line for each stage (each [`Progress::stage`]), no percentages.
    Stages,
}

/// How the progress is shown.
enum Shown {
    /// On a terminal: the bar, made when the job first reports (the target waits until then).
    Bar {
        target: Option<ProgressDrawTarget>,
        bar: Option<ProgressBar>,
    },
    /// Off a terminal: plain lines; `next` is the percent that gets the next line.
    Lines { plain: Plain, next: u32 },
}

/// One job's progress. Dropped unfinished (the job failed), a bar stays where the job stopped,
/// and no more lines are printed.
pub struct Progress {
    label: String,
    shown: Shown,
    started: Instant,
}

impl Progress {
    /// A job called `label` ("exporting"), shown on standard error.
    pub fn new(label: &str, plain: Plain) -> Self {
        Self::with_target(label, plain, ProgressDrawTarget::stderr())
    }

    /// A job shown on `target`: a bar there, or plain lines on standard error when the target
    /// hides itself (indicatif hides a terminal target that is not a terminal).
    fn with_target(label: &str, plain: Plain, target: ProgressDrawTarget) -> Self {
        let shown = if target.is_hidden() {
            Shown::Lines { plain, next: 0 }
        } else {
            Shown::Bar {
                target: Some(target),
                bar: None,
            }
        };
        Self {
            label: label.to_owned(),
            shown,
            started: Instant::now(),
        }
    }

    /// The bar, made on first use.
    fn bar(label: &str, target: &mut Option<ProgressDrawTarget>, bar: &mut Option<ProgressBar>) {
        if let Some(t) = target.take() {
            let b = ProgressBar::with_draw_target(Some(STEPS), t);
            // The template is fixed: it parses, or indicatif's default style stays.
            // The message goes last, cut to the terminal's width: a long path must not wrap.
            if let Ok(style) =
                ProgressStyle::with_template("[{bar:40}] {percent:>3}% (ETA {eta:>3})  {wide_msg}")
            {
                b.set_style(style.progress_chars("#>-"));
            }
            b.set_message(label.to_owned());
            // Keeps the ETA moving through a stretch without reports.
            b.enable_steady_tick(Duration::from_millis(250));
            *bar = Some(b);
        }
    }

    /// A new stage ("importing 2/3: take.flac"): the bar's message on a terminal, a line off one.
    pub fn stage(&mut self, text: &str) {
        match &mut self.shown {
            Shown::Bar { target, bar } => {
                self.label = text.to_owned();
                Self::bar(&self.label, target, bar);
                if let Some(b) = bar {
                    b.set_message(self.label.clone());
                }
            }
            Shown::Lines {
                plain: Plain::Stages,
                ..
            } => eprintln!("{text}"),
            Shown::Lines {
                plain: Plain::Quarters,
                ..
            } => {}
        }
    }

    /// The fraction of the whole job done, 0..1. Nothing shows while it is 0.
    pub fn set(&mut self, fraction: f32) {
        let fraction = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            0.0
        };
        if fraction <= 0.0 {
            return;
        }
        match &mut self.shown {
            Shown::Bar { target, bar } => {
                Self::bar(&self.label, target, bar);
                if let Some(b) = bar {
                    b.set_position((f64::from(fraction) * STEPS as f64).round() as u64);
                }
            }
            Shown::Lines {
                plain: Plain::Quarters,
                next,
            } => {
                let percent = (fraction * 100.0).floor() as u32;
                if percent >= *next {
                    eprintln!(
                        "{}: {percent:3}% ({:.1} s)",
                        self.label,
                        self.started.elapsed().as_secs_f64()
                    );
                    // The next quarter above this one.
                    *next = (percent / PLAIN_EVERY + 1) * PLAIN_EVERY;
                }
            }
            Shown::Lines {
                plain: Plain::Stages,
                ..
            } => {}
        }
    }

    /// The job is done: the bar stays, full, on a terminal; off one, the last line says 100 %.
    pub fn finish(mut self) {
        self.set(1.0);
        if let Shown::Bar { bar: Some(b), .. } = &self.shown {
            b.finish();
            // indicatif leaves the cursor on the bar's line: what follows starts below it.
            eprintln!();
        }
    }

    /// Off a terminal, the percent that gets the next line (for the tests).
    #[cfg(test)]
    fn next_line(&self) -> Option<u32> {
        match self.shown {
            Shown::Lines { next, .. } => Some(next),
            Shown::Bar { .. } => None,
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Shown::Bar { bar: Some(b), .. } = &self.shown
            && !b.is_finished()
        {
            // Leave the bar where the job stopped (dropped, indicatif would fill it to 100 %),
            // and the error below it.
            b.abandon();
            eprintln!();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As off a terminal, whatever runs the tests.
    fn quarters() -> Progress {
        Progress::with_target("test", Plain::Quarters, ProgressDrawTarget::hidden())
    }

    #[test]
    fn off_a_terminal_a_line_is_due_at_the_start_and_each_quarter() {
        let mut p = quarters();
        let mut lines = 0;
        for i in 0..=1000 {
            let before = p.next_line();
            p.set(i as f32 / 1000.0);
            if p.next_line() != before {
                lines += 1;
            }
        }
        // 0.1 % (the start), 25, 50, 75 and 100.
        assert_eq!(lines, 5);
        assert_eq!(p.next_line(), Some(125));
        p.finish();
    }

    #[test]
    fn nothing_before_the_job_reports_and_one_line_for_a_jump() {
        let mut p = quarters();
        p.set(0.0);
        p.set(f32::NAN);
        assert_eq!(p.next_line(), Some(0), "no line yet");
        p.set(0.8);
        assert_eq!(p.next_line(), Some(100));
        p.set(0.9);
        assert_eq!(p.next_line(), Some(100));
    }
}
