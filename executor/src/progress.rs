//! The run's progress on standard error: a live bar on a terminal (indicatif), a plain line
//! every few seconds otherwise (logs of CI jobs and batch systems), or nothing at all.
//!
//! The dispatcher reports each attempt's start and stop and, once per turn of its loop, the
//! counts; drawing is throttled here, so a run of a million tiny tasks pays a clock read per
//! turn. While a bar is drawn, every other line on the terminal (failure reports, `print`)
//! goes through it, so it is not torn.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use weft_compiler::deps::TaskId;

/// How progress is shown (`weft run --progress`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProgressMode {
    /// A bar when standard error is a terminal, plain lines otherwise.
    #[default]
    Auto,
    Bar,
    Lines,
    Off,
}

/// Where the run stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Calls made so far (the body may still make more).
    pub total: usize,
    pub done: usize,
    pub failed: usize,
    pub cancelled: usize,
    pub running: usize,
}

impl Counts {
    fn ended(&self) -> usize {
        self.done + self.failed + self.cancelled
    }
}

/// How often a bar is redrawn, and a plain line written at most.
const BAR_EVERY: Duration = Duration::from_millis(100);
const LINE_EVERY: Duration = Duration::from_secs(2);
/// How many running tasks a bar names.
const NAMED_RUNNING: usize = 3;

pub struct Progress {
    bar: Option<ProgressBar>,
    lines: bool,
    /// The running attempts' task names, kept only for a bar.
    running: BTreeMap<TaskId, Arc<str>>,
    shown: Counts,
    last_drawn: Option<Instant>,
}

impl Progress {
    pub fn new(mode: ProgressMode) -> Progress {
        let terminal = io::IsTerminal::is_terminal(&io::stderr());
        let (bar, lines) = match mode {
            ProgressMode::Auto if terminal => (Some(new_bar()), false),
            ProgressMode::Auto | ProgressMode::Lines => (None, true),
            ProgressMode::Bar => (Some(new_bar()), false),
            ProgressMode::Off => (None, false),
        };
        Progress {
            bar,
            lines,
            running: BTreeMap::new(),
            shown: Counts::default(),
            last_drawn: None,
        }
    }

    /// Standard output for `print`: with a bar, each write hides the bar for its time.
    pub fn stdout(&self) -> Box<dyn Write + Send> {
        match &self.bar {
            Some(bar) => Box::new(AroundBar(bar.clone())),
            None => Box::new(io::stdout()),
        }
    }

    /// A line on standard error (a failure, a retry) that does not tear the bar.
    pub fn say(&self, message: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{message}")),
            None => eprintln!("{message}"),
        }
    }

    pub fn started(&mut self, id: TaskId, name: &str) {
        if self.bar.is_some() {
            self.running.insert(id, Arc::from(name));
        }
    }

    pub fn stopped(&mut self, id: TaskId) {
        self.running.remove(&id);
    }

    /// Shows the counts, if it is time to.
    pub fn update(&mut self, counts: Counts) {
        if self.bar.is_none() && !self.lines {
            return;
        }
        let now = Instant::now();
        let every = if self.bar.is_some() {
            BAR_EVERY
        } else {
            LINE_EVERY
        };
        if self
            .last_drawn
            .is_some_and(|last| now.duration_since(last) < every)
            || counts == self.shown
        {
            return;
        }
        // A plain line says something only once a task has ended.
        if self.bar.is_none() && counts.ended() == self.shown.ended() {
            return;
        }
        self.last_drawn = Some(now);
        self.shown = counts;
        match &self.bar {
            Some(bar) => {
                bar.set_length(counts.total as u64);
                bar.set_position(counts.ended() as u64);
                bar.set_message(self.bar_message(counts));
            }
            None => eprintln!("weft: {}", plain_line(counts)),
        }
    }

    /// Takes the bar away before the run's summary line.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    fn bar_message(&self, counts: Counts) -> String {
        let mut message = format!("{} running", counts.running);
        if !self.running.is_empty() {
            let names: Vec<&str> = self
                .running
                .values()
                .take(NAMED_RUNNING)
                .map(|n| &**n)
                .collect();
            message.push_str(&format!(
                " ({}{})",
                names.join(", "),
                if self.running.len() > NAMED_RUNNING {
                    ", …"
                } else {
                    ""
                }
            ));
        }
        for (count, what) in [(counts.failed, "failed"), (counts.cancelled, "cancelled")] {
            if count > 0 {
                message.push_str(&format!(" · {count} {what}"));
            }
        }
        message
    }
}

fn new_bar() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(10));
    let style = ProgressStyle::with_template(
        "{spinner} {elapsed_precise} [{bar:25}] {pos}/{len} tasks ended · {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.enable_steady_tick(BAR_EVERY);
    bar
}

/// `12 of 40 tasks ended (10 done, 1 failed, 1 cancelled), 2 running`.
fn plain_line(counts: Counts) -> String {
    format!(
        "{} of {} tasks ended ({} done, {} failed, {} cancelled), {} running",
        counts.ended(),
        counts.total,
        counts.done,
        counts.failed,
        counts.cancelled,
        counts.running
    )
}

/// Standard output that hides the bar while it writes.
struct AroundBar(ProgressBar);

impl Write for AroundBar {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.suspend(|| io::stdout().write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stdout().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_line_counts_every_end() {
        let counts = Counts {
            total: 40,
            done: 10,
            failed: 1,
            cancelled: 1,
            running: 2,
        };
        assert_eq!(
            plain_line(counts),
            "12 of 40 tasks ended (10 done, 1 failed, 1 cancelled), 2 running"
        );
    }

    #[test]
    fn a_bar_names_a_few_running_tasks() {
        let mut progress = Progress::new(ProgressMode::Off);
        progress.bar = Some(ProgressBar::hidden());
        for (id, name) in ["wc", "sort", "uniq", "head"].iter().enumerate() {
            progress.started(id as TaskId, name);
        }
        progress.stopped(2);
        let counts = Counts {
            total: 9,
            done: 4,
            failed: 1,
            cancelled: 0,
            running: 3,
        };
        assert_eq!(
            progress.bar_message(counts),
            "3 running (wc, sort, head) · 1 failed"
        );
        progress.started(7, "tail");
        assert_eq!(
            progress.bar_message(counts),
            "3 running (wc, sort, head, …) · 1 failed"
        );
    }
}
