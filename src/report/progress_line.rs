//! The text of the progress line: percentage, bytes, files, rate, time left and the file name
//! shortened to the terminal's width, and the smoothed rate it shows.

use super::units::human_bytes;
use std::path::Path;
use std::time::{Duration, Instant};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// How far back the rate looks: an exponential moving average whose samples lose half their
/// weight in about 2 s (a time constant of 3 s), so one slow or fast moment barely moves it
/// and the time left does not jump.
const RATE_WINDOW: Duration = Duration::from_secs(3);

/// Bytes per second, smoothed; none until bytes have been seen moving. The average is
/// normalised by the weight its samples have so far, so its start is the rate measured, not
/// a climb from zero nor the first moment's rate held for seconds.
#[derive(Debug)]
pub(crate) struct Rate {
    last: (Instant, u64),
    /// Weighted sum of the rates sampled, and the sum of their weights.
    sum: f64,
    weight: f64,
}

impl Rate {
    pub(crate) fn new(start: Instant) -> Rate {
        Rate {
            last: (start, 0),
            sum: 0.0,
            weight: 0.0,
        }
    }

    /// Takes a sample: `done` bytes in all at `now`.
    pub(crate) fn sample(&mut self, now: Instant, done: u64) {
        let (then, before) = self.last;
        let dt = now.saturating_duration_since(then).as_secs_f64();
        if dt <= 0.0 {
            return;
        }
        self.last = (now, done);
        // Nothing has moved yet (a FIFO without a writer): no rate to speak of.
        if done == 0 {
            return;
        }
        let now_rate = done.saturating_sub(before) as f64 / dt;
        let keep = (-dt / RATE_WINDOW.as_secs_f64()).exp();
        self.sum = self.sum * keep + now_rate * (1.0 - keep);
        self.weight = self.weight * keep + (1.0 - keep);
    }

    pub(crate) fn get(&self) -> Option<f64> {
        (self.weight > 0.0).then(|| self.sum / self.weight)
    }
}

/// The size of the whole job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Total {
    /// Still being counted.
    Counting,
    /// Counted: the bytes to copy.
    Bytes(u64),
    /// Counted, but some sources have no size before they are read (FIFOs, devices).
    Unknown,
}

/// What one line shows.
#[derive(Debug)]
pub(crate) struct Frame<'a> {
    pub(crate) done: u64,
    pub(crate) total: Total,
    pub(crate) files_done: u64,
    /// Files in the job: known (once counted), or counted so far.
    pub(crate) files: (Option<u64>, u64),
    pub(crate) rate: Option<f64>,
    /// The file being copied.
    pub(crate) name: Option<&'a Path>,
}

impl Frame<'_> {
    /// The figures, without the file name: `42% 1.7 GiB / 4.0 GiB  12/340 files  215.3 MiB/s
    /// ETA 0:11`, or while the job is still being sized `1.7 GiB  12 files  ...  counting...`.
    pub(crate) fn figures(&self, sep: &str) -> String {
        let mut parts = Vec::new();
        match self.total {
            Total::Bytes(total) => {
                let percent = (u128::from(self.done) * 100)
                    .checked_div(u128::from(total))
                    .unwrap_or(100)
                    .min(100);
                parts.push(format!(
                    "{percent:>3}% {} / {}",
                    human_bytes(self.done as f64),
                    human_bytes(total as f64)
                ));
            }
            Total::Counting | Total::Unknown => parts.push(human_bytes(self.done as f64)),
        }
        match self.files {
            (Some(files), _) if files > 1 => {
                parts.push(format!("{}/{files} files", self.files_done.min(files)));
            }
            (None, counted) if counted > 1 || self.files_done > 1 => {
                parts.push(format!("{} files", self.files_done));
            }
            _ => {}
        }
        if let Some(rate) = self.rate {
            parts.push(format!("{}/s", human_bytes(rate)));
            if let Total::Bytes(total) = self.total
                && rate > 0.0
            {
                let left = total.saturating_sub(self.done) as f64 / rate;
                parts.push(format!("ETA {}", clock(left)));
            }
        }
        if self.total == Total::Counting {
            parts.push("counting...".to_string());
        }
        parts.join(sep)
    }

    /// The line for a terminal `width` columns wide, kept one short of the edge so that the
    /// terminal does not wrap it.
    pub(crate) fn terminal(&self, width: usize) -> String {
        let width = width.saturating_sub(1).max(1);
        let mut line = self.figures("  ");
        let room = width.saturating_sub(line.width() + 2);
        if let Some(name) = self.name
            && room >= 8
        {
            line.push_str("  ");
            line.push_str(&elide(&printable(name), room));
        }
        head(&line, width)
    }
}

/// Seconds as `1:05:09` or `5:09`.
pub(crate) fn clock(seconds: f64) -> String {
    let s = if seconds.is_finite() {
        seconds.round().min(1e9) as u64
    } else {
        0
    };
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, m, s) => format!("{m}:{s:02}"),
        (h, m, s) => format!("{h}:{m:02}:{s:02}"),
    }
}

/// A file name as it can be shown on a terminal: bytes that are not UTF-8 become U+FFFD, and
/// control characters (a newline, an escape sequence in a name) and the bidirectional
/// controls that would reorder the line become `?`, as `ls` shows them.
fn printable(name: &Path) -> String {
    let bidi = |c: char| matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    name.to_string_lossy()
        .chars()
        .map(|c| if c.is_control() || bidi(c) { '?' } else { c })
        .collect()
}

/// Columns a character takes on a terminal (two for most CJK characters and emoji).
fn columns(c: char) -> usize {
    c.width().unwrap_or(0)
}

