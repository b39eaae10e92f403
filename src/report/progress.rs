//! The progress line: one line on a terminal redrawn in place, plain lines for a log, and
//! nothing at all when not wanted.
//!
//! The line is driven from the copying thread itself. A helper thread would make every later
//! read and write slower: once a process has two threads, Linux takes a reference and the file
//! position lock on each call (`__fdget_pos`), which measured 3% on a 4 KiB read-write copy.
//! Instead the engines report written bytes here; a clock is read only every few dozen calls,
//! and the line is drawn only after the copy has run for a second, as cp prints nothing.
//!
//! The line is drawn by hand (`\r`, the text, erase to the end of the line), which is all a
//! one-line display needs: it is erased again before any message is printed and when the run
//! ends, however it ends (a signal stops the copy and main.rs finishes the display before it
//! re-raises the signal).

use super::progress_line::{Frame, Rate, Total, clock};
use crate::options::{Options, ProgressMode};
use crate::report::tally::Tally;
use crate::report::units::human_bytes;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a copy runs before anything is drawn.
const GRACE: Duration = Duration::from_secs(1);
/// Time between two frames on a terminal (10 a second at most).
const FRAME: Duration = Duration::from_millis(100);
/// Time between two lines in a log.
const LOG_LINE: Duration = Duration::from_secs(5);
/// Calls between two looks at the clock, for copies made of many small calls.
pub(crate) const CALLS_PER_CHECK: u64 = 64;
/// Bytes that are worth a look at the clock by themselves.
pub(crate) const BYTES_PER_CHECK: u64 = 64 * 1024;
/// The most one copy_file_range or sendfile call moves while a display may be drawn (by
/// default one call may move 2 GiB, and the line would sit still for seconds, then jump).
/// 64 MiB takes a few tens of milliseconds in memory and a fifth of a second on a disk: smooth
/// enough, and 32 calls a GiB cost nothing measurable.
pub(crate) const LARGEST_CALL: usize = 64 << 20;
/// Time each update may spend sizing the job (see tally.rs): 5% of the copy at 10 updates a
/// second.
const SIZING_PER_UPDATE: Duration = Duration::from_millis(5);
/// Moves the cursor to the start of the line and erases the line.
const CLEAR: &str = "\r\x1b[K";

/// Whether a line is on the terminal now. Every message printed erases it first (`lifted`),
/// whichever thread prints it; the next frame draws it again.
static ON_SCREEN: Mutex<Screen> = Mutex::new(Screen {
    shown: false,
    stdout_too: false,
});

#[derive(Debug)]
struct Screen {
    shown: bool,
    /// stdout is a terminal too (-v lines would land on the progress line).
    stdout_too: bool,
}

/// Runs `f` (which prints a message on stderr) with the line erased, if one is drawn.
pub(crate) fn lifted(f: impl FnOnce()) {
    let Ok(mut screen) = ON_SCREEN.lock() else {
        return f();
    };
    if screen.shown {
        let _ = std::io::stderr().write_all(CLEAR.as_bytes());
        screen.shown = false;
    }
    f();
}

/// Runs `f` (which prints on stdout) with the line erased, when stdout is a terminal too.
pub(crate) fn lifted_for_stdout(f: impl FnOnce()) {
    let shared = ON_SCREEN.lock().is_ok_and(|s| s.shown && s.stdout_too);
    if shared { lifted(f) } else { f() }
}

/// Where the progress goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Display {
    /// A line redrawn in place on a terminal.
    Terminal,
    /// Plain lines for a pipe or a log.
    Lines,
}

/// A progress display for one run.
#[derive(Debug)]
pub(crate) struct Progress {
    display: Display,
    started: Instant,
    next_update: Instant,
    /// When the next plain line is due.
    next_line: Instant,
    /// Something was drawn (the grace period passed).
    drawn: bool,
    /// The size of the whole job, as far as it is known.
    tally: Tally,
    /// Bytes written.
    done: u64,
    /// Bytes --resume found already there (counted done, not in the rate).
    kept: u64,
    files_done: u64,
    rate: Rate,
    /// The file being copied (by one of the threads).
    name: PathBuf,
}

/// Whether `path` is the terminal stderr is on (the same character device).
fn is_stderr(path: &std::path::Path) -> bool {
    let (Ok(dst), Ok(err)) = (
        rustix::fs::stat(path),
        rustix::fs::fstat(rustix::stdio::stderr()),
    ) else {
        return false;
    };
    rustix::fs::FileType::from_raw_mode(dst.st_mode) == rustix::fs::FileType::CharacterDevice
        && dst.st_rdev == err.st_rdev
}

