//! `--compare`: copies one file with each method (and each read-write buffer size), verifies
//! every copy against the source, and prints one timing table.

use crate::copy::session::Session;
use crate::error::misuse::Misuse;
use crate::error::quote::quote;
use crate::error::{Error, Op};
use crate::options::Method;
use crate::options::{Compare, Options};
use crate::plan::{Job, Plan};
use crate::report::counters::{Call, Counters};
use crate::report::units::human_bytes;
use crate::report::usage::Usage;
use rustix::fs::{Advice, FileType, Mode, OFlags};
use std::os::fd::AsFd;
use std::path::Path;
use std::time::{Duration, Instant};

/// One line of the table: a method, and its buffer size where it has one.
#[derive(Debug, Clone, Copy)]
struct Row {
    method: Method,
    bufsize: Option<usize>,
}

/// One timed copy.
#[derive(Debug, Clone, Copy)]
struct Sample {
    wall: Duration,
    cpu: Usage,
    calls: u64,
}

fn rows(settings: &Compare, bufsize: Option<usize>) -> Vec<Row> {
    let mut rows = Vec::new();
    for &method in &settings.methods {
        if method == Method::ReadWrite {
            rows.extend(settings.bufsizes.iter().map(|&b| Row {
                method,
                bufsize: Some(b),
            }));
        } else if method == Method::Splice {
            // The pipe has a size even when none is asked: show it.
            let pipe = bufsize.unwrap_or(crate::engine::splice::DEFAULT_PIPE);
            rows.push(Row {
                method,
                bufsize: Some(pipe),
            });
        } else {
            rows.push(Row { method, bufsize });
        }
    }
    rows
}

/// Runs the comparison for the single job in `plan` and prints the table on stdout.
pub(crate) fn run(opts: &Options, settings: &Compare, plan: &Plan) -> Result<(), Error> {
    let [job] = plan.jobs.as_slice() else {
        return Err(Error::Usage(Misuse::CompareOneJob));
    };
    let src_st = rustix::fs::stat(&job.src).map_err(|e| Error::io(Op::Stat, &job.src, e))?;
    if let Ok(dst_st) = rustix::fs::stat(&job.dst)
        && (dst_st.st_dev, dst_st.st_ino) == (src_st.st_dev, src_st.st_ino)
    {
        return Err(Error::SameFile {
            src: job.src.clone(),
            dst: job.dst.clone(),
        });
    }
    // Every run removes DEST and writes a new file: only a regular file may be replaced so.
    match rustix::fs::lstat(&job.dst) {
        Ok(st) if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile => {
            return Err(Error::CompareTarget {
                dst: job.dst.clone(),
                mode: st.st_mode,
            });
        }
        Ok(_) | Err(rustix::io::Errno::NOENT) => {}
        Err(e) => return Err(Error::io(Op::Stat, &job.dst, e)),
    }
    let rows = rows(settings, opts.bufsize);
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); rows.len()];
    for run in 0..settings.runs {
        // Rotate the order every run, so no method always runs right after the same one
        // (page-cache and writeback state carry over from one copy to the next).
        for k in 0..rows.len() {
            let i = (k + run) % rows.len();
            samples[i].push(one_run(opts, settings, job, rows[i])?);
        }
    }
    crate::report::out(&table(job, &src_st, settings, &rows, &samples));
    Ok(())
}

/// Copies once with `row`'s method, timed, then checks the copy byte for byte.
fn one_run(opts: &Options, settings: &Compare, job: &Job, row: Row) -> Result<Sample, Error> {
    // Every run writes a new file, as a first copy does; unlinking is not part of the time.
    match std::fs::remove_file(&job.dst) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(Op::CreateRegular, &job.dst, errno(&e))),
    }
    if settings.cold {
        evict(&job.src)?;
    }
    let mut row_opts = opts.clone();
    row_opts.method = row.method;
    row_opts.bufsize = row.bufsize;
    row_opts.debug = false;
    let mut session = Session::new(&row_opts, Counters::default());
    let before = Usage::now();
    let started = Instant::now();
    if !session.copy(job, false) {
        return Err(Error::CompareFailed {
            method: row.method.name(),
            src: job.src.clone(),
        });
    }
    let wall = started.elapsed();
    let cpu = Usage::now().since(&before);
    let calls = Call::ALL
        .iter()
        .map(|c| session.summary.counters.get(*c).calls)
        .sum();
    verify(&job.src, &job.dst)?;
    Ok(Sample { wall, cpu, calls })
}

fn errno(e: &std::io::Error) -> rustix::io::Errno {
    rustix::io::Errno::from_io_error(e).unwrap_or(rustix::io::Errno::IO)
}

/// Drops `path`'s pages from the page cache: written back first (fdatasync), then advised
/// away (POSIX_FADV_DONTNEED), which needs no privileges, unlike /proc/sys/vm/drop_caches.
fn evict(path: &Path) -> Result<(), Error> {
    let fd = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| Error::io(Op::OpenRead, path, e))?;
    let _ = rustix::fs::fdatasync(&fd);
    rustix::fs::fadvise(&fd, 0, None, Advice::DontNeed).map_err(|e| Error::io(Op::Read, path, e))
}

/// Reads both files back and fails at the first differing byte.
fn verify(src: &Path, dst: &Path) -> Result<(), Error> {
    let open = |p: &Path| std::fs::File::open(p).map_err(|e| Error::io(Op::OpenRead, p, errno(&e)));
    let (a, b) = (open(src)?, open(dst)?);
    crate::copy::durable::same_bytes(a.as_fd(), b.as_fd(), src, dst)
}

fn median(sorted: &[Duration]) -> Duration {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}

fn table(
    job: &Job,
    src_st: &rustix::fs::Stat,
    settings: &Compare,
    rows: &[Row],
    samples: &[Vec<Sample>],
) -> String {
    let size = u64::try_from(src_st.st_size).unwrap_or(0);
    let cache = if settings.cold {
        "cold page cache (source evicted before each run)"
    } else {
        "warm page cache"
    };
    let mut out = format!(
        "{} ({}), {} runs each, {cache}; every copy verified\n",
        quote(job.src.as_os_str()),
        human_bytes(size as f64),
        settings.runs
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
