//! The `--compare` table: each method's median, spread, throughput, CPU time and system
//! calls, and its ratio to the fastest.

use super::units::human_bytes;
use super::usage::Usage;
use crate::error::quote::quote;
use crate::options::Method;
use std::path::Path;
use std::time::Duration;

/// One line of the table: a method, and its buffer size where it has one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row {
    pub(crate) method: Method,
    pub(crate) bufsize: Option<usize>,
}

/// One timed copy.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    pub(crate) wall: Duration,
    pub(crate) cpu: Usage,
    pub(crate) calls: u64,
}

/// What the table is about: the file, its size, and how it was measured.
pub(crate) struct Heading<'a> {
    pub(crate) src: &'a Path,
    pub(crate) size: u64,
    pub(crate) runs: usize,
    /// The source was evicted from the page cache before each run.
    pub(crate) cold: bool,
}

pub(crate) fn table(heading: &Heading<'_>, rows: &[Row], samples: &[Vec<Sample>]) -> String {
    let size = heading.size;
    let cache = if heading.cold {
        "cold page cache (source evicted before each run)"
    } else {
        "warm page cache"
    };
    let mut out = format!(
        "{} ({}), {} runs each, {cache}; every copy verified\n",
        quote(heading.src.as_os_str()),
        human_bytes(size as f64),
        heading.runs
    );
    out.push_str(&format!(
        "{:<16} {:>8} {:>9} {:>9} {:>9} {:>12} {:>8} {:>8} {:>9} {:>6}\n",
        "method",
        "bufsize",
        "median",
        "min",
        "max",
        "throughput",
        "user",
        "system",
        "syscalls",
        "ratio"
    ));
    let medians: Vec<Duration> = samples
        .iter()
        .map(|s| {
            let mut walls: Vec<Duration> = s.iter().map(|x| x.wall).collect();
            walls.sort();
            median(&walls)
        })
        .collect();
    let fastest = medians.iter().min().copied().unwrap_or_default();
    for ((row, runs), med) in rows.iter().zip(samples).zip(&medians) {
        let min = runs.iter().map(|s| s.wall).min().unwrap_or_default();
        let max = runs.iter().map(|s| s.wall).max().unwrap_or_default();
        let n = runs.len().max(1) as u32;
        let user: Duration = runs.iter().map(|s| s.cpu.user).sum::<Duration>() / n;
        let system: Duration = runs.iter().map(|s| s.cpu.system).sum::<Duration>() / n;
        let calls = runs.last().map_or(0, |s| s.calls);
        let rate = if med.as_secs_f64() > 0.0 {
            size as f64 / med.as_secs_f64()
        } else {
            0.0
        };
        let ratio = if fastest.as_secs_f64() > 0.0 {
            med.as_secs_f64() / fastest.as_secs_f64()
        } else {
            1.0
        };
        let bufsize = row.bufsize.map_or("max".to_string(), |b| {
            human_bytes(b as f64).replace(".0 ", " ")
        });
        out.push_str(&format!(
            "{:<16} {:>8} {:>7.3} s {:>7.3} s {:>7.3} s {:>10}/s {:>6.3} s {:>6.3} s {:>9} {:>6.2}\n",
            row.method.name(),
            bufsize,
            med.as_secs_f64(),
            min.as_secs_f64(),
            max.as_secs_f64(),
            human_bytes(rate),
            user.as_secs_f64(),
            system.as_secs_f64(),
            calls,
            ratio
        ));
    }
    out
}

fn median(sorted: &[Duration]) -> Duration {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}