impl Progress {
    /// A display for copying `sources`, or `None` when `--progress` says not to draw.
    pub(crate) fn start(options: &Options, jobs: &[(PathBuf, PathBuf)]) -> Option<Progress> {
        let terminal = rustix::termios::isatty(rustix::stdio::stderr());
        let draw = match options.progress {
            ProgressMode::Never => false,
            // A copy onto the terminal itself (`fastcp file /dev/tty`) shows its data there:
            // a line drawn over it would erase what was copied.
            ProgressMode::Auto => terminal && !jobs.iter().any(|(_, dst)| is_stderr(dst)),
            ProgressMode::Always => true,
        };
        let sources = jobs.iter().map(|(src, _)| src.clone()).collect();
        let now = Instant::now();
        let specials = options.copy_contents || !options.recursive;
        draw.then(|| Progress {
            display: if terminal {
                Display::Terminal
            } else {
                Display::Lines
            },
            started: now,
            next_update: now + GRACE,
            next_line: now + LOG_LINE,
            drawn: false,
            tally: Tally::new(sources, options.recursive, specials),
            done: 0,
            kept: 0,
            files_done: 0,
            rate: Rate::new(now),
            name: PathBuf::new(),
        })
    }

    /// Notes `bytes` written and `files` finished (by one copying thread, since it last
    /// reported), and redraws when it is time. The counters call this every few dozen calls,
    /// not on every one.
    pub(crate) fn advance(&mut self, bytes: u64, files: u64) {
        self.done += bytes;
        self.files_done += files;
        let now = Instant::now();
        if now >= self.next_update {
            self.update(now);
        }
    }

    /// Notes `bytes` and `files` --resume keeps: done without being moved.
    pub(crate) fn keep(&mut self, bytes: u64, files: u64) {
        self.kept += bytes;
        self.files_done += files;
    }

    /// Notes the file a thread starts copying.
    pub(crate) fn set_name(&mut self, name: &std::path::Path) {
        self.name.clear();
        self.name.push(name);
    }

    fn update(&mut self, now: Instant) {
        self.tally.step(SIZING_PER_UPDATE);
        self.rate.sample(now, self.done);
        self.next_update = now + FRAME;
        match self.display {
            Display::Terminal => self.draw(),
            Display::Lines if now >= self.next_line => {
                self.next_line = now + LOG_LINE;
                self.print_line(&self.frame().figures(", "));
            }
            Display::Lines => {}
        }
        self.drawn = true;
    }

    fn frame(&self) -> Frame<'_> {
        // Never less than what was copied: sources may grow.
        let done = self.done + self.kept;
        let total = match self.tally.total() {
            None => Total::Counting,
            Some(_) if !self.tally.sized() => Total::Unknown,
            Some(bytes) => Total::Bytes(bytes.max(done)),
        };
        let files = self.tally.files();
        let counted = self.tally.total().is_some();
        Frame {
            done,
            total,
            files_done: self.files_done,
            files: (counted.then_some(files.max(self.files_done)), files),
            rate: self.rate.get(),
            name: (!self.name.as_os_str().is_empty()).then_some(self.name.as_path()),
        }
    }

    /// Draws the line on the terminal, unless a message is being printed at this moment.
    fn draw(&self) {
        let width = rustix::termios::tcgetwinsize(rustix::stdio::stderr())
            .map_or(80, |w| usize::from(w.ws_col));
        let width = if width == 0 { 80 } else { width };
        let text = format!("\r{}\x1b[K", self.frame().terminal(width));
        if let Ok(mut screen) = ON_SCREEN.try_lock() {
            if !self.drawn {
                screen.stdout_too = rustix::termios::isatty(rustix::stdio::stdout());
            }
            let _ = std::io::stderr().write_all(text.as_bytes());
            screen.shown = true;
        }
    }

    fn print_line(&self, text: &str) {
        let _ = writeln!(std::io::stderr(), "{text}");
    }

    /// Ends the display: the line is erased from the terminal; a log gets a last line, with
    /// the average rate of the whole run.
    pub(crate) fn finish(&mut self) {
        if !self.drawn {
            return;
        }
        self.drawn = false;
        match self.display {
            Display::Terminal => lifted(|| {}),
            Display::Lines => {
                // After a signal, the last line says what was done without sizing the rest of
                // the job: a tree as large as /usr took seconds to stop.
                if crate::signals::pending().is_none() {
                    self.tally.step(Duration::MAX);
                }
                let elapsed = self.started.elapsed();
                let mut frame = self.frame();
                frame.rate = None;
                let average = self.done as f64 / elapsed.as_secs_f64().max(1e-3);
                self.print_line(&format!(
                    "{}, in {} ({}/s)",
                    frame.figures(", "),
                    clock(elapsed.as_secs_f64()),
                    human_bytes(average)
                ));
            }
        }
    }
}
