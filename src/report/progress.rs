//! The progress bar: indicatif behind a tiny interface, and nothing at all when not wanted.
//!
//! The bar is driven from the copying thread itself. A helper thread would make every later
//! read and write slower: once a process has two threads, Linux takes a reference and the file
//! position lock on each call (`__fdget_pos`), which measured 3% on a 4 KiB read-write copy.
//! Instead the engines report written bytes here; a clock is read only every few dozen calls,
//! and the bar is drawn only after the copy has run for a second, as cp prints nothing.

use crate::options::ProgressMode;
use crate::report::tally::Tally;
use crate::report::units::human_bytes;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a copy runs before anything is drawn.
const GRACE: Duration = Duration::from_secs(1);
/// Calls between two looks at the clock, for copies made of many small calls.
pub(crate) const CALLS_PER_CHECK: u64 = 64;
/// Bytes that are worth a look at the clock by themselves.
pub(crate) const BYTES_PER_CHECK: u64 = 64 * 1024;
/// Time each redraw may spend sizing the job (see tally.rs): 5% of the copy at 10 redraws a
/// second, and far less for the plain lines drawn once a second.
const SIZING_PER_UPDATE: Duration = Duration::from_millis(5);

/// The bar on the terminal, if any: every message printed lifts it first (`lifted`), whichever
/// thread prints it.
static ON_SCREEN: Mutex<Option<indicatif::ProgressBar>> = Mutex::new(None);

/// Runs `f` (which prints a message) with the bar lifted off the terminal, if one is drawn.
pub(crate) fn lifted(f: impl FnOnce()) {
    let bar = ON_SCREEN.lock().ok().and_then(|bar| bar.clone());
    match bar {
        Some(bar) => bar.suspend(f),
        None => f(),
    }
}

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
#[derive(Debug)]
pub(crate) struct Progress {
    terminal: bool,
    started: Instant,
    next_update: Instant,
    display: Display,
    /// The size of the whole job, as far as it is known.
    tally: Tally,
    done: u64,
}

impl Progress {
    /// A display for copying `sources`, or `None` when `mode` says not to draw.
    pub(crate) fn start(
        mode: ProgressMode,
        sources: Vec<PathBuf>,
        recursive: bool,
    ) -> Option<Progress> {
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
            tally: Tally::new(sources, recursive),
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

    /// The total to show once every size is known; never less than what was written, as
    /// sources may grow.
    fn known_total(&self) -> Option<u64> {
        self.tally.total().map(|total| total.max(self.done))
    }

    fn update(&mut self, now: Instant) {
        self.tally.step(SIZING_PER_UPDATE);
        if matches!(self.display, Display::Waiting) {
            self.display = if self.terminal {
                let bar = new_bar(self.known_total(), self.done);
                if let Ok(mut on_screen) = ON_SCREEN.lock() {
                    *on_screen = Some(bar.clone());
                }
                Display::Bar(bar)
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

    /// Ends the display: the bar is removed from the terminal; a log gets a last line.
    pub(crate) fn finish(&mut self) {
        if !matches!(self.display, Display::Waiting) {
            self.tally.step(Duration::MAX);
        }
        match std::mem::replace(&mut self.display, Display::Waiting) {
            Display::Bar(bar) => {
                if let Ok(mut on_screen) = ON_SCREEN.lock() {
                    *on_screen = None;
                }
                bar.finish_and_clear()
            }
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
