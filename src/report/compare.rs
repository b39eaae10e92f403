//! The `--compare` table: each method's time (median, spread, throughput, ratio to the
//! fastest) and what it cost the copying thread (the columns of `time -v`: user and system
//! time, CPU %, context switches, page faults), as text or as one JSON object.

use super::stats::json_string;
use super::units::human_bytes;
use crate::error::quote::quote;
use crate::options::Method;
use std::path::Path;
use std::time::Duration;

/// One line of the table: a method, its buffer size where it has one, and TCP_CORK for a
/// socket.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row {
    pub(crate) method: Method,
    pub(crate) bufsize: Option<usize>,
    /// Whether TCP_CORK was set (--to-socket only).
    pub(crate) cork: Option<bool>,
}

/// What getrusage(2) says one thread used, or the difference between two readings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Rusage {
    pub(crate) user: Duration,
    pub(crate) system: Duration,
    /// ru_nvcsw: the thread gave up the CPU to wait (for I/O, for the socket's buffer).
    pub(crate) voluntary: u64,
    /// ru_nivcsw: the thread was preempted.
    pub(crate) involuntary: u64,
    pub(crate) minor_faults: u64,
    pub(crate) major_faults: u64,
}

impl Rusage {
    /// What was used between `earlier` and `self`.
    pub(crate) fn since(&self, earlier: &Rusage) -> Rusage {
        Rusage {
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
            voluntary: self.voluntary.saturating_sub(earlier.voluntary),
            involuntary: self.involuntary.saturating_sub(earlier.involuntary),
            minor_faults: self.minor_faults.saturating_sub(earlier.minor_faults),
            major_faults: self.major_faults.saturating_sub(earlier.major_faults),
        }
    }
}

/// One timed copy or transfer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    pub(crate) wall: Duration,
    pub(crate) cost: Rusage,
    /// System calls that moved data.
    pub(crate) calls: u64,
    /// The most bytes one of those calls moved.
    pub(crate) largest: u64,
    /// Bytes that arrived (the copy's size; what the receiver counted).
    pub(crate) bytes: u64,
}

/// Where the runs wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    File,
    Socket,
}

/// What the table is about: the file, its size, and how it was measured.
pub(crate) struct Heading<'a> {
    pub(crate) src: &'a Path,
    pub(crate) size: u64,
    pub(crate) runs: usize,
    /// The source was evicted from the page cache before each run.
    pub(crate) cold: bool,
    pub(crate) target: Target,
}

/// One row's runs, reduced: medians, and the spread of the times.
struct Line {
    row: Row,
    median: Duration,
    min: Duration,
    max: Duration,
    /// Median of each count over the runs.
    cost: Rusage,
    cpu_percent: f64,
    calls: u64,
    largest: u64,
    bytes: u64,
}

