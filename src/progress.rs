//! The progress bar: indicatif behind a tiny interface, and nothing at all when not wanted.
//!
//! The copy never talks to indicatif. Engines add written bytes to an atomic counter (see
//! `Counters::record`); a ticker thread samples it a few times a second and draws. A quick
//! copy ends before the bar's one-second grace period and prints nothing, as cp prints nothing.

use crate::report::human_bytes;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// When to draw (`--progress`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProgressMode {
    /// Only when stderr is a terminal.
    Auto,
    /// Even when stderr is a pipe or a file (one line per update).
    Always,
    Never,
}

/// How long a copy runs before the bar appears.
const GRACE: Duration = Duration::from_secs(1);

/// State shared between the copy, the size counter and the ticker.
#[derive(Default)]
struct Shared {
    done: Arc<AtomicU64>,
    total: AtomicU64,
    total_known: AtomicBool,
    stop: Mutex<bool>,
    wake: Condvar,
}

/// A running progress display; `finish` ends it.
pub(crate) struct Progress {
    shared: Option<Arc<Shared>>,
    threads: Vec<JoinHandle<()>>,
}

impl Progress {
    /// Starts the display for copying `sources`, or a no-op when `mode` says not to draw.
    pub(crate) fn start(mode: ProgressMode, sources: Vec<PathBuf>) -> Progress {
        let terminal = rustix::termios::isatty(rustix::stdio::stderr());
        let draw = match mode {
            ProgressMode::Never => false,
            ProgressMode::Auto => terminal,
            ProgressMode::Always => true,
        };
        if !draw {
            return Progress {
                shared: None,
                threads: Vec::new(),
            };
        }
        let shared = Arc::new(Shared::default());
        let counter = Arc::clone(&shared);
        let ticker = Arc::clone(&shared);
        let threads = vec![
            std::thread::spawn(move || count_total(&counter, sources)),
            std::thread::spawn(move || tick(&ticker, terminal)),
        ];
        Progress {
            shared: Some(shared),
            threads,
        }
    }

    /// The counter engines add written bytes to, when a bar may be drawn.
    pub(crate) fn meter(&self) -> Option<Arc<AtomicU64>> {
        self.shared.as_ref().map(|s| Arc::clone(&s.done))
    }

    /// Stops the display and removes the bar from the terminal.
    pub(crate) fn finish(self) {
        if let Some(shared) = &self.shared {
            *shared.stop.lock().unwrap_or_else(|e| e.into_inner()) = true;
            shared.wake.notify_all();
        }
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// Adds up the sizes of the sources while the copy already runs, so a long list or a deep tree
/// never delays the first byte.
fn count_total(shared: &Shared, sources: Vec<PathBuf>) {
    for src in sources {
        if *shared.stop.lock().unwrap_or_else(|e| e.into_inner()) {
            return;
        }
        if let Ok(st) = rustix::fs::stat(&src)
            && rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::RegularFile
        {
            let size = u64::try_from(st.st_size).unwrap_or(0);
            shared.total.fetch_add(size, Ordering::Relaxed);
        }
    }
    shared.total_known.store(true, Ordering::Relaxed);
}

/// Waits out the grace period, then draws until told to stop.
fn tick(shared: &Shared, terminal: bool) {
    let started = Instant::now();
    if wait(shared, GRACE) {
        return;
    }
    if terminal {
        draw_bar(shared);
    } else {
        print_lines(shared, started);
    }
}

/// The total to show: every known size, and never less than what was written (sources grow).
fn total(shared: &Shared, done: u64) -> Option<u64> {
    let total = shared.total.load(Ordering::Relaxed);
    (shared.total_known.load(Ordering::Relaxed) || total > 0).then_some(total.max(done))
}

/// An indicatif bar on the terminal, cleared when the copy ends.
fn draw_bar(shared: &Shared) {
    let done = shared.done.load(Ordering::Relaxed);
    let bar = indicatif::ProgressBar::with_draw_target(
        total(shared, done),
        indicatif::ProgressDrawTarget::hidden(),
    );
    let style = indicatif::ProgressStyle::with_template(
        "{binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta} [{wide_bar}]",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    // The bar starts a second into the copy: start the rate estimate from where the copy
    // stands, not from zero, or the first rate shown is absurd.
    bar.set_position(done);
    bar.reset_eta();
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(10));
    loop {
        let done = shared.done.load(Ordering::Relaxed);
        if let Some(total) = total(shared, done) {
            bar.set_length(total);
        }
        bar.set_position(done);
        if wait(shared, Duration::from_millis(100)) {
            break;
        }
    }
    bar.finish_and_clear();
}

/// For `--progress=always` into a pipe or a log: one plain line a second, and a last one.
fn print_lines(shared: &Shared, started: Instant) {
    loop {
        let stop = wait(shared, Duration::from_secs(1));
        let done = shared.done.load(Ordering::Relaxed);
        let secs = started.elapsed().as_secs_f64();
        let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
        let mut line = human_bytes(done as f64);
        if let Some(total) = total(shared, done) {
            let percent = (done * 100).checked_div(total).unwrap_or(100);
            line.push_str(&format!(" / {} ({percent}%)", human_bytes(total as f64)));
            if rate > 0.0 && !stop {
                let eta = (total - done) as f64 / rate;
                line.push_str(&format!(", {}/s, ETA {eta:.0} s", human_bytes(rate)));
            }
        }
        let _ = writeln!(std::io::stderr(), "{line}");
        if stop {
            return;
        }
    }
}

/// Sleeps up to `timeout`; true when the copy has ended.
fn wait(shared: &Shared, timeout: Duration) -> bool {
    let stop = shared.stop.lock().unwrap_or_else(|e| e.into_inner());
    let (stop, _) = shared
        .wake
        .wait_timeout_while(stop, timeout, |stop| !*stop)
        .unwrap_or_else(|e| e.into_inner());
    *stop
}
