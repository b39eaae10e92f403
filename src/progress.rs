//! The progress bar: indicatif behind a tiny interface, and nothing at all when not wanted.
//!
//! The bar is driven from the copying thread itself. A helper thread would make every later
//! read and write slower: once a process has two threads, Linux takes a reference and the file
//! position lock on each call (`__fdget_pos`), which measured 3% on a 4 KiB read-write copy.
//! Instead the engines report written bytes here; a clock is read only every few dozen calls,
//! and the bar is drawn only after the copy has run for a second, as cp prints nothing.

use crate::report::human_bytes;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// When to draw (`--progress`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProgressMode {
    /// Only when stderr is a terminal.
    Auto,
    /// Even when stderr is a pipe or a file (one plain line a second).
    Always,
    Never,
}

/// How long a copy runs before anything is drawn.
const GRACE: Duration = Duration::from_secs(1);
/// Calls between two looks at the clock, for copies made of many small calls.
pub(crate) const CALLS_PER_CHECK: u64 = 64;
/// Bytes that are worth a look at the clock by themselves.
pub(crate) const BYTES_PER_CHECK: u64 = 64 * 1024;
/// Sources whose size is read per update, so a long list never stalls the copy.
const SIZES_PER_UPDATE: usize = 256;

/// Where the progress goes.
#[derive(Debug, Clone)]
enum Display {
    /// Not drawn yet: the grace period has not passed.
    Waiting,
    /// An indicatif bar on a terminal.
    Bar(indicatif::ProgressBar),
    /// Plain lines for a pipe or a log.
    Lines,
}

/// A progress display for one run.
#[derive(Debug, Clone)]
pub(crate) struct Progress {
    terminal: bool,
    started: Instant,
    next_update: Instant,
    display: Display,
    /// Sources whose sizes are still to be added to `total`.
    sources: Vec<PathBuf>,
    counted: usize,
    total: u64,
    done: u64,
}

impl Progress {
    /// A display for copying `sources`, or `None` when `mode` says not to draw.
    pub(crate) fn start(mode: ProgressMode, sources: Vec<PathBuf>) -> Option<Progress> {
        let terminal = rustix::termios::isatty(rustix::stdio::stderr());
        let draw = match mode {
            ProgressMode::Never => false,
            ProgressMode::Auto => terminal,
            ProgressMode::Always => true,
        };
        let now = Instant::now();
        draw.then_some(Progress {
            terminal,
            started: now,
            next_update: now + GRACE,
            display: Display::Waiting,
            sources,
            counted: 0,
            total: 0,
            done: 0,
        })
    }

    /// Notes `bytes` written (by one copying thread, since it last reported), and redraws
    /// when it is time. The counters call this every few dozen calls, not on every one.
    pub(crate) fn advance(&mut self, bytes: u64) {
        self.done += bytes;
        let now = Instant::now();
        if now >= self.next_update {
            self.update(now);
        }
    }

    /// Adds a few more source sizes to the total.
    fn count_sizes(&mut self) {
        let end = (self.counted + SIZES_PER_UPDATE).min(self.sources.len());
        for src in &self.sources[self.counted..end] {
            if let Ok(st) = rustix::fs::stat(src)
                && rustix::fs::FileType::from_raw_mode(st.st_mode)
                    == rustix::fs::FileType::RegularFile
            {
                self.total += u64::try_from(st.st_size).unwrap_or(0);
            }
        }
        self.counted = end;
    }

    /// The total to show once every size is known; never less than what was written, as
    /// sources may grow.
    fn known_total(&self) -> Option<u64> {
        (self.counted == self.sources.len()).then_some(self.total.max(self.done))
    }

    fn update(&mut self, now: Instant) {
        self.count_sizes();
        if matches!(self.display, Display::Waiting) {
            self.display = if self.terminal {
                Display::Bar(new_bar(self.known_total(), self.done))
            } else {
                Display::Lines
            };
        }
        match &self.display {
            Display::Bar(bar) => {
                if let Some(total) = self.known_total() {
                    bar.set_length(total);
                }
                bar.set_position(self.done);
                self.next_update = now + Duration::from_millis(100);
            }
            Display::Lines => {
                self.print_line(false);
                self.next_update = now + Duration::from_secs(1);
            }
            Display::Waiting => {}
        }
    }

    fn print_line(&self, last: bool) {
        let secs = self.started.elapsed().as_secs_f64();
        let rate = if secs > 0.0 {
            self.done as f64 / secs
        } else {
            0.0
        };
        let mut line = human_bytes(self.done as f64);
        if let Some(total) = self.known_total() {
            let percent = (self.done * 100).checked_div(total).unwrap_or(100);
            line.push_str(&format!(" / {} ({percent}%)", human_bytes(total as f64)));
            if rate > 0.0 && !last {
                let eta = (total - self.done) as f64 / rate;
                line.push_str(&format!(", {}/s, ETA {eta:.0} s", human_bytes(rate)));
            }
        }
        let _ = writeln!(std::io::stderr(), "{line}");
    }

    /// Runs `f` (which prints a message) with the bar lifted off the terminal, so the message
    /// gets a line of its own.
    pub(crate) fn suspend(&self, f: impl FnOnce()) {
        match &self.display {
            Display::Bar(bar) => bar.suspend(f),
            _ => f(),
        }
    }

    /// Ends the display: the bar is removed from the terminal; a log gets a last line.
    pub(crate) fn finish(&mut self) {
        while self.counted < self.sources.len() && !matches!(self.display, Display::Waiting) {
            self.count_sizes();
        }
        match std::mem::replace(&mut self.display, Display::Waiting) {
            Display::Bar(bar) => bar.finish_and_clear(),
            Display::Lines => self.print_line(true),
            Display::Waiting => {}
        }
    }
}

fn new_bar(total: Option<u64>, done: u64) -> indicatif::ProgressBar {
    // Built hidden and moved to stderr once positioned: the bar starts a second into the
    // copy, and its rate estimate must start from there, not from zero.
    let bar =
        indicatif::ProgressBar::with_draw_target(total, indicatif::ProgressDrawTarget::hidden());
    let style = indicatif::ProgressStyle::with_template(
        "{binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta} [{wide_bar}]",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_position(done);
    bar.reset_eta();
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(10));
    bar
}