fn median<T: Ord + Copy + Default>(mut values: Vec<T>) -> T {
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

fn line(row: Row, runs: &[Sample]) -> Line {
    let of = |f: fn(&Sample) -> u64| median(runs.iter().map(f).collect());
    let walls: Vec<Duration> = runs.iter().map(|s| s.wall).collect();
    let mut sorted = walls.clone();
    sorted.sort();
    // An even count of runs takes the mean of the middle two, as the time has always been.
    let median_wall = match sorted.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
    };
    let percents: Vec<u64> = runs
        .iter()
        .map(|s| {
            let cpu = (s.cost.user + s.cost.system).as_nanos();
            // Tenths of a percent, so the median stays an integer.
            (cpu * 1000 / s.wall.as_nanos().max(1)) as u64
        })
        .collect();
    Line {
        row,
        median: median_wall,
        min: sorted.first().copied().unwrap_or_default(),
        max: sorted.last().copied().unwrap_or_default(),
        cost: Rusage {
            user: median(runs.iter().map(|s| s.cost.user).collect()),
            system: median(runs.iter().map(|s| s.cost.system).collect()),
            voluntary: of(|s| s.cost.voluntary),
            involuntary: of(|s| s.cost.involuntary),
            minor_faults: of(|s| s.cost.minor_faults),
            major_faults: of(|s| s.cost.major_faults),
        },
        cpu_percent: median(percents) as f64 / 10.0,
        calls: of(|s| s.calls),
        largest: of(|s| s.largest),
        bytes: of(|s| s.bytes),
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn ratio(line: &Line, fastest: Duration) -> f64 {
    if fastest.is_zero() {
        1.0
    } else {
        secs(line.median) / secs(fastest)
    }
}

fn rate(line: &Line, size: u64) -> f64 {
    if line.median.is_zero() {
        0.0
    } else {
        size as f64 / secs(line.median)
    }
}

fn lines(rows: &[Row], samples: &[Vec<Sample>]) -> (Vec<Line>, Duration) {
    let lines: Vec<Line> = rows.iter().zip(samples).map(|(r, s)| line(*r, s)).collect();
    let fastest = lines.iter().map(|l| l.median).min().unwrap_or_default();
    (lines, fastest)
}

/// A size without a needless `.0`: 4 KiB, 1.5 MiB; "max" where the method has none.
fn size_text(bytes: Option<usize>) -> String {
    bytes.map_or("max".to_string(), |b| {
        human_bytes(b as f64).replace(".0 ", " ")
    })
}

/// A count of bytes that is never rounded: 2 KiB or 1 GiB where that is exact, else the
/// bytes themselves (sendfile's cap, 2147479552, is not "2.0 GiB").
fn exact_size(bytes: u64) -> String {
    let units = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    match units.iter().find(|(unit, _)| bytes >= *unit) {
        Some((unit, name)) if bytes.is_multiple_of(*unit) => format!("{} {name}", bytes / unit),
        _ => bytes.to_string(),
    }
}

/// The first columns of both tables: method, bufsize and, for a socket, TCP_CORK.
fn key(row: &Row) -> String {
    let cork = match row.cork {
        None => String::new(),
        Some(true) => format!(" {:>4}", "on"),
        Some(false) => format!(" {:>4}", "off"),
    };
    format!(
        "{:<15} {:>8}{cork}",
        row.method.name(),
        size_text(row.bufsize)
    )
}

fn key_heading(target: Target) -> String {
    let cork = if target == Target::Socket {
        " cork"
    } else {
        ""
    };
    format!("{:<15} {:>8}{cork}", "method", "bufsize")
}

/// The table as text: the times, then the cost of each run.
pub(crate) fn table(heading: &Heading<'_>, rows: &[Row], samples: &[Vec<Sample>]) -> String {
    let (lines, fastest) = lines(rows, samples);
    let cache = if heading.cold {
        "cold page cache (source evicted before each run)"
    } else {
        "warm page cache"
    };
    let (to, checked) = match heading.target {
        Target::File => ("to a new file", "every copy verified"),
        Target::Socket => (
            "over loopback TCP",
            "bytes sent = received = size, every run",
        ),
    };
    let mut out = format!(
        "{} ({}) {to}, {} run{} each, {cache}; {checked}\n",
        quote(heading.src.as_os_str()),
        human_bytes(heading.size as f64),
        heading.runs,
        if heading.runs == 1 { "" } else { "s" }
    );
    let key_head = key_heading(heading.target);
    out.push_str(&format!(
        "{key_head} {:>9} {:>9} {:>9} {:>12} {:>6}\n",
        "median", "min", "max", "throughput", "ratio"
    ));
    for l in &lines {
        out.push_str(&format!(
            "{} {:>7.3} s {:>7.3} s {:>7.3} s {:>10}/s {:>6.2}\n",
            key(&l.row),
            secs(l.median),
            secs(l.min),
            secs(l.max),
            human_bytes(rate(l, heading.size)),
            ratio(l, fastest),
        ));
    }
    out.push_str("\nPer run (medians), the copying thread alone (getrusage RUSAGE_THREAD):\n");
    out.push_str(&format!(
        "{key_head} {:>8} {:>8} {:>5} {:>8} {:>10} {:>7} {:>9} {:>6}\n",
        "user", "system", "CPU", "syscalls", "max/call", "vol csw", "invol csw", "faults"
    ));
    for l in &lines {
        out.push_str(&format!(
            "{} {:>6.3} s {:>6.3} s {:>4.0}% {:>8} {:>10} {:>7} {:>9} {:>6}\n",
            key(&l.row),
            secs(l.cost.user),
            secs(l.cost.system),
            l.cpu_percent,
            l.calls,
            exact_size(l.largest),
            l.cost.voluntary,
            l.cost.involuntary,
            l.cost.minor_faults + l.cost.major_faults,
        ));
    }
    out.push_str(
        "CPU: (user+system)/elapsed. csw: context switches, voluntary (waited) and involuntary\n\
         (preempted). faults: minor+major page faults. max/call: most bytes one call moved.\n",
    );
    out
}

/// The table as one JSON object (`--compare --stats=json`); the schema is in the man page.
pub(crate) fn json(heading: &Heading<'_>, rows: &[Row], samples: &[Vec<Sample>]) -> String {
    let (lines, fastest) = lines(rows, samples);
    let rows: Vec<String> = lines
        .iter()
        .map(|l| {
            let bufsize = l.row.bufsize.map_or("null".to_string(), |b| b.to_string());
            let cork = l.row.cork.map_or("null".to_string(), |c| c.to_string());
            format!(
                "{{\"method\":\"{}\",\"bufsize\":{bufsize},\"cork\":{cork},\"bytes\":{},\
                 \"seconds\":{{\"median\":{:.6},\"min\":{:.6},\"max\":{:.6}}},\
                 \"bytes_per_second\":{:.0},\"ratio\":{:.4},\"user_seconds\":{:.6},\
                 \"system_seconds\":{:.6},\"cpu_percent\":{:.1},\"syscalls\":{},\
                 \"max_bytes_per_call\":{},\"voluntary_switches\":{},\
                 \"involuntary_switches\":{},\"minor_faults\":{},\"major_faults\":{}}}",
                l.row.method.name(),
                l.bytes,
                secs(l.median),
                secs(l.min),
                secs(l.max),
                rate(l, heading.size),
                ratio(l, fastest),
                secs(l.cost.user),
                secs(l.cost.system),
                l.cpu_percent,
                l.calls,
                l.largest,
                l.cost.voluntary,
                l.cost.involuntary,
                l.cost.minor_faults,
                l.cost.major_faults,
            )
        })
        .collect();
    let target = match heading.target {
        Target::File => "file",
        Target::Socket => "socket",
    };
    format!(
        "{{\"source\":{},\"size\":{},\"target\":\"{target}\",\"runs\":{},\"cold\":{},\
         \"measured\":\"thread\",\"rows\":[{}]}}\n",
        json_string(&heading.src.to_string_lossy()),
        heading.size,
        heading.runs,
        heading.cold,
        rows.join(",")
    )
}

/// A row as messages name it: `sendfile max`, `read-write 4 KiB TCP_CORK`.
pub(crate) fn row_name(row: &Row) -> String {
    let cork = match row.cork {
        Some(true) => " TCP_CORK",
        _ => "",
    };
    format!("{} {}{cork}", row.method.name(), size_text(row.bufsize))
}

/// The status of one run, for the line on stderr: `compare 12/45: sendfile max, run 2/5`.
pub(crate) fn run_line(row: &Row, run: (usize, usize), done: (usize, usize)) -> String {
    format!(
        "compare {}/{}: {}, run {}/{}",
        done.0,
        done.1,
        row_name(row),
        run.0,
        run.1
    )
}

#[cfg(test)]
mod tests {
    use super::exact_size;

    /// Regression: the cost table showed sendfile's cap, 2147479552 bytes, as "2 GiB".
    #[test]
    fn sizes_per_call_are_never_rounded() {
        assert_eq!(exact_size(2048), "2 KiB");
        assert_eq!(exact_size(1 << 30), "1 GiB");
        assert_eq!(exact_size(512 << 10), "512 KiB");
        assert_eq!(exact_size(0x7fff_f000), "2147479552");
        assert_eq!(exact_size((3 << 20) + 7), "3145735");
        assert_eq!(exact_size(100), "100");
    }
}