/// The longest start of `text` that fits in `room` columns.
fn head(text: &str, room: usize) -> String {
    let mut used = 0;
    text.chars()
        .take_while(|&c| {
            used += columns(c);
            used <= room
        })
        .collect()
}

/// The longest end of `text` that fits in `room` columns.
fn tail(text: &str, room: usize) -> String {
    let mut used = 0;
    let mut kept: Vec<char> = text
        .chars()
        .rev()
        .take_while(|&c| {
            used += columns(c);
            used <= room
        })
        .collect();
    kept.reverse();
    kept.into_iter().collect()
}

/// `text` in at most `room` terminal columns: its middle replaced by `...` when it is wider,
/// so that the start of the path and the file's own name both stay. Cut between characters,
/// never inside one.
fn elide(text: &str, room: usize) -> String {
    if text.width() <= room {
        return text.to_string();
    }
    let keep = room.saturating_sub(3);
    let mut out = head(text, keep / 3);
    out.push_str("...");
    out.push_str(&tail(text, keep - keep / 3));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(total: Total, files: (Option<u64>, u64), rate: Option<f64>) -> Frame<'static> {
        Frame {
            done: 3 << 20,
            total,
            files_done: 2,
            files,
            rate,
            name: None,
        }
    }

    #[test]
    fn figures_with_and_without_a_known_total() {
        let known = frame(Total::Bytes(12 << 20), (Some(7), 7), Some(1048576.0));
        assert_eq!(
            known.figures("  "),
            " 25% 3.0 MiB / 12.0 MiB  2/7 files  1.0 MiB/s  ETA 0:09"
        );
        let counting = frame(Total::Counting, (None, 40), None);
        assert_eq!(counting.figures(", "), "3.0 MiB, 2 files, counting...");
        // A FIFO among the sources: no percentage and no time left, ever.
        let unknown = frame(Total::Unknown, (Some(3), 3), Some(1048576.0));
        assert_eq!(unknown.figures(", "), "3.0 MiB, 2/3 files, 1.0 MiB/s");
        // One file: no file count.
        let one = frame(Total::Bytes(6 << 20), (Some(1), 1), None);
        assert_eq!(one.figures("  "), " 50% 3.0 MiB / 6.0 MiB");
    }

    #[test]
    fn names_are_shortened_by_columns_and_made_printable() {
        let name = Path::new("dir/\u{e9}t\u{e9}/\x1b[31mred\nline/\u{1f600}.txt");
        let shown = printable(name);
        assert_eq!(shown, "dir/\u{e9}t\u{e9}/?[31mred?line/\u{1f600}.txt");
        // The emoji takes two columns.
        let short = elide(&shown, 12);
        assert_eq!(short.width(), 12);
        assert_eq!(short, "dir...\u{1f600}.txt");
        assert_eq!(elide("short", 12), "short");
        let line = Frame {
            name: Some(name),
            ..frame(Total::Bytes(12 << 20), (Some(7), 7), Some(1048576.0))
        }
        .terminal(70);
        assert_eq!(line.width(), 69, "{line}");
        assert!(line.ends_with(".txt") && !line.contains('\x1b'), "{line}");
        // Regression: wide characters counted one column each, and the line wrapped.
        let wide = Path::new(
            "\u{65e5}\u{672c}\u{8a9e}\u{306e}\u{30d5}\u{30a1}\u{30a4}\u{30eb}\u{540d}.txt",
        );
        let name = wide.to_string_lossy().repeat(4);
        for width in [20, 31, 45, 60, 200] {
            let line = Frame {
                name: Some(Path::new(&name)),
                ..frame(Total::Bytes(12 << 20), (Some(7), 7), Some(1048576.0))
            }
            .terminal(width);
            assert!(line.width() < width, "{width}: {line}");
        }
        // Two-column characters are never cut: the result may be a column short.
        assert_eq!(
            elide("\u{65e5}\u{672c}\u{8a9e}\u{306e}x", 7),
            "...\u{306e}x"
        );
        // Bidirectional controls would reorder what the line shows.
        assert_eq!(printable(Path::new("a\u{202e}b")), "a?b");
        // A terminal too narrow for the figures gets them cut, never wrapped.
        assert_eq!(
            frame(Total::Bytes(1), (None, 0), None).terminal(10).len(),
            9
        );
    }

    #[test]
    fn rate_starts_from_the_first_measurement_and_moves_smoothly() {
        let t0 = Instant::now();
        let mut rate = Rate::new(t0);
        rate.sample(t0 + Duration::from_secs(1), 0);
        assert_eq!(rate.get(), None);
        rate.sample(t0 + Duration::from_secs(2), 100);
        assert_eq!(rate.get(), Some(100.0));
        // Early on, a stall of a tenth of a second moves the rate by about a tenth...
        rate.sample(t0 + Duration::from_millis(2100), 100);
        let r = rate.get().unwrap();
        assert!((85.0..95.0).contains(&r), "{r}");
        // ... once the window is full, by about 3%; and a steady rate is the rate.
        let mut t = t0 + Duration::from_millis(2100);
        for i in 1..=200 {
            rate.sample(t + Duration::from_millis(100 * i), 100 + 10 * i);
        }
        t += Duration::from_secs(20);
        assert!((rate.get().unwrap() - 100.0).abs() < 0.01);
        rate.sample(t + Duration::from_millis(100), 2100);
        let r = rate.get().unwrap();
        assert!((96.0..98.0).contains(&r), "{r}");
    }

    #[test]
    fn clock_reads_minutes_and_hours() {
        assert_eq!(clock(9.4), "0:09");
        assert_eq!(clock(3725.0), "1:02:05");
        assert_eq!(clock(f64::INFINITY), "0:00");
    }
}
